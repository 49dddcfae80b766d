/* synth.c: copydesk-synth, a seeded, streaming generator of syndicated news
 * with ground truth for copydesk's benchmarks and quality tests. Stories are
 * made one after another (generated language, or texts from --base), each is
 * published by a heavy-tailed number of outlets with their own chrome and
 * habits, and every copy is written as one JSONL document whose `cluster` is
 * the story version and `story_family` the first version. Hard negatives:
 * same-topic stories sharing entities and outlets, and updated versions that
 * share paragraphs with an earlier one. Memory is constant per document. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "synth.h"

#ifndef SYNTH_VERSION
#define SYNTH_VERSION "0.0.0"
#endif

#define RING 64 /* earlier stories kept for updates, siblings and "Related Stories" */

typedef struct params {
    uint64_t docs;
    int docs_given;
    uint64_t seed;
    const char *base, *manifest, *output, *hard_negatives;
    uint32_t outlets, vocab, topics, max_copies, min_paras, max_paras, base_min_chars;
    double zipf, copies_alpha, update_rate, sibling_rate, wire_origin, story_gap;
    double delay_median_hours, delay_sigma, max_delay_days;
    int64_t start;
    const char *start_text;
} params;

typedef struct counts {
    uint64_t documents, stories, families, new_stories, sibling_stories, version_stories;
    uint64_t generated_stories, base_stories;
    uint64_t pairs_same_topic, pairs_version;
    uint64_t excerpts, html, rewrites, added, cut, edits, typos, pristine;
    uint64_t hist[6];
    uint64_t largest, truncated_stories;
    uint64_t text_bytes, output_bytes;
    uint64_t by_type[4];
} counts;

typedef struct writer {
    FILE *file;
    const char *path;
    synth_buf buf;
    uint64_t written;
} writer;

static void writer_flush(writer *w)
{
    if (w->buf.len && fwrite(w->buf.ptr, 1, w->buf.len, w->file) != w->buf.len)
        synth_die(SYNTH_EXIT_IO, "%s: write failed: %s", w->path, strerror(errno));
    w->written += w->buf.len;
    w->buf.len = 0;
}

static void writer_open(writer *w, const char *path, const char *fallback_name)
{
    memset(w, 0, sizeof *w);
    if (path && strcmp(path, "-") != 0) {
        w->file = fopen(path, "wb");
        if (!w->file)
            synth_die(SYNTH_EXIT_IO, "%s: cannot open for writing: %s", path, strerror(errno));
        w->path = path;
    } else {
        w->file = stdout;
        w->path = fallback_name;
    }
    synth_buf_grow(&w->buf, 1 << 23);
}

static void writer_close(writer *w)
{
    writer_flush(w);
    if (fflush(w->file) != 0 || ferror(w->file))
        synth_die(SYNTH_EXIT_IO, "%s: write failed: %s", w->path, strerror(errno));
    if (w->file != stdout && fclose(w->file) != 0)
        synth_die(SYNTH_EXIT_IO, "%s: close failed: %s", w->path, strerror(errno));
    synth_buf_free(&w->buf);
}

/* ------------------------------------------------------------------ usage */

static void usage(FILE *out)
{
    fputs(
        "usage: copydesk-synth --docs N [OPTIONS]\n"
        "\n"
        "Writes N synthetic syndicated news documents as JSONL, one object per line with\n"
        "id, title, text, source, date, url, cluster (the story version: the ground truth)\n"
        "and story_family (the first version of the story). The same arguments and seed\n"
        "give the same bytes.\n"
        "\n"
        "  --docs N              documents to write (required)\n"
        "  --seed S              run seed, decimal or 0x hex (default 1)\n"
        "  -o, --output FILE     output file (default stdout)\n"
        "  --manifest FILE       write parameters and counts as JSON (atomically)\n"
        "  --hard-negatives FILE write the hard-negative story pairs as JSONL\n"
        "  --base FILE           draw story texts from a JSONL(.gz) file (title, text);\n"
        "                        generated text is used once they are all used\n"
        "  --base-min-chars N    skip base texts shorter than N characters (default 400)\n"
        "  --outlets N           outlet pool size (default 200, at least 10)\n"
        "  --vocab N             generated vocabulary size (default 20000)\n"
        "  --zipf S              Zipf exponent of the vocabulary (default 1.1)\n"
        "  --topics N            topics with their own named entities (default 1000)\n"
        "  --paragraphs MIN-MAX  paragraphs per generated story (default 3-12)\n"
        "  --copies-alpha A      copies per story ~ k^-A, k >= 1 (default 2.0)\n"
        "  --max-copies N        most copies of one story (default 200; at most the\n"
        "                        number of non-wire outlets + 1)\n"
        "  --update-rate P       share of stories that update an earlier one (default 0.08)\n"
        "  --sibling-rate P      share of stories on an earlier story's topic, entities\n"
        "                        and outlets (default 0.10)\n"
        "  --wire-origin P       share of stories first published by a wire (default 0.55)\n"
        "  --start DATE          first publication time, ISO 8601 (default 2024-01-01T00:00:00Z)\n"
        "  --story-gap SECONDS   mean time between new stories (default 90)\n"
        "  --delay-hours H       median delay of a copy after first publication (default 4)\n"
        "  --delay-sigma S       log-normal spread of the delay (default 1.5)\n"
        "  --max-delay-days D    longest delay (default 10)\n"
        "  --version             print the version and exit\n"
        "  --help                show this help\n"
        "\n"
        "Exit status: 0 done, 2 usage error, 3 I/O or resource error.\n",
        out);
}

