/* extract.c: the extract stage (read ─► extract ─► boilerplate ─► normalise):
 * HTML detection and main-text extraction with libxml2's HTML parser, read
 * through its SAX callbacks (no tree is built; nesting costs no stack), with
 * long runs of plain text handed to it as single markers (see "text runs"). */
#include "extract.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "alloc.h"
#include "html_bytes.h"
#include "html_fast.h"

void cd__text_free(cd__text *t)
{
    cd__free(t->ptr);
    *t = (cd__text){NULL, 0, 0};
}

int cd__text_append(cd__text *t, const char *bytes, size_t len)
{
    if (len == 0)
        return 0;
    if (cd__grow((void **)&t->ptr, &t->cap, t->len + len + 1, 1) != 0)
        return -1;
    memcpy(t->ptr + t->len, bytes, len);
    t->len += len;
    t->ptr[t->len] = '\0';
    return 0;
}

/* ------------------------------------------------------------ detection */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int starts_with_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != prefix[i])
            return 0;
    return 1;
}

/* Element names that count as evidence of HTML. Single letters (a, b, i,
 * p) are left out of opening tags: "<A>" is also how tickers are written. */
static const char *const html_names[] = {
    "p",      "div",   "br",      "span",  "a",      "b",      "i",      "em",   "strong",
    "h1",     "h2",    "h3",      "h4",    "h5",     "h6",     "li",     "ul",   "ol",
    "table",  "tr",    "td",      "th",    "article", "section", "main", "nav", "header",
    "footer", "aside", "script",  "style", "body",   "html",   "head",   "title", "blockquote",
    "figure", "figcaption", "form", "noscript", "time", "small", "label", "button",
};

/* Length of the known element name at s (lower-cased), 0 if none; the name
 * must be followed by '>', '/' or white space. */
static size_t known_name(const char *s, size_t len, int opening)
{
    for (size_t k = 0; k < sizeof html_names / sizeof *html_names; k++) {
        size_t n = strlen(html_names[k]);
        if (opening && n == 1)
            continue;
        if (n < len && starts_with_ci(s, len, html_names[k])) {
            char after = s[n];
            if (after == '>' || after == '/' || after == ' ' || after == '\t' || after == '\n' ||
                after == '\r')
                return n;
        }
    }
    return 0;
}

