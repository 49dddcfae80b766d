/* test_feed.c: the feed stage on in-memory documents (RSS 2.0, RSS 1.0,
 * Atom, JSON Feed; malformed, hostile and oversized input; allocation
 * failures), article-page text, robots.txt rules, and the fetcher's
 * refusals that need no network. The fetcher against a real server is
 * tested by tests/track/run.sh on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"
#include "fetch.h"
#include "support.h"

/* ------------------------------------------------------------ helpers */

static cd_feed *parse(const char *doc, const char *base)
{
    cd_feed *f = NULL;
    char err[256];
    cd_status st = cd_feed_parse(doc, strlen(doc), base, NULL, &f, err, sizeof err);
    if (st != CD_OK)
        print_error("parse failed: %s: %s\n", cd_strerror(st), err);
    assert_int_equal(st, CD_OK);
    assert_non_null(f);
    return f;
}

/* Item index's field as a NUL-terminated copy in a static buffer ("(null)"
 * when absent), so assert_string_equal shows both values on failure. */
static const char *field(const cd_feed *f, size_t index, const char *name)
{
    static char buf[4][4096];
    static int which;
    cd_feed_item it;
    assert_int_equal(cd_feed_get_item(f, index, &it), CD_OK);
    cd_str s = !strcmp(name, "key")         ? it.key
               : !strcmp(name, "link")      ? it.link
               : !strcmp(name, "title")     ? it.title
               : !strcmp(name, "published") ? it.published
               : !strcmp(name, "author")    ? it.author
                                            : it.text;
    char *out = buf[which++ & 3];
    if (!s.ptr)
        return strcpy(out, "(null)");
    snprintf(out, sizeof buf[0], "%.*s", (int)s.len, s.ptr);
    return out;
}

static int64_t item_time(const cd_feed *f, size_t index, int *dated)
{
    cd_feed_item it;
    cd_feed_get_item(f, index, &it);
    *dated = it.dated;
    return it.published_time;
}

/* --------------------------------------------------------------- RSS */

static const char rss_doc[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
    "     xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "<channel><title>Wire &amp; Co</title><link>https://wire.example/</link>\n"
    "<item>\n"
    "  <title>Floods &amp;amp; storms hit &lt;b&gt;coast&lt;/b&gt;</title>\n"
    "  <link>/news/1</link>\n"
    "  <guid isPermaLink=\"false\">w-1</guid>\n"
    "  <description>&lt;p&gt;Short summary&lt;/p&gt;</description>\n"
    "  <content:encoded><![CDATA[<p>First para &mdash; with <b>bold</b>.</p>"
    "<script>evil()</script><p>Second   para.</p>]]></content:encoded>\n"
    "  <pubDate>Fri, 27 Nov 2026 10:44:55 GMT</pubDate>\n"
    "  <dc:creator>Jane Doe</dc:creator>\n"
    "</item>\n"
    "<item><title>Permalink guid</title><guid>https://wire.example/news/2</guid>\n"
    "  <description>plain text, no "
    "markup</description><dc:date>2026-11-27T11:00:00Z</dc:date></item>\n"
    "<item><title>Only a title</title><pubDate>not a date</pubDate></item>\n"
    "<item><description>no title, no link, no guid</description></item>\n"
    "</channel></rss>\n";

static void test_rss(void **state)
{
    (void)state;
    cd_feed *f = parse(rss_doc, "https://wire.example/feed.xml");
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.format, CD_FEED_RSS);
    assert_int_equal(info.items, 3);
    assert_int_equal(info.skipped_items, 1);
    assert_int_equal(info.recovered, 0);
    assert_string_equal(info.warning, "");
    assert_int_equal(info.title.len, strlen("Wire & Co"));
    assert_memory_equal(info.title.ptr, "Wire & Co", info.title.len);

    assert_string_equal(field(f, 0, "key"), "w-1");
    assert_string_equal(field(f, 0, "link"), "https://wire.example/news/1");
    assert_string_equal(field(f, 0, "title"), "Floods & storms hit coast");
    /* content:encoded wins over description; script dropped, entities decoded */
    assert_string_equal(field(f, 0, "text"), "First para \xE2\x80\x94 with bold.\n\nSecond para.");
    assert_string_equal(field(f, 0, "author"), "Jane Doe");
    int dated;
    assert_int_equal(item_time(f, 0, &dated), 1795776295);
    assert_true(dated);

    /* a permalink guid is the link too; dc:date when there is no pubDate */
    assert_string_equal(field(f, 1, "key"), "https://wire.example/news/2");
    assert_string_equal(field(f, 1, "link"), "https://wire.example/news/2");
    assert_string_equal(field(f, 1, "text"), "plain text, no markup");
    assert_string_equal(field(f, 1, "published"), "2026-11-27T11:00:00Z");

    /* no guid, no link: a hash of title and date; an unparseable date */
    assert_string_equal(field(f, 2, "link"), "(null)");
    assert_int_equal(strncmp(field(f, 2, "key"), "hash:", 5), 0);
    assert_int_equal(strlen(field(f, 2, "key")), 5 + 16);
    item_time(f, 2, &dated);
    assert_false(dated);
    cd_feed_free(f);
}