static void usage_error(const char *format, const char *a, const char *b)
{
    fputs("copydesk-synth: ", stderr);
    fprintf(stderr, format, a, b);
    fputs("\nTry 'copydesk-synth --help'.\n", stderr);
    exit(SYNTH_EXIT_USAGE);
}

static uint64_t parse_u64(const char *opt, const char *text, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    if (!text[0] || text[0] == '-' || text[0] == '+')
        usage_error("%s: expected a non-negative integer, got '%s'", opt, text);
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || *end)
        usage_error("%s: expected a non-negative integer, got '%s'", opt, text);
    if (v < lo || v > hi) {
        char range[96];
        snprintf(range, sizeof range, "%s (allowed %llu..%llu)", text, (unsigned long long)lo,
                 (unsigned long long)hi);
        usage_error("%s: out of range: %s", opt, range);
    }
    return v;
}

static double parse_double(const char *opt, const char *text, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !text[0] || !(v >= lo && v <= hi)) {
        char range[96];
        snprintf(range, sizeof range, "'%s' (allowed %g..%g)", text, lo, hi);
        usage_error("%s: expected a number, got %s", opt, range);
    }
    return v;
}

static void parse_args(params *p, int argc, char **argv)
{
    *p = (params){
        .seed = 1,
        .outlets = 200,
        .vocab = 20000,
        .topics = 1000,
        .max_copies = 200,
        .min_paras = 3,
        .max_paras = 12,
        .base_min_chars = 400,
        .zipf = 1.1,
        .copies_alpha = 2.0,
        .update_rate = 0.08,
        .sibling_rate = 0.10,
        .wire_origin = 0.55,
        .story_gap = 90,
        .delay_median_hours = 4,
        .delay_sigma = 1.5,
        .max_delay_days = 10,
        .start_text = "2024-01-01T00:00:00Z",
    };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(SYNTH_EXIT_OK);
        }
        if (strcmp(arg, "--version") == 0) {
            printf("copydesk-synth %s (format %d)\n", SYNTH_VERSION, SYNTH_FORMAT_VERSION);
            exit(SYNTH_EXIT_OK);
        }
        if (arg[0] != '-' || strcmp(arg, "-") == 0)
            usage_error("unexpected argument '%s'%s", arg, "");
        /* --opt=value or --opt value */
        char name[64];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        if (eq && strncmp(arg, "--", 2) == 0) {
            size_t n = (size_t)(eq - arg);
            if (n >= sizeof name)
                usage_error("unknown option '%s'%s", arg, "");
            memcpy(name, arg, n);
            name[n] = '\0';
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", arg);
            if (i + 1 >= argc)
                usage_error("%s: missing value%s", arg, "");
            value = argv[++i];
        }
