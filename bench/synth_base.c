/* synth_base.c: real texts as story material (--base FILE.jsonl[.gz]). Reads
 * the title and text of each JSON line once into memory, splits the text into
 * paragraphs (blank lines, indented lines or one paragraph per line), turns
 * quotes and dashes into the marker bytes outlets render, and drops short
 * texts and near-duplicates of earlier ones (MinHash of word 5-grams, LSH) so
 * that two different stories never start from the same text. Hands texts out
 * at random without repeats, optionally the one sharing the most capitalised
 * words with an earlier story (same-topic hard negatives). */
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>
#include <zlib.h>

#include "synth.h"

/* ------------------------------------------------------------- normalise */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Appends one paragraph's text s[0..n) with whitespace collapsed and quotes
 * and dashes turned into markers. Returns the number of bytes added. */
static size_t put_clean(synth_buf *out, const char *s, size_t n)
{
    size_t start = out->len;
    int pending_space = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_space(c) || c < 0x20 || c == 0x7f) {
            pending_space = out->len > start;
            continue;
        }
        unsigned char prev = out->len > start ? (unsigned char)out->ptr[out->len - 1] : ' ';
        /* dashes: "--", "—", " – " */
        int dash_len = 0;
        if (c == '-' && i + 1 < n && s[i + 1] == '-')
            dash_len = 2;
        else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                 ((unsigned char)s[i + 2] == 0x94 ||
                  ((unsigned char)s[i + 2] == 0x93 && pending_space)))
            dash_len = 3;
        if (dash_len) {
            while (i + dash_len < n && s[i + dash_len] == '-')
                dash_len++;
            if (out->len > start) {
                synth_buf_putc(out, SYNTH_DASH);
                pending_space = 0;
                while (i + dash_len < n && is_space((unsigned char)s[i + dash_len]))
                    dash_len++;
            }
            i += dash_len - 1;
            continue;
        }
        if (pending_space) {
            synth_buf_putc(out, ' ');
            prev = ' ';
            pending_space = 0;
        }
        if (c == '"') {
            int open = prev == ' ' || prev == '(' || prev == '[' || prev == SYNTH_DASH;
            synth_buf_putc(out, open ? SYNTH_OPEN_QUOTE : SYNTH_CLOSE_QUOTE);
        } else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0x9C || (unsigned char)s[i + 2] == 0x9D ||
                    (unsigned char)s[i + 2] == 0x99)) {
            unsigned char k = (unsigned char)s[i + 2];
            synth_buf_putc(out, k == 0x9C   ? SYNTH_OPEN_QUOTE
                                : k == 0x9D ? SYNTH_CLOSE_QUOTE
                                            : SYNTH_APOSTROPHE);
            i += 2;
        } else if (c == '\'' && is_alnum(prev) && i + 1 < n && is_alnum((unsigned char)s[i + 1])) {
            synth_buf_putc(out, SYNTH_APOSTROPHE);
        } else {
            synth_buf_putc(out, (char)c);
        }
    }
    return out->len - start;
}

static void add_para(synth_base *base, size_t off, size_t len)
{
    if (base->n_paras == base->cap_paras) {
        base->cap_paras = base->cap_paras ? base->cap_paras * 2 : 1024;
        base->para_off = synth_xrealloc(base->para_off, sizeof *base->para_off * base->cap_paras);
        base->para_len = synth_xrealloc(base->para_len, sizeof *base->para_len * base->cap_paras);
    }
    base->para_off[base->n_paras] = off;
    base->para_len[base->n_paras] = (uint32_t)len;
    base->n_paras++;
}

