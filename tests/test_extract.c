/* test_extract.c: the extract stage: which texts are taken for HTML, and
 * the main text libxml2's parser leaves once script, style, navigation,
 * header, footer, aside and forms are dropped; paragraphs, line breaks,
 * entities, white space, deep nesting and broken markup; the text of the
 * tree libxml2 would build (its depth and text size limits, nothing
 * outside the root), with text runs given to the parser as markers or
 * not, or by the fast parser (each way checked against libxml2's plain
 * parse on random pages); and the signer using it (cd_signer_text) only
 * for texts that look like HTML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"
#include "extract.h"
#include "html_fast.h"
#include "support.h"

static cd_str str(const char *s) { return (cd_str){s, s ? strlen(s) : 0}; }

static void test_detection(void **state)
{
    (void)state;
    /* documents and fragments */
    assert_true(cd_looks_like_html(str("<!DOCTYPE html><html><body>x</body></html>")));
    assert_true(cd_looks_like_html(str("\xEF\xBB\xBF  \n<html lang=en>")));
    assert_true(cd_looks_like_html(str("<p>One.</p><p>Two.</p>")));
    assert_true(cd_looks_like_html(str("Line one<br>line two<br/>line three")));
    assert_true(cd_looks_like_html(str("<div class=\"a\">Text</div>")));
    /* plain text: tickers, a lone tag, comparisons */
    assert_false(cd_looks_like_html(str("STANDARD OIL <SRD> TO FORM FINANCIAL UNIT with <BP>")));
    assert_false(cd_looks_like_html(str("Agilent <A> and Bank <B> said")));
    assert_false(cd_looks_like_html(str("Write </p> to close a paragraph.")));
    assert_false(cd_looks_like_html(str("if a < b and b > c then <p")));
    assert_false(cd_looks_like_html(str("")));
    assert_false(cd_looks_like_html((cd_str){NULL, 0}));
}

/* Extracts html and compares with want. */
static void expect_text(const char *html, const char *want)
{
    cd__text out = {0};
    assert_int_equal(cd__extract_html(html, strlen(html), &out), CD_OK);
    const char *got = out.ptr ? out.ptr : "";
    if (strcmp(got, want) != 0)
        fail_msg("extracting\n  %s\ngave\n  [%s]\nnot\n  [%s]", html, got, want);
    cd__text_free(&out);
}

static void test_main_text(void **state)
{
    (void)state;
    expect_text("<html><head><title>T</title><style>p{color:red}</style>"
                "<script>var x = '<p>no</p>';</script></head><body>"
                "<header><p>Site name</p></header><nav><ul><li>Home</li><li>News</li></ul></nav>"
                "<article><h1>Headline</h1><p>First   paragraph,\n spread\tover lines.</p>"
                "<p>Second &amp; last &ldquo;quoted&rdquo; &#233;t&eacute;.</p></article>"
                "<aside>Related stories</aside><form><input> Sign up</form>"
                "<noscript>Enable JS</noscript><footer>&copy; 2026</footer></body></html>",
                "Headline\n\nFirst paragraph, spread over lines.\n\n"
                "Second & last \xE2\x80\x9Cquoted\xE2\x80\x9D \xC3\xA9t\xC3\xA9.");
    /* inline elements join, block elements separate, <br> breaks a line */
    expect_text("<p>A <b>bold</b> <a href=x>link</a>, <em>and</em> more.</p><div>Next</div>",
                "A bold link, and more.\n\nNext");
    expect_text("<p>one<br>two<br><br>three</p>", "one\ntwo\n\nthree");
    expect_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
                "a b\n\nc");
    expect_text("<ul><li>x</li><li>y</li></ul>", "x\n\ny");
    /* nothing to keep */
    expect_text("<html><body><nav>Menu</nav><footer>Foot</footer></body></html>", "");
    expect_text("   ", "");
    /* broken markup is recovered */
    expect_text("<p>unclosed <b>bold<p>next", "unclosed bold\n\nnext");
    expect_text("<<<>>> <p>ok</p> </div></div>", ">>>\n\nok"); /* libxml2 drops the "<<<" */
}

static void test_deep_nesting_and_size(void **state)
{
    (void)state;
    enum { DEPTH = 20000 };
    size_t cap = DEPTH * 11 + 64, n = 0;
    char *html = malloc(cap);
    assert_non_null(html);
    for (int i = 0; i < DEPTH; i++)
        n += (size_t)sprintf(html + n, "<div><span>");
    n += (size_t)sprintf(html + n, "deep");
    cd__text out = {0};
    assert_int_equal(cd__extract_html(html, n, &out), CD_OK); /* no recursion, no crash */
    cd__text_free(&out);
    /* invalid UTF-8 and NUL bytes do not stop the parse or crash it */
    const char bad[] = "<p>caf\xC3 \xFF\xFE ok</p><p>after\0nul</p>";
    assert_int_equal(cd__extract_html(bad, sizeof bad - 1, &out), CD_OK);
    cd__text_free(&out);
    free(html);
}

