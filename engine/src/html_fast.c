/* html_fast.c: libxml2's HTML parse of plain pages, without libxml2 (see
 * html_fast.h). Each step names the libxml2 2.9 function it follows
 * (HTMLparser.c); tests/test_extract.c and fuzz_extract compare the text of
 * every page this accepts with the text of libxml2's own parse. */
#include "html_fast.h"

#include <stdint.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "html_bytes.h"
#include "simd.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define AVX2_SCANS 1
#endif

/* ---------------------------------------------------------- names */

/* The element names known in advance: libxml2's HTML 4 elements and the
 * HTML 5 ones the extract stage gives a kind. A page's other names (custom
 * elements, SVG's) are its "unknown" names, asked of libxml2 as they come
 * (see parser). */
static const char *const names[] = {
    "a",        "abbr",     "acronym",  "address",  "applet",  "area",     "article",  "aside",
    "audio",    "b",        "base",     "basefont", "bdi",     "bdo",      "big",      "blockquote",
    "body",     "br",       "button",   "canvas",   "caption", "center",   "cite",     "code",
    "col",      "colgroup", "data",     "dd",       "del",     "details",  "dfn",      "dialog",
    "dir",      "div",      "dl",       "dt",       "em",      "embed",    "fieldset", "figcaption",
    "figure",   "font",     "footer",   "form",     "frame",   "frameset", "h1",       "h2",
    "h3",       "h4",       "h5",       "h6",       "head",    "header",   "hr",       "html",
    "i",        "iframe",   "img",      "input",    "ins",     "isindex",  "kbd",      "label",
    "legend",   "li",       "link",     "main",     "map",     "mark",     "math",     "menu",
    "meta",     "nav",      "noframes", "noscript", "object",  "ol",       "optgroup", "option",
    "p",        "param",    "picture",  "pre",      "q",       "s",        "samp",     "script",
    "section",  "select",   "small",    "source",   "span",    "strike",   "strong",   "style",
    "sub",      "summary",  "sup",      "svg",      "table",   "tbody",    "td",       "template",
    "textarea", "tfoot",    "th",       "thead",    "time",    "title",    "tr",       "track",
    "tt",       "u",        "ul",       "var",      "video",   "wbr",
};
enum { NAMES = sizeof names / sizeof *names, NO_NAME = NAMES, KNOWN_MAX_LEN = 10 };

enum { NAME_SLOTS = 512 };                 /* a power of two, well above NAMES */
static short name_slot[NAME_SLOTS];        /* name index + 1, 0 for an empty slot */
static unsigned char closes[NAMES][NAMES]; /* closes[open][new]: htmlCheckAutoClose(new, open) */
static unsigned char is_void[NAMES];       /* htmlTagLookup(name)->empty */
static unsigned char in_head[NAMES];       /* implies a head, not a body (htmlCheckImplied) */
static unsigned char in_frames[NAMES];     /* implies neither */

/* The names libxml2's steps test by name. */
static int html_id, head_id, body_id, p_id, script_id, style_id;

static int use_avx2; /* the byte scans below may use AVX2 */

static unsigned name_hash(const char *s, size_t len)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The index of the lower-case name s[0..len), NO_NAME if not in names. */
static int name_id(const char *s, size_t len)
{
    for (unsigned slot = name_hash(s, len) & (NAME_SLOTS - 1); name_slot[slot];
         slot = (slot + 1) & (NAME_SLOTS - 1)) {
        const char *n = names[name_slot[slot] - 1];
        if (strncmp(n, s, len) == 0 && n[len] == '\0')
            return name_slot[slot] - 1;
    }
    return NO_NAME;
}

/* ------------------------------------------------------- entities */

/* libxml2's entity table (html40EntitiesTable), by name: found through
 * htmlEntityValueLookup, as libxml2 does not list it. */
enum { ENTITY_SLOTS = 1024, ENTITY_MAX_VALUE = 0x3000 };
static const htmlEntityDesc *entity_slot[ENTITY_SLOTS];

