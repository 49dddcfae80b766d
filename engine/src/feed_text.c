/* feed_text.c: text helpers of the feed stage (UTF-8 repair, HTML fragments
 * to plain text, link resolution) and cd_article_text, which turns a fetched
 * article page into the main text the index signs. */
#include <limits.h>
#include <string.h>

#include <libxml/encoding.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>

#include "feed.h"

/* ------------------------------------------------------------ UTF-8 */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid
 * (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static int bad_control(unsigned char c, int xml)
{
    return xml && c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

int cd__utf8_repair(const char *in, size_t len, int xml, cd__text *out, size_t *replaced)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, first_bad = len;
    *replaced = 0;
    while (i < len) { /* fast scan: nothing to do for valid text */
        size_t n = s[i] < 0x80 ? 1 : utf8_valid(s + i, len - i);
        if (n == 0 || bad_control(s[i], xml)) {
            first_bad = i;
            break;
        }
        i += n;
    }
    if (first_bad == len)
        return 0;
    out->len = 0;
    if (cd__text_append(out, in, first_bad) != 0)
        return -1;
    i = first_bad;
    while (i < len) {
        size_t start = i;
        while (i < len) {
            size_t n = s[i] < 0x80 ? 1 : utf8_valid(s + i, len - i);
            if (n == 0 || bad_control(s[i], xml))
                break;
            i += n;
        }
        if (cd__text_append(out, in + start, i - start) != 0)
            return -1;
        if (i < len) {
            if (cd__text_append(out, "\xEF\xBF\xBD", 3) != 0)
                return -1;
            (*replaced)++;
            i++; /* one byte at a time: resynchronises on the next lead byte */
            while (i < len && (s[i] & 0xC0) == 0x80 && !utf8_valid(s + i, len - i))
                i++; /* a run of stray continuation bytes is one replacement */
        }
    }
    return 0;
}

/* ----------------------------------------------------------- plain text */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Appends s[0..len) to out with white space runs collapsed. */
static int collapse(const char *s, size_t len, int paragraphs, cd__text *out)
{
    size_t i = 0;
    int wrote = 0;
    while (i < len) {
        size_t newlines = 0;
        int space = 0;
        while (i < len && is_space((unsigned char)s[i])) {
            newlines += s[i] == '\n';
            space = 1;
            i++;
        }
        if (i == len)
            break;
        if (space && wrote) {
            const char *sep = " ";
            if (paragraphs && newlines >= 2)
                sep = "\n\n";
            else if (paragraphs && newlines == 1)
                sep = "\n";
            if (cd__text_append(out, sep, strlen(sep)) != 0)
                return -1;
        }
        size_t start = i;
        while (i < len && !is_space((unsigned char)s[i]))
            i++;
        if (cd__text_append(out, s + start, i - start) != 0)
            return -1;
        wrote = 1;
    }
    return 0;
}

int cd__feed_text(const char *s, size_t len, cd__feed_kind kind, int paragraphs, cd__text *scratch,
                  cd__text *out)
{
    if (kind == CD__GUESS)
        kind = (memchr(s, '<', len) || memchr(s, '&', len)) ? CD__HTML : CD__PLAIN;
    if (kind == CD__PLAIN)
        return collapse(s, len, paragraphs, out);
    if (cd__extract_html(s, len, scratch) != CD_OK)
        return -1;
    return collapse(scratch->ptr ? scratch->ptr : "", scratch->len, paragraphs, out);
}

char *cd__feed_resolve(const char *link, size_t len, const char *base)
{
    char *copy = cd__strndup(link, len);
    if (!copy || !base || !*base)
        return copy;
    xmlChar *uri = xmlBuildURI((const xmlChar *)copy, (const xmlChar *)base);
    if (!uri)
        return copy;
    char *resolved = cd__strndup((const char *)uri, strlen((const char *)uri));
    xmlFree(uri);
    cd__free(copy);
    return resolved; /* NULL when out of memory */
}

/* --------------------------------------------------------- article pages */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_utf8_name(const char *cs)
{
    char low[16];
    size_t n = 0;
    for (; cs[n] && n < sizeof low - 1; n++)
        low[n] = (char)lower((unsigned char)cs[n]);
    low[n] = '\0';
    return !strcmp(low, "utf-8") || !strcmp(low, "utf8") || !strcmp(low, "us-ascii") ||
           !strcmp(low, "ascii");
}

/* The charset named by the first "charset=" in the page's first 4 KiB (a
 * <meta charset> or http-equiv Content-Type), or "" when there is none. */
static void sniff_charset(const char *html, size_t len, char *out, size_t size)
{
    static const char needle[] = "charset=";
    size_t n = len < 4096 ? len : 4096;
    out[0] = '\0';
    for (size_t i = 0; i + sizeof needle - 1 < n; i++) {
        size_t k = 0;
        while (k < sizeof needle - 1 && lower((unsigned char)html[i + k]) == needle[k])
            k++;
        if (k < sizeof needle - 1)
            continue;
        size_t j = i + k;
        while (j < n && (html[j] == '"' || html[j] == '\'' || html[j] == ' '))
            j++;
        size_t m = 0;
        while (j < n && m < size - 1) {
            char c = html[j];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':'))
                break;
            out[m++] = c;
            j++;
        }
        out[m] = '\0';
        return;
    }
}

