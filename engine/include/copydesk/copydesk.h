/* copydesk.h: the one public header of the copydesk engine.
 *
 * copydesk finds the copies of one news story among many articles: it reads
 * documents, normalises and shingles their text, MinHashes the shingles,
 * groups candidate copies with LSH, verifies and clusters them, and picks a
 * representative per cluster. Everything a user may call is declared here;
 * every symbol is prefixed cd_. Fallible calls return a cd_status and leave a
 * human-readable message in the handle (cd_*_errmsg). Handles are not
 * thread-safe unless a function says otherwise. */
#ifndef COPYDESK_H
#define COPYDESK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CD_VERSION_MAJOR 0
#define CD_VERSION_MINOR 1
#define CD_VERSION_PATCH 0
#define CD_VERSION_STRING "0.1.0"

/* Version of the text normalisation rules; any change to normalisation,
 * tokenisation or shingle hashing that changes signatures bumps it. */
#define CD_NORMALISE_VERSION 1

/* ------------------------------------------------------------------ status */

/* Result of every fallible call. Append-only: values never change meaning. */
typedef enum cd_status {
    CD_OK = 0,
    CD_END,              /* no more records (reader) */
    CD_ERR_NOMEM,        /* an allocation failed */
    CD_ERR_ARG,          /* an invalid argument or parameter */
    CD_ERR_INPUT,        /* a bad input record; the reader can go on */
    CD_ERR_DUPLICATE_ID, /* a document id seen before */
    CD_ERR_LIMIT,        /* an input over a configured size limit */
    CD_ERR_FORMAT,       /* a corrupt or truncated stream; cannot go on */
    CD_ERR_IO,           /* the operating system refused a read or write */
    CD_ERR_STATE         /* a call made in the wrong order */
} cd_status;

/* A short, static description of a status ("out of memory", ...). */
const char *cd_strerror(cd_status status);

/* The library version, "MAJOR.MINOR.PATCH". */
const char *cd_version(void);

/* --------------------------------------------------------------- allocator */

/* Every allocation the engine makes goes through these three functions
 * (including cJSON's). realloc_fn(NULL, n) must behave as malloc_fn(n);
 * free_fn(NULL) must be a no-op. */
typedef struct cd_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} cd_allocator;

/* Replaces the allocator; NULL restores the C library's. Call it before any
 * other cd_ function and never while handles exist. Not thread-safe.
 * Returns CD_ERR_ARG if a function pointer is NULL. */
cd_status cd_set_allocator(const cd_allocator *allocator);

/* ------------------------------------------------------------------ values */

/* A byte string that need not be NUL-terminated. ptr may be NULL when len is 0. */
typedef struct cd_str {
    const char *ptr;
    size_t len;
} cd_str;

/* One document as the engine sees it. All strings are borrowed: the engine
 * copies what it keeps. A field absent from the input has ptr == NULL. */
typedef struct cd_doc {
    cd_str id;
    cd_str text;
    cd_str title;
    cd_str date;   /* ISO 8601 or RFC 2822; anything else sorts last */
    cd_str source;
    cd_str url;
} cd_doc;

/* ------------------------------------------------------------- parameters */

/* Which copy represents a cluster. Ties are broken by input order. */
typedef enum cd_keep_rule {
    CD_KEEP_EARLIEST = 0, /* earliest parseable date; undated documents last */
    CD_KEEP_LONGEST,      /* longest text in bytes */
    CD_KEEP_FIRST         /* first in input order */
} cd_keep_rule;

/* Every parameter that changes results. Fill with cd_params_init, then
 * change fields, then pass to cd_params_resolve (or to a create call, which
 * resolves a private copy). */
typedef struct cd_params {
    double threshold;      /* Jaccard similarity for an edge, 0 < t <= 1; 0.8 */
    unsigned ngram;        /* tokens per shingle, 1..32; 5 */
    unsigned perm;         /* MinHash values per signature, 1..1024; 128 */
    unsigned bands;        /* LSH bands; 0 = chosen from threshold */
    unsigned rows;         /* LSH rows per band; 0 = chosen from threshold */
    double fp_weight;      /* weight of false positives when choosing b, r; 0.5 */
    double fn_weight;      /* weight of false negatives when choosing b, r; 0.5 */
    uint64_t seed;         /* hash seed; 0 */
    int with_title;        /* 1: shingle title + text; 0: text only (default) */
    cd_keep_rule keep;     /* CD_KEEP_EARLIEST */
    unsigned threads;      /* signature threads; 0 = all online cores */
    size_t max_bucket;     /* LSH buckets larger than this are compared to
                              their first member only; 0 = no limit; 2000 */
} cd_params;

