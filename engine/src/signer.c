/* signer.c: the public signer (cd_signer_*), which runs extract ->
 * boilerplate -> normalise -> shingle/hash -> MinHash over one document at a
 * time with scratch buffers reused between documents; the internal entry
 * points the batch engine uses (signer.h); and cd_signature_similarity,
 * used by verify. */
#include "signer.h"

#include <string.h>

#include "alloc.h"
#include "copydesk/copydesk.h"
#include "minhash.h"
#include "normalise.h"
#include "shingle.h"

struct cd_signer {
    cd_params params; /* resolved */
    const cd_boilerplate *model; /* borrowed; NULL = keep every line */
    cd__text extracted;          /* HTML reduced to text */
    cd__bp_scratch lines;        /* the units of the text, for chrome removal */
    cd__bp_scratch kept;         /* the units left after chrome removal */
    cd__bp_scratch given;        /* a view of units split by the engine */
    char *stripped;              /* the text without its chrome */
    size_t stripped_cap;
    cd__normaliser norm;
    cd__shingler shingler;
    cd__minhasher minhash;
    uint32_t *set, *set_scratch; /* sorted distinct 32-bit shingle hashes */
    size_t set_cap;
    uint8_t *core; /* per token: 1 when its unit is long enough for the sets */
    size_t core_cap;
    int core_valid; /* core describes the current tokens */
    char *joined; /* cd_signer_tokens output */
    size_t joined_cap;
    char errmsg[CD_ERRMSG_SIZE];
};

cd_status cd_signer_create(const cd_params *params, cd_signer **out)
{
    if (!out)
        return CD_ERR_ARG;
    *out = NULL;
    if (!params)
        return CD_ERR_ARG;
    cd_params resolved = *params;
    char err[CD_ERRMSG_SIZE];
    if (cd_params_resolve(&resolved, err, sizeof err) != CD_OK)
        return CD_ERR_ARG;
    cd_signer *s = cd__calloc(1, sizeof *s);
    if (!s)
        return CD_ERR_NOMEM;
    s->params = resolved;
    cd__normaliser_init(&s->norm);
    cd__shingler_init(&s->shingler);
    cd_status st =
        cd__minhash_init(&s->minhash, resolved.minhash_scheme, resolved.perm, resolved.seed);
    if (st != CD_OK) {
        cd__free(s);
        return st;
    }
    *out = s;
    return CD_OK;
}

void cd_signer_free(cd_signer *s)
{
    if (!s)
        return;
    cd__normaliser_free(&s->norm);
    cd__shingler_free(&s->shingler);
    cd__minhash_free(&s->minhash);
    cd__text_free(&s->extracted);
    cd__bp_scratch_free(&s->lines);
    cd__bp_scratch_free(&s->kept);
    cd__free(s->stripped);
    cd__free(s->set);
    cd__free(s->set_scratch);
    cd__free(s->core);
    cd__free(s->joined);
    cd__free(s);
}

cd_status cd_signer_set_boilerplate(cd_signer *s, const cd_boilerplate *model)
{
    if (!s)
        return CD_ERR_ARG;
    s->model = model;
    return CD_OK;
}

const char *cd_signer_errmsg(const cd_signer *s)
{
    return s ? s->errmsg : "no signer";
}

static int is_empty(cd_str str)
{
    return str.ptr == NULL || str.len == 0;
}

/* The text of doc as the later stages see it: HTML reduced to its main
 * text (when extract is set and it looks like HTML), then without the units
 * of the model's chrome. *units receives the text's units (cd__bp_split)
 * when they were needed: a model, or want_units (for the exact sets); else
 * NULL. Fills the counters of *out. */