static void index_entities(void)
{
    for (unsigned value = 1; value < ENTITY_MAX_VALUE; value++) {
        const htmlEntityDesc *e = htmlEntityValueLookup(value);
        if (!e || e->value != value)
            continue;
        unsigned slot = name_hash(e->name, strlen(e->name)) & (ENTITY_SLOTS - 1);
        while (entity_slot[slot])
            slot = (slot + 1) & (ENTITY_SLOTS - 1);
        entity_slot[slot] = e;
    }
}

/* The value of the entity named s[0..len), 0 if not found here (a name
 * that two entities share with one value is found only once: refused). */
static unsigned entity_value(const char *s, size_t len)
{
    for (unsigned slot = name_hash(s, len) & (ENTITY_SLOTS - 1); entity_slot[slot];
         slot = (slot + 1) & (ENTITY_SLOTS - 1)) {
        const char *n = entity_slot[slot]->name;
        if (strncmp(n, s, len) == 0 && n[len] == '\0')
            return entity_slot[slot]->value;
    }
    return 0;
}

/* htmlCheckAutoClose(tag, open) for two different names, asked of libxml2
 * through its public htmlAutoCloseTag (a childless node named tag). */
static int libxml2_closes(const char *open, const char *tag)
{
    xmlNode probe = {.type = XML_ELEMENT_NODE, .name = BAD_CAST tag};
    return htmlAutoCloseTag(NULL, BAD_CAST open, &probe);
}

/* 1 for an element libxml2 closes as soon as it starts (its "empty"). */
static int libxml2_void(const char *name)
{
    const htmlElemDesc *info = htmlTagLookup(BAD_CAST name);
    return info && info->empty;
}

/* 1 when name is one of the words of list (separated by single spaces). */
static int listed(const char *name, const char *list)
{
    size_t n = strlen(name);
    for (const char *w = list; *w; w += strcspn(w, " "), w += *w == ' ') {
        if (strcspn(w, " ") == n && strncmp(w, name, n) == 0)
            return 1;
    }
    return 0;
}

void cd__html_fast_init(void)
{
    for (int k = 0; k < NAMES; k++) {
        unsigned slot = name_hash(names[k], strlen(names[k])) & (NAME_SLOTS - 1);
        while (name_slot[slot])
            slot = (slot + 1) & (NAME_SLOTS - 1);
        name_slot[slot] = (short)(k + 1);
        is_void[k] = (unsigned char)libxml2_void(names[k]);
        in_head[k] = listed(names[k], "script style meta link title base");
        in_frames[k] = listed(names[k], "noframes frame frameset");
    }
    for (int open = 0; open < NAMES; open++)
        for (int tag = 0; tag < NAMES; tag++) {
            closes[open][tag] = (unsigned char)libxml2_closes(names[open], names[tag]);
        }
    /* The pairs of equal names in libxml2's htmlStartClose, which the call
     * above cannot be asked about (it answers 0 for equal names). */
    for (int k = 0; k < NAMES; k++)
        closes[k][k] =
            (unsigned char)listed(names[k], "a col colgroup form li option p tbody td th tr");
    html_id = name_id("html", 4);
    head_id = name_id("head", 4);
    body_id = name_id("body", 4);
    p_id = name_id("p", 1);
    script_id = name_id("script", 6);
    style_id = name_id("style", 5);
    index_entities();
    use_avx2 = cd__simd_level_get() >= CD__SIMD_AVX2;
}

/* ------------------------------------------------------ byte scans */

/* The scans over a page: with AVX2 where the CPU has it (use_avx2), else
 * word at a time (forced by COPYDESK_SIMD=scalar); the same answers. */

/* 1 when s[0] starts a character libxml2 keeps as it is (*n: its length):
 * no control character but tab, line feed and carriage return, well-formed
 * UTF-8, not U+FFFE or U+FFFF. */