/* Splits text into paragraphs appended to the arena. Returns the count. */
static uint32_t split_paragraphs(synth_base *base, const char *text, size_t n, size_t *chars)
{
    int blank_lines = 0, indented = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (text[i] != '\n')
            continue;
        size_t j = i + 1;
        while (j < n && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'))
            j++;
        if (j < n && text[j] == '\n')
            blank_lines = 1;
        else if (j > i + 1 && text[i + 1] != '\r')
            indented = 1;
    }
    synth_buf arena = {base->arena, base->arena_len, base->arena_cap};
    uint32_t count = 0;
    size_t para_start = 0;
    *chars = 0;
    for (size_t i = 0; i <= n; i++) {
        int boundary = i == n;
        size_t skip = 0;
        if (!boundary && text[i] == '\n') {
            size_t j = i + 1;
            while (j < n && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'))
                j++;
            if (blank_lines)
                boundary = j < n && text[j] == '\n';
            else if (indented)
                boundary = j > i + 1;
            else
                boundary = 1;
            skip = j - i;
        }
        if (!boundary)
            continue;
        size_t off = arena.len;
        size_t len = put_clean(&arena, text + para_start, i - para_start);
        if (len > 0) {
            base->arena = arena.ptr;
            base->arena_cap = arena.cap;
            add_para(base, off, len);
            count++;
            *chars += len;
        }
        if (i == n)
            break;
        i += skip ? skip - 1 : 0;
        para_start = i + 1;
    }
    base->arena = arena.ptr;
    base->arena_len = arena.len;
    base->arena_cap = arena.cap;
    return count;
}

static void add_doc(synth_base *base, const char *title, size_t title_n, const char *text,
                    size_t text_n, uint32_t min_chars)
{
    uint32_t first_para = base->n_paras;
    size_t arena_before = base->arena_len;
    size_t chars;
    uint32_t n_paras = split_paragraphs(base, text, text_n, &chars);
    if (chars < min_chars || n_paras == 0) {
        base->n_paras = first_para;
        base->arena_len = arena_before;
        base->skipped_short++;
        return;
    }
    synth_buf arena = {base->arena, base->arena_len, base->arena_cap};
    size_t title_off = arena.len;
    size_t title_len = put_clean(&arena, title, title_n);
    base->arena = arena.ptr;
    base->arena_len = arena.len;
    base->arena_cap = arena.cap;
    if (base->n_docs == base->cap_docs) {
        base->cap_docs = base->cap_docs ? base->cap_docs * 2 : 1024;
        base->doc = synth_xrealloc(base->doc, sizeof *base->doc * base->cap_docs);
    }
    base->doc[base->n_docs++] = (synth_base_doc){title_off, (uint32_t)title_len, first_para, n_paras};
}

static void parse_line(synth_base *base, const char *line, size_t n, uint32_t min_chars)
{
    while (n && is_space((unsigned char)line[n - 1]))
        n--;
    if (n == 0)
        return;
    base->lines_read++;
    cJSON *obj = cJSON_ParseWithLength(line, n);
    if (!obj || !cJSON_IsObject(obj)) {
        base->skipped_bad++;
        cJSON_Delete(obj);
        return;
    }
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(obj, "title");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(obj, "text");
    const char *title_s = cJSON_IsString(title) ? title->valuestring : "";
    if (!cJSON_IsString(text)) {
        base->skipped_bad++;
    } else {
        add_doc(base, title_s, strlen(title_s), text->valuestring, strlen(text->valuestring),
                min_chars);
    }
    cJSON_Delete(obj);
}

/* ---------------------------------------------------------- near-duplicates */

enum { SIG_K = 32, SIG_BANDS = 16, SIG_ROWS = 2 };

typedef struct band_entry {
    uint64_t key;
    uint32_t doc;
} band_entry;

static int cmp_band(const void *a, const void *b)
{
    const band_entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

static void doc_tokens(const synth_base *base, uint32_t d, uint64_t **tokens, size_t *n, size_t *cap)
{
    const synth_base_doc *doc = &base->doc[d];
    *n = 0;
    for (int64_t p = -1; p < (int64_t)doc->n_paras; p++) {
        const char *s;
        size_t len;
        if (p < 0) {
            s = base->arena + doc->title_off;
            len = doc->title_len;
        } else {
            s = base->arena + base->para_off[doc->first_para + p];
            len = base->para_len[doc->first_para + p];
        }
        size_t i = 0;
        while (i < len) {
            while (i < len && !is_alnum((unsigned char)s[i]))
                i++;
            if (i == len)
                break;
            uint64_t h = 0xcbf29ce484222325ull;
            while (i < len && is_alnum((unsigned char)s[i])) {
                unsigned char c = (unsigned char)s[i++];
                if (c >= 'A' && c <= 'Z')
                    c = (unsigned char)(c - 'A' + 'a');
                h = (h ^ c) * 0x100000001b3ull;
            }
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 1024;
                *tokens = synth_xrealloc(*tokens, sizeof **tokens * *cap);
            }
            (*tokens)[(*n)++] = synth_splitmix64(&h);
        }
    }
}

static void drop_near_duplicates(synth_base *base, uint8_t *dropped, uint64_t seed)
{
    uint32_t n = base->n_docs;
    uint32_t *sig = synth_xmalloc(sizeof *sig * SIG_K * (size_t)(n ? n : 1));
    uint64_t mul[SIG_K], add[SIG_K];
    uint64_t state = synth_derive(seed, SYNTH_STREAM_BASE, 1);
    for (int k = 0; k < SIG_K; k++) {
        mul[k] = synth_splitmix64(&state) | 1;
        add[k] = synth_splitmix64(&state);
    }
    uint64_t *tokens = NULL;
    size_t n_tokens = 0, cap_tokens = 0;
    for (uint32_t d = 0; d < n; d++) {
        uint32_t *s = sig + (size_t)d * SIG_K;
        for (int k = 0; k < SIG_K; k++)
            s[k] = UINT32_MAX;
        doc_tokens(base, d, &tokens, &n_tokens, &cap_tokens);
        size_t width = n_tokens < 5 ? n_tokens : 5;
        for (size_t i = 0; i + width <= n_tokens && width > 0; i++) {
            uint64_t h = 0;
            for (size_t j = 0; j < width; j++)
                h = synth_rotl(h, 23) ^ tokens[i + j];
            h = synth_splitmix64(&h);
            for (int k = 0; k < SIG_K; k++) {
                uint32_t v = (uint32_t)((h * mul[k] + add[k]) >> 32);
                if (v < s[k])
                    s[k] = v;
            }
        }
    }
    free(tokens);

    band_entry *entries = synth_xmalloc(sizeof *entries * SIG_BANDS * (size_t)(n ? n : 1));
    size_t n_entries = 0;
    for (uint32_t d = 0; d < n; d++)
        for (int b = 0; b < SIG_BANDS; b++) {
            uint64_t key = (uint64_t)b * 0x9E3779B97F4A7C15ull;
            for (int r = 0; r < SIG_ROWS; r++)
                key = synth_rotl(key, 29) ^ sig[(size_t)d * SIG_K + b * SIG_ROWS + r];
            entries[n_entries++] = (band_entry){synth_splitmix64(&key), d};
        }
    qsort(entries, n_entries, sizeof *entries, cmp_band);
    for (size_t i = 0; i < n_entries;) {
        size_t j = i + 1;
        while (j < n_entries && entries[j].key == entries[i].key)
            j++;
        /* compare each member with up to 64 earlier members of the bucket */
        for (size_t a = i + 1; a < j; a++) {
            uint32_t da = entries[a].doc;
            if (dropped[da])
                continue;
            for (size_t b = (a - i > 64 ? a - 64 : i); b < a; b++) {
                uint32_t db = entries[b].doc;
                if (db == da)
                    continue;
                int same = 0;
                for (int k = 0; k < SIG_K; k++)
                    same += sig[(size_t)da * SIG_K + k] == sig[(size_t)db * SIG_K + k];
                if (same * 2 >= SIG_K) {
                    dropped[da > db ? da : db] = 1;
                    if (da > db)
                        break;
                }
            }
        }
        i = j;
    }
    free(entries);
    free(sig);
}

/* ------------------------------------------------------------------- load */

void synth_base_load(synth_base *base, const char *path, uint32_t min_chars, uint64_t seed)
{
    memset(base, 0, sizeof *base);
    gzFile f = gzopen(path, "rb");
    if (!f)
        synth_die(SYNTH_EXIT_IO, "--base %s: cannot open", path);
    gzbuffer(f, 1 << 18);
    enum { CHUNK = 1 << 20 };
    synth_buf line = {0};
    char *chunk = synth_xmalloc(CHUNK);
    for (;;) {
        int got = gzread(f, chunk, CHUNK);
        if (got < 0) {
            int err;
            const char *msg = gzerror(f, &err);
            synth_die(SYNTH_EXIT_IO, "--base %s: read error: %s", path, msg);
        }
        if (got == 0)
            break;
        size_t start = 0;
        for (size_t i = 0; i < (size_t)got; i++) {
            if (chunk[i] != '\n')
                continue;
            if (line.len) {
                synth_buf_put(&line, chunk + start, i - start);
                parse_line(base, line.ptr, line.len, min_chars);
                line.len = 0;
            } else {
                parse_line(base, chunk + start, i - start, min_chars);
            }
            start = i + 1;
        }
        synth_buf_put(&line, chunk + start, (size_t)got - start);
    }
    if (line.len)
        parse_line(base, line.ptr, line.len, min_chars);
    int err = Z_OK;
    const char *msg = gzerror(f, &err);
    if (err != Z_OK && err != Z_BUF_ERROR)
        synth_die(SYNTH_EXIT_IO, "--base %s: read error: %s", path, msg);
    if (err == Z_BUF_ERROR)
        synth_die(SYNTH_EXIT_IO, "--base %s: truncated gzip stream", path);
    gzclose(f);
    free(chunk);
    synth_buf_free(&line);

    uint8_t *dropped = synth_xcalloc(base->n_docs ? base->n_docs : 1, 1);
    drop_near_duplicates(base, dropped, seed);
    base->order = synth_xmalloc(sizeof *base->order * (base->n_docs ? base->n_docs : 1));
    for (uint32_t d = 0; d < base->n_docs; d++) {
        if (dropped[d])
            base->dropped_near_duplicates++;
        else
            base->order[base->n_order++] = d;
    }
    free(dropped);
}

int64_t synth_base_take(synth_base *base, synth_rng *rng)
{
    if (base->next >= base->n_order)
        return -1;
    uint32_t j = base->next + synth_below(rng, base->n_order - base->next);
    uint32_t d = base->order[j];
    base->order[j] = base->order[base->next];
    base->order[base->next++] = d;
    return d;
}

/* Hashes of up to cap distinct capitalised words (3+ letters, not opening a
 * sentence) of text: a cheap stand-in for its named entities. */
static uint32_t entity_words(const char *s, size_t n, uint64_t *out, uint32_t count, uint32_t cap)
{
    int sentence_start = 1;
    for (size_t i = 0; i < n && count < cap;) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c)) {
            if (c == '.' || c == '!' || c == '?' || c == ':')
                sentence_start = 1;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && (is_alnum((unsigned char)s[j]) || s[j] == '-'))
            j++;
        if (!sentence_start && c >= 'A' && c <= 'Z' && j - i >= 3) {
            uint64_t h = synth_hash(s + i, j - i, 0);
            uint32_t k = 0;
            while (k < count && out[k] != h)
                k++;
            if (k == count)
                out[count++] = h;
        }
        sentence_start = 0;
        i = j;
    }
    return count;
}

