/* test_boilerplate.c: the boilerplate stage. From the fixture (a PA wire
 * story as an aggregator serves it): the story under four outlets' chrome
 * (text and HTML) forms one cluster at the defaults, and other stories in
 * the fixture's exact chrome stay out; with boilerplate off both fail.
 * Then the learner's rules (copies never make their story chrome, lines of
 * every source, all-chrome pages), the model's file format (round trip,
 * damage), a loaded model giving the learned result, and allocation
 * failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"
#include "support.h"

static cd_str str(const char *s) { return (cd_str){s, s ? strlen(s) : 0}; }

/* ------------------------------------------------------------ text maker */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void putf(buf *b, const char *format, ...)
{
    char tmp[8192];
    va_list ap;
    va_start(ap, format);
    vsnprintf(tmp, sizeof tmp, format, ap);
    va_end(ap);
    put(b, tmp);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A paragraph of made-up words, different for every seed. */
static void paragraph(buf *b, uint64_t *seed, int words)
{
    static const char *const syllables[] = {"ka", "lo", "mi", "ner", "sta", "vo", "pri", "den",
                                            "ul", "tra", "bo", "fen", "gar", "shi", "mo", "ta",
                                            "ri", "wel", "zan", "cho", "pel", "ster", "an", "ov"};
    for (int w = 0; w < words; w++) {
        int n = 1 + (int)(rng_next(seed) % 3);
        char word[32] = "";
        for (int i = 0; i < n; i++)
            strcat(word, syllables[rng_next(seed) % (sizeof syllables / sizeof *syllables)]);
        if (w == 0)
            word[0] = (char)(word[0] - 32);
        put(b, word);
        put(b, w + 1 == words ? "." : (rng_next(seed) % 9 == 0 ? ", " : " "));
    }
}

/* The body of made-up story number `story`: paragraphs separated by blank lines. */
static void story_body(buf *b, int story, int paragraphs, int words)
{
    uint64_t seed = 1000 + (uint64_t)story;
    for (int p = 0; p < paragraphs; p++) {
        if (p)
            put(b, "\n\n");
        paragraph(b, &seed, words);
    }
}

/* ------------------------------------------------------------ the corpus */

/* The fixture's parts, by its line numbers (1-based, blank lines skipped):
 * 1-8 the aggregator's header and the credit, 9 the title, then the story
 * up to FX_BODY_END, then the aggregator's footer ("Sign up to read ..."). */
enum { FX_HEAD_END = 8, FX_TITLE = 9 };
static size_t FX_BODY_END;

static char *fixture;          /* the aggregator's page, whole */
static const char *fx_lines[64];
static size_t fx_count;

static char *read_fixture(void)
{
    const char *dir = getenv("COPYDESK_TEST_DATA");
    if (!dir)
        fail_msg("COPYDESK_TEST_DATA is not set (ctest sets it to tests/data)");
    char path[4096];
    snprintf(path, sizeof path, "%s/fixtures/aggregator-copy-pa-wire.txt", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    char *text = calloc(1, 1 << 16);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static int setup(void **state)
{
    (void)state;
    fixture = read_fixture();
    /* its lines (a copy cut at the newlines) */
    char *copy = strdup(fixture);
    for (char *line = strtok(copy, "\n"); line && fx_count < 64; line = strtok(NULL, "\n"))
        fx_lines[fx_count++] = line; /* blank lines are skipped by strtok */
    for (size_t i = 0; i < fx_count; i++)
        if (!strcmp(fx_lines[i], "Sign up to read this article"))
            FX_BODY_END = i; /* the line before it, 1-based */
    assert_true(FX_BODY_END > FX_TITLE + 10);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(fixture);
    free((void *)fx_lines[0]);
    return 0;
}


static void fx_range(buf *b, size_t from, size_t to, const char *sep)
{
    for (size_t i = from; i <= to && i <= fx_count; i++) {
        put(b, fx_lines[i - 1]);
        if (i < to)
            put(b, sep);
    }
}

/* The PA story's body as a plain text (paragraphs, blank lines between). */
static void pa_body(buf *b) { fx_range(b, FX_TITLE + 1, FX_BODY_END, "\n\n"); }

typedef struct outlet {
    const char *name;
    const char *head[12];
    const char *foot[12];
} outlet;

static const outlet outlets[] = {
    {"The National",
     {"Skip to main content", "Subscribe", "Sign in", "News | Politics | Sport | Culture",
      "Scotland's independent voice", "Support our journalism from £5 a month", NULL},
     {"Most read", "Follow The National on Facebook, X and Instagram",
      "Get the daily politics newsletter in your inbox every morning",
      "The National is a member of the Independent Press Standards Organisation",
      "Newsquest Media Group, registered in England No. 01676637", "© 2025 The National",
      NULL}},
    {"Wire Daily",
     {"Menu", "Search", "Wire Daily", "Home · World · UK · Business · Tech",
      "Your trusted source for wire news since 1998", NULL},
     {"Share this article", "Recommended for you", "Contact us | Advertise | Privacy | Terms",
      "Wire Daily uses cookies to improve your experience, read our cookie policy",
      "Copyright 2025 Wire Daily Ltd. All rights reserved.", NULL}},
};

/* A text page: outlet chrome around a title and a body. */
static void text_page(buf *b, const outlet *o, const char *title, const char *body)
{
    for (int i = 0; o->head[i]; i++)
        putf(b, "%s\n", o->head[i]);
    putf(b, "\n%s\n\n%s\n\n", title, body);
    for (int i = 0; o->foot[i]; i++)
        putf(b, "%s\n", o->foot[i]);
}

/* An HTML page of the Herald: navigation, article, aside, footer. */
static void html_page(buf *b, const char *title, const char *body)
{
    put(b, "<!DOCTYPE html><html><head><title>");
    put(b, title);
    put(b, " | The Herald</title><script>window.dataLayer=[];</script></head><body>"
           "<header><a href=\"/\">The Herald</a></header><nav><ul><li>News</li><li>Sport</li>"
           "<li>Business</li></ul></nav><article><h1>");
    put(b, title);
    put(b, "</h1><p>");
    for (const char *p = body; *p; p++) {
        if (p[0] == '\n' && p[1] == '\n') {
            put(b, "</p><p>");
            p++;
        } else {
            char c[2] = {*p, 0};
            put(b, c);
        }
    }
    put(b, "</p></article><aside><h2>More stories</h2><ul><li>Weather warning</li></ul></aside>"
           "<footer><p>&copy; 2025 Herald &amp; Times Group</p></footer></body></html>");
}

/* The aggregator's page in the fixture's exact chrome, another story inside. */
static void aggregator_page(buf *b, const char *title, const char *body)
{
    fx_range(b, 1, FX_HEAD_END, "\n");
    putf(b, "\n\n%s\n\n%s\n\n", title, body);
    fx_range(b, FX_BODY_END + 1, fx_count, "\n");
}

enum { OTHER_STORIES = 8 };

typedef struct corpus {
    cd_doc docs[64];
    buf text[64];
    char ids[64][32];
    size_t count;
    size_t pa[4];       /* the four copies of the PA story */
    size_t in_chrome[8]; /* other stories in the fixture's exact chrome */
    size_t in_chrome_count;
} corpus;

static size_t add_doc(corpus *c, const char *id, const char *source)
{
    size_t i = c->count++;
    snprintf(c->ids[i], sizeof c->ids[i], "%s", id);
    c->docs[i].id = str(c->ids[i]);
    c->docs[i].source = str(source);
    return i;
}

static void build_corpus(corpus *c)
{
    memset(c, 0, sizeof *c);
    buf body = {0}, title = {0};
    pa_body(&body);
    const char *pa_title = fx_lines[FX_TITLE - 1];

    /* the aggregator's page of the PA story: the fixture itself */
    size_t i = add_doc(c, "pa-inkl", "inkl");
    put(&c->text[i], fixture);
    c->pa[0] = i;
    /* the PA story at The National and at Wire Daily (straight quotes, the typo fixed) */
    i = add_doc(c, "pa-national", "The National");
    text_page(&c->text[i], &outlets[0], pa_title, body.p);
    c->pa[1] = i;
    buf edited = {0};
    for (const char *p = body.p; *p; p++) {
        if (!strncmp(p, "\xE2\x80\x99", 3) || !strncmp(p, "\xE2\x80\x9C", 3) ||
            !strncmp(p, "\xE2\x80\x9D", 3)) {
            put(&edited, strncmp(p, "\xE2\x80\x99", 3) ? "\"" : "'");
            p += 2;
        } else if (!strncmp(p, "oingoing", 8)) {
            put(&edited, "ongoing");
            p += 7;
        } else {
            char ch[2] = {*p, 0};
            put(&edited, ch);
        }
    }
    i = add_doc(c, "pa-wire-daily", "Wire Daily");
    text_page(&c->text[i], &outlets[1], pa_title, edited.p);
    c->pa[2] = i;
    i = add_doc(c, "pa-herald", "The Herald");
    html_page(&c->text[i], pa_title, body.p);
    c->pa[3] = i;

    /* other stories: each outlet publishes its own */
    const char *sources[] = {"The National", "Wire Daily", "The Herald", "inkl"};
    for (int s = 0; s < 4; s++)
        for (int k = 0; k < OTHER_STORIES; k++) {
            int story = s * 100 + k;
            char id[32];
            snprintf(id, sizeof id, "s%d-story%d", s, k);
            body.len = title.len = 0;
            uint64_t seed = 7 + (uint64_t)story;
            paragraph(&title, &seed, s == 3 && k % 2 ? 4 : 7);
            /* the aggregator's are briefs and teasers (a headline and a few
             * words before the paywall) in its heavy chrome */
            if (s == 3 && k % 2)
                story_body(&body, story, 1, 2);
            else
                story_body(&body, story, s == 3 ? 1 : 6, s == 3 ? 30 : 45);
            i = add_doc(c, id, sources[s]);
            if (s < 2)
                text_page(&c->text[i], &outlets[s], title.p, body.p);
            else if (s == 2)
                html_page(&c->text[i], title.p, body.p);
            else {
                aggregator_page(&c->text[i], title.p, body.p);
                c->in_chrome[c->in_chrome_count++] = i;
            }
        }
    for (size_t d = 0; d < c->count; d++)
        c->docs[d].text = (cd_str){c->text[d].p, c->text[d].len};
    free(body.p);
    free(title.p);
    free(edited.p);
}

static void free_corpus(corpus *c)
{
    for (size_t d = 0; d < c->count; d++)
        free(c->text[d].p);
}

static cd_dedup *run(const corpus *c, const cd_params *p, const cd_boilerplate *model)
{
    cd_dedup *d = NULL;
    assert_int_equal(cd_dedup_create(p, &d), CD_OK);
    if (model)
        assert_int_equal(cd_dedup_set_boilerplate(d, model), CD_OK);
    cd_status st[64];
    assert_int_equal(cd_dedup_add(d, c->docs, c->count, st), CD_OK);
    for (size_t i = 0; i < c->count; i++)
        assert_int_equal(st[i], CD_OK);
    assert_int_equal(cd_dedup_run(d), CD_OK);
    return d;
}

static size_t rep(const cd_dedup *d, size_t doc)
{
    cd_doc_result r;
    assert_int_equal(cd_dedup_result(d, doc, &r), CD_OK);
    return r.representative;
}

static void test_fixture_story_in_four_chromes(void **state)
{
    (void)state;
    corpus c;
    build_corpus(&c);
    cd_params p;
    cd_params_init(&p);
    p.match = CD_MATCH_CONTAINMENT; /* the batch commands' defaults */
    p.verify = CD_VERIFY_EXACT;
    p.lead_shingles = 100;
    cd_dedup *d = run(&c, &p, NULL);

    /* one cluster: the four copies of the PA story, nothing else */
    size_t story = rep(d, c.pa[0]);
    for (int k = 1; k < 4; k++)
        if (rep(d, c.pa[k]) != story)
            fail_msg("%s is not with %s", c.ids[c.pa[k]], c.ids[c.pa[0]]);
    assert_int_equal(cd_dedup_cluster_count(d), 1);
    for (size_t i = 0; i < c.in_chrome_count; i++)
        assert_int_not_equal(rep(d, c.in_chrome[i]), story);
    cd_dedup_stats st;
    cd_dedup_get_stats(d, &st);
    assert_int_equal(st.html_extracted, 1 + OTHER_STORIES);
    assert_true(st.chrome_documents >= c.count - 1 - OTHER_STORIES); /* all but HTML pages */

    /* what it learned: the aggregator's sign-up lines, the outlets' menus;
     * never a line of the PA story (four sources, but one story) */
    const cd_boilerplate *model = cd_dedup_boilerplate(d);
    assert_non_null(model);
    cd_boilerplate_info info;
    cd_boilerplate_get_info(model, &info);
    assert_int_equal(info.documents, c.count);
    int saw_sign_up = 0, saw_menu = 0;
    for (size_t l = 0; l < info.lines; l++) {
        cd_boilerplate_line line;
        assert_int_equal(cd_boilerplate_get_line(model, l, &line), CD_OK);
        char text[512];
        snprintf(text, sizeof text, "%.*s", (int)line.text.len, line.text.ptr);
        saw_sign_up |= !strcmp(text, "Sign up to read this article");
        saw_menu |= !strcmp(text, "Menu");
        for (size_t k = FX_TITLE; k <= FX_BODY_END; k++)
            if (!strcmp(text, fx_lines[k - 1]))
                fail_msg("a line of the story was learned as chrome: %s", text);
        assert_true(line.stories >= p.boilerplate_min_stories);
    }
    assert_true(saw_sign_up && saw_menu);
    cd_dedup_free(d);

    /* boilerplate off: teasers of different stories in one chrome merge;
     * and with the signatures alone (Jaccard, estimated, no leads), the
     * copies fall apart too */
    p.boilerplate = 0;
    for (int jaccard = 0; jaccard < 2; jaccard++) {
    p.match = jaccard ? CD_MATCH_JACCARD : CD_MATCH_CONTAINMENT;
    p.verify = jaccard ? CD_VERIFY_ESTIMATE : CD_VERIFY_EXACT;
    p.lead_shingles = jaccard ? 0 : 100;
    d = run(&c, &p, NULL);
    size_t together = 0;
    for (int k = 1; k < 4; k++)
        together += rep(d, c.pa[k]) == rep(d, c.pa[0]);
    size_t merged = 0; /* teasers (odd) merged with another story */
    for (size_t i = 1; i < c.in_chrome_count; i += 2)
        for (size_t j = i + 2; j < c.in_chrome_count; j += 2)
            merged += rep(d, c.in_chrome[i]) == rep(d, c.in_chrome[j]);
    print_message("boilerplate off, match %s: %zu of 3 copies with the aggregator's; %zu "
                  "pairs of different teasers in the fixture's chrome merged\n",
                  jaccard ? "jaccard" : "containment", together, merged);
    assert_true(merged > 0);
    if (jaccard)
        assert_true(together < 3);
    assert_null(cd_dedup_boilerplate(d));
    cd_dedup_free(d);
    }
    free_corpus(&c);
}

static void test_saved_model_gives_the_same_clusters(void **state)
{
    (void)state;
    corpus c;
    build_corpus(&c);
    cd_params p;
    cd_params_init(&p);
    cd_dedup *learned = run(&c, &p, NULL);
    const cd_boilerplate *model = cd_dedup_boilerplate(learned);
    size_t size = cd_boilerplate_save_size(model);
    unsigned char *bytes = malloc(size), *again = malloc(size);
    assert_int_equal(cd_boilerplate_save(model, bytes, size), CD_OK);
    assert_int_equal(cd_boilerplate_save(model, bytes, size - 1), CD_ERR_ARG);

    cd_boilerplate *loaded = NULL;
    char err[256];
    assert_int_equal(cd_boilerplate_load(bytes, size, &loaded, err, sizeof err), CD_OK);
    assert_int_equal(cd_boilerplate_save_size(loaded), size);
    assert_int_equal(cd_boilerplate_save(loaded, again, size), CD_OK);
    assert_memory_equal(bytes, again, size);

    cd_dedup *used = run(&c, &p, loaded);
    assert_ptr_equal(cd_dedup_boilerplate(used), loaded);
    for (size_t i = 0; i < c.count; i++)
        assert_int_equal(rep(used, i), rep(learned, i));
    cd_dedup_free(used);
    cd_boilerplate_free(loaded);

    /* damage: every byte changed in turn is caught */
    for (size_t at = 0; at < size; at += 1 + size / 97) {
        bytes[at] ^= 0x20;
        loaded = (cd_boilerplate *)bytes;
        assert_int_equal(cd_boilerplate_load(bytes, size, &loaded, err, sizeof err),
                         CD_ERR_FORMAT);
        assert_null(loaded);
        assert_non_null(strstr(err, "not a usable boilerplate model"));
        bytes[at] ^= 0x20;
    }
    assert_int_equal(cd_boilerplate_load(bytes, size - 1, &loaded, err, sizeof err),
                     CD_ERR_FORMAT);
    assert_int_equal(cd_boilerplate_load(bytes, 10, &loaded, err, sizeof err), CD_ERR_FORMAT);
    assert_int_equal(cd_boilerplate_load("{\"id\":1}\n", 9, &loaded, err, sizeof err),
                     CD_ERR_FORMAT);
    assert_non_null(strstr(err, "header"));
    free(bytes);
    free(again);
    cd_dedup_free(learned);
    free_corpus(&c);
}

/* ----------------------------------------------------- learner's rules */

static cd_boilerplate *learn(const cd_doc *docs, size_t n, unsigned min_stories)
{
    cd_params p;
    cd_params_init(&p);
    p.boilerplate_min_stories = min_stories;
    cd_boilerplate_learner *l = NULL;
    assert_int_equal(cd_boilerplate_learner_create(&p, &l), CD_OK);
    assert_int_equal(cd_boilerplate_learner_add(l, docs, n), CD_OK);
    cd_boilerplate *m = NULL;
    assert_int_equal(cd_boilerplate_learner_finish(l, &m), CD_OK);
    cd_boilerplate *again = (cd_boilerplate *)&p;
    assert_int_equal(cd_boilerplate_learner_finish(l, &again), CD_ERR_STATE);
    assert_null(again);
    assert_int_equal(cd_boilerplate_learner_add(l, docs, n), CD_ERR_STATE);
    cd_boilerplate_learner_free(l);
    return m;
}

static size_t lines_of(const cd_boilerplate *m)
{
    cd_boilerplate_info info;
    cd_boilerplate_get_info(m, &info);
    return info.lines;
}

static void test_copies_never_make_their_story_chrome(void **state)
{
    (void)state;
    /* one source, one story sent six times (a wire's resends), nothing else */
    buf body = {0};
    story_body(&body, 1, 5, 40);
    put(&body, "\nReuter");
    cd_doc docs[6];
    for (int i = 0; i < 6; i++)
        docs[i] = (cd_doc){.text = {body.p, body.len}, .source = str("Reuters")};
    cd_boilerplate *m = learn(docs, 6, 4);
    assert_int_equal(lines_of(m), 0);
    cd_boilerplate_free(m);

    /* the same with five other stories: only the sign-off is chrome */
    buf other[5] = {{0}};
    cd_doc more[11];
    for (int i = 0; i < 6; i++)
        more[i] = docs[i];
    for (int k = 0; k < 5; k++) {
        story_body(&other[k], 10 + k, 4, 40);
        put(&other[k], "\nReuter");
        more[6 + k] = (cd_doc){.text = {other[k].p, other[k].len}, .source = str("Reuters")};
    }
    m = learn(more, 11, 4);
    assert_int_equal(lines_of(m), 1);
    cd_boilerplate_line line;
    assert_int_equal(cd_boilerplate_get_line(m, 0, &line), CD_OK);
    assert_int_equal(line.documents, 11);
    assert_int_equal(line.stories, 5); /* the resends have no line of their own: not counted */
    assert_int_equal(line.text.len, 6);
    assert_memory_equal(line.text.ptr, "Reuter", 6);
    assert_memory_equal(line.source.ptr, "Reuters", 7);
    assert_int_equal(cd_boilerplate_get_line(m, 1, &line), CD_ERR_ARG);

    /* a signer with the model drops the sign-off, from any letter case */
    cd_params p;
    cd_params_init(&p);
    cd_signer *s = NULL;
    assert_int_equal(cd_signer_create(&p, &s), CD_OK);
    assert_int_equal(cd_signer_set_boilerplate(s, m), CD_OK);
    cd_doc doc = {.text = str("Some text of a story.\n  REUTER \nThe end."), .source = str("Reuters")};
    cd_str text;
    assert_int_equal(cd_signer_text(s, &doc, &text), CD_OK);
    assert_int_equal(text.len, strlen("Some text of a story.\nThe end."));
    assert_memory_equal(text.ptr, "Some text of a story.\nThe end.", text.len);
    /* another source keeps it; a page that is all chrome is kept whole */
    doc.source = str("AP");
    assert_int_equal(cd_signer_text(s, &doc, &text), CD_OK);
    assert_int_equal(text.len, doc.text.len);
    doc = (cd_doc){.text = str("Reuter\n\n"), .source = str("Reuters")};
    assert_int_equal(cd_signer_text(s, &doc, &text), CD_OK);
    assert_int_equal(text.len, doc.text.len);
    cd_signer_free(s);
    cd_boilerplate_free(m);
    free(body.p);
    for (int k = 0; k < 5; k++)
        free(other[k].p);
}

static void test_lines_of_every_source(void **state)
{
    (void)state;
    /* "Advertisement" in five small sources (two stories each): chrome of
     * every source; a line in two sources only is not */
    enum { N = 10 };
    buf text[N] = {{0}};
    cd_doc docs[N];
    char sources[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(sources[i], sizeof sources[i], "site%d", i / 2);
        story_body(&text[i], 50 + i, 3, 35);
        put(&text[i], "\nAdvertisement\n");
        if (i < 4)
            put(&text[i], "Share on social media\n");
        docs[i] = (cd_doc){.text = {text[i].p, text[i].len}, .source = str(sources[i])};
    }
    cd_boilerplate *m = learn(docs, N, 4);
    assert_int_equal(lines_of(m), 1);
    cd_boilerplate_line line;
    assert_int_equal(cd_boilerplate_get_line(m, 0, &line), CD_OK);
    assert_null(line.source.ptr);
    assert_int_equal(line.documents, N);
    assert_int_equal(line.stories, N);
    cd_boilerplate_info info;
    cd_boilerplate_get_info(m, &info);
    assert_int_equal(info.sources, 0);
    assert_int_equal(info.min_stories, 4);
    cd_boilerplate_free(m);
    /* a source named by its URL's host when it has no source field */
    for (int i = 0; i < N; i++) {
        docs[i].source = (cd_str){NULL, 0};
        docs[i].url = str(i % 2 ? "https://WWW.Example.com:8080/a/b" : "http://example.com/c");
    }
    m = learn(docs, N, 4);
    assert_int_equal(lines_of(m), 2); /* both lines now chrome of one source */
    assert_int_equal(cd_boilerplate_get_line(m, 0, &line), CD_OK);
    assert_non_null(line.source.ptr);
    cd_boilerplate_free(m);
    for (int i = 0; i < N; i++)
        free(text[i].p);
}

/* ------------------------------------------------- allocation failures */

static void test_allocation_failures(void **state)
{
    (void)state;
    corpus c;
    build_corpus(&c);
    long failures = 0;
    for (long at = 1;; at++) {
        counting_alloc_start(at, 0);
        cd_params p;
        cd_params_init(&p);
        p.threads = 1;
        p.extract_html = 0; /* libxml2 allocates with malloc (see extract.h) */
        cd_dedup *d = NULL;
        cd_status st = cd_dedup_create(&p, &d);
        cd_status statuses[64];
        if (st == CD_OK)
            st = cd_dedup_add(d, c.docs, c.count, statuses);
        if (st == CD_OK)
            st = cd_dedup_run(d);
        cd_dedup_free(d);
        counting_alloc_stop();
        if (counting_alloc_live() != 0)
            fail_msg("allocation %ld failing: %ld blocks not freed", at, counting_alloc_live());
        if (counting_alloc_count() < at)
            break; /* every allocation succeeded */
        assert_true(st == CD_ERR_NOMEM || st == CD_OK);
        failures += st == CD_ERR_NOMEM;
    }
    print_message("%ld allocation failures handled\n", failures);
    assert_true(failures > 20);
    free_corpus(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_story_in_four_chromes),
        cmocka_unit_test(test_saved_model_gives_the_same_clusters),
        cmocka_unit_test(test_copies_never_make_their_story_chrome),
        cmocka_unit_test(test_lines_of_every_source),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