/* Fills *params with the defaults listed above. */
void cd_params_init(cd_params *params);

/* Checks every field and, when bands or rows is 0, chooses both with
 * cd_lsh_choose. On CD_ERR_ARG writes a message naming the bad field into
 * err (if err_size > 0); *params is then unspecified. */
cd_status cd_params_resolve(cd_params *params, char *err, size_t err_size);

/* ------------------------------------------------------------------- LSH */

/* Probability that two documents of Jaccard s share at least one band of
 * b bands × r rows: 1 - (1 - s^r)^b. */
double cd_lsh_probability(double s, unsigned bands, unsigned rows);

/* The similarity at which cd_lsh_probability is 0.5: (1 - 0.5^(1/b))^(1/r). */
double cd_lsh_midpoint(unsigned bands, unsigned rows);

/* Chooses b, r with b·r <= perm minimising
 *   fp_weight · ∫_0^t P(s) ds + fn_weight · ∫_t^1 (1 - P(s)) ds.
 * Deterministic. Returns CD_ERR_ARG for threshold outside (0,1], perm 0 or
 * negative weights. */
cd_status cd_lsh_choose(double threshold, unsigned perm, double fp_weight,
                        double fn_weight, unsigned *bands, unsigned *rows);

/* --------------------------------------------------------------- signer */

/* Turns a document's text into a MinHash signature: UTF-8 repair, NFKC and
 * case folding, tokens, word n-gram shingles, XXH3 hashes, MinHash. One
 * signer per thread; it keeps a scratch arena reused between documents. */
typedef struct cd_signer cd_signer;

typedef struct cd_sign_stats {
    size_t tokens;       /* tokens after normalisation */
    size_t shingles;     /* shingles hashed (with repeats) */
    size_t invalid_utf8; /* invalid byte sequences replaced by U+FFFD */
} cd_sign_stats;

/* Creates a signer for *params (resolved privately). *out is NULL on error.
 * Errors: CD_ERR_ARG (bad params), CD_ERR_NOMEM. */
cd_status cd_signer_create(const cd_params *params, cd_signer **out);

/* Frees a signer; NULL is a no-op. */
void cd_signer_free(cd_signer *signer);

/* Signs doc: the text, preceded by the title when params.with_title is set,
 * or the title alone when the text is empty. Writes params.perm values into
 * sig. A document with no tokens gets every value UINT32_MAX and
 * stats->shingles == 0. stats may be NULL. Errors: CD_ERR_NOMEM. */
cd_status cd_signer_sign(cd_signer *signer, const cd_doc *doc, uint32_t *sig,
                         cd_sign_stats *stats);

/* The shingle hashes of doc, in text order with repeats, as signed by
 * cd_signer_sign. *hashes stays valid until the next call on signer.
 * For tests, golden vectors and exact verification. Errors: CD_ERR_NOMEM. */
cd_status cd_signer_shingles(cd_signer *signer, const cd_doc *doc,
                             const uint64_t **hashes, size_t *count);

/* The normalised tokens of text joined by single spaces (NUL-terminated),
 * valid until the next call on signer. For tests and inspection. */
cd_status cd_signer_tokens(cd_signer *signer, cd_str text, const char **joined,
                           size_t *count);

/* The message of the last failed call. */
const char *cd_signer_errmsg(const cd_signer *signer);

/* Estimated Jaccard similarity of two signatures of perm values: the share
 * of positions where they agree. Two empty-document signatures give 0. */
double cd_signature_similarity(const uint32_t *a, const uint32_t *b, unsigned perm);

/* ------------------------------------------------------------------ dates */

/* Parses an ISO 8601 ("2026-11-27", "2026-11-27T10:44:55.5+01:00",
 * "1987-02-26 15:01:01") or RFC 2822 ("Fri, 27 Nov 2026 10:44:55 GMT") date
 * into seconds since 1970-01-01 UTC. Returns 1 on success, 0 when the text
 * is not a date it understands. */
