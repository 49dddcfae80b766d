/* extract.h: the extract stage, between read and boilerplate removal. Tells
 * whether a text is HTML and, when it is, reduces it to its main text with
 * libxml2's HTML parser (its SAX interface): script, style, navigation,
 * header, footer, aside and form elements dropped, entities decoded, one
 * paragraph per block element, separated by blank lines. */
#ifndef CD_EXTRACT_H
#define CD_EXTRACT_H

#include <stddef.h>

#include "copydesk/copydesk.h"

/* A growable text buffer owned by its user (a signer's scratch). */
typedef struct cd__text {
    char *ptr;
    size_t len, cap;
} cd__text;

void cd__text_free(cd__text *t); /* frees the buffer, not t */

/* Appends bytes to t. Returns 0, or -1 when out of memory (t unchanged). */
int cd__text_append(cd__text *t, const char *bytes, size_t len);

/* 1 when text[0..len) looks like HTML (see cd_looks_like_html). */
int cd__looks_like_html(const char *text, size_t len);

/* Replaces out's contents with the main text of the HTML in html[0..len),
 * read as UTF-8: text of the elements kept, runs of white space collapsed
 * to one space, a line break for <br>, a blank line ("\n\n") between block
 * elements (p, div, h1-h6, li, tr, blockquote, article, section, ...), no
 * blank line at either end. Dropped with everything inside: head, script,
 * style, noscript, template, nav, header, footer, aside, form, button,
 * select, textarea, iframe, svg, math, object, comments. The page is read
 * by libxml2's HTML parser through its SAX callbacks, without building a
 * tree, but the text is the one of the tree libxml2 would build: nothing
 * below its 256th level of nesting (where its tree builder stops), nothing
 * outside the root element, and a text node over its limit of 10,000,000
 * bytes is an error (CD_ERR_NOMEM, as libxml2 reports it). The same text
 * comes faster two ways: a plain page is parsed by html_fast.c, which
 * follows libxml2's steps without running it; other pages are given to
 * libxml2 with long runs of plain text as single marker characters (see
 * extract.c). Never touches the network
 * (HTML_PARSE_NONET). Thread-safe (each call has its own parser).
 * libxml2 allocates with the C library's malloc, not the engine's hook:
 * routing it through xmlMemSetup was tried and dropped, because libxml2
 * keeps global and per-thread state from its first use until thread exit
 * (so a test allocator sees frees of blocks it never gave and blocks never
 * freed), and 2.9's recovery from a refused allocation leaks and prints to
 * stderr. A failure of libxml2 to allocate is still reported, from its
 * error (XML_ERR_NO_MEMORY). Returns CD_OK or CD_ERR_NOMEM (out is then
 * empty). */
cd_status cd__extract_html(const char *html, size_t len, cd__text *out);

/* The ways to the same text, for tests that compare them. */
enum cd__extract_way {
    CD__EXTRACT_FAST,    /* html_fast.c, else libxml2 with markers, else as below */
    CD__EXTRACT_MARKERS, /* libxml2 with markers, else as below */
    CD__EXTRACT_PLAIN,   /* libxml2 on the page as it is */
};

/* cd__extract_html the given way. */
cd_status cd__extract_html_by(const char *html, size_t len, cd__text *out,
                              enum cd__extract_way way);

#endif