int cd__looks_like_html(const char *text, size_t len)
{
    if (!text || len == 0)
        return 0;
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (starts_with_ci(text + i, len - i, "<!doctype html") ||
        starts_with_ci(text + i, len - i, "<html"))
        return 1;
    /* Otherwise at least two known tags, one of them a closing tag or <br>. */
    unsigned hits = 0, strong = 0;
    const char *p = text + i, *end = text + len;
    while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        p++;
        size_t rest = (size_t)(end - p);
        if (rest > 0 && *p == '/') {
            if (known_name(p + 1, rest - 1, 0)) {
                hits++;
                strong++;
            }
        } else if (known_name(p, rest, 1)) {
            hits++;
            strong += starts_with_ci(p, rest, "br");
        }
        if (hits >= 2 && strong >= 1)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------ element kinds */

enum element_kind { INLINE = 0, BLOCK, SKIP, LINE_BREAK, CELL };

static const struct {
    const char *name;
    enum element_kind kind;
} element_kinds[] = {
    /* dropped with their content */
    {"applet", SKIP},   {"aside", SKIP},    {"audio", SKIP},    {"button", SKIP},
    {"canvas", SKIP},   {"dialog", SKIP},   {"embed", SKIP},    {"footer", SKIP},
    {"form", SKIP},     {"head", SKIP},     {"header", SKIP},   {"iframe", SKIP},
    {"map", SKIP},      {"math", SKIP},     {"menu", SKIP},     {"nav", SKIP},
    {"noscript", SKIP}, {"object", SKIP},   {"script", SKIP},   {"select", SKIP},
    {"style", SKIP},    {"svg", SKIP},      {"template", SKIP}, {"textarea", SKIP},
    {"title", SKIP},    {"video", SKIP},
    /* paragraphs */
    {"address", BLOCK}, {"article", BLOCK}, {"blockquote", BLOCK}, {"body", BLOCK},
    {"caption", BLOCK}, {"center", BLOCK},  {"dd", BLOCK},      {"details", BLOCK},
    {"div", BLOCK},     {"dl", BLOCK},      {"dt", BLOCK},      {"fieldset", BLOCK},
    {"figcaption", BLOCK}, {"figure", BLOCK}, {"h1", BLOCK},    {"h2", BLOCK},
    {"h3", BLOCK},      {"h4", BLOCK},      {"h5", BLOCK},      {"h6", BLOCK},
    {"hr", BLOCK},      {"html", BLOCK},    {"legend", BLOCK},  {"li", BLOCK},
    {"main", BLOCK},    {"ol", BLOCK},      {"p", BLOCK},       {"pre", BLOCK},
    {"section", BLOCK}, {"summary", BLOCK}, {"table", BLOCK},   {"tbody", BLOCK},
    {"tfoot", BLOCK},   {"thead", BLOCK},   {"tr", BLOCK},      {"ul", BLOCK},
    /* other separators */
    {"br", LINE_BREAK}, {"td", CELL},       {"th", CELL},
};

/* element_kinds as an open-addressing hash table (filled by index_kinds):
 * one probe and one strcmp for most names instead of a scan of the list. */
enum { KIND_SLOTS = 256 }; /* a power of two, well above the list's length */
static const char *slot_name[KIND_SLOTS];
static unsigned char slot_kind[KIND_SLOTS];

/* FNV-1a of a NUL-terminated name. */
static unsigned name_hash(const char *name)
{
    unsigned h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h;
}

/* Fills the hash table from element_kinds (once, before any parse). */
static void index_kinds(void)
{
    for (size_t k = 0; k < sizeof element_kinds / sizeof *element_kinds; k++) {
        unsigned slot = name_hash(element_kinds[k].name) & (KIND_SLOTS - 1);
        while (slot_name[slot])
            slot = (slot + 1) & (KIND_SLOTS - 1);
        slot_name[slot] = element_kinds[k].name;
        slot_kind[slot] = (unsigned char)element_kinds[k].kind;
    }
}

/* The kind of the element called name by the parser (lower case). libxml2's
 * tree builder names it by the part after the first ':' (xmlSplitQName),
 * unless the name starts or ends with that ':', so <o:p> is a paragraph. */
static enum element_kind kind_of(const char *name)
{
    const char *colon = name[0] == ':' ? NULL : strchr(name, ':');
    if (colon && colon[1])
        name = colon + 1;
    for (unsigned slot = name_hash(name) & (KIND_SLOTS - 1); slot_name[slot];
         slot = (slot + 1) & (KIND_SLOTS - 1))
        if (strcmp(slot_name[slot], name) == 0)
            return (enum element_kind)slot_kind[slot];
    return INLINE;
}

/* -------------------------------------------------------- byte scans */

/* Byte classes for the scans over a page and its text (see index_bytes). */
enum {
    RUN_END = 1,  /* ends a text run: '<', '&', a control character the parser drops */
    RUN_EDGE = 2, /* a text run may start after it: '>', ';' */
    TAG = 4,      /* '<' */
    CHECKED = 8,  /* looked at by markers_usable: '&', non-ASCII */
    WHITE = 16,   /* white space as the text is written */
};
static unsigned char byte_class[256];

/* Fills byte_class (once, before any parse). */
static void index_bytes(void)
{
    for (int c = 0; c < 0x20; c++)
        if (c != '\t' && c != '\n' && c != '\r')
            byte_class[c] |= RUN_END;
    byte_class['<'] |= RUN_END | TAG;
    byte_class['&'] |= RUN_END | CHECKED;
    byte_class['>'] |= RUN_EDGE;
    byte_class[';'] |= RUN_EDGE;
    for (int c = 0x80; c < 0x100; c++)
        byte_class[c] |= CHECKED;
    for (const char *c = " \t\n\r\f"; *c; c++)
        byte_class[(unsigned char)*c] |= WHITE;
}

/* The first occurrence of needle[0..n) in s[0..len), NULL if none. */
static const char *find_bytes(const char *s, size_t len, const char *needle, size_t n)
{
    const char *end = s + len, *p = s;
    while ((size_t)(end - p) >= n && (p = memchr(p, needle[0], (size_t)(end - p) - n + 1))) {
        if (memcmp(p, needle, n) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* --------------------------------------------------------- text runs */

/* Most of a page is text, which libxml2 reads one character at a time. So
 * the parser is given a copy of the page in which each long run of plain
 * text is a single marker character, and the run is taken from the page
 * when its marker comes back as character data. A run starts right after
 * a '>' or a ';' with a character that is not white space, holds no markup
 * nor character the parser drops, and ends at a '<', a '&' or the end of
 * the page. Read as character data, such a run and its marker lead the
 * parser to the same decisions: go on to the same '<' or '&', and imply a
 * <p> (only before a first chunk of text that is not white space) at the
 * same point. Anywhere else (an attribute value, a comment, a script) the
 * marker does not come back as character data; the count of markers that
 * did tells, and the page is then parsed as it is. The page must be
 * well-formed UTF-8 without U+FFFE/U+FFFF, and neither hold nor spell the
 * marker (markers_usable), so that every marker in the text is one of
 * ours and the bytes around the runs are read the same way. */
static const char marker[] = "\xF3\xB0\x80\x80"; /* U+F0000, private use */
enum { MARKER_LEN = sizeof marker - 1, MIN_RUN = 8 };

typedef struct text_run {
    size_t start, len; /* in the page */
} text_run;

/* A page's runs, and the copy of the page the parser is given. */
typedef struct marked_page {
    char *copy; /* the page with each run replaced by the marker */
    size_t len, cap;
    text_run *run; /* the runs, in order */
    size_t count, run_cap;
} marked_page;

static void marked_page_free(marked_page *r)
{
    cd__free(r->copy);
    cd__free(r->run);
}

/* 1 for a character that a page with markers may hold: not U+FFFE or
 * U+FFFF (which the parser drops) nor one of plane 15 (the marker's). */
static int marker_safe(const unsigned char *s, size_t n)
{
    if (utf8_nonchar(s, n))
        return 0;
    return !(n == 4 && s[0] == 0xF3 && s[1] >= 0xB0);
}

/* 1 when the character reference at s ("&#") has digits enough to spell
 * a character of plane 15 (U+F0000 is 983040). */
static int long_char_ref(const unsigned char *s, const unsigned char *end)
{
    const unsigned char *p = s + 2;
    int hex = p < end && (*p | 0x20) == 'x';
    p += hex;
    const unsigned char *digits = p;
    while (p < end &&
           ((*p >= '0' && *p <= '9') || (hex && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')))
        p++;
    return (size_t)(p - digits) >= (hex ? 5u : 6u);
}

/* 1 when runs of the page s[0..len) may be given to the parser as markers
 * (see above). */
static int markers_usable(const unsigned char *s, size_t len)
{
    const unsigned char *end = s + len;
    while (s < end) {
        if (end - s >= WORD && !((word_at(s) & HIGHS) | bytes_equal(word_at(s), '&'))) {
            s += WORD;
        } else if (!(byte_class[*s] & CHECKED)) {
            s++;
        } else if (*s == '&') {
            if (end - s > 1 && s[1] == '#' && long_char_ref(s, end))
                return 0;
            s++;
        } else {
            size_t n = utf8_length(s, (size_t)(end - s));
            if (n == 0 || !marker_safe(s, n))
                return 0;
            s += n;
        }
    }
    return 1;
}

/* Where the scan for runs goes on after the '<' at html[at]: past the
 * content of a script, a style or a comment (never read as character
 * data), else right after the '<'. */
static size_t after_tag_open(const char *html, size_t len, size_t at)
{
    static const struct {
        const char *open, *close;
    } raw[] = {{"<script", "</script"}, {"<style", "</style"}, {"<!--", "-->"}};
    if (len - at >= 4 && ((html[at + 1] | 0x20) == 's' || html[at + 1] == '!')) {
        for (size_t k = 0; k < sizeof raw / sizeof *raw; k++) {
            size_t n = strlen(raw[k].open);
            if (len - at < n || strncasecmp(html + at, raw[k].open, n) != 0)
                continue;
            const char *close =
                find_bytes(html + at + n, len - at - n, raw[k].close, strlen(raw[k].close));
            return close ? (size_t)(close - html) + 1 : len;
        }
    }
    return at + 1;
}

/* The end of the run starting at s[start] (after a '>' or ';'), or start
 * when there is none. */
static size_t run_end(const unsigned char *s, size_t len, size_t start)
{
    if (start < 4 || start >= len || s[start] == ' ' || s[start] == '\t' || s[start] == '\n' ||
        s[start] == '\r') /* white space as libxml2 sees it; 4 bytes kept for its sniffing */
        return start;
    size_t end = start;
    while (end < len) {
        uint64_t v = end + WORD <= len ? word_at(s + end) : 0;
        if (end + WORD <= len &&
            !(bytes_below(v, 0x20) | bytes_equal(v, '<') | bytes_equal(v, '&')))
            end += WORD;
        else if (byte_class[s[end]] & RUN_END)
            break;
        else
            end++;
    }
    int bounded = end == len || s[end] == '<' || s[end] == '&';
    return bounded && end - start >= MIN_RUN ? end : start;
}

/* Appends bytes to the copy (its capacity is reserved up front). */
static void copy_bytes(marked_page *r, const char *bytes, size_t len)
{
    memcpy(r->copy + r->len, bytes, len);
    r->len += len;
}

/* Fills r from the page html[0..len): the copy with markers and the runs
 * they stand for. Returns 0, or -1 when out of memory. */
static int find_runs(marked_page *r, const char *html, size_t len)
{
    if (cd__grow((void **)&r->copy, &r->cap, len + 1, 1) != 0)
        return -1;
    const unsigned char *s = (const unsigned char *)html;
    size_t at = 0, copied = 0; /* html[copied..at) is still to be copied */
    while (at < len) {
        uint64_t v = at + WORD <= len ? word_at(s + at) : 0;
        if (at + WORD <= len &&
            !(bytes_equal(v, '<') | bytes_equal(v, '>') | bytes_equal(v, ';'))) {
            at += WORD;
            continue;
        }
        unsigned char class = byte_class[s[at]];
        at = class & TAG ? after_tag_open(html, len, at) : at + 1;
        size_t end = class & RUN_EDGE ? run_end(s, len, at) : at;
        if (end == at)
            continue;
        if (cd__grow((void **)&r->run, &r->run_cap, r->count + 1, sizeof *r->run) != 0)
            return -1;
        r->run[r->count++] = (text_run){at, end - at};
        copy_bytes(r, html + copied, at - copied);
        copy_bytes(r, marker, MARKER_LEN);
        at = copied = end;
    }
    copy_bytes(r, html + copied, len - copied);
    r->copy[r->len] = '\0';
    return 0;
}

/* --------------------------------------------------------- extraction */

/* What separates the next text from the text already written. */
enum pending { NONE = 0, SPACE, LINE, PARAGRAPH };

/* The state of one extraction, reached from the parser's callbacks through
 * the parser context's _private. It follows the tree libxml2's own SAX
 * handler would build (the text is the one a walk over that tree gives):
 * the tree's open nodes, not the parser's open names (they part when a
 * start tag is not ended by '>'), the tree's element names (after any
 * prefix), its depth limit, its text size limit, no text outside the root
 * element, no text inside an element named br. */
typedef struct extractor {
    htmlParserCtxtPtr parser;
    cd__text *out;
    enum pending pending;
    const char *html;          /* the page, for the text of the runs */
    const marked_page *marked; /* the page the parser reads, when with markers */
    size_t markers;            /* markers read as character data so far */
    unsigned char *kinds;      /* kinds[i]: the kind of the open element at depth i + 1 */
    size_t depth, kinds_cap;
    size_t dropped_at; /* depth of the outermost open dropped element, 0 if none */
    size_t text_node;  /* length of the text node the tree would be appending to */
    int text_is_cdata; /* that node holds script or style content */
    int stopped;       /* the tree builder would have stopped the parse */
    int too_long;      /* a text node over libxml2's limit (reported as out of memory) */
    int failed;        /* out of memory */
} extractor;

static void separate(extractor *x, enum pending p)
{
    if (x->pending < p)
        x->pending = p;
}

/* The length of the start of s[0..len) that is written as it is: words
 * separated by single spaces. */
static size_t plain_span(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (i + WORD < len) { /* no control character, no space before white space */
            uint64_t v = word_at(s + i), next = word_at(s + i + 1);
            if (!(bytes_below(v, 0x20) |
                  (bytes_equal(v, ' ') & (bytes_equal(next, ' ') | bytes_below(next, 0x20))))) {
                i += WORD;
                continue;
            }
        }
        if (!(byte_class[s[i]] & WHITE))
            i++;
        else if (s[i] == ' ' && i + 1 < len && !(byte_class[s[i + 1]] & WHITE))
            i += 2;
        else
            break;
    }
    return i;
}

/* Appends text, collapsing white space: each word goes after the pending
 * separator (none before the first word written). */
static void put_text(extractor *x, const unsigned char *s, size_t len)
{
    static const char *const seps[] = {"", " ", "\n", "\n\n"};
    const unsigned char *end = s + len;
    for (; s < end && (byte_class[*s] & WHITE); s++)
        separate(x, SPACE);
    if (s == end || x->failed)
        return;
    cd__text *out = x->out; /* room for a separator of 2 bytes, then one byte per byte */
    if (cd__grow((void **)&out->ptr, &out->cap, out->len + 2 + (size_t)(end - s) + 1, 1) != 0) {
        x->failed = 1;
        return;
    }
    while (s < end) {
        if (byte_class[*s] & WHITE) {
            separate(x, SPACE);
            s++;
            continue;
        }
        if (out->len > 0) {
            size_t n = strlen(seps[x->pending]);
            memcpy(out->ptr + out->len, seps[x->pending], n);
            out->len += n;
        }
        x->pending = NONE;
        size_t n = plain_span(s, (size_t)(end - s));
        memcpy(out->ptr + out->len, s, n);
        out->len += n;
        s += n;
    }
    out->ptr[out->len] = '\0';
}

/* Writes the parser's character data (when write is set) with each marker
 * replaced by its run; returns the length of the page's text it stands for. */
static size_t expand_markers(extractor *x, const unsigned char *s, size_t len, int write)
{
    const unsigned char *end = s + len, *m;
    size_t page_len = len;
    while (x->marked && (m = (const unsigned char *)find_bytes((const char *)s, (size_t)(end - s),
                                                               marker, MARKER_LEN))) {
        size_t k = x->markers++;
        if (k >= x->marked->count) /* cannot be (markers_usable); the count then fails */
            return page_len;
        const text_run *run = &x->marked->run[k];
        if (write) {
            put_text(x, s, (size_t)(m - s));
            put_text(x, (const unsigned char *)x->html + run->start, run->len);
        }
        page_len += run->len - MARKER_LEN;
        s = m + MARKER_LEN;
    }
    if (write)
        put_text(x, s, (size_t)(end - s));
    return page_len;
}

/* Stops the parse: nothing after this point changes the text. */
static void stop(extractor *x)
{
    x->stopped = 1;
    if (x->parser)
        xmlStopParser(x->parser);
}

/* Leaves the innermost open element. */
static void leave(extractor *x)
{
    enum element_kind kind = (enum element_kind)x->kinds[--x->depth];
    x->text_node = 0;
    if (x->dropped_at) {
        if (x->depth + 1 > x->dropped_at)
            return; /* inside a dropped element */
        x->dropped_at = 0;
    }
    if (kind == BLOCK || kind == SKIP)
        separate(x, PARAGRAPH);
    else if (kind == CELL)
        separate(x, SPACE);
}

/* The extractor of a callback's context, NULL once the parse has stopped.
 * Its element stack is first brought level with the parser's open names
 * (less the one being started): a start tag not ended by '>' is popped by
 * the parser without an end event. */
static extractor *callback_state(void *ctx, int starting)
{
    htmlParserCtxtPtr parser = ctx;
    extractor *x = parser->_private;
    if (x->stopped)
        return NULL;
    size_t open = parser->nameNr > 0 ? (size_t)parser->nameNr : 0;
    if (starting && open > 0)
        open--;
    while (x->depth > open)
        leave(x);
    return x;
}

/* An element starts: separators before it, dropping its content when it
 * is of a dropped kind or a line break (a <br> has none, but an unknown
 * <x:br> has and is named br in the tree). Past libxml2's depth limit the
 * tree builder halts the parser, so this does too. */
static void element_start(extractor *x, const char *name)
{
    if (x->depth > xmlParserMaxDepth) {
        stop(x);
        return;
    }
    if (cd__grow((void **)&x->kinds, &x->kinds_cap, x->depth + 1, 1) != 0) {
        x->failed = 1;
        stop(x);
        return;
    }
    enum element_kind kind = kind_of(name);
    x->kinds[x->depth++] = (unsigned char)kind;
    x->text_node = 0;
    if (x->dropped_at)
        return;
    switch (kind) {
    case SKIP:
        separate(x, PARAGRAPH);
        x->dropped_at = x->depth;
        break;
    case BLOCK:
        separate(x, PARAGRAPH);
        break;
    case LINE_BREAK:
        separate(x, x->pending >= LINE ? PARAGRAPH : LINE);
        x->dropped_at = x->depth;
        break;
    case CELL:
        separate(x, SPACE);
        break;
    case INLINE:
        break;
    }
}

/* SAX startElement. */
static void on_start(void *ctx, const xmlChar *name, const xmlChar **attributes)
{
    (void)attributes;
    extractor *x = callback_state(ctx, 1);
    if (x)
        element_start(x, (const char *)name);
}

/* SAX endElement: separators after the element. */
static void on_end(void *ctx, const xmlChar *name)
{
    (void)name;
    extractor *x = callback_state(ctx, 0);
    if (x && x->depth > 0)
        leave(x);
}

/* Character data (cdata: the content of a script or style): written
 * unless outside the root element (where the tree builder drops it) or
 * inside a dropped element. A text node the tree builder would grow past
 * XML_MAX_TEXT_LENGTH stops the parse, as there (each of the parser's
 * text events is far shorter, so only the node's total counts). */
static void text_data(extractor *x, const unsigned char *text, size_t len, int cdata)
{
    if (len == 0)
        return;
    int write = x->depth > 0 && !x->dropped_at;
    size_t page_len = len;
    if (!cdata) /* a marker in a script is not one that came back */
        page_len = expand_markers(x, text, len, write);
    else if (write)
        put_text(x, text, len);
    if (x->depth > 0) {
        if (x->text_node > 0 && x->text_is_cdata != cdata)
            x->text_node = 0;
        x->text_is_cdata = cdata;
        x->text_node += page_len;
        if (x->text_node > XML_MAX_TEXT_LENGTH)
            x->too_long = 1;
    }
    if (x->too_long || x->failed)
        stop(x);
}

static void on_text(void *ctx, const xmlChar *text, int len, int cdata)
{
    extractor *x = callback_state(ctx, 0);
    if (x && len > 0)
        text_data(x, text, (size_t)len, cdata);
}

/* SAX characters. */
static void on_characters(void *ctx, const xmlChar *text, int len)
{
    on_text(ctx, text, len, 0);
}

/* SAX cdataBlock: the content of script and style elements. */
static void on_cdata(void *ctx, const xmlChar *text, int len)
{
    on_text(ctx, text, len, 1);
}

/* SAX comment: no text, but a node that ends the text node before it. */
static void on_comment(void *ctx, const xmlChar *text)
{
    (void)text;
    extractor *x = callback_state(ctx, 0);
    if (x)
        x->text_node = 0;
}

/* SAX processingInstruction: as a comment. */
static void on_instruction(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)data;
    on_comment(ctx, target);
}

/* The callbacks of an extraction; the rest (document, DTD, errors) unset. */
static const htmlSAXHandler extract_sax = {
    .startElement = on_start,
    .endElement = on_end,
    .characters = on_characters,
    .cdataBlock = on_cdata,
    .comment = on_comment,
    .processingInstruction = on_instruction,
    .initialized = 1,
};

static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void init_parser(void)
{
    xmlInitParser();
    index_kinds();
    index_bytes();
    cd__html_fast_init();
}

/* Empties out. */
static void clear(cd__text *out)
{
    out->len = 0;
    if (out->ptr)
        out->ptr[0] = '\0';
}

/* Runs libxml2's HTML parser over bytes[0..len) with x's callbacks, set up
 * as htmlReadMemory does (read as UTF-8, no network, errors silenced), and
 * notes in x whether libxml2 ran out of memory. */
static void parse(extractor *x, const char *bytes, size_t len)
{
    xmlResetLastError();
    x->parser = xmlCreateMemoryParserCtxt(bytes, (int)len);
    if (x->parser) {
        *x->parser->sax = extract_sax;
        x->parser->_private = x;
        htmlCtxtUseOptions(x->parser, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                          HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                          HTML_PARSE_COMPACT);
        x->parser->html = 1;
        xmlCharEncodingHandlerPtr utf8 = xmlFindCharEncodingHandler("UTF-8");
        if (utf8) {
            xmlSwitchToEncoding(x->parser, utf8);
            xmlFree((xmlChar *)x->parser->input->encoding);
            x->parser->input->encoding = xmlStrdup(BAD_CAST "UTF-8");
        }
        htmlParseDocument(x->parser);
        xmlFreeParserCtxt(x->parser);
        x->parser = NULL;
    }
    const xmlError *e = xmlGetLastError();
    if (e && e->code == XML_ERR_NO_MEMORY)
        x->failed = 1;
}

/* Extracts the page html[0..len) parsing a copy with its text runs as
 * markers. Returns 0 when that cannot be trusted (no run, a marker not
 * read as character data) and the page must be parsed as it is. */
static int extract_with_markers(extractor *x, const char *html, size_t len)
{
    marked_page r = {0};
    if (!markers_usable((const unsigned char *)html, len))
        return 0;
    int done = 1;
    if (find_runs(&r, html, len) != 0) {
        x->failed = 1;
    } else if (r.count == 0) {
        done = 0;
    } else {
        x->marked = &r;
        parse(x, r.copy, r.len);
        x->marked = NULL;
        done = x->failed || x->markers == r.count;
    }
    marked_page_free(&r);
    return done;
}

/* The fast parser's events (html_fast.h), handled as the SAX callbacks
 * handle libxml2's; each gives up the page once the extraction stopped. */
static int fast_start(void *ctx, const char *name)
{
    extractor *x = ctx;
    element_start(x, name);
    return x->stopped;
}

static int fast_end(void *ctx)
{
    extractor *x = ctx;
    if (x->depth > 0)
        leave(x);
    return x->stopped;
}

static int fast_text(void *ctx, const char *bytes, size_t len)
{
    extractor *x = ctx;
    text_data(x, (const unsigned char *)bytes, len, 0);
    return x->stopped;
}

/* Starts x over on out, keeping its element stack's memory. */
static void restart(extractor *x, cd__text *out, const char *html)
{
    clear(out);
    *x = (extractor){.out = out, .html = html, .kinds = x->kinds, .kinds_cap = x->kinds_cap};
}

cd_status cd__extract_html_by(const char *html, size_t len, cd__text *out, enum cd__extract_way way)
{
    clear(out);
    if (!html || len == 0)
        return CD_OK;
    if (len > INT_MAX)
        len = INT_MAX; /* beyond any --max-doc-bytes in practice */
    pthread_once(&parser_once, init_parser);
    extractor x = {.out = out, .html = html};
    const cd__html_sink sink = {&x, fast_start, fast_end, fast_text};
    /* out of memory ends the extraction, as on libxml2's ways */
    int done = way == CD__EXTRACT_FAST && (cd__html_fast_parse(html, len, &sink) || x.failed);
    if (!done && way != CD__EXTRACT_PLAIN) {
        restart(&x, out, html);
        done = extract_with_markers(&x, html, len);
    }
    if (!done) {
        restart(&x, out, html);
        parse(&x, html, len);
    }
    cd__free(x.kinds);
    /* libxml2 recovers from a failed allocation by dropping content, so a
     * failure anywhere in the parse makes the text unreliable; a text node
     * over its limit it reports as a failed allocation too */
    if (x.failed || x.too_long) {
        clear(out);
        return CD_ERR_NOMEM;
    }
    return CD_OK;
}

cd_status cd__extract_html(const char *html, size_t len, cd__text *out)
{
    return cd__extract_html_by(html, len, out, CD__EXTRACT_FAST);
}
