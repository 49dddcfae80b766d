/* feed.c: the feed stage: cd_feed_parse and its XML side (RSS 0.9x/2.0,
 * RSS 1.0/RDF, Atom) with libxml2, never touching the network nor
 * expanding entities; the items of every format are built here (drafts,
 * keys, duplicates). JSON Feed is in feed_json.c, text helpers in
 * feed_text.c. */
#include "feed.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <xxhash.h>

#include "utf8.h"

#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_ATOM03 "http://purl.org/atom/ns#"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_RSS1 "http://purl.org/rss/1.0/"
#define NS_RSS090 "http://my.netscape.com/rdf/simple/0.9/"
#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

void cd_feed_options_init(cd_feed_options *options)
{
    options->max_items = 10000;
    options->max_text_bytes = (size_t)1 << 20;
}

/* ------------------------------------------------------------- drafts */

void cd__feed_draft_reset(cd_feed *f)
{
    for (int i = 0; i < CD__FEED_FIELDS; i++) {
        f->draft.field[i].len = 0;
        f->draft.has[i] = 0;
    }
    f->draft.text_rank = 0;
}

int cd__feed_draft_set(cd_feed *f, int field, const char *s, size_t len, cd__feed_kind kind,
                       int replace)
{
    if (f->draft.has[field] && !replace)
        return 0;
    cd__text *t = &f->draft.field[field];
    size_t old = t->len;
    t->len = 0;
    if (cd__feed_text(s ? s : "", s ? len : 0, kind, field == CD__FEED_TEXT, &f->scratch, t) != 0)
        return -1;
    if (t->len == 0) { /* an empty value sets nothing */
        t->len = f->draft.has[field] ? old : 0;
        return 0;
    }
    f->draft.has[field] = 1;
    return 0;
}

int cd__feed_draft_text(cd_feed *f, const char *s, size_t len, cd__feed_kind kind, int rank)
{
    if (rank <= f->draft.text_rank && f->draft.has[CD__FEED_TEXT])
        return 0;
    cd__text *t = &f->draft.field[CD__FEED_TEXT];
    size_t old = t->len;
    t->len = 0;
    if (cd__feed_text(s ? s : "", s ? len : 0, kind, 1, &f->scratch, t) != 0)
        return -1;
    if (t->len == 0) {
        t->len = f->draft.has[CD__FEED_TEXT] ? old : 0;
        return 0;
    }
    f->draft.has[CD__FEED_TEXT] = 1;
    f->draft.text_rank = (unsigned char)rank;
    return 0;
}

/* Appends s[0..len) and a NUL to the feed's strings; *off receives where. */
static int store(cd_feed *f, const char *s, size_t len, size_t *off)
{
    *off = f->strings.len;
    if (cd__grow((void **)&f->strings.ptr, &f->strings.cap, f->strings.len + len + 1, 1) != 0)
        return -1;
    if (len)
        memcpy(f->strings.ptr + f->strings.len, s, len);
    f->strings.len += len;
    f->strings.ptr[f->strings.len++] = '\0';
    return 0;
}

/* Cuts n bytes back to a character boundary. */
static size_t utf8_cut(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Points *s, *len at a valid UTF-8 version of the string (repaired into
 * f->scratch when needed: libxml2 passes some bytes through unchecked, for
 * instance in a document whose declared encoding it does not know). */
static int clean_utf8(cd_feed *f, const char **s, size_t *len)
{
    size_t replaced = 0;
    if (cd__utf8_repair(*s, *len, 0, &f->scratch, &replaced) != 0)
        return -1;
    if (replaced) {
        *s = f->scratch.ptr;
        *len = f->scratch.len;
        f->invalid_utf8 += replaced;
    }
    return 0;
}

static uint64_t key_hash(const char *s, size_t len)
{
    return XXH3_64bits(s, len);
}

static const char *item_string(const cd_feed *f, const cd__feed_item *it, int field, size_t *len)
{
    *len = it->len[field];
    return f->strings.ptr + it->off[field];
}

/* The item already holding key, or (size_t)-1. */
static size_t find_key(const cd_feed *f, const char *key, size_t len, uint64_t h)
{
    if (f->slot_count == 0)
        return (size_t)-1;
    size_t mask = f->slot_count - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        size_t v = f->slots[i];
        if (v == 0)
            return (size_t)-1;
        size_t n;
        const char *k = item_string(f, &f->items[v - 1], CD__FEED_KEY, &n);
        if (n == len && memcmp(k, key, len) == 0)
            return v - 1;
    }
}