static void test_rdf(void **state)
{
    (void)state;
    const char *doc =
        "<?xml version=\"1.0\"?>\n"
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
        "  xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
        "<channel rdf:about=\"http://c.example/\"><title>Courier</title></channel>\n"
        "<item "
        "rdf:about=\"http://c.example/a\"><title>Atlas</title><link>http://c.example/a</link>\n"
        "<dc:date>2026-11-24T16:00:00Z</dc:date><description>Text</description></item>\n"
        "</rdf:RDF>\n";
    cd_feed *f = parse(doc, NULL);
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.format, CD_FEED_RDF);
    assert_int_equal(info.items, 1);
    assert_string_equal(field(f, 0, "key"), "http://c.example/a");
    assert_string_equal(field(f, 0, "title"), "Atlas");
    int dated;
    item_time(f, 0, &dated);
    assert_true(dated);
    cd_feed_free(f);
}

/* ------------------------------------------------------------------ Atom */

static void test_atom(void **state)
{
    (void)state;
    const char *doc =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"https://herald.example/news/\">\n"
        "<title type=\"html\">The &lt;i&gt;Herald&lt;/i&gt;</title>\n"
        "<entry><id>urn:h:1</id><title type=\"text\">A &lt;b&gt; is text</title>\n"
        "  <link rel=\"self\" href=\"https://herald.example/api/1\"/>\n"
        "  <link rel=\"alternate\" href=\"floods\"/>\n"
        "  <updated>2026-11-24T12:00:00Z</updated><published>2026-11-24T10:15:00Z</published>\n"
        "  <author><name>Herald Staff</name></author>\n"
        "  <summary>Short</summary>\n"
        "  <content type=\"html\">&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;</content></entry>\n"
        "<entry xml:base=\"https://other.example/\"><id>urn:h:2</id><title>X</title>\n"
        "  <link href=\"p/2\"/><updated>2026-11-24T13:00:00+01:00</updated>\n"
        "  <content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Para "
        "<em>one</em>.</p><p>Para two.</p></div></content></entry>\n"
        "<entry><id>urn:h:3</id><title>Out of line</title><content src=\"https://x/\"/>\n"
        "  <summary type=\"text\">Only the summary</summary></entry>\n"
        "</feed>\n";
    cd_feed *f = parse(doc, "https://herald.example/feed.atom");
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.format, CD_FEED_ATOM);
    assert_int_equal(info.items, 3);
    assert_int_equal(info.title.len, strlen("The Herald"));
    assert_string_equal(field(f, 0, "key"), "urn:h:1");
    assert_string_equal(field(f, 0, "title"), "A <b> is text");
    assert_string_equal(field(f, 0, "link"), "https://herald.example/news/floods");
    assert_string_equal(field(f, 0, "published"), "2026-11-24T10:15:00Z");
    assert_string_equal(field(f, 0, "author"), "Herald Staff");
    assert_string_equal(field(f, 0, "text"), "One\n\nTwo");
    assert_string_equal(field(f, 1, "link"), "https://other.example/p/2");
    assert_string_equal(field(f, 1, "published"), "2026-11-24T13:00:00+01:00");
    assert_string_equal(field(f, 1, "text"), "Para one.\n\nPara two.");
    assert_string_equal(field(f, 2, "text"), "Only the summary");
    cd_feed_free(f);
}

/* ------------------------------------------------------------- JSON Feed */