static cd_status prepare_text(cd_signer *s, const cd_doc *doc, int extract, int want_units,
                              cd_str *text, const cd__bp_scratch **units, cd__signed *out)
{
    *units = NULL;
    *text = is_empty(doc->text) ? (cd_str){"", 0} : doc->text;
    if (extract && s->params.extract_html && cd__looks_like_html(text->ptr, text->len)) {
        if (cd__extract_html(text->ptr, text->len, &s->extracted) != CD_OK) {
            cd__set_error(s->errmsg, "out of memory extracting the text of %zu bytes of HTML",
                          text->len);
            return CD_ERR_NOMEM;
        }
        *text = (cd_str){s->extracted.ptr ? s->extracted.ptr : "", s->extracted.len};
        out->html = 1;
    }
    if (!s->model && !want_units)
        return CD_OK;
    s->given = (cd__bp_scratch){0};
    const cd__bp_scratch *lines = &s->lines;
    if (out->lines && !extract) { /* split before, by the engine */
        s->given.lines = (cd__bp_line *)out->lines;
        s->given.count = out->line_count;
        lines = &s->given;
    } else if (cd__bp_split(&s->lines, text->ptr, text->len, s->model != NULL) != CD_OK) {
        cd__set_error(s->errmsg, "out of memory splitting %zu bytes into lines", text->len);
        return CD_ERR_NOMEM;
    }
    *units = lines;
    if (!s->model || text->len == 0)
        return CD_OK;
    cd_str name;
    uint64_t source = cd__bp_source_hash(doc, &name);
    if (cd__grow((void **)&s->stripped, &s->stripped_cap, text->len + 1, 1) != 0 ||
        cd__grow((void **)&s->kept.lines, &s->kept.lines_cap, lines->count + 1,
                 sizeof *s->kept.lines) != 0) {
        cd__set_error(s->errmsg, "out of memory removing the chrome of %zu bytes", text->len);
        return CD_ERR_NOMEM;
    }
    size_t dropped;
    int all_chrome;
    size_t len = cd__bp_strip(s->model, source, text->ptr, text->len, lines, s->stripped,
                              &dropped, &all_chrome, &s->kept);
    out->chrome_lines = dropped;
    out->all_chrome = all_chrome;
    if (dropped > 0) {
        *text = (cd_str){s->stripped, len};
        *units = &s->kept;
    }
    return CD_OK;
}

/* The token stream of doc: the prepared text, preceded by the title when
 * with_title is set, or the title alone when the text is empty. */
static cd_status tokenise_doc(cd_signer *s, const cd_doc *doc, cd_str text)
{
    cd__normaliser_reset(&s->norm);
    cd_status st = CD_OK;
    int text_empty = is_empty(text);
    if ((s->params.with_title || text_empty) && !is_empty(doc->title))
        st = cd__normalise_append(&s->norm, doc->title.ptr, doc->title.len, CD__NORMALISE_AUTO);
    if (st == CD_OK && !text_empty)
        st = cd__normalise_append(&s->norm, text.ptr, text.len, CD__NORMALISE_AUTO);
    if (st != CD_OK)
        cd__set_error(s->errmsg, "out of memory normalising a document of %zu bytes",
                      text.len + doc->title.len);
    return st;
}

/* ------------------------------------------------------- core tokens */

/* Marks tokens [from, norm.count) as core (1) or not. */
static int mark_core(cd_signer *s, size_t from, int core)
{
    if (cd__grow((void **)&s->core, &s->core_cap, s->norm.count + 1, 1) != 0)
        return -1;
    memset(s->core + from, core, s->norm.count - from);
    return 0;
}

/* Like tokenise_doc, one unit (a line, or a hard-wrapped paragraph) at a
 * time, marking the tokens of units of at least min_line_tokens tokens as
 * core. */