/* Text runs after a '>' the parser does not read as text (attribute
 * values, comments, scripts) and text it reads in unusual places give the
 * text the tree libxml2 would build gives. */
static void test_runs_in_markup(void **state)
{
    (void)state;
    expect_text("<p title=\"a>Long text in an attribute\">Visible text of the paragraph</p>",
                "Visible text of the paragraph");
    expect_text(
        "<p>Before the comment<!-- a comment > with text inside it -->after the comment</p>",
        "Before the commentafter the comment");
    expect_text("<script>if (a>b) { run the long script }</script><p>Text after the script</p>",
                "Text after the script");
    expect_text(
        "<p>Ellen&rsquo;s long sentence goes on here</p><p>Second paragraph&hellip; ends</p>",
        "Ellen\xE2\x80\x99s long sentence goes on here\n\nSecond paragraph\xE2\x80\xA6 ends");
    /* start tags never ended by '>' are closed at once */
    expect_text("<p>a<div", "a");
    expect_text("<p>one<div class=x<p>two", "one\n\ntwo");
    /* text after the root element is in a new one; white space there is not */
    expect_text("<html><body><p>Body text</p></body></html>Text after the root element",
                "Body text\n\nText after the root element");
    expect_text("<html><body>a</body><b>c</b> <i>d</i>", "a\n\nc d");
    /* elements are named after any prefix, as in libxml2's tree */
    expect_text("<p>one<o:p></o:p>two</p>", "one\n\ntwo");
    expect_text("<p>a<x:br>dropped text</x:br>b</p>", "a\nb");
    expect_text("<div>x<w:nav>nav text</w:nav>y</div>", "x\n\ny");
    /* the marker's own character, as it is and as a reference, is text */
    expect_text("<p>Natural \xF3\xB0\x80\x80 plane fifteen character here</p>",
                "Natural \xF3\xB0\x80\x80 plane fifteen character here");
    expect_text("<p>Reference &#983040; to plane fifteen here</p>",
                "Reference \xF3\xB0\x80\x80 to plane fifteen here");
    expect_text("<p>Bad \xFF byte then a long run of text</p>",
                "Bad \xFF byte then a long run of text");
}

/* Extracts html[0..len) and returns its text (to free), checking status. */
static char *extract_status(const char *html, size_t len, cd_status want)
{
    cd__text out = {0};
    assert_int_equal(cd__extract_html(html, len, &out), want);
    char *text = strdup(out.ptr ? out.ptr : "");
    assert_non_null(text);
    cd__text_free(&out);
    return text;
}

/* libxml2's tree builder stops at 256 levels of nesting (the text below is
 * lost) and refuses a text node over 10,000,000 bytes (out of memory). */
static void test_tree_limits(void **state)
{
    (void)state;
    char *html = malloc(20000);
    assert_non_null(html);
    size_t n = 0;
    for (int i = 0; i < 300; i++) /* html and body, then 255 divs are kept */
        n += (size_t)sprintf(html + n, "<div>L%d text here ", i);
    char *text = extract_status(html, n, CD_OK);
    const char *tail = "\n\nL254 text here";
    assert_true(strlen(text) > strlen(tail));
    assert_string_equal(text + strlen(text) - strlen(tail), tail);
    free(text);
    free(html);

    enum { LIMIT = 10000000 };
    size_t cap = LIMIT + 64;
    html = malloc(cap);
    assert_non_null(html);
    n = (size_t)sprintf(html, "<html><body><p>");
    for (; n < LIMIT + 16; n++)
        html[n] = n % 8 ? 'a' : ' ';
    free(extract_status(html, n, CD_ERR_NOMEM)); /* one text node */
    memcpy(html + LIMIT / 2, "<!---->", 7);      /* two */
    text = extract_status(html, n, CD_OK);
    assert_true(strlen(text) > LIMIT - 100);
    free(text);
    free(html);
}

