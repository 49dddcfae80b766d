/* fuzz_extract.c: fuzz target for the extract stage on arbitrary bytes:
 * the HTML test (cd_looks_like_html), an article page decoded from a
 * charset and reduced to its main text (cd_article_text, libxml2's HTML
 * parser), and the text a signer would tokenise (cd_signer_text: HTML
 * extracted, no chrome model). The first byte picks the charset.
 * Oracle: the article text is NUL-terminated at its length, valid UTF-8,
 * never starts or ends with white space, never holds more than one blank
 * line in a row or two spaces in a row; the signer's text of a document
 * that does not look like HTML is the document itself; the fast parser
 * and libxml2 with markers give the text and status libxml2 gives on the
 * page as it is. */
#define _GNU_SOURCE /* memmem */
#include <string.h>
#include <utf8proc.h>

#include "copydesk/copydesk.h"
#include "extract.h"
#include "fuzz.h"

static const char *const charsets[] = {NULL,         "",          "utf-8",     "UTF-8",
                                       "iso-8859-1", "windows-1252", "shift_jis", "utf-16",
                                       "koi8-r",     "gb18030",   "no-such-charset", "ascii"};

static void check_text(const char *text, size_t len)
{
    FUZZ_CHECK(text != NULL && text[len] == '\0');
    utf8proc_ssize_t pos = 0;
    while (pos < (utf8proc_ssize_t)len) {
        int32_t cp;
        utf8proc_ssize_t step =
            utf8proc_iterate((const uint8_t *)text + pos, (utf8proc_ssize_t)len - pos, &cp);
        FUZZ_CHECK(step > 0);
        pos += step;
    }
    if (len == 0)
        return;
    FUZZ_CHECK(text[0] != ' ' && text[0] != '\n' && text[len - 1] != ' ' && text[len - 1] != '\n');
    FUZZ_CHECK(!memmem(text, len, "\n\n\n", 3) && !memmem(text, len, "  ", 2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const char *charset = charsets[fuzz_byte(&in) % (sizeof charsets / sizeof charsets[0])];
    cd_str page = {(const char *)in.p, in.left};
    int html = cd_looks_like_html(page);

    char *text = NULL;
    size_t text_len = 0;
    FUZZ_CHECK(cd_article_text(page.ptr, page.len, charset, &text, &text_len) == CD_OK);
    FUZZ_CHECK(memchr(text, '\0', text_len) == NULL);
    check_text(text, text_len);

    /* The signer extracts HTML the same way (it is given UTF-8). */
    cd_params p;
    cd_params_init(&p);
    p.bands = p.rows = 1;
    cd_signer *signer = NULL;
    FUZZ_CHECK(cd_signer_create(&p, &signer) == CD_OK);
    cd_doc doc = {.text = page};
    cd_str signed_text;
    FUZZ_CHECK(cd_signer_text(signer, &doc, &signed_text) == CD_OK);
    if (!html)
        FUZZ_CHECK(signed_text.len == page.len &&
                   (page.len == 0 || memcmp(signed_text.ptr, page.ptr, page.len) == 0));
    cd_signer_free(signer);
    cd_text_free(text);

    cd__text want = {0}, got = {0};
    cd_status plain = cd__extract_html_by(page.ptr, page.len, &want, CD__EXTRACT_PLAIN);
    for (int way = CD__EXTRACT_FAST; way < CD__EXTRACT_PLAIN; way++) {
        FUZZ_CHECK(cd__extract_html_by(page.ptr, page.len, &got, (enum cd__extract_way)way) ==
                   plain);
        FUZZ_CHECK(got.len == want.len &&
                   (want.len == 0 || memcmp(got.ptr, want.ptr, want.len) == 0));
    }
    cd__text_free(&want);
    cd__text_free(&got);
    return 0;
}