static int add_key(cd_feed *f, size_t item, uint64_t h)
{
    if ((f->count + 1) * 2 > f->slot_count) {
        size_t count = f->slot_count ? f->slot_count * 2 : 64;
        size_t *slots = cd__calloc(count, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < f->slot_count; i++) {
            size_t v = f->slots[i];
            if (!v)
                continue;
            size_t n;
            const char *k = item_string(f, &f->items[v - 1], CD__FEED_KEY, &n);
            size_t j = (size_t)key_hash(k, n) & (count - 1);
            while (slots[j])
                j = (j + 1) & (count - 1);
            slots[j] = v;
        }
        cd__free(f->slots);
        f->slots = slots;
        f->slot_count = count;
    }
    size_t j = (size_t)h & (f->slot_count - 1);
    while (f->slots[j])
        j = (j + 1) & (f->slot_count - 1);
    f->slots[j] = item + 1;
    return 0;
}

int cd__feed_draft_commit(cd_feed *f)
{
    cd__feed_draft *d = &f->draft;
    if (!d->has[CD__FEED_KEY]) {
        if (d->has[CD__FEED_LINK]) {
            cd__text *k = &d->field[CD__FEED_KEY];
            k->len = 0;
            if (cd__text_append(k, d->field[CD__FEED_LINK].ptr, d->field[CD__FEED_LINK].len) != 0)
                return -1;
        } else if (d->has[CD__FEED_TITLE]) {
            cd__text *t = &f->scratch;
            t->len = 0;
            if (cd__text_append(t, d->field[CD__FEED_TITLE].ptr, d->field[CD__FEED_TITLE].len) !=
                    0 ||
                cd__text_append(t, "|", 1) != 0 ||
                (d->has[CD__FEED_PUBLISHED] &&
                 cd__text_append(t, d->field[CD__FEED_PUBLISHED].ptr,
                                 d->field[CD__FEED_PUBLISHED].len) != 0))
                return -1;
            char buf[32];
            int n = snprintf(buf, sizeof buf, "hash:%016llx",
                             (unsigned long long)XXH3_64bits(t->ptr, t->len));
            d->field[CD__FEED_KEY].len = 0;
            if (cd__text_append(&d->field[CD__FEED_KEY], buf, (size_t)n) != 0)
                return -1;
        } else {
            f->skipped++;
            return 0;
        }
        d->has[CD__FEED_KEY] = 1;
    }
    if (f->count >= f->options.max_items) {
        f->skipped++;
        return 0;
    }
    for (int i = 0; i < CD__FEED_FIELDS; i++) { /* valid UTF-8, whatever libxml2 passed */
        const char *p = d->field[i].ptr;
        size_t len = d->field[i].len;
        if (!d->has[i] || p == NULL)
            continue;
        if (clean_utf8(f, &p, &len) != 0)
            return -1;
        if (p != d->field[i].ptr) {
            d->field[i].len = 0;
            if (cd__text_append(&d->field[i], p, len) != 0)
                return -1;
        }
    }
    const cd__text *key = &d->field[CD__FEED_KEY];
    uint64_t h = key_hash(key->ptr, key->len);
    if (find_key(f, key->ptr, key->len, h) != (size_t)-1) {
        f->duplicates++;
        return 0;
    }
    if (cd__grow((void **)&f->items, &f->cap, f->count + 1, sizeof *f->items) != 0)
        return -1;
    cd__feed_item *it = &f->items[f->count];
    memset(it, 0, sizeof *it);
    for (int i = 0; i < CD__FEED_FIELDS; i++) {
        if (!d->has[i])
            continue;
        const char *p = d->field[i].ptr;
        size_t len = d->field[i].len;
        if (len > f->options.max_text_bytes)
            len = utf8_cut(p, f->options.max_text_bytes);
        if (store(f, p, len, &it->off[i]) != 0)
            return -1;
        it->len[i] = len;
        it->has[i] = 1;
    }
    if (it->has[CD__FEED_PUBLISHED]) {
        size_t n;
        const char *p = item_string(f, it, CD__FEED_PUBLISHED, &n);
        it->dated = cd_parse_date((cd_str){p, n}, &it->time);
    }
    if (add_key(f, f->count, h) != 0)
        return -1;
    f->count++;
    return 0;
}

