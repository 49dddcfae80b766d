/* synth.h: internals shared by the parts of copydesk-synth, the seeded,
 * streaming generator of syndicated news with ground truth (bench/). It is a
 * standalone program: nothing here is part of the engine or installed.
 * Parts: synth_util.c (PRNG streams, buffers, sampling, dates), synth_text.c
 * (generated language), synth_base.c (--base texts), synth_outlets.c (the
 * outlet pool and its chrome), synth_copy.c (one outlet's copy of a story),
 * synth.c (argv, the story stream, JSONL and the manifest). */
#ifndef COPYDESK_SYNTH_H
#define COPYDESK_SYNTH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bumped whenever the same arguments and seed would give different bytes. */
#define SYNTH_FORMAT_VERSION 1

enum { SYNTH_EXIT_OK = 0, SYNTH_EXIT_USAGE = 2, SYNTH_EXIT_IO = 3 };

/* Marker bytes in story text, rendered per outlet (quote and dash style).
 * Input text never contains them: control bytes are removed on load. */
#define SYNTH_OPEN_QUOTE '\x01'
#define SYNTH_CLOSE_QUOTE '\x02'
#define SYNTH_DASH '\x03'
#define SYNTH_APOSTROPHE '\x04'

/* Prints "copydesk-synth: " + message on stderr and exits with code. */
void synth_die(int code, const char *format, ...) __attribute__((format(printf, 2, 3), noreturn));
void *synth_xmalloc(size_t size);
void *synth_xcalloc(size_t count, size_t size);
void *synth_xrealloc(void *ptr, size_t size);

/* ------------------------------------------------------------------ PRNG */

/* xoshiro256** seeded through splitmix64. Every independent decision stream
 * (a story, a copy, the outlet pool) gets its own generator derived from the
 * run seed, a tag and an index, so streams never shift each other. */
typedef struct synth_rng {
    uint64_t s[4];
} synth_rng;

enum synth_stream_tag {
    SYNTH_STREAM_VOCAB = 1,
    SYNTH_STREAM_TOPICS,
    SYNTH_STREAM_OUTLETS,
    SYNTH_STREAM_PLAN,
    SYNTH_STREAM_STORY,
    SYNTH_STREAM_COPY,
    SYNTH_STREAM_BASE,
    SYNTH_STREAM_OUTLET_ORDER,
    SYNTH_STREAM_DELAY,
};

uint64_t synth_splitmix64(uint64_t *state);
uint64_t synth_derive(uint64_t seed, uint64_t tag, uint64_t index);
void synth_rng_seed(synth_rng *rng, uint64_t seed);