static void test_signer_uses_extraction(void **state)
{
    (void)state;
    cd_params p;
    cd_params_init(&p);
    cd_signer *s = NULL;
    assert_int_equal(cd_signer_create(&p, &s), CD_OK);
    cd_doc doc = {0};
    cd_str text;
    doc.text = str("<html><body><nav>Home</nav><p>Words of the story.</p></body></html>");
    assert_int_equal(cd_signer_text(s, &doc, &text), CD_OK);
    assert_int_equal(text.len, strlen("Words of the story."));
    assert_memory_equal(text.ptr, "Words of the story.", text.len);
    /* plain text is untouched */
    doc.text = str("Plain <SRD> text\n\nwith paragraphs.");
    assert_int_equal(cd_signer_text(s, &doc, &text), CD_OK);
    assert_ptr_equal(text.ptr, doc.text.ptr);
    assert_int_equal(text.len, doc.text.len);
    /* the HTML and the text copy of one story sign the same */
    cd_doc html = {0}, plain = {0};
    html.text = str("<html><body><header>Site</header><p>Keir Starmer spoke to Donald Trump ahead "
                    "of the US president&rsquo;s crunch talks with Russia&rsquo;s Vladimir "
                    "Putin.</p><p>The Prime Minister told Trump that Ukraine must be put in the "
                    "strongest possible position.</p></body></html>");
    plain.text = str("Keir Starmer spoke to Donald Trump ahead of the US president's crunch talks "
                     "with Russia's Vladimir Putin.\n\nThe Prime Minister told Trump that Ukraine "
                     "must be put in the strongest possible position.");
    uint32_t a[128], b[128];
    assert_int_equal(cd_signer_sign(s, &html, a, NULL), CD_OK);
    assert_int_equal(cd_signer_sign(s, &plain, b, NULL), CD_OK);
    assert_memory_equal(a, b, sizeof a);
    /* with extraction off, the tags are words */
    cd_signer_free(s);
    p.extract_html = 0;
    assert_int_equal(cd_signer_create(&p, &s), CD_OK);
    assert_int_equal(cd_signer_sign(s, &html, a, NULL), CD_OK);
    assert_memory_not_equal(a, b, sizeof a);
    cd_signer_free(s);
}

static int ignore_start(void *ctx, const char *name)
{
    return (void)ctx, (void)name, 0;
}
static int ignore_end(void *ctx)
{
    return (void)ctx, 0;
}
static int ignore_text(void *ctx, const char *bytes, size_t len)
{
    return (void)ctx, (void)bytes, (void)len, 0;
}

/* 1 when the fast parser takes the page. */
static int count_fast(const char *page, size_t len)
{
    const cd__html_sink sink = {NULL, ignore_start, ignore_end, ignore_text};
    return cd__html_fast_parse(page, len, &sink);
}

/* Pieces of pages: the markup and text of plain news pages, ... */
static const char *const plain_pieces[] = {
    "<html>", "</html>", "<head>", "</head>", "<body>", "</body>", "<title>", "</title>",
    "<meta charset=\"utf-8\">", "<link rel=stylesheet href='a.css'>", "<base href=x>", "<p>",
    "</p>", "<p class=\"byline\">", "<div>", "</div>", "<div id=a class='b c'>", "<ul>", "</ul>",
    "<li>", "</li>", "<ol>", "</ol>", "<h1>", "</h1>", "<h2>", "</h2>", "<nav>", "</nav>",
    "<article>", "</article>", "<aside>", "</aside>", "<footer>", "</footer>", "<header>",
    "</header>", "<section>", "</section>", "<main>", "</main>", "<a href=\"/x?a=1&amp;b=2\">",
    "</a>", "<b>", "</b>", "<i>", "</i>", "<em>", "</em>", "<span>", "</span>", "<strong>",
    "</strong>", "<time datetime=\"2024\">", "</time>", "<br>", "<br/>", "<br />", "</br>", "<hr>",
    "<img src=a.png alt='x > y'>", "<input>", "<table>", "</table>", "<tr>", "</tr>", "<td>",
    "</td>", "<th>", "</th>", "<tbody>", "<form>", "</form>", "<select>", "<option>", "</option>",
    "<textarea>", "</textarea>", "<blockquote>", "</blockquote>", "<figure>", "<figcaption>",
    "</figcaption>", "</figure>", "<noscript>", "</noscript>", "<iframe>", "</iframe>", "<svg>",
    "</svg>", "<frameset>", "<noframes>", "<center>", "<font size=2>", "</font>", "<pre>",
    "</pre>", "<dl><dt>", "<dd>", "<script>var a = 1 < 2;</script>",
    "<script type=\"x\">if (a) { b(); }</script>", "&amp;", "&lt;", "&rsquo;", "&ldquo;",
    "&mdash;", "&nbsp;", "&eacute;", "&hellip;", "&#233;", "&#x2019;", "&#X41;",
    "Words of the story", "Keir Starmer spoke to Donald Trump.", " ", "  ", "\n", "\t",
    "\xC3\xA9t\xC3\xA9", "\xE2\x80\x99", ">", ";", "x>y", "a;b", "\r\n", "\r",
    "<!-- a comment -->", "<!---->", "<!-- a -- b -->", "<!-- x --!>", "<!-->", "<!--->",
    "<!-- <p>not a tag</p> -->", "<custom-tag>", "</custom-tag>", "<my-widget data-x=1>",
    "</my-widget>", "<path d='M0 0'/>", "<g>", "</g>", "<xmp>", "</xmp>", "<listing>",
    "</listing>", "<nobr>", "</nobr>", "<FOO-Bar>", "</foo-bar>",
};