int cd__feed_set_meta(cd_feed *f, int is_link, const char *s, size_t len, cd__feed_kind kind)
{
    if (is_link ? f->has_link : f->has_title)
        return 0;
    f->raw.len = 0;
    if (cd__feed_text(s ? s : "", s ? len : 0, kind, 0, &f->scratch, &f->raw) != 0)
        return -1;
    if (f->raw.len == 0)
        return 0;
    size_t off;
    const char *p = f->raw.ptr;
    size_t n = f->raw.len;
    if (clean_utf8(f, &p, &n) != 0 || store(f, p, n, &off) != 0)
        return -1;
    if (is_link) {
        f->link_off = off;
        f->link_len = n;
        f->has_link = 1;
    } else {
        f->title_off = off;
        f->title_len = n;
        f->has_title = 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- XML */

static int ns_is(const xmlNode *n, const char *href)
{
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, href) == 0;
}

/* An element of RSS itself: no namespace, or RSS 1.0 / 0.90's. */
static int rss_plain(const xmlNode *n)
{
    return !n->ns || ns_is(n, NS_RSS1) || ns_is(n, NS_RSS090);
}

static int is_atom(const xmlNode *n)
{
    return ns_is(n, NS_ATOM) || ns_is(n, NS_ATOM03);
}

static int named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

static const char *attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (a->name && strcmp((const char *)a->name, name) == 0 && a->children &&
            a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

/* The value of element n into f->raw: its text, or, when it holds elements
 * or entity references, its content serialised as markup (*markup = 1) for
 * the HTML reduction to read. References to DTD-declared entities are
 * written back as references and never expanded (counted as dropped). */
static int element_value(cd_feed *f, xmlDoc *doc, xmlNode *n, int *markup)
{
    f->raw.len = 0;
    *markup = 0;
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE || c->type == XML_ENTITY_REF_NODE)
            *markup = 1;
    if (!*markup) {
        for (xmlNode *c = n->children; c; c = c->next)
            if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content &&
                cd__text_append(&f->raw, (const char *)c->content,
                                strlen((const char *)c->content)) != 0)
                return -1;
        return 0;
    }
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return -1;
    int failed = 0;
    for (xmlNode *c = n->children; c && !failed; c = c->next) {
        if (c->type == XML_ENTITY_REF_NODE) {
            if (c->name && xmlGetDocEntity(doc, c->name))
                f->entities_dropped++;
            /* as a reference: the HTML reduction decodes the HTML ones */
            failed |= cd__text_append(&f->raw, "&", 1) != 0;
            failed |=
                cd__text_append(&f->raw, (const char *)c->name, strlen((const char *)c->name)) != 0;
            failed |= cd__text_append(&f->raw, ";", 1) != 0;
            continue;
        }
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            /* text between elements is markup-escaped again so that a
             * literal '<' in it stays text */
            for (const char *s = (const char *)c->content; s && *s && !failed; s++) {
                const char *rep = *s == '<' ? "&lt;" : *s == '&' ? "&amp;" : NULL;
                failed |= cd__text_append(&f->raw, rep ? rep : s, rep ? strlen(rep) : 1) != 0;
            }
            continue;
        }
        xmlBufferEmpty(buf);
        if (xmlNodeDump(buf, doc, c, 0, 0) < 0)
            continue;
        failed |= cd__text_append(&f->raw, (const char *)xmlBufferContent(buf),
                                  (size_t)xmlBufferLength(buf)) != 0;
    }
    xmlBufferFree(buf);
    return failed ? -1 : 0;
}

/* Sets draft field from element n read as kind (markup makes it HTML). */
static int set_field(cd_feed *f, xmlDoc *doc, xmlNode *n, int field, cd__feed_kind kind,
                     int replace)
{
    if (f->draft.has[field] && !replace)
        return 0;
    int markup;
    if (element_value(f, doc, n, &markup) != 0)
        return -1;
    if (markup)
        kind = CD__HTML;
    /* f->raw is reused by cd__feed_text's callee only through scratch */
    return cd__feed_draft_set(f, field, f->raw.ptr, f->raw.len, kind, replace);
}

static int set_text(cd_feed *f, xmlDoc *doc, xmlNode *n, cd__feed_kind kind, int rank)
{
    int markup;
    if (element_value(f, doc, n, &markup) != 0)
        return -1;
    return cd__feed_draft_text(f, f->raw.ptr, f->raw.len, markup ? CD__HTML : kind, rank);
}

/* Sets the draft's link from a URL written in the feed, resolved against
 * xml:base and the document's URL. */
static int set_link(cd_feed *f, xmlDoc *doc, xmlNode *n, const char *url, int replace)
{
    if (f->draft.has[CD__FEED_LINK] && !replace)
        return 0;
    while (*url == ' ' || *url == '\t' || *url == '\n' || *url == '\r')
        url++;
    size_t len = strlen(url);
    while (len > 0 && (url[len - 1] == ' ' || url[len - 1] == '\t' || url[len - 1] == '\n' ||
                       url[len - 1] == '\r'))
        len--;
    if (len == 0)
        return 0;
    xmlChar *base = xmlNodeGetBase(doc, n);
    char *abs = cd__feed_resolve(url, len, (const char *)base);
    xmlFree(base);
    if (!abs)
        return -1;
    int r = cd__feed_draft_set(f, CD__FEED_LINK, abs, strlen(abs), CD__PLAIN, replace);
    cd__free(abs);
    return r;
}

