/* feed.h: the feed stage (fetch ─► feed ─► index, for `copydesk track`):
 * RSS, RDF and Atom parsed with libxml2 (feed.c), JSON Feed with cJSON
 * (feed_json.c), into cd_feed items; the text helpers they share and the
 * article-page text of cd_article_text live in feed_text.c. */
#ifndef CD_FEED_H
#define CD_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "copydesk/copydesk.h"
#include "extract.h"

/* The string fields of an item. */
enum {
    CD__FEED_KEY = 0,
    CD__FEED_LINK,
    CD__FEED_TITLE,
    CD__FEED_PUBLISHED,
    CD__FEED_TEXT,
    CD__FEED_AUTHOR,
    CD__FEED_FIELDS
};

/* How a raw value becomes the field's text. */
typedef enum cd__feed_kind {
    CD__PLAIN = 0, /* white space collapsed, ends trimmed */
    CD__HTML,      /* an HTML fragment: reduced to text by cd__extract_html */
    CD__GUESS      /* HTML when it holds '<' or '&', else plain */
} cd__feed_kind;

typedef struct cd__feed_item {
    size_t off[CD__FEED_FIELDS], len[CD__FEED_FIELDS];
    unsigned char has[CD__FEED_FIELDS];
    int64_t time;
    int dated;
} cd__feed_item;

/* An item being read: each field's text so far (reused between items). A
 * field is set once: later values for it are ignored unless replace is
 * used, so the preferred source of a field is read first or replaces. */
typedef struct cd__feed_draft {
    cd__text field[CD__FEED_FIELDS];
    unsigned char has[CD__FEED_FIELDS];
    unsigned char text_rank; /* 0 none, 1 summary, 2 full content */
} cd__feed_draft;

struct cd_feed {
    cd_feed_options options;
    cd_feed_format format;
    cd__text strings; /* every string of the feed, NUL-separated */
    size_t title_off, title_len, link_off, link_len;
    int has_title, has_link;
    cd__feed_item *items;
    size_t count, cap;
    size_t *slots; /* key hash set: item index + 1, 0 = empty */
    size_t slot_count;
    size_t duplicates, skipped, invalid_utf8, entities_dropped;
    int recovered;
    char warning[CD_ERRMSG_SIZE];
    cd__text scratch; /* HTML reduction and white space work */
    cd__text raw;     /* an element's value before it becomes text */
    size_t errors;    /* XML errors reported */
    cd__feed_draft draft;
};

/* feed_text.c ------------------------------------------------------------ */

/* Copies in[0..len) into out with every invalid UTF-8 sequence (and, when
 * xml is set, every C0 control other than tab, LF and CR, which XML 1.0
 * forbids) replaced by U+FFFD; *replaced counts them. When nothing needs
 * replacing out is left untouched and 0 is counted. Returns 0 or -1 (NOMEM). */
int cd__utf8_repair(const char *in, size_t len, int xml, cd__text *out, size_t *replaced);

/* Appends s[0..len) to out as kind says (see cd__feed_kind), keeping
 * paragraph breaks ("\n\n") when paragraphs is set and collapsing every
 * white space run to one space otherwise. scratch is work space. Returns 0
 * or -1 (NOMEM). */
int cd__feed_text(const char *s, size_t len, cd__feed_kind kind, int paragraphs, cd__text *scratch,
                  cd__text *out);

/* feed.c ----------------------------------------------------------------- */

/* Starts a new item (clears the draft). */
void cd__feed_draft_reset(cd_feed *f);

/* Sets field of the draft from s[0..len) as kind says, unless it is set
 * already and replace is 0. Returns 0 or -1 (NOMEM). */
int cd__feed_draft_set(cd_feed *f, int field, const char *s, size_t len, cd__feed_kind kind,
                       int replace);

/* Sets the item's text from a summary (rank 1) or full content (rank 2):
 * a higher rank replaces a lower one, an empty value is ignored. */
int cd__feed_draft_text(cd_feed *f, const char *s, size_t len, cd__feed_kind kind, int rank);

/* Ends the draft: derives the key (guid, else link, else a hash of title
 * and date; none: the item is skipped), drops a duplicate key, parses the
 * date and appends the item. Returns 0 or -1 (NOMEM). */
int cd__feed_draft_commit(cd_feed *f);

/* Sets the feed's title or link (first value wins). Returns 0 or -1. */
int cd__feed_set_meta(cd_feed *f, int is_link, const char *s, size_t len, cd__feed_kind kind);

/* feed_json.c ------------------------------------------------------------ */

/* Parses a JSON Feed in bytes[0..len) (UTF-8, already repaired) into f.
 * Errors: CD_ERR_FORMAT (message in err, size err_size), CD_ERR_NOMEM. */
cd_status cd__feed_parse_json(cd_feed *f, const char *bytes, size_t len, const char *base_url,
                              char *err, size_t err_size);

/* An absolute URL for link resolved against base (NULL: none): a new
 * string to free with cd__free, or NULL when out of memory. A link that
 * cannot be resolved is returned as it is. */
char *cd__feed_resolve(const char *link, size_t len, const char *base);

#endif