static cd_status tokenise_core(cd_signer *s, const cd_doc *doc, cd_str text,
                               const cd__bp_scratch *units)
{
    cd__normaliser_reset(&s->norm);
    unsigned min = s->params.min_line_tokens;
    int text_empty = is_empty(text);
    if ((s->params.with_title || text_empty) && !is_empty(doc->title)) {
        if (cd__normalise_append(&s->norm, doc->title.ptr, doc->title.len, CD__NORMALISE_AUTO) !=
                CD_OK ||
            mark_core(s, 0, s->norm.count >= min) != 0)
            goto nomem;
    }
    for (size_t u = 0; !text_empty && u < units->count; u++) {
        const cd__bp_line *unit = &units->lines[u];
        size_t before = s->norm.count;
        if (unit->key == 0)
            continue;
        if (cd__normalise_append(&s->norm, text.ptr + unit->start, unit->len,
                                 CD__NORMALISE_AUTO) != CD_OK ||
            mark_core(s, before, s->norm.count - before >= min) != 0)
            goto nomem;
    }
    return CD_OK;
nomem:
    cd__set_error(s->errmsg, "out of memory normalising a document of %zu bytes",
                  text.len + doc->title.len);
    return CD_ERR_NOMEM;
}

static cd_status shingle_doc(cd_signer *s, const cd_doc *doc, int extract, cd__signed *out)
{
    cd_str text;
    const cd__bp_scratch *units;
    int core = out->want_set && s->params.min_line_tokens > 0;
    cd_status st = prepare_text(s, doc, extract, core, &text, &units, out);
    s->core_valid = core && units;
    if (st == CD_OK)
        st = s->core_valid ? tokenise_core(s, doc, text, units) : tokenise_doc(s, doc, text);
    if (st != CD_OK)
        return st;
    st = cd__shingle(&s->shingler, &s->norm, s->params.ngram, s->params.char_ngram,
                     s->params.seed);
    if (st != CD_OK)
        cd__set_error(s->errmsg, "out of memory hashing %zu tokens", s->norm.count);
    return st;
}

/* Sorts v[0..n) with an LSD radix sort on bytes (scratch of n values): one
 * read takes all four histograms, then four scatters go back and forth
 * between v and scratch, ending in v. */