static int plain_char(const unsigned char *s, const unsigned char *end, size_t *n)
{
    if (*s < 0x80) {
        *n = 1;
        return *s >= 0x20 || *s == '\n' || *s == '\t' || *s == '\r';
    }
    *n = utf8_length(s, (size_t)(end - s));
    return *n != 0 && !utf8_nonchar(s, *n);
}

static int plain_bytes_scalar(const unsigned char *s, const unsigned char *end)
{
    while (s < end) {
        if (end - s >= WORD) {
            uint64_t v = word_at(s);
            uint64_t allowed = bytes_equal(v, '\n') | bytes_equal(v, '\t') | bytes_equal(v, '\r');
            if (!((v & HIGHS) | (bytes_below(v, 0x20) & ~allowed))) {
                s += WORD;
                continue;
            }
        }
        size_t n;
        if (!plain_char(s, end, &n))
            return 0;
        s += n;
    }
    return 1;
}

#ifdef AVX2_SCANS
__attribute__((target("avx2"))) static int plain_bytes_avx2(const unsigned char *s,
                                                            const unsigned char *end)
{
    const __m256i space = _mm256_set1_epi8(0x20), lf = _mm256_set1_epi8('\n'),
                  tab = _mm256_set1_epi8('\t'), cr = _mm256_set1_epi8('\r');
    while (end - s >= 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)s);
        __m256i allowed =
            _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, lf), _mm256_cmpeq_epi8(v, tab)),
                            _mm256_cmpeq_epi8(v, cr));
        /* signed: bytes >= 0x80 are below 0x20 too, and told apart by high */
        __m256i control = _mm256_andnot_si256(allowed, _mm256_cmpgt_epi8(space, v));
        unsigned high = (unsigned)_mm256_movemask_epi8(v);
        if ((unsigned)_mm256_movemask_epi8(control) & ~high)
            return 0;
        if (!high) {
            s += 32;
            continue;
        }
        s += __builtin_ctz(high); /* the first non-ASCII character, then on from it */
        size_t n;
        if (!plain_char(s, end, &n))
            return 0;
        s += n;
    }
    return plain_bytes_scalar(s, end);
}
#endif

/* 1 when every character of html[0..len) is one libxml2 keeps as it is
 * (plain_char) and the page does not start with a byte-order mark. */
static int plain_bytes(const char *html, size_t len)
{
    const unsigned char *s = (const unsigned char *)html, *end = s + len;
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 0;
#ifdef AVX2_SCANS
    if (use_avx2)
        return plain_bytes_avx2(s, end);
#endif
    return plain_bytes_scalar(s, end);
}

static const char *find_markup_scalar(const char *s, const char *end)
{
    while (end - s >= WORD) {
        uint64_t v = word_at((const unsigned char *)s);
        if (bytes_equal(v, '<') | bytes_equal(v, '&'))
            break;
        s += WORD;
    }
    while (s < end && *s != '<' && *s != '&')
        s++;
    return s;
}

#ifdef AVX2_SCANS
__attribute__((target("avx2"))) static const char *find_markup_avx2(const char *s, const char *end)
{
    const __m256i lt = _mm256_set1_epi8('<'), amp = _mm256_set1_epi8('&');
    for (; end - s >= 32; s += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)s);
        unsigned hit = (unsigned)_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, lt), _mm256_cmpeq_epi8(v, amp)));
        if (hit)
            return s + __builtin_ctz(hit);
    }
    return find_markup_scalar(s, end);
}
#endif

/* The first '<' or '&' in s[0..end), end if none. */
static const char *find_markup(const char *s, const char *end)
{
#ifdef AVX2_SCANS
    if (use_avx2)
        return find_markup_avx2(s, end);
#endif
    return find_markup_scalar(s, end);
}

/* ---------------------------------------------------------- parser */

