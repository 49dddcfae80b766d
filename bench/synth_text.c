/* synth_text.c: the generated language of copydesk-synth. A Zipfian
 * vocabulary of pronounceable pseudo-words (frequent words short), topics
 * with their own named entities and favoured words, reporter names, and
 * sentences, paragraphs and headlines built from them. Quotes, apostrophes
 * and dashes are written as marker bytes that each outlet renders its way. */
#include <math.h>
#include <stdlib.h>

#include "synth.h"

static const char *const onsets[] = {
    "b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",  "n",  "p",  "r",
    "s",  "t",  "v",  "w",  "z",  "br", "cr", "dr", "fl", "gr", "pl", "pr", "st",
    "tr", "th", "sh", "ch", "sl", "sp", "bl", "cl", "gl", "qu", "",   "",   "",
};
static const char *const vowels[] = {
    "a", "e", "i", "o", "u", "a", "e", "i", "o", "ea", "ou", "ai", "ie", "oa", "y", "ee", "au",
};
static const char *const codas[] = {
    "", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "rk", "ck", "x", "sh", "rt",
    "ll", "nt", "ss", "mp", "ft",
};
static const char *const surname_ends[] = {
    "son", "ov", "ez", "ini", "ard", "ley", "berg", "ski", "ton", "well", "ford", "ane",
    "oux", "ido", "sen", "ic", "ova", "er", "ham", "wood", "ura", "etti",
};
static const char *const first_ends[] = {
    "a", "o", "el", "en", "ia", "us", "ine", "an", "ie", "as", "eth", "ina", "or", "",
};
static const char *const place_ends[] = {
    "ton", "field", "burgh", "ia", "stan", "mouth", "port", "vale", "grad", "ville", "ford",
    "bury", "land", "ora", "heim", "wick",
};
static const char *const org_suffixes[] = {
    "Council",    "Holdings",   "Party",     "Ministry", "Group",       "Union",
    "Bank",       "Institute",  "Trust",     "Authority", "United",     "Corporation",
    "Foundation", "Agency",     "Alliance",  "Federation", "Commission", "Industries",
    "Airways",    "Energy",     "Police",    "University", "Hospital",  "Rovers",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(rng, a) ((a)[synth_below((rng), (uint32_t)COUNT(a))])

static void put_syllable(synth_buf *out, synth_rng *rng, int with_coda)
{
    synth_buf_puts(out, PICK(rng, onsets));
    synth_buf_puts(out, PICK(rng, vowels));
    if (with_coda)
        synth_buf_puts(out, PICK(rng, codas));
}

static void capitalise_from(synth_buf *out, size_t start)
{
    if (start < out->len && out->ptr[start] >= 'a' && out->ptr[start] <= 'z')
        out->ptr[start] = (char)(out->ptr[start] - 'a' + 'A');
}

void synth_gen_name(synth_buf *out, synth_rng *rng)
{
    size_t start = out->len;
    put_syllable(out, rng, synth_chance(rng, 0.5));
    put_syllable(out, rng, 0);
    capitalise_from(out, start);
}

/* ---------------------------------------------------------------- lexicon */

static synth_span arena_add(synth_lexicon *lex, const char *text, size_t len)
{
    if (lex->arena_len + len + 1 > lex->arena_cap)
        synth_die(SYNTH_EXIT_IO, "internal error: lexicon arena too small");
    char *p = lex->arena + lex->arena_len;
    memcpy(p, text, len);
    p[len] = '\0';
    lex->arena_len += len + 1;
    return (synth_span){p, (uint32_t)len};
}

static void gen_person(synth_buf *out, synth_rng *rng)
{
    size_t start = out->len;
    put_syllable(out, rng, synth_chance(rng, 0.4));
    synth_buf_puts(out, PICK(rng, first_ends));
    capitalise_from(out, start);
    synth_buf_putc(out, ' ');
    start = out->len;
    put_syllable(out, rng, synth_chance(rng, 0.5));
    if (synth_chance(rng, 0.5))
        put_syllable(out, rng, 0);
    synth_buf_puts(out, PICK(rng, surname_ends));
    capitalise_from(out, start);
}

static void gen_place(synth_buf *out, synth_rng *rng)
{
    size_t start = out->len;
    put_syllable(out, rng, synth_chance(rng, 0.5));
    if (synth_chance(rng, 0.3))
        put_syllable(out, rng, 0);
    synth_buf_puts(out, PICK(rng, place_ends));
    capitalise_from(out, start);
}

static void gen_org(synth_buf *out, synth_rng *rng)
{
    if (synth_chance(rng, 0.2)) { /* an acronym */
        uint32_t n = synth_range(rng, 2, 4);
        for (uint32_t i = 0; i < n; i++)
            synth_buf_putc(out, (char)('A' + synth_below(rng, 26)));
        return;
    }
    if (synth_chance(rng, 0.5))
        gen_place(out, rng);
    else
        synth_gen_name(out, rng);
    synth_buf_putc(out, ' ');
    synth_buf_puts(out, PICK(rng, org_suffixes));
}

/* entity kind by slot: 0..4 people, 5..7 places, 8..11 organisations */
static void gen_entity(synth_buf *out, synth_rng *rng, int slot)
{
    if (slot < 5)
        gen_person(out, rng);
    else if (slot < 8)
        gen_place(out, rng);
    else
        gen_org(out, rng);
}

void synth_lexicon_build(synth_lexicon *lex, uint64_t seed, uint32_t n_words, double zipf_s,
                         uint32_t n_topics)
{
    memset(lex, 0, sizeof *lex);
    enum { FAMOUS = 120, REPORTERS = 400 };
    lex->arena_cap = (size_t)n_words * 32 + ((size_t)n_topics * SYNTH_TOPIC_ENTITIES + FAMOUS) * 64 +
                     REPORTERS * 64 + 4096;
    lex->arena = synth_xmalloc(lex->arena_cap);

    /* vocabulary: unique pseudo-words, short ones at the top ranks */
    synth_rng rng;
    synth_rng_seed(&rng, synth_derive(seed, SYNTH_STREAM_VOCAB, 0));
    lex->n_words = n_words;
    lex->word = synth_xmalloc(sizeof *lex->word * n_words);
    lex->word16 = synth_xmalloc(sizeof *lex->word16 * n_words);
    size_t set_size = 1;
    while (set_size < (size_t)n_words * 2 + 16)
        set_size *= 2;
    uint64_t *set = synth_xcalloc(set_size, sizeof *set);
    synth_buf w = {0};
    for (uint32_t r = 0; r < n_words; r++) {
        for (int attempt = 0;; attempt++) {
            w.len = 0;
            uint32_t syllables = r < 40 ? 1 : r < 600 ? synth_range(&rng, 1, 2)
                                 : r < 6000  ? synth_range(&rng, 2, 3)
                                             : synth_range(&rng, 2, 4);
            syllables += (uint32_t)(attempt / 8); /* crowded: lengthen */
            for (uint32_t k = 0; k < syllables; k++)
                put_syllable(&w, &rng, synth_chance(&rng, k + 1 == syllables ? 0.6 : 0.12));
            if (w.len == 0 || w.len > 14)
                continue;
            uint64_t h = synth_hash(w.ptr, w.len, 0) | 1;
            size_t slot = h & (set_size - 1);
            while (set[slot] && set[slot] != h)
                slot = (slot + 1) & (set_size - 1);
            if (set[slot] == h)
                continue;
            set[slot] = h;
            break;
        }
        lex->word[r] = arena_add(lex, w.ptr, w.len);
        memset(lex->word16[r], 0, 16);
        memcpy(lex->word16[r], w.ptr, w.len);
        lex->word16[r][15] = (unsigned char)w.len;
    }
    free(set);
    double *weights = synth_xmalloc(sizeof *weights * (n_words > n_topics ? n_words : n_topics));
    for (uint32_t r = 0; r < n_words; r++)
        weights[r] = 1.0 / pow((double)(r + 1), zipf_s);
    synth_alias_build(&lex->zipf, weights, n_words);

    /* topics: entities (some famous ones shared across topics) and words */
    synth_rng_seed(&rng, synth_derive(seed, SYNTH_STREAM_TOPICS, 0));
    synth_span famous[FAMOUS];
    for (int i = 0; i < FAMOUS; i++) {
        w.len = 0;
        gen_entity(&w, &rng, i % SYNTH_TOPIC_ENTITIES);
        famous[i] = arena_add(lex, w.ptr, w.len);
    }
    lex->n_topics = n_topics;
    lex->topic = synth_xmalloc(sizeof *lex->topic * n_topics);
    uint32_t lo = n_words > 400 ? 150 : 0;
    uint32_t hi = n_words < 8000 ? n_words : 8000;
    for (uint32_t t = 0; t < n_topics; t++) {
        synth_topic *topic = &lex->topic[t];
        for (int e = 0; e < SYNTH_TOPIC_ENTITIES; e++) {
            if (e > 0 && synth_chance(&rng, 0.15)) {
                /* a famous entity of the same kind */
                uint32_t k = synth_below(&rng, FAMOUS / SYNTH_TOPIC_ENTITIES);
                topic->entity[e] = famous[k * SYNTH_TOPIC_ENTITIES + (uint32_t)e];
                continue;
            }
            w.len = 0;
            gen_entity(&w, &rng, e);
            topic->entity[e] = arena_add(lex, w.ptr, w.len);
        }
        for (int k = 0; k < SYNTH_TOPIC_WORDS; k++)
            topic->word[k] = lo + synth_below(&rng, hi - lo);
        weights[t] = 1.0 / pow((double)(t + 1), 0.8);
    }
    synth_alias_build(&lex->topic_popularity, weights, n_topics);
    free(weights);

    lex->n_reporters = REPORTERS;
    lex->reporter = synth_xmalloc(sizeof *lex->reporter * REPORTERS);
    for (int i = 0; i < REPORTERS; i++) {
        w.len = 0;
        gen_person(&w, &rng);
        lex->reporter[i] = arena_add(lex, w.ptr, w.len);
    }
    synth_buf_free(&w);
}

void synth_lexicon_free(synth_lexicon *lex)
{
    free(lex->word);
    free(lex->word16);
    free(lex->topic);
    free(lex->reporter);
    free(lex->arena);
    synth_alias_free(&lex->zipf);
    synth_alias_free(&lex->topic_popularity);
    memset(lex, 0, sizeof *lex);
}

/* -------------------------------------------------------------- sentences */

static void put_span(synth_buf *out, synth_span s)
{
    synth_buf_put(out, s.ptr, s.len);
}

/* Vocabulary word i (at most 14 bytes) copied with one fixed-size move. */
static inline void put_word(synth_buf *out, const synth_lexicon *lex, uint32_t i)
{
    if (out->cap - out->len < 16)
        synth_buf_grow(out, 16);
    memcpy(out->ptr + out->len, lex->word16[i], 16);
    out->len += lex->word16[i][15];
}

/* Random draws are made in separate statements throughout: the order in
 * which function arguments are evaluated is unspecified, and the output must
 * not depend on the compiler. */
static void put_number(synth_buf *out, synth_rng *rng)
{
    uint32_t kind = synth_below(rng, 6);
    uint32_t a, b;
    switch (kind) {
    case 0: synth_buf_printf(out, "%u", synth_range(rng, 2, 99)); break;
    case 1: synth_buf_printf(out, "%u", synth_range(rng, 100, 999)); break;
    case 2:
        a = synth_range(rng, 1, 99);
        b = synth_below(rng, 1000);
        synth_buf_printf(out, "%u,%03u", a, b);
        break;
    case 3:
        a = synth_range(rng, 1, 20);
        b = synth_below(rng, 10);
        synth_buf_printf(out, "%u.%u", a, b);
        break;
    case 4: synth_buf_printf(out, "%u", synth_range(rng, 1950, 2030)); break;
    default: synth_buf_printf(out, "%u per cent", synth_range(rng, 1, 80)); break;
    }
}

static uint32_t pick_entity(synth_rng *rng, const uint32_t lead[SYNTH_LEAD_ENTITIES])
{
    return synth_chance(rng, 0.6) ? lead[synth_below(rng, SYNTH_LEAD_ENTITIES)]
                                  : synth_below(rng, SYNTH_TOPIC_ENTITIES);
}

static uint32_t pick_person(synth_rng *rng, const uint32_t lead[SYNTH_LEAD_ENTITIES])
{
    for (int i = 0; i < SYNTH_LEAD_ENTITIES; i++)
        if (lead[i] < 5 && synth_chance(rng, 0.7))
            return lead[i];
    return synth_below(rng, 5);
}

/* Probabilities as 32-bit thresholds on the top half of one random draw. */
#define P32(p) ((uint32_t)((p) * 4294967296.0))
/* ... and as 16-bit thresholds on the low bits. */
#define P16(p) ((uint32_t)((p) * 65536.0))

static void gen_sentence(const synth_lexicon *lex, const synth_topic *topic,
                         const uint32_t lead[SYNTH_LEAD_ENTITIES], synth_rng *rng, synth_buf *out,
                         char end)
{
    uint32_t n = synth_range(rng, 12, 36);
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            synth_buf_putc(out, ' ');
        size_t start = out->len;
        uint64_t x = synth_next(rng);
        uint32_t r = (uint32_t)(x >> 32), lo = (uint32_t)x & 0xFFFF, mid = (uint32_t)(x >> 16) & 0xFFFF;
        if (r < P32(0.06)) {
            put_span(out, topic->entity[pick_entity(rng, lead)]);
            if (mid < P16(0.1)) {
                synth_buf_putc(out, SYNTH_APOSTROPHE);
                synth_buf_putc(out, 's');
            }
        } else if (r < P32(0.20)) {
            put_word(out, lex, topic->word[synth_below(rng, SYNTH_TOPIC_WORDS)]);
        } else if (r < P32(0.22)) {
            put_number(out, rng);
        } else {
            put_word(out, lex, synth_alias_draw(&lex->zipf, rng));
        }
        if (i == 0)
            capitalise_from(out, start);
        if (i + 1 < n) {
            if (lo < P16(0.06))
                synth_buf_putc(out, ',');
            else if (i > 2 && i + 3 < n && mid >= P16(0.9) && mid < P16(0.915)) {
                synth_buf_putc(out, SYNTH_DASH);
                put_word(out, lex, synth_alias_draw(&lex->zipf, rng));
            }
        }
    }
    synth_buf_putc(out, end);
}