static void test_json_feed(void **state)
{
    (void)state;
    const char *doc =
        "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"Agg\","
        "\"home_page_url\":\"https://agg.example/\",\"items\":["
        "{\"id\":\"a-1\",\"url\":\"/77\",\"title\":\"T &amp; "
        "U\",\"date_published\":\"2026-11-24T13:00:00Z\","
        "\"content_html\":\"<nav>Home</nav><p>Body <b>text</b></p><aside>Related</aside>\","
        "\"summary\":\"sum\",\"authors\":[{\"name\":\"Ann\"}]},"
        "{\"id\":9001,\"external_url\":\"https://x.example/"
        "y\",\"content_text\":\"Plain\\n\\nparas\","
        "\"content_html\":\"<p>ignored</p>\"},"
        "{\"id\":\"a-1\",\"title\":\"duplicate id\"},"
        "42,"
        "{\"summary\":\"no key at all\"}]}";
    cd_feed *f = parse(doc, "https://agg.example/feed.json");
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.format, CD_FEED_JSON);
    assert_int_equal(info.items, 2);
    assert_int_equal(info.duplicate_items, 1);
    assert_int_equal(info.skipped_items, 2);
    assert_string_equal(field(f, 0, "link"), "https://agg.example/77");
    assert_string_equal(field(f, 0, "title"), "T & U");
    assert_string_equal(field(f, 0, "text"), "Body text");
    assert_string_equal(field(f, 0, "author"), "Ann");
    assert_string_equal(field(f, 1, "key"), "9001");
    assert_string_equal(field(f, 1, "link"), "https://x.example/y");
    assert_string_equal(field(f, 1, "text"), "Plain\n\nparas");
    cd_feed_free(f);
}

/* ------------------------------------------------------------ broken input */

static void test_duplicates(void **state)
{
    (void)state;
    const char *doc = "<rss><channel>"
                      "<item><guid>g</guid><title>first</title></item>"
                      "<item><guid>g</guid><title>second</title></item>"
                      "<item><link>http://a/</link><title>by link</title></item>"
                      "<item><link>http://a/</link><title>same link</title></item>"
                      "</channel></rss>";
    cd_feed *f = parse(doc, NULL);
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.items, 2);
    assert_int_equal(info.duplicate_items, 2);
    assert_string_equal(field(f, 0, "title"), "first");
    assert_string_equal(field(f, 1, "title"), "by link");
    cd_feed_free(f);
}

static void test_malformed(void **state)
{
    (void)state;
    /* a bare '&', an HTML entity XML does not know, an unclosed <item>, and
     * escaped HTML after the first error (libxml2 alone would drop it) */
    const char *doc = "<rss><channel><title>T</title>"
                      "<item><guid>1</guid><title>AT&T &nbsp;profits</title>"
                      "<description>&lt;p&gt;a &amp;lt; b&lt;/p&gt;</description>"
                      "<item><guid>2</guid><title>Second</title></item>"
                      "</channel></rss>";
    cd_feed *f = parse(doc, NULL);
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.recovered, 1);
    assert_int_equal(strncmp(info.warning, "malformed XML, line 1:", 22), 0);
    assert_int_equal(info.items, 2);
    assert_string_equal(field(f, 0, "title"), "AT&T \xC2\xA0profits");
    assert_string_equal(field(f, 0, "text"), "a < b");
    assert_string_equal(field(f, 1, "key"), "2");
    cd_feed_free(f);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    const char *doc =
        "<rss><channel><item><guid>1</guid><title>caf\xE9 \xC3\xA9t\xC3\xA9 "
        "\x80\x80 \xED\xA0\x80 \xF4\x90\x80\x80 ok\x01</title></item></channel></rss>";
    cd_feed *f = parse(doc, NULL);
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.recovered, 0);
    assert_int_equal(info.invalid_utf8,
                     5); /* é in Latin-1, stray run, surrogate, >U+10FFFF, \x01 */
    assert_string_equal(field(f, 0, "title"),
                        "caf\xEF\xBF\xBD \xC3\xA9t\xC3\xA9 \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD "
                        "ok\xEF\xBF\xBD"); /* one U+FFFD per invalid sequence */
    cd_feed_free(f);

    /* a document in another declared encoding is converted, not repaired */
    const char *latin1 =
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
        "<rss><channel><item><guid>1</guid><title>caf\xE9</title></item></channel></rss>";
    f = parse(latin1, NULL);
    cd_feed_get_info(f, &info);
    assert_int_equal(info.invalid_utf8, 0);
    assert_string_equal(field(f, 0, "title"), "caf\xC3\xA9");
    cd_feed_free(f);
}