/* Converts html from charset to UTF-8 into out with libxml2's converters;
 * bytes the charset does not define become U+FFFD. Returns 1 when
 * converted, 0 when the charset is unknown (out untouched), -1 when out of
 * memory. */
/* libxml2 reports each undefined byte on stderr (xmlGenericError); the
 * engine never prints, so convert() swaps in this for the duration. */
static void ignore_xml_error(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static int convert(const char *html, size_t len, const char *charset, cd__text *out)
{
    xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler(charset);
    if (!handler)
        return 0;
    xmlGenericErrorFunc saved_error = xmlGenericError; /* this thread's */
    void *saved_context = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, ignore_xml_error);
    int result = -1;
    xmlBufferPtr in = xmlBufferCreateSize(len + 1), conv = xmlBufferCreateSize(len * 2 + 16);
    if (!in || !conv || xmlBufferAdd(in, (const xmlChar *)html, (int)len) != 0)
        goto done;
    out->len = 0;
    while (xmlBufferLength(in) > 0) {
        int before = xmlBufferLength(in);
        int r = xmlCharEncInFunc(handler, conv, in);
        if (xmlBufferLength(conv) > 0) {
            if (cd__text_append(out, (const char *)xmlBufferContent(conv),
                                (size_t)xmlBufferLength(conv)) != 0)
                goto done;
            xmlBufferEmpty(conv);
        }
        if (r >= 0 && xmlBufferLength(in) == before)
            break;                              /* no progress (a partial character at the end) */
        if (r < 0 && xmlBufferLength(in) > 0) { /* an undefined byte: replace it */
            xmlBufferShrink(in, 1);
            if (cd__text_append(out, "\xEF\xBF\xBD", 3) != 0)
                goto done;
        }
    }
    result = 1;
done:
    xmlBufferFree(in);
    xmlBufferFree(conv);
    xmlCharEncCloseFunc(handler);
    xmlSetGenericErrorFunc(saved_context, saved_error);
    return result;
}

cd_status cd_article_text(const void *html, size_t len, const char *charset, char **text,
                          size_t *text_len)
{
    if (!text)
        return CD_ERR_ARG;
    *text = NULL;
    if (text_len)
        *text_len = 0;
    if (len > INT_MAX / 2)
        return CD_ERR_LIMIT;
    if (!html)
        len = 0;
    cd_status status = CD_ERR_NOMEM;
    cd__text converted = {0}, repaired = {0}, out = {0};
    const char *src = html;
    size_t n = len;
    char sniffed[64];
    if (!charset || !*charset) {
        sniff_charset(src ? src : "", n, sniffed, sizeof sniffed);
        charset = sniffed;
    }
    if (n > 0 && *charset && !is_utf8_name(charset)) {
        int r = convert(src, n, charset, &converted);
        if (r < 0)
            goto done;
        if (r > 0) {
            src = converted.ptr;
            n = converted.len;
        }
    }
    size_t replaced = 0;
    if (n > 0 && cd__utf8_repair(src, n, 0, &repaired, &replaced) != 0)
        goto done;
    if (replaced) {
        src = repaired.ptr;
        n = repaired.len;
    }
    if (n > 0 && cd__extract_html(src, n, &out) != CD_OK)
        goto done;
    if (!out.ptr) { /* cd__text_append adds nothing for an empty string */
        out.ptr = cd__malloc(1);
        if (!out.ptr)
            goto done;
        out.ptr[0] = '\0';
    }
    *text = out.ptr;
    if (text_len)
        *text_len = out.len;
    out.ptr = NULL;
    status = CD_OK;
done:
    cd__text_free(&converted);
    cd__text_free(&repaired);
    cd__text_free(&out);
    return status;
}

void cd_text_free(char *text)
{
    cd__free(text);
}