int cd_parse_date(cd_str text, int64_t *epoch_seconds);

/* ----------------------------------------------------------------- reader */

/* Reads JSONL documents from a file or stdin, gzip and zstd detected by
 * their magic bytes. Only the reader touches files. */
typedef struct cd_reader cd_reader;

typedef struct cd_read_options {
    const char *id_field;     /* "id" */
    const char *text_field;   /* "text" */
    const char *title_field;  /* "title" */
    const char *date_field;   /* "date" */
    const char *source_field; /* "source" */
    const char *url_field;    /* "url" */
    size_t max_doc_bytes;     /* longest accepted line; 16 MiB */
} cd_read_options;

void cd_read_options_init(cd_read_options *options);

/* One input line. Every pointer stays valid until the next call on the
 * reader. */
typedef struct cd_record {
    cd_str raw;    /* the line, byte-exact, without its '\n' (a UTF-8 BOM
                      at the start of a file is dropped) */
    uint64_t line; /* 1-based line number in its file */
    cd_doc doc;    /* fields parsed from raw (cd_reader_next only); an id
                      given as a JSON number is printed as its digits */
} cd_record;

/* Opens path ("-" = stdin). The options are copied. Errors: CD_ERR_IO
 * (cannot open: message names the file and the reason), CD_ERR_NOMEM,
 * CD_ERR_FORMAT (a compressed stream whose header is corrupt). On error
 * *out is NULL and, if err_size > 0, err holds the message. */
cd_status cd_reader_open(const char *path, const cd_read_options *options,
                         cd_reader **out, char *err, size_t err_size);

/* Frees a reader and closes its file; NULL is a no-op. */
void cd_reader_free(cd_reader *reader);

/* Reads the next non-blank line and parses it as a JSON object.
 *   CD_OK          *rec holds the document.
 *   CD_END         the input is exhausted.
 *   CD_ERR_INPUT   this line is bad (malformed JSON, not an object, text
 *                  field missing or not a string, id neither string nor
 *                  number): rec->line and rec->raw are set, the message
 *                  says why; the next call goes on with the next line.
 *   CD_ERR_LIMIT   this line is longer than max_doc_bytes: rec->line is
 *                  set, rec->raw is empty; the next call goes on.
 *   CD_ERR_FORMAT  the compressed stream is truncated or corrupt; stop.
 *   CD_ERR_IO      a read failed; stop.
 *   CD_ERR_NOMEM   stop. */
cd_status cd_reader_next(cd_reader *reader, cd_record *rec);

/* Like cd_reader_next without the JSON parsing: rec->doc is zeroed. Lines
 * are numbered exactly as cd_reader_next numbers them; CD_ERR_INPUT never
 * occurs. Used to copy kept lines byte-exact in a second pass. */
cd_status cd_reader_next_line(cd_reader *reader, cd_record *rec);

/* The file name used in messages ("<stdin>" for "-"). */
const char *cd_reader_path(const cd_reader *reader);

/* The message of the last failed call, "FILE:LINE: reason" when it is
 * about a line. */
const char *cd_reader_errmsg(const cd_reader *reader);

/* ------------------------------------------------------------ dedup engine */

/* The batch engine: collects documents with their signatures, then finds
 * candidate pairs by LSH, verifies them against the threshold, clusters
 * with union-find and picks each cluster's representative. */
typedef struct cd_dedup cd_dedup;

/* Creates an engine for *params (resolved privately). Errors: CD_ERR_ARG,
 * CD_ERR_NOMEM. *out is NULL on error. */
cd_status cd_dedup_create(const cd_params *params, cd_dedup **out);

/* Frees an engine; NULL is a no-op. */
void cd_dedup_free(cd_dedup *dedup);

/* The resolved parameters (bands and rows filled in). */
const cd_params *cd_dedup_params(const cd_dedup *dedup);

/* Adds n documents, signing them on params.threads threads. Documents are
 * numbered 0, 1, ... in the order added. A document without an id
 * (id.ptr == NULL) gets its number + 1 in decimal. statuses[i] receives
 * CD_OK, or CD_ERR_DUPLICATE_ID when docs[i]'s id was added before (the
 * document is then not added and no number is used). Returns CD_OK, or
 * CD_ERR_NOMEM / CD_ERR_STATE (after cd_dedup_run) for the whole batch,
 * in which case no document of the batch was added. */