void synth_gen_paragraph(const synth_lexicon *lex, const synth_topic *topic,
                         const uint32_t lead[SYNTH_LEAD_ENTITIES], synth_rng *rng,
                         synth_buf *out, int lede)
{
    if (!lede && synth_chance(rng, 0.25)) {
        synth_span person = topic->entity[pick_person(rng, lead)];
        switch (synth_below(rng, 3)) {
        case 0:
            synth_buf_putc(out, SYNTH_OPEN_QUOTE);
            gen_sentence(lex, topic, lead, rng, out, ',');
            synth_buf_putc(out, SYNTH_CLOSE_QUOTE);
            synth_buf_putc(out, ' ');
            put_span(out, person);
            synth_buf_puts(out, " said.");
            break;
        case 1:
            put_span(out, person);
            synth_buf_puts(out, " said: ");
            synth_buf_putc(out, SYNTH_OPEN_QUOTE);
            gen_sentence(lex, topic, lead, rng, out, '.');
            synth_buf_putc(out, SYNTH_CLOSE_QUOTE);
            break;
        default:
            synth_buf_putc(out, SYNTH_OPEN_QUOTE);
            gen_sentence(lex, topic, lead, rng, out, '.');
            synth_buf_putc(out, ' ');
            gen_sentence(lex, topic, lead, rng, out, '.');
            synth_buf_putc(out, SYNTH_CLOSE_QUOTE);
            break;
        }
        return;
    }
    uint32_t sentences = lede ? synth_range(rng, 1, 2) : synth_range(rng, 2, 5);
    for (uint32_t s = 0; s < sentences; s++) {
        if (s > 0)
            synth_buf_putc(out, ' ');
        gen_sentence(lex, topic, lead, rng, out, '.');
    }
}