enum {
    MAX_DEPTH = 200,  /* below libxml2's 256, where its tree builder stops */
    MAX_UNKNOWN = 32, /* unknown names in a page */
    UNKNOWN_BYTES = 2048,
    MAX_NAME_LEN = 99, /* libxml2 reads at most 100 bytes of a name */
};

/* libxml2's parser context, as far as these pages need it. An element is
 * named by its index in names, or NAMES + k for the page's k-th unknown
 * name. */
typedef struct parser {
    const cd__html_sink *sink;
    const char *s, *end;              /* the page; s is the parser's position (CUR) */
    short stack[MAX_DEPTH];           /* open names (nameTab), innermost last */
    int depth;                        /* nameNr */
    int html_state;                   /* ctxt->html: 3 once a head was opened, 10 a body */
    int current;                      /* currentNode of htmlParseContentInternal, -1 for none */
    const char *unknown[MAX_UNKNOWN]; /* the unknown names, lower case, in bytes */
    unsigned char unknown_void[MAX_UNKNOWN];
    int unknown_count;
    char bytes[UNKNOWN_BYTES];
    size_t bytes_used;
} parser;

static int top(const parser *p)
{
    return p->depth > 0 ? p->stack[p->depth - 1] : -1;
}

static const char *name_of(const parser *p, int id)
{
    return id < NAMES ? names[id] : p->unknown[id - NAMES];
}

/* htmlCheckAutoClose(tag, open): the table for known names, else libxml2. */
static int closes_open(const parser *p, int open, int tag)
{
    if (open < NAMES && tag < NAMES)
        return closes[open][tag];
    if (open == tag)
        return 0; /* libxml2 closes only known elements by their own kind */
    return libxml2_closes(name_of(p, open), name_of(p, tag));
}

static int void_element(const parser *p, int id)
{
    return id < NAMES ? is_void[id] : p->unknown_void[id - NAMES];
}

/* The id of the lower-case name s[0..len) (len <= MAX_NAME_LEN), an
 * unknown one added when add is set; -1 when not found or no room. */
static int find_name(parser *p, const char *s, size_t len, int add)
{
    int id = len <= KNOWN_MAX_LEN ? name_id(s, len) : NO_NAME;
    if (id != NO_NAME)
        return id;
    for (int k = 0; k < p->unknown_count; k++)
        if (strncmp(p->unknown[k], s, len) == 0 && p->unknown[k][len] == '\0')
            return NAMES + k;
    if (!add || p->unknown_count == MAX_UNKNOWN || UNKNOWN_BYTES - p->bytes_used < len + 1)
        return -1;
    char *copy = p->bytes + p->bytes_used;
    memcpy(copy, s, len);
    copy[len] = '\0';
    p->bytes_used += len + 1;
    p->unknown_void[p->unknown_count] = (unsigned char)libxml2_void(copy);
    p->unknown[p->unknown_count] = copy;
    return NAMES + p->unknown_count++;
}

/* htmlnamePush and the startElement event. Returns 0, or -1 to give up. */
static int push(parser *p, int id)
{
    if (p->depth == MAX_DEPTH)
        return -1;
    if (id == head_id && p->html_state < 3)
        p->html_state = 3;
    if (id == body_id && p->html_state < 10)
        p->html_state = 10;
    p->stack[p->depth++] = (short)id;
    return p->sink->start(p->sink->ctx, name_of(p, id)) ? -1 : 0;
}

/* The endElement event and htmlnamePop. */
static int pop(parser *p)
{
    p->depth--;
    return p->sink->end(p->sink->ctx) ? -1 : 0;
}

static int in_stack(const parser *p, int id)
{
    for (int i = 0; i < p->depth; i++)
        if (p->stack[i] == id)
            return 1;
    return 0;
}

/* htmlAutoClose: closes the open elements that a start tag of id closes. */
static int auto_close(parser *p, int id)
{
    while (p->depth > 0 && closes_open(p, top(p), id))
        if (pop(p) != 0)
            return -1;
    return 0;
}