static void test_no_external_entities(void **state)
{
    (void)state;
    const char *doc = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">"
                      "<!ENTITY web SYSTEM \"http://127.0.0.1:9/x\">]>\n"
                      "<rss><channel><item><guid>1</guid><title>a &xxe; b &web; c</title>"
                      "</item></channel></rss>";
    cd_feed *f = parse(doc, NULL);
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.items, 1);
    assert_int_equal(info.entities_dropped, 2);
    const char *title = field(f, 0, "title");
    assert_null(strstr(title, "root:"));
    assert_string_equal(title, "a &xxe; b &web; c");
    cd_feed_free(f);
}

static void test_billion_laughs(void **state)
{
    (void)state;
    char doc[4096];
    int n =
        snprintf(doc, sizeof doc, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY l0 \"ha\">");
    for (int i = 1; i < 10; i++)
        n += snprintf(doc + n, sizeof doc - (size_t)n,
                      "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">", i,
                      i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    snprintf(doc + n, sizeof doc - (size_t)n,
             "]>\n<rss><channel><item><guid>1</guid><title>&l9;</title></item></channel></rss>");
    clock_t start = clock();
    cd_feed *f = NULL;
    char err[256];
    cd_status st = cd_feed_parse(doc, strlen(doc), NULL, NULL, &f, err, sizeof err);
    double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    assert_true(seconds < 2.0);
    if (st == CD_OK) { /* libxml2 may refuse the amplification outright */
        assert_true(strlen(field(f, 0, "title")) < 100);
        cd_feed_free(f);
    } else {
        assert_int_equal(st, CD_ERR_FORMAT);
    }
}

static void test_not_a_feed(void **state)
{
    (void)state;
    struct {
        const char *doc, *message;
    } cases[] = {
        {"<!DOCTYPE html><html><body>x</body></html>", "not a feed: an HTML page"},
        {"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "not a feed: the root element is <svg>"},
        {"just text", "not a feed: neither XML nor JSON"},
        {"   \n ", "not a feed: the document is empty"},
        {"{\"items\":[]}", "not a feed: JSON without a jsonfeed.org version and items"},
        {"{\"version\":", "not a feed: malformed JSON near byte 10"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cd_feed *f = (cd_feed *)1;
        char err[256];
        cd_status st =
            cd_feed_parse(cases[i].doc, strlen(cases[i].doc), NULL, NULL, &f, err, sizeof err);
        assert_int_equal(st, CD_ERR_FORMAT);
        assert_null(f);
        assert_string_equal(err, cases[i].message);
    }
    cd_feed *f;
    assert_int_equal(cd_feed_parse(NULL, 0, NULL, NULL, &f, NULL, 0), CD_ERR_FORMAT);
    assert_int_equal(cd_feed_parse(NULL, 5, NULL, NULL, &f, NULL, 0), CD_ERR_ARG);
}

static void test_limits(void **state)
{
    (void)state;
    char doc[8192];
    int n = snprintf(doc, sizeof doc, "<rss><channel>");
    for (int i = 0; i < 20; i++)
        n += snprintf(
            doc + n, sizeof doc - (size_t)n,
            "<item><guid>%d</guid><description>\xC3\xA9\xC3\xA9\xC3\xA9</description></item>", i);
    snprintf(doc + n, sizeof doc - (size_t)n, "</channel></rss>");
    cd_feed_options o;
    cd_feed_options_init(&o);
    o.max_items = 5;
    o.max_text_bytes = 3; /* cut at a character: "é" */
    cd_feed *f;
    assert_int_equal(cd_feed_parse(doc, strlen(doc), NULL, &o, &f, NULL, 0), CD_OK);
    cd_feed_info info;
    cd_feed_get_info(f, &info);
    assert_int_equal(info.items, 5);
    assert_int_equal(info.skipped_items, 15);
    assert_string_equal(field(f, 4, "text"), "\xC3\xA9");
    cd_feed_item it;
    assert_int_equal(cd_feed_get_item(f, 5, &it), CD_ERR_ARG);
    cd_feed_free(f);
    cd_feed_free(NULL);
}

/* ---------------------------------------------------------- article text */

static void test_article_text(void **state)
{
    (void)state;
    const char *page = "<!doctype html><html><head><title>T</title><script>x()</script></head>"
                       "<body><header><nav>Home News</nav></header><article><h1>Head</h1>"
                       "<p>First &amp; foremost.</p><p>Second.</p></article>"
                       "<aside>Most read</aside><footer>(c)</footer></body></html>";
    char *text;
    size_t len;
    assert_int_equal(cd_article_text(page, strlen(page), NULL, &text, &len), CD_OK);
    assert_string_equal(text, "Head\n\nFirst & foremost.\n\nSecond.");
    assert_int_equal(len, strlen(text));
    cd_text_free(text);

    /* a charset from the Content-Type, then from a <meta> */
    const char *latin1 = "<p>caf\xE9 cr\xE8me</p>";
    assert_int_equal(cd_article_text(latin1, strlen(latin1), "ISO-8859-1", &text, NULL), CD_OK);
    assert_string_equal(text, "caf\xC3\xA9 cr\xC3\xA8me");
    cd_text_free(text);
    const char *meta = "<html><head><meta charset=\"windows-1252\"></head><body><p>\x93quoted\x94 "
                       "caf\xE9</p></body></html>";
    assert_int_equal(cd_article_text(meta, strlen(meta), NULL, &text, NULL), CD_OK);
    assert_string_equal(text, "\xE2\x80\x9Cquoted\xE2\x80\x9D caf\xC3\xA9");
    cd_text_free(text);
    /* UTF-8 claimed, invalid bytes: replaced */
    assert_int_equal(cd_article_text(latin1, strlen(latin1), "utf-8", &text, NULL), CD_OK);
    assert_string_equal(text, "caf\xEF\xBF\xBD cr\xEF\xBF\xBDme");
    cd_text_free(text);
    assert_int_equal(cd_article_text("", 0, NULL, &text, &len), CD_OK);
    assert_string_equal(text, "");
    cd_text_free(text);
    cd_text_free(NULL);
}

/* ---------------------------------------------------------------- robots */

static void test_robots(void **state)
{
    (void)state;
    const char *txt = "# comment\n"
                      "User-agent: *\n"
                      "Disallow: /private/\n"
                      "Allow: /private/open$\n"
                      "Disallow: /*.pdf$\n"
                      "\n"
                      "User-agent: otherbot\n"
                      "Disallow: /\n";
    cd__robots *r = cd__robots_parse(txt, strlen(txt), "copydesk");
    assert_non_null(r);
    assert_int_equal(cd__robots_rule_count(r), 3);
    assert_true(cd__robots_allowed(r, "/news/1"));
    assert_false(cd__robots_allowed(r, "/private/x"));
    assert_true(cd__robots_allowed(r, "/private/open"));
    assert_false(cd__robots_allowed(r, "/private/open/more"));
    assert_false(cd__robots_allowed(r, "/files/a.pdf"));
    assert_true(cd__robots_allowed(r, "/files/a.pdf?x=1"));
    assert_true(cd__robots_allowed(r, "/robots.txt"));
    cd__robots_free(r);

    /* a group naming us replaces "*"; product token up to '/'; grouped agents */
    const char *named = "User-agent: *\nDisallow: /\n\n"
                        "User-agent: somebot\nUser-Agent: CopyDesk/0.1\nDisallow: /a\nAllow: /a/b\n"
                        "Disallow:\nCrawl-delay: 5\n";
    r = cd__robots_parse(named, strlen(named), "copydesk");
    assert_int_equal(cd__robots_rule_count(r), 2);
    assert_true(cd__robots_allowed(r, "/"));
    assert_false(cd__robots_allowed(r, "/a/c"));
    assert_true(cd__robots_allowed(r, "/a/b/c"));
    cd__robots_free(r);

    /* equal lengths: Allow wins; '*' in the middle */
    const char *tie = "User-agent: *\nDisallow: /x*y\nAllow: /x*y\nDisallow: /q*\n";
    r = cd__robots_parse(tie, strlen(tie), "copydesk");
    assert_true(cd__robots_allowed(r, "/x123y"));
    assert_false(cd__robots_allowed(r, "/q"));
    cd__robots_free(r);

    /* rules before any User-agent line are ignored; empty file allows */
    r = cd__robots_parse("Disallow: /\n", 12, "copydesk");
    assert_true(cd__robots_allowed(r, "/anything"));
    cd__robots_free(r);
    cd__robots *all = cd__robots_all(1), *none = cd__robots_all(0);
    assert_true(cd__robots_allowed(all, "/x"));
    assert_false(cd__robots_allowed(none, "/x"));
    assert_true(cd__robots_allowed(none, "/robots.txt"));
    cd__robots_free(all);
    cd__robots_free(none);
}

/* --------------------------------------------------------------- fetcher */

static void test_fetcher_refuses(void **state)
{
    (void)state;
    cd_fetch_options o;
    cd_fetch_options_init(&o);
    cd_fetcher *f;
    char err[256];
    o.max_parallel = 0;
    assert_int_equal(cd_fetcher_create(&o, &f, err, sizeof err), CD_ERR_ARG);
    assert_string_equal(err, "max_parallel must be at least 1");
    cd_fetch_options_init(&o);
    o.timeout_ms = 0;
    assert_int_equal(cd_fetcher_create(&o, &f, err, sizeof err), CD_ERR_ARG);
    assert_int_equal(cd_fetcher_create(NULL, &f, err, sizeof err), CD_OK);

    const char *urls[] = {"file:///etc/passwd", "ftp://example.org/feed", "gopher://x/",
                          "not a url", "http://"};
    size_t ids[5];
    for (int i = 0; i < 5; i++) {
        cd_fetch_request r = {urls[i], NULL, NULL, NULL, 0, 0};
        assert_int_equal(cd_fetcher_add(f, &r, &ids[i]), CD_OK);
        assert_int_equal(ids[i], (size_t)i);
    }
    cd_fetch_result res;
    assert_int_equal(cd_fetcher_result(f, 0, &res), CD_ERR_STATE);
    assert_int_equal(cd_fetcher_run(f, NULL), CD_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(cd_fetcher_result(f, ids[i], &res), CD_OK);
        assert_int_equal(res.outcome, CD_FETCH_REFUSED);
        assert_int_equal(res.attempts, 0);
        assert_null(res.body);
    }
    assert_int_equal(cd_fetcher_result(f, 0, &res), CD_OK);
    assert_string_equal(res.error, "only http:// and https:// URLs are fetched, not file");
    assert_string_equal(cd_fetch_outcome_name(CD_FETCH_REFUSED), "refused");
    assert_int_equal(cd_fetcher_result(f, 5, &res), CD_ERR_ARG);
    cd_fetcher_reset(f);
    assert_int_equal(cd_fetcher_count(f), 0);
    cd_fetch_request bad = {NULL, NULL, NULL, NULL, 0, 0};
    assert_int_equal(cd_fetcher_add(f, &bad, NULL), CD_ERR_ARG);
    cd_fetcher_free(f);
    cd_fetcher_free(NULL);
}

/* --------------------------------------------------- allocation failures */

static void test_out_of_memory(void **state)
{
    (void)state;
    const char *docs[] = {rss_doc,
                          "<rss><channel><item><guid>1</guid><title>AT&T &nbsp;x</title>"
                          "<item><title>caf\xE9</title></item></channel></rss>",
                          "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[{\"id\":1,"
                          "\"content_html\":\"<p>x</p>\",\"url\":\"/a\"}]}"};
    for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
        for (long fail_at = 1;; fail_at++) {
            counting_alloc_start(fail_at, 0);
            cd_feed *f = NULL;
            char err[256];
            cd_status st = cd_feed_parse(docs[d], strlen(docs[d]), "https://b.example/", NULL, &f,
                                         err, sizeof err);
            long needed = counting_alloc_count();
            cd_feed_free(f);
            counting_alloc_stop();
            assert_int_equal(counting_alloc_live(), 0);
            if (needed < fail_at && st != CD_OK)
                print_error("doc %zu, allocation %ld of %ld: %s\n", d, fail_at, needed, err);
            if (needed < fail_at) { /* no allocation failed: the run must succeed */
                assert_int_equal(st, CD_OK);
                break;
            }
            assert_int_equal(st, CD_ERR_NOMEM);
            if (st == CD_ERR_NOMEM)
                assert_string_equal(err, "out of memory");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss),
        cmocka_unit_test(test_rdf),
        cmocka_unit_test(test_atom),
        cmocka_unit_test(test_json_feed),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_no_external_entities),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_not_a_feed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_article_text),
        cmocka_unit_test(test_robots),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_fetcher_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