static int link_text(cd_feed *f, xmlDoc *doc, xmlNode *n, int replace)
{
    int markup;
    if (element_value(f, doc, n, &markup) != 0)
        return -1;
    if (markup || f->raw.len == 0)
        return 0;
    char *copy = cd__strndup(f->raw.ptr, f->raw.len);
    if (!copy)
        return -1;
    int r = set_link(f, doc, n, copy, replace);
    cd__free(copy);
    return r;
}

static int is_http(const char *s, size_t len)
{
    return (len > 7 && strncmp(s, "http://", 7) == 0) ||
           (len > 8 && strncmp(s, "https://", 8) == 0);
}

/* An Atom <link>: 1 when it is the alternate (page) link. */
static int atom_alternate(const xmlNode *n)
{
    const char *rel = attr(n, "rel");
    return !rel || strcmp(rel, "alternate") == 0;
}

static cd__feed_kind atom_kind(const xmlNode *n)
{
    const char *type = attr(n, "type");
    if (!type || strcmp(type, "text") == 0 || strcmp(type, "text/plain") == 0)
        return CD__PLAIN;
    return CD__HTML; /* html, xhtml (serialised markup), text/html */
}

static int rss_item(cd_feed *f, xmlDoc *doc, xmlNode *item)
{
    cd__feed_draft_reset(f);
    int guid_permalink = 0;
    for (xmlNode *c = item->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        int r = 0;
        if (rss_plain(c)) {
            if (named(c, "title"))
                r = set_field(f, doc, c, CD__FEED_TITLE, CD__GUESS, 0);
            else if (named(c, "link"))
                r = link_text(f, doc, c, 1);
            else if (named(c, "guid")) {
                const char *p = attr(c, "isPermaLink");
                guid_permalink = !p || strcmp(p, "false") != 0;
                r = set_field(f, doc, c, CD__FEED_KEY, CD__PLAIN, 0);
            } else if (named(c, "description"))
                r = set_text(f, doc, c, CD__GUESS, 1);
            else if (named(c, "pubDate"))
                r = set_field(f, doc, c, CD__FEED_PUBLISHED, CD__PLAIN, 1);
            else if (named(c, "author"))
                r = set_field(f, doc, c, CD__FEED_AUTHOR, CD__GUESS, 0);
        } else if (ns_is(c, NS_CONTENT) && named(c, "encoded")) {
            r = set_text(f, doc, c, CD__HTML, 2);
        } else if (ns_is(c, NS_DC)) {
            if (named(c, "date"))
                r = set_field(f, doc, c, CD__FEED_PUBLISHED, CD__PLAIN, 0);
            else if (named(c, "creator"))
                r = set_field(f, doc, c, CD__FEED_AUTHOR, CD__GUESS, 0);
        } else if (is_atom(c) && named(c, "link") && atom_alternate(c)) {
            const char *href = attr(c, "href");
            if (href)
                r = set_link(f, doc, c, href, 0);
        }
        if (r != 0)
            return -1;
    }
    if (!f->draft.has[CD__FEED_KEY]) { /* RSS 1.0: the item's rdf:about */
        for (const xmlAttr *a = item->properties; a; a = a->next)
            if (a->name && strcmp((const char *)a->name, "about") == 0 && a->ns &&
                strcmp((const char *)a->ns->href, NS_RDF) == 0 && a->children &&
                a->children->content) {
                const char *v = (const char *)a->children->content;
                if (cd__feed_draft_set(f, CD__FEED_KEY, v, strlen(v), CD__PLAIN, 0) != 0)
                    return -1;
            }
    }
    const cd__text *key = &f->draft.field[CD__FEED_KEY];
    if (!f->draft.has[CD__FEED_LINK] && f->draft.has[CD__FEED_KEY] && guid_permalink &&
        is_http(key->ptr, key->len)) {
        char *copy = cd__strndup(key->ptr, key->len);
        if (!copy)
            return -1;
        int r = set_link(f, doc, item, copy, 0);
        cd__free(copy);
        if (r != 0)
            return -1;
    }
    if (cd__feed_draft_commit(f) != 0)
        return -1;
    /* an unclosed <item> swallows the items after it: read them too */
    for (xmlNode *c = item->children; c; c = c->next)
        if (named(c, "item") && rss_plain(c) && rss_item(f, doc, c) != 0)
            return -1;
    return 0;
}