void synth_gen_title(const synth_lexicon *lex, const synth_topic *topic,
                     const uint32_t lead[SYNTH_LEAD_ENTITIES], synth_rng *rng, synth_buf *out)
{
    size_t start = out->len;
    uint32_t n = synth_range(rng, 5, 11);
    uint32_t entity_at = synth_chance(rng, 0.5) ? 0 : synth_below(rng, n);
    int colon = entity_at == 0 && synth_chance(rng, 0.2);
    int quote_at = synth_chance(rng, 0.1) ? (int)synth_range(rng, 1, n - 1) : -1;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            synth_buf_putc(out, ' ');
        if ((int)i == quote_at)
            synth_buf_putc(out, SYNTH_OPEN_QUOTE);
        if (i == entity_at) {
            put_span(out, topic->entity[lead[0]]);
            if (colon)
                synth_buf_putc(out, ':');
        } else if (synth_chance(rng, 0.35)) {
            put_span(out, lex->word[topic->word[synth_below(rng, SYNTH_TOPIC_WORDS)]]);
        } else if (synth_chance(rng, 0.05)) {
            put_number(out, rng);
        } else {
            put_span(out, lex->word[synth_alias_draw(&lex->zipf, rng)]);
        }
        if (quote_at >= 0 && i + 1 == n)
            synth_buf_putc(out, SYNTH_CLOSE_QUOTE);
    }
    capitalise_from(out, start);
}