cd_status cd_dedup_add(cd_dedup *dedup, const cd_doc *docs, size_t n,
                       cd_status *statuses);

/* Runs LSH, verification and clustering over every added document. Call
 * once. Errors: CD_ERR_NOMEM, CD_ERR_STATE (called twice). */
cd_status cd_dedup_run(cd_dedup *dedup);

/* Number of documents added. */
size_t cd_dedup_count(const cd_dedup *dedup);

/* The id of document doc (NUL-terminated, owned by the engine). */
const char *cd_dedup_id(const cd_dedup *dedup, size_t doc);

/* Where a document landed, after cd_dedup_run. */
typedef struct cd_doc_result {
    size_t representative; /* document number of its cluster's representative */
    double similarity;     /* estimated Jaccard with the representative (1 for it) */
    size_t cluster_size;   /* 1 for a document with no copies */
    int empty;             /* 1 when the document had no tokens */
} cd_doc_result;

cd_status cd_dedup_result(const cd_dedup *dedup, size_t doc, cd_doc_result *out);

/* Clusters of size >= 2 after cd_dedup_run, ordered by their first member's
 * input order; members in input order. Pointers stay valid until free. */
size_t cd_dedup_cluster_count(const cd_dedup *dedup);
cd_status cd_dedup_cluster(const cd_dedup *dedup, size_t index,
                           size_t *representative, const size_t **members,
                           size_t *size);

/* Verified pairs (edges) after cd_dedup_run, sorted by (a, b) with a < b. */
typedef struct cd_pair {
    size_t a, b;
    double similarity;
} cd_pair;

size_t cd_dedup_pair_count(const cd_dedup *dedup);
cd_status cd_dedup_pair(const cd_dedup *dedup, size_t index, cd_pair *out);

/* Counters and per-stage timings of a run. */
typedef struct cd_dedup_stats {
    size_t documents;       /* added */
    size_t empty;           /* without tokens: kept, never matched */
    size_t undated;         /* date absent or unparseable */
    size_t invalid_utf8;    /* byte sequences replaced */
    size_t tokens, shingles;
    size_t candidate_pairs; /* distinct pairs proposed by LSH */
    size_t verified_pairs;  /* pairs at or above the threshold */
    size_t oversized_buckets; /* buckets over max_bucket */
    size_t clusters;        /* clusters of size >= 2 */
    size_t largest_cluster;
    size_t removed;         /* documents that are not representatives */
    double seconds_sign;    /* normalise + shingle + hash + MinHash */
    double seconds_lsh;     /* band keys, sort, candidate pairs */
    double seconds_verify;
    double seconds_cluster;
    size_t bytes_text;      /* bytes of text signed */
} cd_dedup_stats;

void cd_dedup_get_stats(const cd_dedup *dedup, cd_dedup_stats *out);

/* The message of the last failed call. */
const char *cd_dedup_errmsg(const cd_dedup *dedup);

/* ------------------------------------------------------------------- eval */

/* Compares a predicted clustering with a gold one over the same items. Each
 * item has a gold label and a predicted label (small integers, any
 * numbering). Everything is computed from the contingency table. */
typedef struct cd_eval_result {
    size_t items;
    size_t gold_clusters, pred_clusters;       /* including singletons */
    size_t gold_largest, pred_largest;
    double gold_pairs, pred_pairs, true_pairs; /* same-cluster pairs */
    double precision, recall, f1;              /* pairwise */
    double ari;                                /* adjusted Rand index */
    double bcubed_precision, bcubed_recall, bcubed_f1;
} cd_eval_result;

/* gold[i] and pred[i] label item i, for n items. Errors: CD_ERR_ARG (n 0
 * or NULL arrays), CD_ERR_NOMEM. Thread-safe. Metrics with no pairs to
 * count (for example precision with no predicted pairs) are 1 by
 * convention when the other side has none either, else 0. */
cd_status cd_eval(const uint32_t *gold, const uint32_t *pred, size_t n,
                  cd_eval_result *out);

#ifdef __cplusplus
}
#endif

#endif /* COPYDESK_H */