static int atom_entry(cd_feed *f, xmlDoc *doc, xmlNode *entry)
{
    cd__feed_draft_reset(f);
    for (xmlNode *c = entry->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !is_atom(c))
            continue;
        int r = 0;
        if (named(c, "id"))
            r = set_field(f, doc, c, CD__FEED_KEY, CD__PLAIN, 0);
        else if (named(c, "title"))
            r = set_field(f, doc, c, CD__FEED_TITLE, atom_kind(c), 0);
        else if (named(c, "link") && atom_alternate(c)) {
            const char *href = attr(c, "href");
            if (href)
                r = set_link(f, doc, c, href, 0);
        } else if (named(c, "published") || named(c, "issued"))
            r = set_field(f, doc, c, CD__FEED_PUBLISHED, CD__PLAIN, 1);
        else if (named(c, "updated") || named(c, "modified"))
            r = set_field(f, doc, c, CD__FEED_PUBLISHED, CD__PLAIN, 0);
        else if (named(c, "content") && !attr(c, "src"))
            r = set_text(f, doc, c, atom_kind(c), 2);
        else if (named(c, "summary"))
            r = set_text(f, doc, c, atom_kind(c), 1);
        else if (named(c, "author")) {
            for (xmlNode *a = c->children; a && r == 0; a = a->next)
                if (a->type == XML_ELEMENT_NODE && named(a, "name"))
                    r = set_field(f, doc, a, CD__FEED_AUTHOR, CD__PLAIN, 0);
        }
        if (r != 0)
            return -1;
    }
    if (cd__feed_draft_commit(f) != 0)
        return -1;
    for (xmlNode *c = entry->children; c; c = c->next) /* an unclosed <entry> */
        if (named(c, "entry") && is_atom(c) && atom_entry(f, doc, c) != 0)
            return -1;
    return 0;
}

/* Feed-level title and link of a channel or Atom feed element. */
static int feed_meta(cd_feed *f, xmlDoc *doc, xmlNode *parent, int atom)
{
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || (atom ? !is_atom(c) : !rss_plain(c)))
            continue;
        int markup;
        if (named(c, "title")) {
            if (element_value(f, doc, c, &markup) != 0)
                return -1;
            char *copy = cd__strndup(f->raw.ptr ? f->raw.ptr : "", f->raw.len);
            if (!copy)
                return -1;
            int r = cd__feed_set_meta(f, 0, copy, strlen(copy),
                                      markup ? CD__HTML
                                      : atom ? atom_kind(c)
                                             : CD__GUESS);
            cd__free(copy);
            if (r != 0)
                return -1;
        } else if (named(c, "link")) {
            const char *href = atom ? (atom_alternate(c) ? attr(c, "href") : NULL) : NULL;
            if (!atom) {
                if (element_value(f, doc, c, &markup) != 0)
                    return -1;
                if (markup)
                    continue;
            }
            char *copy = href ? cd__strndup(href, strlen(href))
                              : cd__strndup(f->raw.ptr ? f->raw.ptr : "", f->raw.len);
            if (!copy)
                return -1;
            int r = (atom && !href) ? 0 : cd__feed_set_meta(f, 1, copy, strlen(copy), CD__PLAIN);
            cd__free(copy);
            if (r != 0)
                return -1;
        }
    }
    return 0;
}

/* Keeps the first error libxml2 reports; counts them all. */
static void on_xml_error(void *user, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = user;
    cd_feed *f = ctxt ? ctxt->_private : NULL;
    if (!f || !e || e->level == XML_ERR_WARNING)
        return;
    if (f->errors++ == 0) {
        const char *msg = e->message ? e->message : "malformed XML";
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            n--;
        snprintf(f->warning, sizeof f->warning, "malformed XML, line %d: %.*s", e->line, (int)n,
                 msg);
    }
}

static pthread_once_t parser_once = PTHREAD_ONCE_INIT;
static void init_parser(void)
{
    xmlInitParser();
}

/* 1 when an XML document is (or claims to be) UTF-8, so invalid bytes in
 * it can be repaired before libxml2 sees them. */