/* ---------------------------------------------------------------- stories */

void synth_story_reset(synth_story *story)
{
    story->title.len = 0;
    story->body.len = 0;
    story->n_paras = 0;
    story->reporter = (synth_span){"", 0};
}

void synth_story_mark_para(synth_story *story, size_t start)
{
    if (story->n_paras == story->cap_paras) {
        story->cap_paras = story->cap_paras ? story->cap_paras * 2 : 16;
        story->para_off = synth_xrealloc(story->para_off, sizeof *story->para_off * story->cap_paras);
        story->para_len = synth_xrealloc(story->para_len, sizeof *story->para_len * story->cap_paras);
    }
    story->para_off[story->n_paras] = (uint32_t)start;
    story->para_len[story->n_paras] = (uint32_t)(story->body.len - start);
    story->n_paras++;
}

void synth_story_add_para(synth_story *story, const char *text, size_t len)
{
    size_t start = story->body.len;
    synth_buf_put(&story->body, text, len);
    synth_story_mark_para(story, start);
}

void synth_story_free(synth_story *story)
{
    synth_buf_free(&story->title);
    synth_buf_free(&story->body);
    free(story->para_off);
    free(story->para_len);
    story->para_off = story->para_len = NULL;
    story->n_paras = story->cap_paras = 0;
}