#define OPT(s) (strcmp(name, s) == 0)
        if (OPT("--docs")) {
            p->docs = parse_u64(name, value, 0, UINT64_C(1000000000000));
            p->docs_given = 1;
        } else if (OPT("--seed")) {
            p->seed = parse_u64(name, value, 0, UINT64_MAX);
        } else if (OPT("-o") || OPT("--output")) {
            p->output = value;
        } else if (OPT("--manifest")) {
            p->manifest = value;
        } else if (OPT("--hard-negatives")) {
            p->hard_negatives = value;
        } else if (OPT("--base")) {
            p->base = value;
        } else if (OPT("--base-min-chars")) {
            p->base_min_chars = (uint32_t)parse_u64(name, value, 0, 1000000);
        } else if (OPT("--outlets")) {
            p->outlets = (uint32_t)parse_u64(name, value, 10, 100000);
        } else if (OPT("--vocab")) {
            p->vocab = (uint32_t)parse_u64(name, value, 1000, 5000000);
        } else if (OPT("--zipf")) {
            p->zipf = parse_double(name, value, 0.0, 4.0);
        } else if (OPT("--topics")) {
            p->topics = (uint32_t)parse_u64(name, value, 1, 1000000);
        } else if (OPT("--paragraphs")) {
            unsigned lo, hi;
            int used = 0;
            if (sscanf(value, "%u-%u%n", &lo, &hi, &used) != 2 || value[used] || lo < 1 || hi < lo ||
                hi > 200)
                usage_error("%s: expected MIN-MAX with 1 <= MIN <= MAX <= 200, got '%s'", name, value);
            p->min_paras = lo;
            p->max_paras = hi;
        } else if (OPT("--copies-alpha")) {
            p->copies_alpha = parse_double(name, value, 1.01, 10.0);
        } else if (OPT("--max-copies")) {
            p->max_copies = (uint32_t)parse_u64(name, value, 1, 100000);
        } else if (OPT("--update-rate")) {
            p->update_rate = parse_double(name, value, 0.0, 0.5);
        } else if (OPT("--sibling-rate")) {
            p->sibling_rate = parse_double(name, value, 0.0, 0.5);
        } else if (OPT("--wire-origin")) {
            p->wire_origin = parse_double(name, value, 0.0, 1.0);
        } else if (OPT("--start")) {
            if (synth_parse_date(value, &p->start) != 0)
                usage_error("%s: expected an ISO 8601 date like 2024-01-01T00:00:00Z, got '%s'",
                            name, value);
            p->start_text = value;
        } else if (OPT("--story-gap")) {
            p->story_gap = parse_double(name, value, 0.0, 1e7);
        } else if (OPT("--delay-hours")) {
            p->delay_median_hours = parse_double(name, value, 0.0, 1e4);
        } else if (OPT("--delay-sigma")) {
            p->delay_sigma = parse_double(name, value, 0.0, 10.0);
        } else if (OPT("--max-delay-days")) {
            p->max_delay_days = parse_double(name, value, 0.0, 3650.0);
        } else {
            usage_error("unknown option '%s'%s", name, "");
        }
#undef OPT
    }
    if ((p->manifest && strcmp(p->manifest, "-") == 0) ||
        (p->hard_negatives && strcmp(p->hard_negatives, "-") == 0))
        usage_error("--manifest and --hard-negatives need a file name, not '-'%s%s", "", "");
    if (!p->docs_given)
        usage_error("--docs N is required%s%s", "", "");
    if (synth_parse_date(p->start_text, &p->start) != 0)
        usage_error("internal error: bad default date%s%s", "", "");
    uint32_t carriers = p->outlets - (p->outlets * 3 / 100 < 2 ? 2 : p->outlets * 3 / 100);
    if (p->max_copies > carriers + 1)
        p->max_copies = carriers + 1;
    if (p->update_rate + p->sibling_rate > 0.9)
        usage_error("--update-rate + --sibling-rate must be at most 0.9%s%s", "", "");
}

/* ------------------------------------------------------------------ stream */

typedef struct generator {
    const params *p;
    synth_lexicon lex;
    synth_outlets pool;
    synth_base base;
    int have_base, warned_base_exhausted;
    synth_alias copies;
    synth_story ring[RING];
    int64_t clock;
    counts c;
    writer out, negatives;
    synth_copy_scratch scratch;
    uint8_t *used; /* outlets taken by the current story */
    uint32_t *order;
    int64_t *delay;
} generator;

static void story_id(char out[32], uint64_t number)
{
    snprintf(out, 32, "s%06llu", (unsigned long long)number);
}

static void pick_leads(synth_story *s, synth_rng *rng)
{
    s->lead[0] = synth_chance(rng, 0.7) ? synth_below(rng, 5) : synth_below(rng, SYNTH_TOPIC_ENTITIES);
    for (int k = 1; k < SYNTH_LEAD_ENTITIES; k++) {
        uint32_t e;
        int again;
        do {
            e = synth_below(rng, SYNTH_TOPIC_ENTITIES);
            again = 0;
            for (int j = 0; j < k; j++)
                again |= s->lead[j] == e;
        } while (again);
        s->lead[k] = e;
    }
}

static void generate_body(generator *g, synth_story *s, synth_rng *rng, uint32_t n_paras)
{
    for (uint32_t k = 0; k < n_paras; k++) {
        size_t start = s->body.len;
        synth_gen_paragraph(&g->lex, &g->lex.topic[s->topic], s->lead, rng, &s->body, k == 0);
        synth_story_mark_para(s, start);
    }
}

/* Fills s from a fresh base text (one naming the same entities as like, if
 * given); returns 0 when none is left. */
static int take_base(generator *g, synth_story *s, synth_rng *rng, int with_title,
                     const synth_story *like)
{
    if (!g->have_base)
        return 0;
    int64_t d = like && like->from_base ? synth_base_take_similar(&g->base, rng, like, 16)
                                        : synth_base_take(&g->base, rng);
    if (d < 0) {
        if (!g->warned_base_exhausted)
            fprintf(stderr,
                    "copydesk-synth: note: all %u usable --base texts used after %llu stories; "
                    "generating the rest\n",
                    g->base.n_order, (unsigned long long)g->c.stories);
        g->warned_base_exhausted = 1;
        return 0;
    }
    const synth_base_doc *doc = &g->base.doc[d];
    if (with_title)
        synth_buf_put(&s->title, g->base.arena + doc->title_off, doc->title_len);
    for (uint32_t k = 0; k < doc->n_paras; k++)
        synth_story_add_para(s, g->base.arena + g->base.para_off[doc->first_para + k],
                             g->base.para_len[doc->first_para + k]);
    s->from_base = 1;
    return 1;
}

