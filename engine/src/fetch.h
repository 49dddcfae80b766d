/* fetch.h: the fetch stage (network ─► feed ─► index, for `copydesk track`):
 * the cd_fetcher (fetch.c, libcurl's multi interface) and the robots.txt
 * rules it honours for article pages (fetch_robots.c, RFC 9309). */
#ifndef CD_FETCH_H
#define CD_FETCH_H

#include <stddef.h>

#include "copydesk/copydesk.h"

/* The rules of one robots.txt that apply to one product token. */
typedef struct cd__robots cd__robots;

/* Largest robots.txt read (RFC 9309 asks for at least 500 KiB). */
#define CD__ROBOTS_MAX_BYTES ((size_t)512 * 1024)

/* Parses robots.txt in text[0..len) (bytes past CD__ROBOTS_MAX_BYTES are
 * ignored) for agent, a product token matched case-insensitively against
 * User-agent lines; the groups for "*" apply when no group names agent.
 * Returns NULL when out of memory. */
cd__robots *cd__robots_parse(const char *text, size_t len, const char *agent);

/* Rules that allow everything (allow = 1: robots.txt missing, 4xx) or
 * nothing (allow = 0: robots.txt unreachable, 5xx). NULL when out of memory. */
cd__robots *cd__robots_all(int allow);

/* 1 when path (the URL's path and query, starting with '/') may be fetched:
 * the longest matching Allow or Disallow pattern decides ('*' matches any
 * run of bytes, a final '$' anchors the end), Allow winning a tie; no
 * matching rule allows. "/robots.txt" is always allowed. */
int cd__robots_allowed(const cd__robots *robots, const char *path);

/* Number of rules kept (for tests). */
size_t cd__robots_rule_count(const cd__robots *robots);

void cd__robots_free(cd__robots *robots);

#endif
