/* extract.c: the extract stage (read ─► extract ─► boilerplate ─► normalise):
 * HTML detection and main-text extraction with libxml2's HTML parser. The
 * parse tree is walked without recursion, so nesting depth costs no stack. */
#include "extract.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "alloc.h"

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

/* ----------------------------------------------------------- extraction */

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

static enum element_kind kind_of(const xmlNode *node)
{
    const char *name = (const char *)node->name;
    if (!name)
        return INLINE;
    for (size_t k = 0; k < sizeof element_kinds / sizeof *element_kinds; k++)
        if (strcmp(name, element_kinds[k].name) == 0)
            return element_kinds[k].kind;
    return INLINE;
}

/* What separates the next text from the text already written. */
enum pending { NONE = 0, SPACE, LINE, PARAGRAPH };

typedef struct walker {
    cd__text *out;
    enum pending pending;
    int failed;
} walker;

static void separate(walker *w, enum pending p)
{
    if (w->pending < p)
        w->pending = p;
}

static void put(walker *w, const char *bytes, size_t len)
{
    if (!w->failed && cd__text_append(w->out, bytes, len) != 0)
        w->failed = 1;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Appends a text node's content, collapsing white space. */
static void put_text(walker *w, const unsigned char *s)
{
    while (*s) {
        if (is_space(*s)) {
            separate(w, SPACE);
            s++;
            continue;
        }
        const unsigned char *run = s;
        while (*s && !is_space(*s))
            s++;
        if (w->out->len > 0) {
            static const char *const seps[] = {"", " ", "\n", "\n\n"};
            put(w, seps[w->pending], strlen(seps[w->pending]));
        }
        w->pending = NONE;
        put(w, (const char *)run, (size_t)(s - run));
    }
}

static int is_document(const xmlNode *node)
{
    return node->type == XML_DOCUMENT_NODE || node->type == XML_HTML_DOCUMENT_NODE;
}

/* Pre-order walk over the tree below doc, by the parent/next links. */
static void walk(xmlDoc *doc, walker *w)
{
    xmlNode *node = doc->children;
    while (node) {
        int descend = 0;
        if (node->type == XML_ELEMENT_NODE) {
            switch (kind_of(node)) {
            case SKIP: separate(w, PARAGRAPH); break;
            case BLOCK: separate(w, PARAGRAPH); descend = 1; break;
            case LINE_BREAK: separate(w, w->pending >= LINE ? PARAGRAPH : LINE); break;
            case CELL: separate(w, SPACE); descend = 1; break;
            case INLINE: descend = 1; break;
            }
        } else if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
            if (node->content)
                put_text(w, node->content);
        }
        if (descend && node->children) {
            node = node->children;
            continue;
        }
        for (;;) { /* leave node, then go to its next sibling or climb */
            if (node->type == XML_ELEMENT_NODE) {
                enum element_kind kind = kind_of(node);
                if (kind == BLOCK || kind == SKIP)
                    separate(w, PARAGRAPH);
                else if (kind == CELL)
                    separate(w, SPACE);
            }
            if (node->next) {
                node = node->next;
                break;
            }
            node = node->parent;
            if (!node || is_document(node))
                return;
        }
    }
}

static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void init_parser(void) { xmlInitParser(); }

cd_status cd__extract_html(const char *html, size_t len, cd__text *out)
{
    out->len = 0;
    if (out->ptr)
        out->ptr[0] = '\0';
    if (!html || len == 0)
        return CD_OK;
    if (len > INT_MAX)
        len = INT_MAX; /* beyond any --max-doc-bytes in practice */
    pthread_once(&parser_once, init_parser);
    xmlResetLastError();
    xmlDoc *doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                                 HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                     HTML_PARSE_NONET | HTML_PARSE_COMPACT);
    const xmlError *e = xmlGetLastError();
    int xml_nomem = e && e->code == XML_ERR_NO_MEMORY;
    if (!doc)
        return xml_nomem ? CD_ERR_NOMEM : CD_OK;
    walker w = {out, NONE, 0};
    walk(doc, &w);
    xmlFreeDoc(doc);
    /* libxml2 recovers from a failed allocation by dropping content, so a
     * failure anywhere in the parse makes the text unreliable */
    if (w.failed || xml_nomem) {
        out->len = 0;
        if (out->ptr)
            out->ptr[0] = '\0';
        return CD_ERR_NOMEM;
    }
    return CD_OK;
}