static void fill_new(generator *g, synth_story *s, synth_rng *rng, const synth_story *like)
{
    if (take_base(g, s, rng, 1, like)) {
        if (s->title.len == 0)
            synth_gen_title(&g->lex, &g->lex.topic[s->topic], s->lead, rng, &s->title);
        return;
    }
    s->from_base = 0;
    synth_gen_title(&g->lex, &g->lex.topic[s->topic], s->lead, rng, &s->title);
    generate_body(g, s, rng, synth_range(rng, g->p->min_paras, g->p->max_paras));
}

/* An update: two new paragraphs first, then 30-50% of the earlier version's
 * paragraphs in their order, mixed with more new ones. */
static void fill_update(generator *g, synth_story *s, const synth_story *e, synth_rng *rng)
{
    uint32_t kept = (uint32_t)lround(e->n_paras * (0.3 + 0.2 * synth_unit(rng)));
    if (kept < 1)
        kept = 1;
    if (kept > e->n_paras - 1)
        kept = e->n_paras - 1;
    uint32_t n_new = e->n_paras - kept + synth_range(rng, 0, 2);
    if (n_new < 2)
        n_new = 2;

    /* the new paragraphs, made in a temporary story */
    synth_story fresh = {0};
    fresh.topic = s->topic;
    memcpy(fresh.lead, s->lead, sizeof s->lead);
    int base_text = take_base(g, &fresh, rng, 1, e);
    if (!base_text || fresh.n_paras < 2) {
        synth_story_reset(&fresh);
        generate_body(g, &fresh, rng, n_new);
        base_text = 0;
    }
    if (n_new > fresh.n_paras)
        n_new = fresh.n_paras;
    s->from_base = e->from_base || base_text;

    /* title: a fresh headline or "UPDATE n-" + the earlier one */
    if (synth_chance(rng, 0.5)) {
        if (base_text && fresh.title.len)
            synth_buf_put(&s->title, fresh.title.ptr, fresh.title.len);
        else
            synth_gen_title(&g->lex, &g->lex.topic[s->topic], s->lead, rng, &s->title);
    } else {
        const char *t = e->title.ptr;
        size_t n = e->title.len;
        if (n > 7 && memcmp(t, "UPDATE ", 7) == 0) { /* drop an earlier "UPDATE n-" */
            const char *dash = memchr(t, '-', n < 16 ? n : 16);
            if (dash) {
                n -= (size_t)(dash + 1 - t);
                t = dash + 1;
            }
        }
        synth_buf_printf(&s->title, "UPDATE %u-", s->version);
        synth_buf_put(&s->title, t, n);
    }

    /* which earlier paragraphs stay */
    uint8_t keep[512] = {0};
    uint32_t limit = e->n_paras < 512 ? e->n_paras : 512;
    for (uint32_t k = 0; k < kept && k < limit;) {
        uint32_t i = synth_below(rng, limit);
        if (!keep[i]) {
            keep[i] = 1;
            k++;
        }
    }
    uint32_t next_new = 0, next_old = 0;
    for (; next_new < 2 && next_new < n_new; next_new++)
        synth_story_add_para(s, fresh.body.ptr + fresh.para_off[next_new], fresh.para_len[next_new]);
    for (;;) {
        while (next_old < limit && !keep[next_old])
            next_old++;
        int old_left = next_old < limit, new_left = next_new < n_new;
        if (!old_left && !new_left)
            break;
        if (old_left && (!new_left || synth_chance(rng, 0.5))) {
            synth_story_add_para(s, e->body.ptr + e->para_off[next_old], e->para_len[next_old]);
            next_old++;
        } else {
            synth_story_add_para(s, fresh.body.ptr + fresh.para_off[next_new],
                                 fresh.para_len[next_new]);
            next_new++;
        }
    }
    synth_story_free(&fresh);
}

static const synth_story *pick_earlier(generator *g, uint64_t number, synth_rng *rng, int need_paras)
{
    uint64_t available = number - 1 < RING - 1 ? number - 1 : RING - 1;
    if (available == 0)
        return NULL;
    for (int tries = 0; tries < 8; tries++) {
        uint64_t back = 1 + synth_below(rng, (uint32_t)available);
        const synth_story *e = &g->ring[(number - back) % RING];
        if (e->n_paras >= (uint32_t)need_paras)
            return e;
    }
    return NULL;
}