static int xml_is_utf8(const char *s, size_t len)
{
    if (len >= 2 && (((unsigned char)s[0] == 0xFE && (unsigned char)s[1] == 0xFF) ||
                     ((unsigned char)s[0] == 0xFF && (unsigned char)s[1] == 0xFE) ||
                     (s[0] == '<' && s[1] == '\0') || (s[0] == '\0' && s[1] == '<')))
        return 0; /* UTF-16 */
    size_t i = 0;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    if (len - i < 5 || memcmp(s + i, "<?xml", 5) != 0)
        return 1;
    size_t end = i + 5;
    while (end < len && end < i + 256 && !(s[end] == '?' && end + 1 < len && s[end + 1] == '>'))
        end++;
    for (size_t j = i + 5; j + 8 < end; j++) {
        if (memcmp(s + j, "encoding", 8) != 0)
            continue;
        size_t k = j + 8;
        while (k < end && (s[k] == ' ' || s[k] == '=' || s[k] == '\t'))
            k++;
        if (k < end && (s[k] == '"' || s[k] == '\''))
            k++;
        char name[16];
        size_t m = 0;
        while (k < end && m < sizeof name - 1 && s[k] != '"' && s[k] != '\'')
            name[m++] = (char)((s[k] >= 'A' && s[k] <= 'Z') ? s[k++] + 32 : s[k++]);
        name[m] = '\0';
        return strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0 ||
               strcmp(name, "us-ascii") == 0 || strcmp(name, "ascii") == 0;
    }
    return 1;
}

static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || c >= 0x80;
}

/* The commonest breakage of feeds is in references: a bare '&' ("AT&T")
 * or an HTML entity such as &nbsp; that XML does not define. libxml2 2.9
 * drops every entity reference after the first error (&lt; included, which
 * guts escaped HTML), so before recovering from other errors these are
 * repaired: a bare '&' becomes &amp;, an HTML entity its character, any
 * other undefined name is escaped to stay text. CDATA sections and comments
 * are left alone; when the document has an internal DTD subset, named
 * references are kept (they may be declared there). Sets *changed. */
static int fix_references(const char *s, size_t len, cd__text *out, int *changed)
{
    *changed = 0;
    out->len = 0;
    int has_subset = 0;
    const char *dt = NULL;
    for (size_t i = 0; i + 9 <= len && i < 4096; i++)
        if (memcmp(s + i, "<!DOCTYPE", 9) == 0) {
            dt = s + i;
            break;
        }
    if (dt) {
        const char *gt = memchr(dt, '>', len - (size_t)(dt - s));
        const char *br = memchr(dt, '[', len - (size_t)(dt - s));
        has_subset = br && (!gt || br < gt);
    }
    size_t i = 0, copied = 0;
    while (i < len) {
        if (s[i] == '<' && i + 9 <= len && memcmp(s + i, "<![CDATA[", 9) == 0) {
            const char *end = NULL;
            for (size_t j = i + 9; j + 3 <= len; j++)
                if (memcmp(s + j, "]]>", 3) == 0) {
                    end = s + j + 3;
                    break;
                }
            i = end ? (size_t)(end - s) : len;
            continue;
        }
        if (s[i] == '<' && i + 4 <= len && memcmp(s + i, "<!--", 4) == 0) {
            const char *end = NULL;
            for (size_t j = i + 4; j + 3 <= len; j++)
                if (memcmp(s + j, "-->", 3) == 0) {
                    end = s + j + 3;
                    break;
                }
            i = end ? (size_t)(end - s) : len;
            continue;
        }
        if (s[i] != '&') {
            i++;
            continue;
        }
        size_t j = i + 1;
        int ok = 0;
        if (j < len && s[j] == '#') {
            j++;
            int hex = j < len && (s[j] == 'x' || s[j] == 'X');
            j += hex;
            size_t digits = 0;
            while (j < len && (hex ? ((s[j] >= '0' && s[j] <= '9') ||
                                      (s[j] >= 'a' && s[j] <= 'f') || (s[j] >= 'A' && s[j] <= 'F'))
                                   : (s[j] >= '0' && s[j] <= '9')))
                j++, digits++;
            ok = digits > 0 && j < len && s[j] == ';';
            if (ok) {
                i = j + 1;
                continue;
            }
        } else {
            while (j < len && j - i <= 32 && name_char((unsigned char)s[j]))
                j++;
            size_t n = j - i - 1;
            if (n > 0 && j < len && s[j] == ';') {
                char name[40];
                memcpy(name, s + i + 1, n);
                name[n] = '\0';
                if (!strcmp(name, "amp") || !strcmp(name, "lt") || !strcmp(name, "gt") ||
                    !strcmp(name, "quot") || !strcmp(name, "apos") || has_subset) {
                    i = j + 1;
                    continue;
                }
                const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
                if (e) {
                    char utf8[4];
                    size_t k = utf8_encode(e->value, utf8);
                    if (cd__text_append(out, s + copied, i - copied) != 0 ||
                        cd__text_append(out, utf8, k) != 0)
                        return -1;
                    i = copied = j + 1;
                    *changed = 1;
                    continue;
                }
            }
        }
        /* a bare '&' or an unknown name: make the '&' text */
        if (cd__text_append(out, s + copied, i - copied) != 0 ||
            cd__text_append(out, "&amp;", 5) != 0)
            return -1;
        i = copied = i + 1;
        *changed = 1;
    }
    if (*changed && cd__text_append(out, s + copied, len - copied) != 0)
        return -1;
    return 0;
}