int64_t synth_base_take_similar(synth_base *base, synth_rng *rng, const synth_story *ref,
                                uint32_t tries)
{
    if (base->next >= base->n_order)
        return -1;
    enum { CAP = 64 };
    uint64_t want[CAP], have[CAP];
    uint32_t n_want = 0;
    for (uint32_t p = 0; p < ref->n_paras && n_want < CAP; p++)
        n_want = entity_words(ref->body.ptr + ref->para_off[p], ref->para_len[p], want, n_want, CAP);
    uint32_t best = base->next;
    int best_score = -1;
    for (uint32_t t = 0; t < tries; t++) {
        uint32_t j = base->next + synth_below(rng, base->n_order - base->next);
        const synth_base_doc *doc = &base->doc[base->order[j]];
        uint32_t n_have = 0;
        for (uint32_t p = 0; p < doc->n_paras && n_have < CAP; p++)
            n_have = entity_words(base->arena + base->para_off[doc->first_para + p],
                                  base->para_len[doc->first_para + p], have, n_have, CAP);
        int score = 0;
        for (uint32_t a = 0; a < n_have; a++)
            for (uint32_t b = 0; b < n_want; b++)
                score += have[a] == want[b];
        if (score > best_score) {
            best_score = score;
            best = j;
        }
    }
    uint32_t d = base->order[best];
    base->order[best] = base->order[base->next];
    base->order[base->next++] = d;
    return d;
}

void synth_base_free(synth_base *base)
{
    free(base->arena);
    free(base->doc);
    free(base->para_off);
    free(base->para_len);
    free(base->order);
    memset(base, 0, sizeof *base);
}
