/* fuzz_feed.c: fuzz target for the feed stage's input surfaces: cd_feed_parse
 * (RSS, RDF, Atom, JSON Feed from a fetched body), cd_article_text (a
 * fetched page) and the robots.txt rules. The first byte picks the surface.
 * Oracles: every item has a non-empty key; every string is valid UTF-8 and
 * within the limits; counts add up; robots decisions do not crash and
 * /robots.txt is always allowed. Replayed under ctest over tests/track/corpus
 * (tests/CMakeLists.txt: fuzz_replay_track); with COPYDESK_FUZZ=ON the
 * libFuzzer binary is fuzz_track. */
#include "../fuzz/fuzz.h"
#include "copydesk/copydesk.h"
#include "fetch.h"

static int valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (k == 0 || (k > 1 && c < 0xC2) || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

static void check_str(cd_str s, size_t limit)
{
    if (!s.ptr)
        return;
    FUZZ_CHECK(s.len <= limit);
    FUZZ_CHECK(valid_utf8(s.ptr, s.len));
    FUZZ_CHECK(s.ptr[s.len] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t mode = fuzz_byte(&in);
    const char *body = (const char *)in.p;
    size_t len = in.left;
    if (mode % 3 == 0) {
        cd_feed_options o;
        cd_feed_options_init(&o);
        o.max_items = 1 + mode % 64;
        o.max_text_bytes = 64 + (size_t)mode * 16;
        cd_feed *f = NULL;
        char err[256];
        cd_status st =
            cd_feed_parse(body, len, "http://base.example/dir/feed", &o, &f, err, sizeof err);
        FUZZ_CHECK(st == CD_OK || st == CD_ERR_FORMAT);
        FUZZ_CHECK((st == CD_OK) == (f != NULL));
        if (!f)
            return 0;
        cd_feed_info info;
        cd_feed_get_info(f, &info);
        FUZZ_CHECK(info.items == cd_feed_item_count(f));
        FUZZ_CHECK(info.items <= o.max_items);
        FUZZ_CHECK(info.format >= CD_FEED_RSS && info.format <= CD_FEED_JSON);
        for (size_t i = 0; i < info.items; i++) {
            cd_feed_item it;
            FUZZ_CHECK(cd_feed_get_item(f, i, &it) == CD_OK);
            FUZZ_CHECK(it.key.ptr && it.key.len > 0);
            check_str(it.key, o.max_text_bytes);
            check_str(it.link, o.max_text_bytes);
            check_str(it.title, o.max_text_bytes);
            check_str(it.published, o.max_text_bytes);
            check_str(it.text, o.max_text_bytes);
            check_str(it.author, o.max_text_bytes);
        }
        cd_feed_free(f);
    } else if (mode % 3 == 1) {
        char *text = NULL;
        size_t n = 0;
        const char *charsets[] = {NULL,           "utf-8",     "iso-8859-1",
                                  "windows-1252", "shift_jis", "bogus"};
        cd_status st = cd_article_text(body, len, charsets[mode % 6], &text, &n);
        FUZZ_CHECK(st == CD_OK);
        FUZZ_CHECK(text && strlen(text) == n && valid_utf8(text, n));
        cd_text_free(text);
    } else {
        size_t cut = len ? (size_t)(mode * 7) % len : 0; /* rules, then a path */
        cd__robots *r = cd__robots_parse(body, cut, "copydesk");
        FUZZ_CHECK(r != NULL);
        char path[256] = "/";
        size_t n = len - cut < sizeof path - 2 ? len - cut : sizeof path - 2;
        for (size_t i = 0; i < n; i++)
            path[1 + i] = body[cut + i] ? body[cut + i] : 'x';
        path[1 + n] = '\0';
        (void)cd__robots_allowed(r, path);
        FUZZ_CHECK(cd__robots_allowed(r, "/robots.txt"));
        cd__robots_free(r);
    }
    return 0;
}
