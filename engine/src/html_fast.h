/* html_fast.h: a parser for the plain HTML most pages are, which gives the
 * element and text events libxml2 2.9's HTML parser gives through SAX, in
 * the same order, without running it. It follows libxml2's own steps (the
 * implied html, head, body and p elements, void elements, end tags of
 * elements not open, white space, comments) and refuses any page where
 * libxml2 would take a step it does not follow: a start tag that libxml2
 * would let close an open element, an end tag of an element not innermost,
 * a name with '_', ':' or '.', a misplaced html, head or body, a
 * processing instruction, a character libxml2 drops, a reference it does
 * not decode, an unterminated tag or comment. The extract stage then parses
 * that page with libxml2 (extract.c). */
#ifndef CD_HTML_FAST_H
#define CD_HTML_FAST_H

#include <stddef.h>

/* Where the events go. Each returns 0 to go on, nonzero to give up the
 * page. Script and style content, which libxml2 gives as CDATA, is not
 * passed on: both elements are dropped by the extract stage. */
typedef struct cd__html_sink {
    void *ctx;
    int (*start)(void *ctx, const char *name);             /* lower-case name */
    int (*end)(void *ctx);                                 /* of the innermost open element */
    int (*text)(void *ctx, const char *bytes, size_t len); /* character data */
} cd__html_sink;

/* Prepares the name and entity tables from libxml2's (once per process,
 * before the first parse; thread-safe). */
void cd__html_fast_init(void);

/* Parses html[0..len) (UTF-8), sending its events to sink. Returns 1 when
 * the page was parsed to its end, 0 when it was refused or a sink call
 * gave it up; the events sent before then are to be discarded. */
int cd__html_fast_parse(const char *html, size_t len, const cd__html_sink *sink);

#endif