static inline uint64_t synth_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t synth_next(synth_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = synth_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = synth_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) (multiply-shift; the bias is below 2^-32 * n). */
static inline uint32_t synth_below(synth_rng *rng, uint32_t n)
{
    return (uint32_t)(((synth_next(rng) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi], hi >= lo. */
static inline uint32_t synth_range(synth_rng *rng, uint32_t lo, uint32_t hi)
{
    return lo + synth_below(rng, hi - lo + 1);
}

/* Uniform in [0, 1). */
static inline double synth_unit(synth_rng *rng)
{
    return (double)(synth_next(rng) >> 11) * 0x1.0p-53;
}

static inline int synth_chance(synth_rng *rng, double p)
{
    return synth_unit(rng) < p;
}

double synth_normal(synth_rng *rng);
/* A small count with the given mean (Poisson by inversion, capped at 32). */
uint32_t synth_poisson(synth_rng *rng, double mean);

/* Walker/Vose alias table: O(1) draws from a fixed discrete distribution.
 * Entry i is kept when the low 32 bits of the draw are below its threshold,
 * else its alias is taken (entries that are always kept alias themselves). */
typedef struct synth_alias_entry {
    uint32_t threshold, alias;
} synth_alias_entry;

typedef struct synth_alias {
    uint32_t n;
    synth_alias_entry *entry;
} synth_alias;

void synth_alias_build(synth_alias *alias, const double *weights, uint32_t n);
void synth_alias_free(synth_alias *alias);

static inline uint32_t synth_alias_draw(const synth_alias *alias, synth_rng *rng)
{
    uint64_t x = synth_next(rng);
    uint32_t i = (uint32_t)(((x >> 32) * (uint64_t)alias->n) >> 32);
    synth_alias_entry e = alias->entry[i];
    return (uint32_t)x < e.threshold ? i : e.alias;
}

/* --------------------------------------------------------------- buffers */

/* A growable byte buffer; never NUL-terminated unless asked. */
typedef struct synth_buf {
    char *ptr;
    size_t len, cap;
} synth_buf;

void synth_buf_grow(synth_buf *buf, size_t extra);
void synth_buf_free(synth_buf *buf);
void synth_buf_printf(synth_buf *buf, const char *format, ...) __attribute__((format(printf, 2, 3)));

static inline void synth_buf_put(synth_buf *buf, const void *ptr, size_t len)
{
    if (buf->cap - buf->len < len)
        synth_buf_grow(buf, len);
    if (len)
        memcpy(buf->ptr + buf->len, ptr, len);
    buf->len += len;
}

static inline void synth_buf_putc(synth_buf *buf, char c)
{
    if (buf->cap == buf->len)
        synth_buf_grow(buf, 1);
    buf->ptr[buf->len++] = c;
}

static inline void synth_buf_puts(synth_buf *buf, const char *s)
{
    synth_buf_put(buf, s, strlen(s));
}

/* Word-at-a-time byte tests (8 bytes per step): nonzero when some byte of x
 * is below n (n <= 128), or equals c. */
#define SYNTH_ONES 0x0101010101010101ull
#define SYNTH_HIGHS 0x8080808080808080ull

static inline uint64_t synth_load64(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static inline uint64_t synth_has_below(uint64_t x, unsigned n)
{
    return (x - SYNTH_ONES * n) & ~x & SYNTH_HIGHS;
}

static inline uint64_t synth_has_byte(uint64_t x, unsigned char c)
{
    return synth_has_below(x ^ (SYNTH_ONES * c), 1);
}

/* Appends s[0..len) as a JSON string literal, quotes included. */
void synth_buf_json_string(synth_buf *buf, const char *s, size_t len);

/* A byte range inside some buffer. */
typedef struct synth_span {
    const char *ptr;
    uint32_t len;
} synth_span;

/* ------------------------------------------------------------------ dates */

/* Seconds since 1970-01-01T00:00:00Z <-> calendar, proleptic Gregorian. */
void synth_civil(int64_t seconds, int *year, int *month, int *day, int *hour, int *minute,
                 int *second);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" (20 bytes + NUL) to out. */
void synth_format_date(int64_t seconds, char out[32]);
/* Parses "YYYY-MM-DD[THH:MM[:SS]][Z]"; returns 0 on success. */
int synth_parse_date(const char *text, int64_t *seconds);

/* 64-bit hash of a byte string (FNV-1a then a splitmix finaliser). */
uint64_t synth_hash(const void *ptr, size_t len, uint64_t seed);

/* --------------------------------------------------------- generated text */

/* The generated language: a Zipfian vocabulary of pseudo-words, topics with
 * their own named entities and favoured words, and reporter names. */
#define SYNTH_TOPIC_ENTITIES 12
#define SYNTH_TOPIC_WORDS 48
#define SYNTH_LEAD_ENTITIES 3

typedef struct synth_topic {
    synth_span entity[SYNTH_TOPIC_ENTITIES]; /* entity[0..4] are people */
    uint32_t word[SYNTH_TOPIC_WORDS];        /* vocabulary indices */
} synth_topic;

typedef struct synth_lexicon {
    uint32_t n_words;
    synth_span *word;
    unsigned char (*word16)[16]; /* word i in 16 bytes: text, NUL padding, length in [15] */
    synth_alias zipf;
    uint32_t n_topics;
    synth_topic *topic;
    synth_alias topic_popularity;
    uint32_t n_reporters;
    synth_span *reporter;
    char *arena; /* owns every string above */
    size_t arena_len, arena_cap;
} synth_lexicon;

void synth_lexicon_build(synth_lexicon *lex, uint64_t seed, uint32_t n_words, double zipf_s,
                         uint32_t n_topics);
void synth_lexicon_free(synth_lexicon *lex);

/* Appends one capitalised pseudo-word (a name part) made with rng. */
void synth_gen_name(synth_buf *out, synth_rng *rng);

/* Appends a generated paragraph / headline about topic, naming the lead
 * entities more often than others. Text may contain the marker bytes. */
void synth_gen_paragraph(const synth_lexicon *lex, const synth_topic *topic,
                         const uint32_t lead[SYNTH_LEAD_ENTITIES], synth_rng *rng,
                         synth_buf *out, int lede);
void synth_gen_title(const synth_lexicon *lex, const synth_topic *topic,
                     const uint32_t lead[SYNTH_LEAD_ENTITIES], synth_rng *rng, synth_buf *out);

/* ------------------------------------------------------------ base texts */

/* Stories drawn from real texts (--base): title and paragraphs of each kept
 * input line, in one arena. Texts under min_chars and near-duplicates of an
 * earlier text (estimated word-5-gram Jaccard >= 0.5) are dropped, so that
 * two stories never share a text. */
typedef struct synth_base_doc {
    size_t title_off;
    uint32_t title_len;
    uint32_t first_para, n_paras;
} synth_base_doc;

typedef struct synth_base {
    char *arena;
    size_t arena_len, arena_cap;
    synth_base_doc *doc;
    uint32_t n_docs, cap_docs;
    size_t *para_off;
    uint32_t *para_len;
    uint32_t n_paras, cap_paras;
    uint32_t *order; /* kept docs; the unused ones are order[next..n_order) */
    uint32_t n_order, next;
    /* counts for the manifest */
    uint64_t lines_read, skipped_short, skipped_bad, dropped_near_duplicates;
} synth_base;

void synth_base_load(synth_base *base, const char *path, uint32_t min_chars, uint64_t seed);
/* Takes an unused text at random; returns its index or -1 when all are used. */
int64_t synth_base_take(synth_base *base, synth_rng *rng);
/* Like synth_base_take, but of `tries` random unused texts takes the one that
 * shares the most capitalised words (named entities, roughly) with ref. */
struct synth_story;
int64_t synth_base_take_similar(synth_base *base, synth_rng *rng, const struct synth_story *ref,
                                uint32_t tries);
void synth_base_free(synth_base *base);

/* ---------------------------------------------------------------- stories */

enum synth_story_kind { SYNTH_STORY_NEW = 0, SYNTH_STORY_SIBLING, SYNTH_STORY_UPDATE };

/* One story version: the text every copy starts from. */
typedef struct synth_story {
    uint64_t number; /* cluster "s%06" */
    uint64_t family; /* story number of the family's first version */
    uint32_t version;
    int kind;
    uint64_t related_to, related_family; /* sibling/update: the earlier story */
    int from_base;
    uint32_t topic; /* generated stories */
    uint32_t lead[SYNTH_LEAD_ENTITIES];
    uint64_t outlet_seed; /* order in which outlets pick the story up */
    uint32_t origin;      /* outlet of first publication */
    int64_t first_published;
    synth_buf title;
    synth_buf body;
    uint32_t *para_off, *para_len;
    uint32_t n_paras, cap_paras;
    synth_span reporter;
    char reporter_buf[64];
} synth_story;

void synth_story_reset(synth_story *story);
/* Appends a paragraph copied from text (which must not point into story). */
void synth_story_add_para(synth_story *story, const char *text, size_t len);
/* Records story->body[start..len) as the next paragraph. */
void synth_story_mark_para(synth_story *story, size_t start);
void synth_story_free(synth_story *story);

/* ---------------------------------------------------------------- outlets */

enum synth_outlet_type {
    SYNTH_OUTLET_WIRE = 0,
    SYNTH_OUTLET_NEWSPAPER,
    SYNTH_OUTLET_BROADCASTER,
    SYNTH_OUTLET_AGGREGATOR
};

#define SYNTH_MAX_CHROME_LINES 24

/* A publisher with a constant identity and habits. */
typedef struct synth_outlet {
    char name[64];
    char host[64];
    int type;
    double popularity;
    /* constant chrome (raw UTF-8 lines) */
    char *header[SYNTH_MAX_CHROME_LINES];
    uint32_t n_header;
    char *footer[SYNTH_MAX_CHROME_LINES];
    uint32_t n_footer;
    char related_heading[64];
    char read_more[96];    /* contains one %s: the outlet to read more at */
    char copyright[128];   /* contains one %d: the year */
    char title_suffix[80]; /* appended to every headline, may be "" */
    char staff_byline[80];
    char section[3][24];
    char *script; /* HTML copies: a constant inline script, may be NULL */
    /* style */
    int quote_style; /* 0 straight, 1 curly, 2 curly with slips */
    int dash_style;  /* 0 " -- ", 1 " — ", 2 " – ", 3 "—" */
    int byline_form; /* see synth_copy.c */
    int title_case;  /* 0 as is, 1 Title Case, 2 sentence case */
    int title_in_text;
    int credit_origin; /* shows the original publisher's name */
    int published_line; /* 0 none, 1..3 a date line format */
    int html_entities; /* HTML copies write &ldquo; etc. */
    /* habits: probabilities per copy */
    double p_excerpt, p_rewrite, p_add, p_cut, p_html;
    double mean_edits, mean_typos;
    uint32_t related_count;
    uint64_t next_article;
    /* the header and footer lines laid out once, as text and as HTML */
    synth_buf head_text, head_html, foot_text, foot_html;
    int laid_out;
} synth_outlet;

typedef struct synth_outlets {
    uint32_t n;
    synth_outlet *outlet;
    uint32_t n_wires;
    synth_alias wire_pick;   /* origin among wires */
    synth_alias origin_pick; /* origin among newspapers and broadcasters */
    synth_alias carry_pick;  /* who picks a story up: all but wires */
    uint32_t n_carriers;
} synth_outlets;

void synth_outlets_build(synth_outlets *pool, uint32_t n, uint64_t seed);
void synth_outlets_free(synth_outlets *pool);

/* ------------------------------------------------------------------ copies */

/* What one copy did, for the manifest. */
typedef struct synth_copy_stats {
    int excerpt, html, rewritten, added, cut;
    uint32_t edits, typos;
} synth_copy_stats;

/* Everything a copy may draw on besides its story and outlet. */
typedef struct synth_copy_env {
    const synth_lexicon *lex;
    const synth_outlets *pool;
    const synth_story *const *recent; /* earlier stories, for "Related Stories" */
    uint32_t n_recent;
} synth_copy_env;

/* Scratch reused across copies. */
typedef struct synth_copy_scratch {
    synth_buf title, text, url, raw, tmp, extra;
} synth_copy_scratch;

/* Renders outlet's copy of story published at date into scratch->title,
 * scratch->text and scratch->url. pristine: the first publication (no edits,
 * no truncation). */
void synth_render_copy(const synth_copy_env *env, const synth_story *story, synth_outlet *outlet,
                       int pristine, int64_t date, synth_rng *rng, synth_copy_scratch *scratch,
                       synth_copy_stats *stats);
void synth_copy_scratch_free(synth_copy_scratch *scratch);

#endif