static void set_err(char *err, size_t err_size, const char *format, const char *arg)
{
    if (err && err_size)
        snprintf(err, err_size, format, arg);
}

/* Parses bytes with libxml2, its reports kept in f. NULL when nothing
 * could be read (*nomem set when for want of memory). */
static xmlDoc *read_xml(cd_feed *f, const char *bytes, size_t len, const char *base_url,
                        int *well_formed, int *nomem)
{
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        *nomem = 1;
        return NULL;
    }
    ctxt->_private = f;
    ctxt->sax->serror = on_xml_error; /* reports go to f, not to stderr */
    /* No XML_PARSE_NOENT (entities stay references), no DTD loading, no
     * network; recovery keeps what a malformed feed still holds. */
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, bytes, (int)len, base_url, NULL,
                                    XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOWARNING |
                                        XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
    *well_formed = ctxt->wellFormed;
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    if (e && e->code == XML_ERR_NO_MEMORY)
        *nomem = 1;
    xmlFreeParserCtxt(ctxt);
    return doc;
}

static cd_status parse_xml(cd_feed *f, const char *bytes, size_t len, const char *base_url,
                           char *err, size_t err_size)
{
    pthread_once(&parser_once, init_parser);
    int well_formed = 0, nomem = 0;
    xmlDoc *doc = read_xml(f, bytes, len, base_url, &well_formed, &nomem);
    if (doc && !well_formed) { /* repair references, then recover from the rest */
        cd__text fixed = {0};
        int changed = 0;
        if (fix_references(bytes, len, &fixed, &changed) != 0) {
            nomem = 1;
        } else if (changed) {
            int wf2 = 0;
            xmlDoc *again = read_xml(f, fixed.ptr, fixed.len, base_url, &wf2, &nomem);
            if (again) {
                xmlFreeDoc(doc);
                doc = again;
            }
        }
        cd__text_free(&fixed);
    }
    cd_status status = CD_OK;
    if (nomem) {
        status = CD_ERR_NOMEM;
        goto done;
    }
    if (!doc) {
        status = CD_ERR_FORMAT;
        set_err(err, err_size, "not a feed: %s",
                f->warning[0] ? f->warning : "the XML could not be parsed");
        goto done;
    }
    f->recovered = !well_formed;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root) {
        status = CD_ERR_FORMAT;
        set_err(err, err_size, "not a feed: %s", f->warning[0] ? f->warning : "no root element");
        goto done;
    }
    int r = 0;
    if (named(root, "rss") && !root->ns) {
        f->format = CD_FEED_RSS;
        for (xmlNode *ch = root->children; ch && r == 0; ch = ch->next) {
            if (!named(ch, "channel") || ch->ns)
                continue;
            r = feed_meta(f, doc, ch, 0);
            for (xmlNode *it = ch->children; it && r == 0; it = it->next)
                if (named(it, "item") && rss_plain(it))
                    r = rss_item(f, doc, it);
            /* RSS 0.91 files sometimes put items beside the channel */
        }
        for (xmlNode *it = root->children; it && r == 0; it = it->next)
            if (named(it, "item") && rss_plain(it))
                r = rss_item(f, doc, it);
    } else if (named(root, "RDF") && ns_is(root, NS_RDF)) {
        f->format = CD_FEED_RDF;
        for (xmlNode *c = root->children; c && r == 0; c = c->next) {
            if (named(c, "channel") && rss_plain(c))
                r = feed_meta(f, doc, c, 0);
            else if (named(c, "item") && rss_plain(c))
                r = rss_item(f, doc, c);
        }
    } else if (named(root, "feed") && is_atom(root)) {
        f->format = CD_FEED_ATOM;
        r = feed_meta(f, doc, root, 1);
        for (xmlNode *c = root->children; c && r == 0; c = c->next)
            if (named(c, "entry") && is_atom(c))
                r = atom_entry(f, doc, c);
    } else {
        status = CD_ERR_FORMAT;
        if (err && err_size)
            snprintf(err, err_size, "not a feed: the root element is <%s>",
                     root->name ? (const char *)root->name : "?");
        goto done;
    }
    if (r != 0)
        status = CD_ERR_NOMEM;
done:
    xmlFreeDoc(doc);
    return status;
}

/* ---------------------------------------------------------------- API */