static void radix_sort_u32(uint32_t *v, uint32_t *scratch, size_t n)
{
    size_t count[4][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        uint32_t x = v[i];
        count[0][x & 0xff]++;
        count[1][(x >> 8) & 0xff]++;
        count[2][(x >> 16) & 0xff]++;
        count[3][x >> 24]++;
    }
    uint32_t *src = v, *dst = scratch;
    for (unsigned d = 0; d < 4; d++) {
        unsigned shift = 8 * d;
        size_t sum = 0;
        for (int b = 0; b < 256; b++) {
            size_t t = count[d][b];
            count[d][b] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[d][(src[i] >> shift) & 0xff]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
}

/* Sorts v[0..n) of hash values, which are close to uniform: one counting
 * pass on the top bits spreads them into buckets of about two values
 * (scratch), each then sorted by insertion, or by radix_sort_u32 when it
 * holds more than 32 (repeated shingles, or chance); then back into v.
 * About 3x fewer steps than four radix passes for a news article. */
static void sort_hashes(uint32_t *v, uint32_t *scratch, size_t n)
{
    enum { MAX_BITS = 12, SMALL_BUCKET = 32 };
    unsigned bits = 1;
    while (bits < MAX_BITS && ((size_t)1 << bits) < n / 2)
        bits++;
    if (((size_t)1 << bits) < n / 8) { /* a very long text: buckets too big */
        radix_sort_u32(v, scratch, n);
        return;
    }
    unsigned shift = 32 - bits;
    size_t start[(1u << MAX_BITS) + 1];
    memset(start, 0, ((size_t)(1u << bits) + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[(v[i] >> shift) + 1]++;
    for (size_t b = 0; b < ((size_t)1 << bits); b++)
        start[b + 1] += start[b];
    size_t fill[1u << MAX_BITS];
    memcpy(fill, start, ((size_t)1 << bits) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        scratch[fill[v[i] >> shift]++] = v[i];
    for (size_t b = 0; b < ((size_t)1 << bits); b++) {
        uint32_t *bucket = scratch + start[b];
        size_t m = start[b + 1] - start[b];
        if (m > SMALL_BUCKET) {
            radix_sort_u32(bucket, v + start[b], m); /* v's range is free */
            continue;
        }
        for (size_t i = 1; i < m; i++) {
            uint32_t x = bucket[i];
            size_t j = i;
            for (; j > 0 && bucket[j - 1] > x; j--)
                bucket[j] = bucket[j - 1];
            bucket[j] = x;
        }
    }
    memcpy(v, scratch, n * sizeof *v);
}

/* The sorted distinct high halves of the shingle hashes. */
static cd_status shingle_set(cd_signer *s, cd__signed *out)
{
    size_t n = s->shingler.count;
    if (cd__grow((void **)&s->set, &s->set_cap, n + 1, sizeof *s->set) != 0)
        return CD_ERR_NOMEM;
    uint32_t *scratch = cd__realloc(s->set_scratch, s->set_cap * sizeof *scratch);
    if (!scratch)
        return CD_ERR_NOMEM;
    s->set_scratch = scratch;
    /* The shingles of long units only, when they hold most of the tokens: a
     * text of short lines (a table, a list, a wrapped text not recognised
     * as such) is compared whole, the same whatever its copies look like. */
    size_t kept = 0, core_tokens = 0;
    if (s->params.min_line_tokens > 0 && s->core_valid)
        for (size_t t = 0; t < s->norm.count; t++)
            core_tokens += s->core[t];
    if (2 * core_tokens > s->norm.count)
        for (size_t i = 0; i < n; i++)
            if (s->core[s->shingler.starts[i]])
                s->set[kept++] = (uint32_t)(s->shingler.hashes[i] >> 32);
    if (kept == 0)
        for (size_t i = 0; i < n; i++)
            s->set[kept++] = (uint32_t)(s->shingler.hashes[i] >> 32);
    n = kept;
    size_t distinct = 0;
    if (n > 0) {
        sort_hashes(s->set, scratch, n);
        distinct = 1;
        for (size_t i = 1; i < n; i++)
            if (s->set[i] != s->set[distinct - 1])
                s->set[distinct++] = s->set[i];
    }
    out->set = s->set;
    out->set_count = distinct;
    return CD_OK;
}

cd_status cd__signer_run(cd_signer *s, const cd_doc *doc, int extract, cd__signed *out)
{
    out->html = out->all_chrome = 0;
    out->chrome_lines = 0;
    out->set = NULL;
    out->set_count = 0;
    cd_status st = shingle_doc(s, doc, extract, out);
    if (st != CD_OK)
        return st;
    const uint64_t *hashes = s->shingler.hashes;
    size_t count = s->shingler.count;
    out->shingles = count;
    out->tokens = s->norm.count;
    out->invalid_utf8 = s->norm.invalid_utf8;
    cd__minhash(&s->minhash, hashes, count, out->sig);
    if (out->lead)
        cd__minhash(&s->minhash, hashes, count < out->lead_shingles ? count : out->lead_shingles,
                    out->lead);
    if (out->want_set && shingle_set(s, out) != CD_OK) {
        cd__set_error(s->errmsg, "out of memory keeping %zu shingles", count);
        return CD_ERR_NOMEM;
    }
    return CD_OK;
}

cd_status cd__signer_extract(cd_signer *s, const cd_doc *doc, cd_str *text,
                             const cd__bp_scratch **lines, int *html)
{
    cd__signed counters = {0};
    const cd_boilerplate *model = s->model;
    const cd__bp_scratch *units;
    s->model = NULL; /* the text as it is, chrome included */
    cd_status st = prepare_text(s, doc, 1, 0, text, &units, &counters);
    s->model = model;
    if (st == CD_OK && cd__bp_split(&s->lines, text->ptr, text->len, 1) != CD_OK) {
        cd__set_error(s->errmsg, "out of memory splitting %zu bytes into lines", text->len);
        st = CD_ERR_NOMEM;
    }
    *lines = &s->lines;
    *html = counters.html;
    return st;
}

cd_status cd_signer_sign(cd_signer *s, const cd_doc *doc, uint32_t *sig, cd_sign_stats *stats)
{
    if (!s || !doc || !sig) {
        if (s)
            cd__set_error(s->errmsg, "cd_signer_sign: NULL document or signature");
        return CD_ERR_ARG;
    }
    cd__signed out = {0};
    out.sig = sig;
    cd_status st = cd__signer_run(s, doc, 1, &out);
    if (st != CD_OK)
        return st;
    if (stats) {
        stats->tokens = out.tokens;
        stats->shingles = out.shingles;
        stats->invalid_utf8 = out.invalid_utf8;
    }
    return CD_OK;
}

cd_status cd_signer_shingles(cd_signer *s, const cd_doc *doc, const uint64_t **hashes,
                             size_t *count)
{
    if (!s || !doc || !hashes || !count) {
        if (s)
            cd__set_error(s->errmsg, "cd_signer_shingles: NULL argument");
        return CD_ERR_ARG;
    }
    *hashes = NULL;
    *count = 0;
    cd__signed counters = {0};
    cd_status st = shingle_doc(s, doc, 1, &counters);
    if (st != CD_OK)
        return st;
    *hashes = s->shingler.hashes;
    *count = s->shingler.count;
    return CD_OK;
}

cd_status cd_signer_text(cd_signer *s, const cd_doc *doc, cd_str *text)
{
    if (!s || !doc || !text) {
        if (s)
            cd__set_error(s->errmsg, "cd_signer_text: NULL argument");
        return CD_ERR_ARG;
    }
    cd__signed counters = {0};
    const cd__bp_scratch *units;
    return prepare_text(s, doc, 1, 0, text, &units, &counters);
}

cd_status cd_signer_tokens(cd_signer *s, cd_str text, const char **joined, size_t *count)
{
    if (!s || !joined || !count) {
        if (s)
            cd__set_error(s->errmsg, "cd_signer_tokens: NULL argument");
        return CD_ERR_ARG;
    }
    *joined = NULL;
    *count = 0;
    cd__normaliser *n = &s->norm;
    cd__normaliser_reset(n);
    cd_status st =
        is_empty(text) ? CD_OK : cd__normalise_append(n, text.ptr, text.len, CD__NORMALISE_AUTO);
    /* tokens, a space between each, and a NUL */
    if (st != CD_OK ||
        cd__grow((void **)&s->joined, &s->joined_cap, n->bytes_len + n->count + 1, 1) != 0) {
        cd__set_error(s->errmsg, "out of memory listing the tokens of %zu bytes", text.len);
        return CD_ERR_NOMEM;
    }
    char *out = s->joined;
    for (size_t i = 0; i < n->count; i++) {
        if (i)
            *out++ = ' ';
        memcpy(out, n->bytes + n->tokens[i].offset, n->tokens[i].len);
        out += n->tokens[i].len;
    }
    *out = '\0';
    *joined = s->joined;
    *count = n->count;
    return CD_OK;
}

double cd_signature_similarity(const uint32_t *a, const uint32_t *b, unsigned perm)
{
    if (!a || !b || perm == 0)
        return 0.0;
    unsigned equal = 0, a_full = 0, b_full = 0;
    for (unsigned i = 0; i < perm; i++) {
        equal += a[i] == b[i];
        a_full += a[i] == UINT32_MAX;
        b_full += b[i] == UINT32_MAX;
    }
    if (a_full == perm && b_full == perm)
        return 0.0; /* two empty documents are not copies of each other */
    return (double)equal / perm;
}