static void make_story(generator *g, synth_story *s, uint64_t number, synth_rng *rng)
{
    synth_story_reset(s);
    s->number = number;
    s->family = number;
    s->version = 0;
    s->related_to = s->related_family = 0;
    s->from_base = 0;

    double r = synth_unit(rng);
    int kind = r < g->p->update_rate                       ? SYNTH_STORY_UPDATE
               : r < g->p->update_rate + g->p->sibling_rate ? SYNTH_STORY_SIBLING
                                                            : SYNTH_STORY_NEW;
    const synth_story *e = NULL;
    if (kind != SYNTH_STORY_NEW) {
        e = pick_earlier(g, number, rng, kind == SYNTH_STORY_UPDATE ? 3 : 1);
        if (!e)
            kind = SYNTH_STORY_NEW;
    }
    s->kind = kind;
    if (kind == SYNTH_STORY_NEW) {
        s->topic = synth_alias_draw(&g->lex.topic_popularity, rng);
        pick_leads(s, rng);
        s->origin = synth_chance(rng, g->p->wire_origin) ? synth_alias_draw(&g->pool.wire_pick, rng)
                                                         : synth_alias_draw(&g->pool.origin_pick, rng);
        s->outlet_seed = synth_next(rng);
        synth_span rep = g->lex.reporter[synth_below(rng, g->lex.n_reporters)];
        snprintf(s->reporter_buf, sizeof s->reporter_buf, "%.*s", (int)rep.len, rep.ptr);
        fill_new(g, s, rng, NULL);
    } else {
        /* same topic, lead entities, first publisher and outlets */
        s->related_to = e->number;
        s->related_family = e->family;
        s->topic = e->topic;
        memcpy(s->lead, e->lead, sizeof s->lead);
        s->origin = e->origin;
        s->outlet_seed = e->outlet_seed;
        if (kind == SYNTH_STORY_SIBLING) {
            synth_span rep = g->lex.reporter[synth_below(rng, g->lex.n_reporters)];
            snprintf(s->reporter_buf, sizeof s->reporter_buf, "%.*s", (int)rep.len, rep.ptr);
            fill_new(g, s, rng, e);
        } else {
            s->family = e->family;
            s->version = e->version + 1;
            snprintf(s->reporter_buf, sizeof s->reporter_buf, "%s", e->reporter_buf);
            fill_update(g, s, e, rng);
        }
    }
    s->reporter = (synth_span){s->reporter_buf, (uint32_t)strlen(s->reporter_buf)};
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The first k outlets of the story's pick-up order: the origin, then
 * carriers by popularity without repeats. The order depends only on
 * outlet_seed, so stories sharing it share outlets. k must not exceed the
 * outlets the story can have (run clamps it): the origin and the carriers
 * other than it. */
static void outlet_order(generator *g, const synth_story *s, uint32_t k)
{
    synth_rng rng;
    synth_rng_seed(&rng, synth_derive(s->outlet_seed, SYNTH_STREAM_OUTLET_ORDER, 0));
    uint32_t n = g->pool.n;
    memset(g->used, 0, n);
    g->order[0] = s->origin;
    g->used[s->origin] = 1;
    uint32_t got = 1;
    uint64_t draws = 0, max_draws = (uint64_t)64 * n;
    while (got < k && draws < max_draws) {
        uint32_t o = synth_alias_draw(&g->pool.carry_pick, &rng);
        draws++;
        if (!g->used[o]) {
            g->used[o] = 1;
            g->order[got++] = o;
        }
    }
    for (uint32_t o = 0; o < n && got < k; o++) /* a crowded tail: fill in pool order */
        if (!g->used[o] && g->pool.outlet[o].type != SYNTH_OUTLET_WIRE) {
            g->used[o] = 1;
            g->order[got++] = o;
        }
}

static void write_doc(generator *g, uint64_t doc_index, const synth_story *s, const synth_outlet *o,
                      int64_t date)
{
    synth_buf *b = &g->out.buf;
    char id[32], cluster[32], family[32], iso[32];
    snprintf(id, sizeof id, "d%09llu", (unsigned long long)doc_index + 1);
    story_id(cluster, s->number);
    story_id(family, s->family);
    synth_format_date(date, iso);
    synth_copy_scratch *sc = &g->scratch;
    synth_buf_grow(b, sc->text.len + sc->title.len + 512);
    synth_buf_puts(b, "{\"id\":\"");
    synth_buf_puts(b, id);
    synth_buf_puts(b, "\",\"title\":");
    synth_buf_json_string(b, sc->title.ptr, sc->title.len);
    synth_buf_puts(b, ",\"text\":");
    synth_buf_json_string(b, sc->text.ptr, sc->text.len);
    synth_buf_puts(b, ",\"source\":");
    synth_buf_json_string(b, o->name, strlen(o->name));
    synth_buf_puts(b, ",\"date\":\"");
    synth_buf_puts(b, iso);
    synth_buf_puts(b, "\",\"url\":");
    synth_buf_json_string(b, sc->url.ptr, sc->url.len);
    synth_buf_puts(b, ",\"cluster\":\"");
    synth_buf_puts(b, cluster);
    synth_buf_puts(b, "\",\"story_family\":\"");
    synth_buf_puts(b, family);
    synth_buf_puts(b, "\"}\n");
    g->c.text_bytes += sc->text.len;
    if (b->len >= (1u << 23) - (1u << 20))
        writer_flush(&g->out);
}

/* Writes the first k of the story's wanted copies (k < wanted only for the
 * last story of the run: its copies are the earliest ones). */
static void emit_story(generator *g, synth_story *s, uint32_t k, uint32_t wanted, uint64_t first_doc)
{
    const params *p = g->p;
    outlet_order(g, s, k);
    /* delays: the first publication at 0, the rest log-normal, sorted */
    synth_rng rng;
    synth_rng_seed(&rng, synth_derive(p->seed, SYNTH_STREAM_DELAY, s->number));
    double median = p->delay_median_hours * 3600.0, cap = p->max_delay_days * 86400.0;
    g->delay[0] = 0;
    for (uint32_t j = 1; j < wanted; j++) {
        double d = median * exp(p->delay_sigma * synth_normal(&rng));
        g->delay[j] = (int64_t)(d < 60 ? 60 : d > cap ? cap : d);
    }
    qsort(g->delay + 1, wanted - 1, sizeof *g->delay, cmp_i64);

    /* earlier stories for "Related Stories" */
    const synth_story *recent[RING];
    uint32_t n_recent = 0;
    for (uint64_t back = 1; back < RING && back < s->number; back++)
        recent[n_recent++] = &g->ring[(s->number - back) % RING];
    synth_copy_env env = {&g->lex, &g->pool, recent, n_recent};

    for (uint32_t j = 0; j < k; j++) {
        synth_outlet *o = &g->pool.outlet[g->order[j]];
        synth_rng copy_rng;
        synth_rng_seed(&copy_rng, synth_derive(p->seed, SYNTH_STREAM_COPY, first_doc + j));
        synth_copy_stats st;
        int64_t date = s->first_published + g->delay[j];
        synth_render_copy(&env, s, o, j == 0, date, &copy_rng, &g->scratch, &st);
        write_doc(g, first_doc + j, s, o, date);
        g->c.excerpts += (uint64_t)st.excerpt;
        g->c.html += (uint64_t)st.html;
        g->c.rewrites += (uint64_t)st.rewritten;
        g->c.added += (uint64_t)st.added;
        g->c.cut += (uint64_t)st.cut;
        g->c.edits += st.edits;
        g->c.typos += st.typos;
        g->c.pristine += j == 0;
        g->c.by_type[o->type & 3]++;
    }
}

static void record_negative(generator *g, const synth_story *s)
{
    if (!g->p->hard_negatives)
        return;
    char a[32], b[32], fa[32], fb[32];
    story_id(a, s->related_to);
    story_id(b, s->number);
    story_id(fa, s->related_family);
    story_id(fb, s->family);
    synth_buf_printf(&g->negatives.buf,
                     "{\"a\":\"%s\",\"b\":\"%s\",\"kind\":\"%s\",\"family_a\":\"%s\","
                     "\"family_b\":\"%s\"}\n",
                     a, b, s->kind == SYNTH_STORY_UPDATE ? "version" : "same_topic", fa, fb);
    if (g->negatives.buf.len > (1u << 20))
        writer_flush(&g->negatives);
}

static void run(generator *g)
{
    const params *p = g->p;
    uint64_t remaining = p->docs, doc = 0, number = 0;
    synth_rng clock_rng;
    synth_rng_seed(&clock_rng, synth_derive(p->seed, SYNTH_STREAM_PLAN, 0));
    g->clock = p->start;
    while (remaining > 0) {
        number++;
        synth_rng rng;
        synth_rng_seed(&rng, synth_derive(p->seed, SYNTH_STREAM_STORY, number));
        synth_story *s = &g->ring[number % RING];
        if (number > 1)
            g->clock += 1 + (int64_t)(-log(1.0 - synth_unit(&clock_rng)) * p->story_gap);
        uint32_t wanted = 1 + synth_alias_draw(&g->copies, &rng);
        make_story(g, s, number, &rng);
        /* One copy per outlet: the origin and the carriers. max_copies is
         * carriers + 1, which a story first published by a carrier (not a
         * wire) cannot reach: outlet_order would leave the last copy
         * without an outlet. */
        uint32_t outlets =
            g->pool.n_carriers + (g->pool.outlet[s->origin].type == SYNTH_OUTLET_WIRE);
        if (wanted > outlets)
            wanted = outlets;
        s->first_published = g->clock;
        uint32_t k = wanted < remaining ? wanted : (uint32_t)remaining;
        emit_story(g, s, k, wanted, doc);
        doc += k;
        remaining -= k;

        counts *c = &g->c;
        c->stories++;
        c->truncated_stories += k < wanted;
        c->families += s->kind != SYNTH_STORY_UPDATE;
        c->new_stories += s->kind == SYNTH_STORY_NEW;
        c->sibling_stories += s->kind == SYNTH_STORY_SIBLING;
        c->version_stories += s->kind == SYNTH_STORY_UPDATE;
        c->pairs_same_topic += s->kind == SYNTH_STORY_SIBLING;
        c->pairs_version += s->kind == SYNTH_STORY_UPDATE;
        c->base_stories += s->from_base;
        c->generated_stories += !s->from_base;
        c->hist[k == 1 ? 0 : k == 2 ? 1 : k == 3 ? 2 : k <= 10 ? 3 : k <= 100 ? 4 : 5]++;
        if (k > c->largest)
            c->largest = k;
        if (s->kind != SYNTH_STORY_NEW)
            record_negative(g, s);
    }
    g->c.documents = doc;
}

/* --------------------------------------------------------------- manifest */

static void json_key_u64(synth_buf *b, const char *key, uint64_t v, int last)
{
    synth_buf_printf(b, "    \"%s\": %llu%s\n", key, (unsigned long long)v, last ? "" : ",");
}

static void write_manifest(const generator *g)
{
    const params *p = g->p;
    const counts *c = &g->c;
    synth_buf b = {0};
    synth_buf_printf(&b, "{\n  \"generator\": \"copydesk-synth\",\n  \"version\": \"%s\",\n"
                         "  \"format_version\": %d,\n  \"seed\": %llu,\n",
                     SYNTH_VERSION, SYNTH_FORMAT_VERSION, (unsigned long long)p->seed);
    synth_buf_puts(&b, "  \"parameters\": {\n");
    synth_buf_printf(&b, "    \"docs\": %llu,\n    \"seed\": %llu,\n", (unsigned long long)p->docs,
                     (unsigned long long)p->seed);
    synth_buf_puts(&b, "    \"base\": ");
    if (p->base)
        synth_buf_json_string(&b, p->base, strlen(p->base));
    else
        synth_buf_puts(&b, "null");
    synth_buf_printf(&b,
                     ",\n    \"base_min_chars\": %u,\n    \"outlets\": %u,\n    \"vocab\": %u,\n"
                     "    \"zipf\": %.17g,\n    \"topics\": %u,\n    \"paragraphs\": [%u, %u],\n"
                     "    \"copies_alpha\": %.17g,\n    \"max_copies\": %u,\n"
                     "    \"update_rate\": %.17g,\n    \"sibling_rate\": %.17g,\n"
                     "    \"wire_origin\": %.17g,\n    \"start\": \"%s\",\n"
                     "    \"story_gap_seconds\": %.17g,\n    \"delay_median_hours\": %.17g,\n"
                     "    \"delay_sigma\": %.17g,\n    \"max_delay_days\": %.17g,\n"
                     "    \"kept_update_share\": [0.3, 0.5],\n    \"ring\": %d\n  },\n",
                     p->base_min_chars, p->outlets, p->vocab, p->zipf, p->topics, p->min_paras,
                     p->max_paras, p->copies_alpha, p->max_copies, p->update_rate, p->sibling_rate,
                     p->wire_origin, p->start_text, p->story_gap, p->delay_median_hours,
                     p->delay_sigma, p->max_delay_days, RING);
    synth_buf_puts(&b, "  \"counts\": {\n");
    json_key_u64(&b, "documents", c->documents, 0);
    json_key_u64(&b, "stories", c->stories, 0);
    json_key_u64(&b, "clusters", c->stories, 0);
    json_key_u64(&b, "families", c->families, 0);
    json_key_u64(&b, "new_stories", c->new_stories, 0);
    json_key_u64(&b, "sibling_stories", c->sibling_stories, 0);
    json_key_u64(&b, "version_stories", c->version_stories, 0);
    json_key_u64(&b, "generated_stories", c->generated_stories, 0);
    json_key_u64(&b, "base_stories", c->base_stories, 0);
    json_key_u64(&b, "truncated_stories", c->truncated_stories, 0);
    json_key_u64(&b, "largest_cluster", c->largest, 0);
    json_key_u64(&b, "first_publications", c->pristine, 0);
    json_key_u64(&b, "excerpts", c->excerpts, 0);
    json_key_u64(&b, "html_copies", c->html, 0);
    json_key_u64(&b, "headline_rewrites", c->rewrites, 0);
    json_key_u64(&b, "paragraphs_added", c->added, 0);
    json_key_u64(&b, "paragraphs_cut", c->cut, 0);
    json_key_u64(&b, "word_edits", c->edits, 0);
    json_key_u64(&b, "typos", c->typos, 0);
    json_key_u64(&b, "copies_by_wires", c->by_type[SYNTH_OUTLET_WIRE], 0);
    json_key_u64(&b, "copies_by_newspapers", c->by_type[SYNTH_OUTLET_NEWSPAPER], 0);
    json_key_u64(&b, "copies_by_broadcasters", c->by_type[SYNTH_OUTLET_BROADCASTER], 0);
    json_key_u64(&b, "copies_by_aggregators", c->by_type[SYNTH_OUTLET_AGGREGATOR], 0);
    json_key_u64(&b, "text_bytes", c->text_bytes, 0);
    json_key_u64(&b, "output_bytes", c->output_bytes, 1);
    synth_buf_puts(&b, "  },\n  \"hard_negative_pairs\": {\n");
    json_key_u64(&b, "same_topic", c->pairs_same_topic, 0);
    json_key_u64(&b, "version", c->pairs_version, 0);
    json_key_u64(&b, "total", c->pairs_same_topic + c->pairs_version, 1);
    synth_buf_puts(&b, "  },\n  \"cluster_size_histogram\": {\n");
    static const char *const bins[6] = {"1", "2", "3", "4-10", "11-100", ">100"};
    for (int i = 0; i < 6; i++)
        json_key_u64(&b, bins[i], c->hist[i], i == 5);
    synth_buf_puts(&b, "  }");
    if (g->have_base) {
        synth_buf_puts(&b, ",\n  \"base\": {\n");
        json_key_u64(&b, "lines_read", g->base.lines_read, 0);
        json_key_u64(&b, "skipped_bad", g->base.skipped_bad, 0);
        json_key_u64(&b, "skipped_short", g->base.skipped_short, 0);
        json_key_u64(&b, "dropped_near_duplicates", g->base.dropped_near_duplicates, 0);
        json_key_u64(&b, "usable", g->base.n_order, 0);
        json_key_u64(&b, "used", g->base.next, 1);
        synth_buf_puts(&b, "  }");
    }
    synth_buf_puts(&b, "\n}\n");

    size_t n = strlen(p->manifest);
    char *tmp = synth_xmalloc(n + 5);
    memcpy(tmp, p->manifest, n);
    memcpy(tmp + n, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        synth_die(SYNTH_EXIT_IO, "%s: cannot open for writing: %s", tmp, strerror(errno));
    int ok = fwrite(b.ptr, 1, b.len, f) == b.len;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        remove(tmp);
        synth_die(SYNTH_EXIT_IO, "%s: write failed: %s", tmp, strerror(errno));
    }
    if (rename(tmp, p->manifest) != 0) {
        int err = errno;
        remove(tmp);
        synth_die(SYNTH_EXIT_IO, "%s: cannot rename to %s: %s", tmp, p->manifest, strerror(err));
    }
    free(tmp);
    synth_buf_free(&b);
}

int main(int argc, char **argv)
{
    params p;
    parse_args(&p, argc, argv);

    generator *g = synth_xcalloc(1, sizeof *g);
    g->p = &p;
    synth_lexicon_build(&g->lex, p.seed, p.vocab, p.zipf, p.topics);
    synth_outlets_build(&g->pool, p.outlets, p.seed);
    if (p.base) {
        synth_base_load(&g->base, p.base, p.base_min_chars, p.seed);
        g->have_base = 1;
        if (g->base.n_order == 0)
            fprintf(stderr, "copydesk-synth: note: --base %s has no usable texts (%llu lines, "
                            "%llu short, %llu bad); generating all stories\n",
                    p.base, (unsigned long long)g->base.lines_read,
                    (unsigned long long)g->base.skipped_short, (unsigned long long)g->base.skipped_bad);
    }
    double *w = synth_xmalloc(sizeof *w * p.max_copies);
    for (uint32_t k = 0; k < p.max_copies; k++)
        w[k] = pow((double)(k + 1), -p.copies_alpha);
    synth_alias_build(&g->copies, w, p.max_copies);
    free(w);
    g->used = synth_xmalloc(p.outlets);
    g->order = synth_xmalloc(sizeof *g->order * (p.max_copies + 1));
    g->delay = synth_xmalloc(sizeof *g->delay * (p.max_copies + 1));

    writer_open(&g->out, p.output, "stdout");
    if (p.hard_negatives)
        writer_open(&g->negatives, p.hard_negatives, "--hard-negatives");
    run(g);
    writer_flush(&g->out);
    g->c.output_bytes = g->out.written;
    writer_close(&g->out);
    if (p.hard_negatives)
        writer_close(&g->negatives);
    if (p.manifest)
        write_manifest(g);

    for (int i = 0; i < RING; i++)
        synth_story_free(&g->ring[i]);
    synth_copy_scratch_free(&g->scratch);
    synth_alias_free(&g->copies);
    free(g->used);
    free(g->order);
    free(g->delay);
    if (g->have_base)
        synth_base_free(&g->base);
    synth_outlets_free(&g->pool);
    synth_lexicon_free(&g->lex);
    free(g);
    return SYNTH_EXIT_OK;
}