cd_status cd_feed_parse(const void *bytes, size_t len, const char *base_url,
                        const cd_feed_options *options, cd_feed **out, char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!out)
        return CD_ERR_ARG;
    *out = NULL;
    if (!bytes && len > 0) {
        set_err(err, err_size, "%s", "no document");
        return CD_ERR_ARG;
    }
    if (len > INT_MAX) {
        set_err(err, err_size, "%s", "feed over 2 GiB");
        return CD_ERR_LIMIT;
    }
    cd_feed *f = cd__calloc(1, sizeof *f);
    if (!f) {
        set_err(err, err_size, "%s", "out of memory");
        return CD_ERR_NOMEM;
    }
    if (options)
        f->options = *options;
    else
        cd_feed_options_init(&f->options);
    if (f->options.max_text_bytes == 0)
        f->options.max_text_bytes = (size_t)1 << 20;

    const char *s = bytes;
    size_t i = 0;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    cd_status status;
    cd__text repaired = {0};
    if (i == len) {
        set_err(err, err_size, "%s", "not a feed: the document is empty");
        status = CD_ERR_FORMAT;
    } else if (len - i >= 5 &&
               (strncasecmp(s + i, "<!doctype html", len - i < 14 ? len - i : 14) == 0 ||
                strncasecmp(s + i, "<html", 5) == 0)) {
        set_err(err, err_size, "%s", "not a feed: an HTML page");
        status = CD_ERR_FORMAT;
    } else if (s[i] == '{') {
        f->format = CD_FEED_JSON;
        if (cd__utf8_repair(s, len, 0, &repaired, &f->invalid_utf8) != 0) {
            status = CD_ERR_NOMEM;
        } else {
            const char *src = f->invalid_utf8 ? repaired.ptr : s;
            size_t n = f->invalid_utf8 ? repaired.len : len;
            status = cd__feed_parse_json(f, src, n, base_url, err, err_size);
        }
    } else if (s[i] == '<' || !xml_is_utf8(s, len)) {
        if (xml_is_utf8(s, len) && cd__utf8_repair(s, len, 1, &repaired, &f->invalid_utf8) != 0) {
            status = CD_ERR_NOMEM;
        } else {
            const char *src = f->invalid_utf8 ? repaired.ptr : s;
            size_t n = f->invalid_utf8 ? repaired.len : len;
            status = parse_xml(f, src, n, base_url, err, err_size);
        }
    } else {
        set_err(err, err_size, "%s", "not a feed: neither XML nor JSON");
        status = CD_ERR_FORMAT;
    }
    cd__text_free(&repaired);
    if (status != CD_OK) {
        if (status == CD_ERR_NOMEM)
            set_err(err, err_size, "%s", "out of memory");
        cd_feed_free(f);
        return status;
    }
    if (!f->warning[0] && f->invalid_utf8)
        snprintf(f->warning, sizeof f->warning, "%zu invalid UTF-8 sequence%s replaced",
                 f->invalid_utf8, f->invalid_utf8 == 1 ? "" : "s");
    *out = f;
    return CD_OK;
}

void cd_feed_free(cd_feed *feed)
{
    if (!feed)
        return;
    cd__text_free(&feed->strings);
    cd__text_free(&feed->scratch);
    cd__text_free(&feed->raw);
    for (int i = 0; i < CD__FEED_FIELDS; i++)
        cd__text_free(&feed->draft.field[i]);
    cd__free(feed->items);
    cd__free(feed->slots);
    cd__free(feed);
}

void cd_feed_get_info(const cd_feed *feed, cd_feed_info *out)
{
    memset(out, 0, sizeof *out);
    out->format = feed->format;
    if (feed->has_title)
        out->title = (cd_str){feed->strings.ptr + feed->title_off, feed->title_len};
    if (feed->has_link)
        out->link = (cd_str){feed->strings.ptr + feed->link_off, feed->link_len};
    out->items = feed->count;
    out->duplicate_items = feed->duplicates;
    out->skipped_items = feed->skipped;
    out->invalid_utf8 = feed->invalid_utf8;
    out->entities_dropped = feed->entities_dropped;
    out->recovered = feed->recovered;
    out->warning = feed->warning;
}

size_t cd_feed_item_count(const cd_feed *feed)
{
    return feed ? feed->count : 0;
}

cd_status cd_feed_get_item(const cd_feed *feed, size_t index, cd_feed_item *out)
{
    memset(out, 0, sizeof *out);
    if (!feed || index >= feed->count)
        return CD_ERR_ARG;
    const cd__feed_item *it = &feed->items[index];
    cd_str *dst[CD__FEED_FIELDS] = {&out->key,       &out->link, &out->title,
                                    &out->published, &out->text, &out->author};
    for (int i = 0; i < CD__FEED_FIELDS; i++)
        if (it->has[i])
            *dst[i] = (cd_str){feed->strings.ptr + it->off[i], it->len[i]};
    out->published_time = it->time;
    out->dated = it->dated;
    return CD_OK;
}