/* ... and the markup libxml2 treats its own way (misplaced tags, unknown
 * names, comments, references it does not decode, characters it drops,
 * odd raw text and tags). */
static const char *const odd_pieces[] = {
    "<script></div></script>", "<script><p>x</p></script>", "<script>a</SCRIPT >",
    "<script>x</scripts>y</script>", "<style>p { color: red }</style>", "<style></style>",
    "<o:p>", "</o:p>", "<x_y>", "<P CLASS=X>", "</P>", "<DIV>",
    "</Div>", "<!DOCTYPE html>", "<?php echo 1; ?>",
    "<!doctype html public \"-//W3C//DTD HTML 4.01//EN\">", "< p>", "<>", "<3", "</ p>", "</>",
    "<p/>", "<div/>", "<a href=x/>", "<p title=\"unterminated", "<p =x>", "<p \"a\">", "&AMP;",
    "&amp", "&foo;", "&#0;", "&#65", "&#xD800;", "&#1114111;", "&#99999999;", "&", "& ", "&#;",
    "&a.b;", "\x01", "\x0c", "\xEF\xBB\xBF", "\xEF\xBF\xBE", "\xF3\xB0\x80\x80", "\xFF",
    "<!-- unterminated",
};

/* A random page of up to 60 pieces; some start with a doctype or blanks,
 * some hold a long run of white space. */
static char *random_page(uint64_t *rng, size_t *len)
{
    char *page = NULL;
    size_t cap = 0;
    *len = 0;
    uint64_t r = test_random(rng);
    if (r % 5 == 0)
        appendf(&page, len, &cap, "%s", r % 2 ? "<!DOCTYPE html>\n" : "  \n");
    size_t count = 1 + test_random(rng) % 60;
    for (size_t i = 0; i < count; i++) {
        r = test_random(rng);
        if (r % 97 == 0)
            appendf(&page, len, &cap, "%*s", (int)(990 + r % 30), "");
        else if (r % 31 == 0)
            appendf(&page, len, &cap, "%s",
                    odd_pieces[(r >> 8) % (sizeof odd_pieces / sizeof *odd_pieces)]);
        else
            appendf(&page, len, &cap, "%s",
                    plain_pieces[(r >> 8) % (sizeof plain_pieces / sizeof *plain_pieces)]);
    }
    if (!page)
        appendf(&page, len, &cap, "%s", "");
    return page;
}

/* The three ways to a page's text give the same text and status, on
 * random pages (2,000,000 of them agreed when this was written; 20,000 run
 * here); the fast parser takes on a fair share of them (18%). */
static void test_ways_agree(void **state)
{
    (void)state;
    uint64_t rng = 12345;
    size_t fast = 0, pages = 20000;
    cd__text want = {0}, got = {0};
    for (size_t n = 0; n < pages; n++) {
        size_t len;
        char *page = random_page(&rng, &len);
        cd_status plain = cd__extract_html_by(page, len, &want, CD__EXTRACT_PLAIN);
        for (int way = CD__EXTRACT_FAST; way < CD__EXTRACT_PLAIN; way++) {
            cd_status st = cd__extract_html_by(page, len, &got, (enum cd__extract_way)way);
            const char *a = want.ptr ? want.ptr : "", *b = got.ptr ? got.ptr : "";
            if (st != plain || strcmp(a, b) != 0)
                fail_msg("way %d on page %zu\n  [%s]\ngave\n  [%s]\nnot\n  [%s]", way, n, page, b,
                         a);
        }
        fast += count_fast(page, len);
        free(page);
    }
    cd__text_free(&want);
    cd__text_free(&got);
    assert_true(fast > pages / 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detection),
        cmocka_unit_test(test_main_text),
        cmocka_unit_test(test_deep_nesting_and_size),
        cmocka_unit_test(test_runs_in_markup),
        cmocka_unit_test(test_tree_limits),
        cmocka_unit_test(test_signer_uses_extraction),
        cmocka_unit_test(test_ways_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