/* htmlCheckImplied: the html, head or body element a start tag of id
 * implies. */
static int check_implied(parser *p, int id)
{
    if (id == html_id)
        return 0;
    if (p->depth == 0 && push(p, html_id) != 0)
        return -1;
    if (id == body_id || id == head_id)
        return 0;
    if (p->depth <= 1 && id < NAMES && in_head[id])
        return p->html_state >= 3 ? 0 : push(p, head_id);
    if (id < NAMES && in_frames[id])
        return 0;
    if (p->html_state >= 10 || in_stack(p, body_id) || in_stack(p, head_id))
        return 0;
    return push(p, body_id);
}

/* htmlCheckParagraph: the p element that text implies where no element,
 * or only html or head, is open. */
static int check_paragraph(parser *p)
{
    int t = top(p);
    if (t >= 0 && t != html_id && t != head_id)
        return 0;
    if (auto_close(p, p_id) != 0 || check_implied(p, p_id) != 0)
        return -1;
    return push(p, p_id);
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_blanks(parser *p)
{
    while (p->s < p->end && blank(*p->s))
        p->s++;
}

static int letter(char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}
static int digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* htmlParseHTMLName over [A-Za-z0-9-] (a name with '_', ':' or '.' is
 * refused): the lower-case name into lower[0..*len). Returns 0, or -1 when
 * refused. */
static int read_name(parser *p, char lower[MAX_NAME_LEN], size_t *len)
{
    *len = 0;
    while (p->s < p->end && (letter(*p->s) || digit(*p->s) || *p->s == '-')) {
        if (*len == MAX_NAME_LEN)
            return -1;
        lower[(*len)++] = (char)(*p->s | (letter(*p->s) ? 0x20 : 0));
        p->s++;
    }
    if (p->s < p->end && (*p->s == '_' || *p->s == ':' || *p->s == '.'))
        return -1;
    return *len ? 0 : -1;
}

/* htmlParseAttribute: a name, then '=' and a quoted or bare value. The
 * values mean nothing to the events (a meta charset is ignored: the parse
 * is set to UTF-8). Returns 0, or -1 when refused. */
static int skip_attribute(parser *p)
{
    const char *start = p->s;
    while (p->s < p->end && (letter(*p->s) || digit(*p->s) || *p->s == '-' || *p->s == '_' ||
                             *p->s == ':' || *p->s == '.'))
        p->s++;
    if (p->s == start || !letter(*start) || p->s - start >= 100)
        return -1;
    skip_blanks(p);
    if (p->s == p->end || *p->s != '=')
        return 0;
    p->s++;
    skip_blanks(p);
    if (p->s == p->end)
        return -1;
    if (*p->s == '"' || *p->s == '\'') {
        const char *close = memchr(p->s + 1, *p->s, (size_t)(p->end - p->s - 1));
        if (!close)
            return -1;
        p->s = close + 1;
        return 0;
    }
    while (p->s < p->end && !blank(*p->s) && *p->s != '>') /* htmlParseHTMLAttribute */
        p->s++;
    return p->s < p->end ? 0 : -1;
}

/* htmlParseElementInternal from just after the '<': the start tag (its
 * implied elements, its attributes), then the element closed at once if
 * written "/>" or void. */
static int start_tag(parser *p)
{
    char lower[MAX_NAME_LEN];
    size_t len;
    int id = read_name(p, lower, &len) == 0 ? find_name(p, lower, len, 1) : -1;
    if (id < 0)
        return -1;
    /* htmlParseContentInternal's auto-close check, then htmlParseStartTag */
    if (p->depth > 0 && closes_open(p, top(p), id))
        return -1;
    if (check_implied(p, id) != 0)
        return -1;
    if ((id == html_id && p->depth > 0) || (id == head_id && p->depth != 1) ||
        (id == body_id && in_stack(p, body_id)))
        return -1; /* a misplaced tag, discarded by libxml2 */
    skip_blanks(p);
    while (p->s < p->end && *p->s != '>' &&
           !(*p->s == '/' && p->end - p->s > 1 && p->s[1] == '>')) {
        if (skip_attribute(p) != 0)
            return -1;
        skip_blanks(p);
    }
    if (p->s == p->end || push(p, id) != 0)
        return -1;
    int self_closed = *p->s == '/';
    p->s += self_closed ? 2 : 1;
    if ((self_closed || void_element(p, id)) && pop(p) != 0)
        return -1;
    p->current = top(p);
    return 0;
}

/* htmlParseEndTag from just after the "</": the innermost element closed,
 * a name not open ignored. */
static int end_tag(parser *p)
{
    if (p->s == p->end || !letter(*p->s))
        return -1;
    char lower[MAX_NAME_LEN];
    size_t len;
    if (read_name(p, lower, &len) != 0)
        return -1;
    skip_blanks(p);
    if (p->s == p->end || *p->s != '>')
        return -1;
    p->s++;
    int id = find_name(p, lower, len, 0);
    if (id < 0 || !in_stack(p, id))
        return 0; /* not open: ignored */
    if (id != top(p))
        return -1; /* htmlAutoCloseOnClose and its priorities */
    if (pop(p) != 0)
        return -1;
    if (p->current >= 0 || p->depth == 0)
        p->current = top(p);
    return 0;
}

/* htmlParseScript: the content of a script or style, up to the end tag of
 * the element (compared with the start of the name only, as libxml2 does).
 * A content starting with '<' is refused (libxml2 may take it for a tag). */
static int raw_text(parser *p)
{
    if (*p->s == '<')
        return -1;
    const char *name = name_of(p, top(p));
    size_t n = strlen(name);
    for (const char *s = p->s; (s = memchr(s, '<', (size_t)(p->end - s))) != NULL; s++) {
        if (p->end - s >= (ptrdiff_t)(n + 2) && s[1] == '/') {
            size_t i = 0;
            while (i < n && (s[2 + i] | 0x20) == name[i])
                i++;
            if (i == n) {
                p->s = s;
                return 0;
            }
        }
    }
    return -1;
}

/* IS_CHAR: a character libxml2 keeps. */
static int xml_char(unsigned c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* htmlParseReference from the '&': a named entity of libxml2's table or a
 * character reference, ended by ';'. Anything else is refused. */
static int reference(parser *p)
{
    const char *s = p->s + 1;
    unsigned value = 0;
    if (s < p->end && *s == '#') {
        int hex = ++s < p->end && (*s | 0x20) == 'x';
        s += hex;
        const char *digits = s;
        for (; s < p->end && s - digits < 7; s++) {
            unsigned d = digit(*s) ? (unsigned)(*s - '0')
                         : hex && (unsigned char)((*s | 0x20) - 'a') < 6
                             ? (unsigned)((*s | 0x20) - 'a' + 10)
                             : 16;
            if (d == 16)
                break;
            value = value * (hex ? 16 : 10) + d;
        }
        if (s == digits || s == p->end || *s != ';' || !xml_char(value))
            return -1;
    } else {
        const char *name = s;
        while (s < p->end && (letter(*s) || digit(*s)) && s - name < 32)
            s++;
        if (s == name || !letter(*name) || s == p->end || *s != ';')
            return -1;
        value = entity_value(name, (size_t)(s - name));
        if (value == 0)
            return -1;
    }
    p->s = s + 1;
    char utf8[4];
    size_t n = utf8_encode(value, utf8);
    if (check_paragraph(p) != 0)
        return -1;
    return p->sink->text(p->sink->ctx, utf8, n) ? -1 : 0;
}

/* htmlParseCharData: the text up to the next '<' or '&'. libxml2 gives it
 * in chunks of 1000 bytes or more; each chunk implies a p where one is
 * missing, except a last chunk of white space only (areBlanks, no tree)
 * before the end of the page or before a tag in html, head or none. */
static int char_data(parser *p)
{
    const char *start = p->s;
    p->s = find_markup(p->s, p->end);
    size_t len = (size_t)(p->s - start);
    int all_blank = 1;
    for (size_t i = 0; i < len && all_blank; i++)
        all_blank = blank(start[i]);
    int t = top(p);
    int ignorable = all_blank && len < 1000 &&
                    (p->s == p->end || (*p->s == '<' && (t < 0 || t == html_id || t == head_id)));
    if (!ignorable && check_paragraph(p) != 0)
        return -1;
    return p->sink->text(p->sink->ctx, start, len) ? -1 : 0;
}

/* 1 when a comment starts at the parser's position. */
static int at_comment(const parser *p)
{
    return p->end - p->s >= 4 && memcmp(p->s, "<!--", 4) == 0;
}

/* htmlParseComment: the comment ends at the first "-->" or "--!>" whose
 * dashes come after the opening "<!--". No event the extract stage uses.
 * Returns 0, or -1 for a comment not ended. */
static int comment(parser *p)
{
    for (const char *s = p->s + 4; p->end - s >= 3; s++) {
        if (s[0] != '-' || s[1] != '-')
            continue;
        if (s[2] == '>') {
            p->s = s + 3;
            return 0;
        }
        if (p->end - s >= 4 && s[2] == '!' && s[3] == '>') {
            p->s = s + 4;
            return 0;
        }
    }
    return -1;
}

/* htmlParseDocument's comments (and blanks) before the content. */
static int skip_comments(parser *p)
{
    while (at_comment(p)) {
        if (comment(p) != 0)
            return -1;
        skip_blanks(p);
    }
    return 0;
}

/* One step of htmlParseContentInternal's loop. Returns 1 at the end of the
 * page, 0 to go on, -1 when refused. */
static int content_step(parser *p)
{
    if (p->s == p->end) {
        while (p->depth > 0) /* htmlAutoCloseOnEnd */
            if (pop(p) != 0)
                return -1;
        return 1;
    }
    if (p->s[0] == '<' && p->end - p->s > 1 && p->s[1] == '/') {
        p->s += 2;
        return end_tag(p);
    }
    if (p->current >= 0 && (p->current == script_id || p->current == style_id)) {
        if (p->current != top(p))
            return -1;
        return raw_text(p);
    }
    if (at_comment(p))
        return comment(p);
    if (p->s[0] == '<') {
        if (p->end - p->s < 2 || !letter(p->s[1]))
            return -1; /* doctype, processing instruction, a '<' as text */
        p->s++;
        return start_tag(p);
    }
    if (p->s[0] == '&')
        return reference(p);
    return char_data(p);
}

int cd__html_fast_parse(const char *html, size_t len, const cd__html_sink *sink)
{
    if (len >= 10000000 || !plain_bytes(html, len))
        return 0; /* a text node could pass libxml2's limit; or bytes it drops */
    parser p = {.sink = sink, .s = html, .end = html + len, .html_state = 1, .current = -1};
    /* htmlParseDocument: blanks and comments, a doctype, blanks and
     * comments, then content */
    skip_blanks(&p);
    if (skip_comments(&p) != 0)
        return 0;
    if (p.end - p.s >= 9 && p.s[0] == '<' && p.s[1] == '!' &&
        strncasecmp(p.s + 2, "doctype", 7) == 0) {
        const char *close = memchr(p.s, '>', (size_t)(p.end - p.s));
        if (!close || memchr(p.s, '"', (size_t)(close - p.s)) ||
            memchr(p.s, '\'', (size_t)(close - p.s)))
            return 0;
        p.s = close + 1;
        skip_blanks(&p);
    }
    if (skip_comments(&p) != 0)
        return 0;
    int step;
    while ((step = content_step(&p)) == 0)
        ;
    return step == 1;
}
