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
#define CD_NORMALISE_VERSION 2 /* 2: character n-grams (char_ngram) in Han, Kana, Hangul, Thai */

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

/* How a signature's k values are drawn from a document's shingle hashes
 * (see engine/src/minhash.h for the definitions and the measurements). All
 * three estimate Jaccard similarity without bias; they differ in speed and
 * give different signatures, so an index records which one it used. */
typedef enum cd_minhash_scheme {
    CD_MINHASH_CLASSIC = 0,         /* k independent hash functions: O(k) per shingle */
    CD_MINHASH_ONE_PERMUTATION = 1, /* one hash split into k bins, empty bins filled by
                                       optimal densification: O(1) per shingle */
    CD_MINHASH_CIRCULANT = 2,       /* C-MinHash: two permutations, the second shifted
                                       circularly k times: O(k) per shingle */
    CD_MINHASH_ONE_PERMUTATION_ROUNDS = 3 /* one-permutation, empty bins refilled by
                                       further rounds of fresh hashes before
                                       densification: O(1) per shingle, lower variance
                                       than classic at every set size (default) */
} cd_minhash_scheme;

/* How a candidate pair is scored against the threshold (issue 8). */
typedef enum cd_match {
    CD_MATCH_JACCARD = 0,    /* |A∩B| / |A∪B| */
    CD_MATCH_CONTAINMENT = 1 /* |A∩B| / |A|, A the smaller shingle set, when A has at
                                least min_containment_shingles; Jaccard otherwise */
} cd_match;

/* How the score of a candidate pair is computed. */
typedef enum cd_verify {
    CD_VERIFY_ESTIMATE = 0, /* from the MinHash signatures (and set sizes) */
    CD_VERIFY_EXACT = 1     /* from each document's sorted 32-bit shingle hashes,
                               kept in memory: about 4 bytes per distinct shingle */
} cd_verify;

/* How verified pairs become clusters. */
typedef enum cd_cluster_method {
    CD_CLUSTER_COMPONENTS = 0, /* connected components (union-find) */
    CD_CLUSTER_STAR = 1        /* a document joins a cluster only if it is itself a
                                  verified pair with the cluster's representative */
} cd_cluster_method;

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
    cd_minhash_scheme minhash_scheme; /* CD_MINHASH_ONE_PERMUTATION_ROUNDS */
    /* Text before shingling (issue 8). */
    unsigned char_ngram;   /* characters per shingle in Han, Kana, Hangul and Thai
                              runs, 1..32; 3 */
    int extract_html;      /* 1: a text that looks like HTML is reduced to its main
                              text (cd_extract_html) before signing; 0: as is. 1 */
    int boilerplate;       /* 1: cd_dedup learns the corpus's chrome before signing
                              and removes it (unless a model is given with
                              cd_dedup_set_boilerplate); 0: off. 1 */
    unsigned boilerplate_min_stories; /* a line is chrome of a source when it occurs
                              in documents of at least this many different stories
                              of that source, 2..1000000; 4 */
    unsigned boilerplate_min_sources; /* and chrome of every source when it occurs
                              in at least this many sources and in this many
                              different stories, 2..1000000; 3 */
    /* Matching (issue 8). The library's defaults are what every consumer
     * supports (the persistent index scores by the estimated Jaccard); the
     * batch commands dedup, cluster and pairs default to match containment,
     * verify exact and lead_shingles 100 (chosen by measurement, README). */
    cd_match match;                 /* CD_MATCH_JACCARD */
    unsigned min_containment_shingles; /* shortest document scored by containment; 50 */
    unsigned lead_shingles;         /* 0, or also propose as candidates the pairs whose
                                       first lead_shingles shingles are similar (finds
                                       excerpts: the leading paragraphs of a story); 0 */
    double lead_threshold;          /* Jaccard of those leads that LSH aims at, 0..1; 0.3 */
    cd_verify verify;               /* CD_VERIFY_ESTIMATE */
    unsigned min_line_tokens;       /* with verify exact: the shingles of lines (or
                                       hard-wrapped paragraphs) of fewer tokens are left
                                       out of the sets compared (bylines, dates, lists of
                                       headlines left over from the chrome), unless
                                       every line is that short; 0 = keep all. 15 */
    cd_cluster_method cluster;      /* CD_CLUSTER_COMPONENTS */
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

/* The resolved parameters (bands, rows and threads filled in). */
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

/* The first of two passes, for learning the chrome without keeping the
 * texts (boilerplate on and no model given). Call it with every document,
 * in input order, before any cd_dedup_add; then cd_dedup_add the same
 * documents again in the same order. The first pass registers each
 * document (statuses[i]: CD_OK, or CD_ERR_DUPLICATE_ID for an id seen
 * before, as cd_dedup_add gives) and counts its lines, keeping only its id,
 * date and length; the second signs each one with the finished model as it
 * comes, so no text is held, and gives the same results as adding the
 * documents once. In the second pass a repeated id gets
 * CD_ERR_DUPLICATE_ID again, and a document the first pass did not have
 * fails the batch with CD_ERR_STATE; cd_dedup_run fails with CD_ERR_STATE
 * unless every registered document was added again. Errors: CD_ERR_STATE
 * (not learning, documents already added, or after the run), CD_ERR_NOMEM
 * (the batch is then not registered). */
cd_status cd_dedup_learn(cd_dedup *dedup, const cd_doc *docs, size_t n, cd_status *statuses);

/* Whether cd_dedup_run keeps every verified pair for cd_dedup_pair (keep
 * != 0, the default). With keep 0 and components clustering, the run
 * verifies a candidate pair only when its documents are not yet in one
 * cluster: the clusters, representatives and similarities are the same,
 * cd_dedup_pair_count is 0, and a story with many copies costs about one
 * verification per copy instead of one per pair. Call before the run.
 * Errors: CD_ERR_STATE (after the run). */
cd_status cd_dedup_keep_pairs(cd_dedup *dedup, int keep);

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

/* Verified pairs (edges) after cd_dedup_run, sorted by (a, b) with a < b;
 * none unless pairs were kept (cd_dedup_keep_pairs). */
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
    size_t candidate_pairs; /* distinct pairs proposed by LSH; without kept
                               pairs, those verified (not yet in one cluster) */
    size_t verified_pairs;  /* of those, the pairs at or above the threshold */
    size_t oversized_buckets; /* buckets over max_bucket */
    size_t clusters;        /* clusters of size >= 2 */
    size_t largest_cluster;
    size_t removed;         /* documents that are not representatives */
    double seconds_sign;    /* normalise + shingle + hash + MinHash */
    double seconds_lsh;     /* band keys, sort, candidate pairs */
    double seconds_verify;
    double seconds_cluster;
    size_t bytes_text;      /* bytes of text signed */
    /* Added with issue 8. */
    size_t html_extracted;  /* documents whose text was HTML */
    size_t chrome_lines;    /* lines removed as boilerplate */
    size_t chrome_documents; /* documents with at least one line removed */
    size_t all_chrome;      /* documents that were all chrome (compared whole) */
    double seconds_boilerplate; /* learning the chrome (included in no other stage) */
    size_t bytes_learning;  /* peak memory held for learning: kept texts + counts */
} cd_dedup_stats;

void cd_dedup_get_stats(const cd_dedup *dedup, cd_dedup_stats *out);

/* The message of the last failed call. */
const char *cd_dedup_errmsg(const cd_dedup *dedup);

/* ------------------------------------------------------------ boilerplate */

/* A model of page chrome learned from a corpus (issue 8): the lines that
 * are chrome of one source (they occur in documents of at least
 * params.boilerplate_min_stories different stories of that source) and the
 * lines that are chrome of every source (they occur in at least
 * params.boilerplate_min_sources sources and that many stories). A line is
 * a line of text, or a paragraph hard-wrapped over several; lines are
 * compared by their letters and digits only, case-folded for ASCII, so no
 * language is special. Two documents belong to different stories when they
 * share none of their long lines that occur once in their source; exact or
 * near copies of one story therefore never make its text chrome. A source
 * is the document's source field, else its URL's host. A model is
 * read-only once made and may be shared by any number of threads. See
 * docs/boilerplate.md. */
typedef struct cd_boilerplate cd_boilerplate;
typedef struct cd_boilerplate_learner cd_boilerplate_learner;

/* Creates a learner with params' boilerplate thresholds and extract_html.
 * Errors: CD_ERR_ARG (bad params), CD_ERR_NOMEM. */
cd_status cd_boilerplate_learner_create(const cd_params *params, cd_boilerplate_learner **out);

/* Frees a learner; NULL is a no-op. */
void cd_boilerplate_learner_free(cd_boilerplate_learner *learner);

/* Counts the lines of n documents (HTML extracted first when
 * params.extract_html is set). Memory grows by about 40 bytes per distinct
 * (source, line) and 4 per line. Errors: CD_ERR_NOMEM, CD_ERR_STATE (after
 * finish). */
cd_status cd_boilerplate_learner_add(cd_boilerplate_learner *learner, const cd_doc *docs,
                                     size_t n);

/* Decides which lines are chrome and returns the model in *model (free it
 * with cd_boilerplate_free), on params.threads threads (0: all cores; the
 * model does not depend on it). Call once. Errors: CD_ERR_NOMEM,
 * CD_ERR_STATE. */
cd_status cd_boilerplate_learner_finish(cd_boilerplate_learner *learner,
                                        cd_boilerplate **model);

const char *cd_boilerplate_learner_errmsg(const cd_boilerplate_learner *learner);

/* Frees a model; NULL is a no-op. */
void cd_boilerplate_free(cd_boilerplate *model);

/* What a model holds. */
typedef struct cd_boilerplate_info {
    uint64_t documents;     /* documents it was learned from */
    size_t sources;         /* sources it knows */
    size_t lines;           /* chrome lines (entries) */
    unsigned min_stories, min_sources; /* the thresholds it was learned with */
} cd_boilerplate_info;

void cd_boilerplate_get_info(const cd_boilerplate *model, cd_boilerplate_info *out);

/* One chrome line of a model. Strings belong to the model. */
typedef struct cd_boilerplate_line {
    cd_str source;    /* the source, or ptr NULL for a line of every source */
    cd_str text;      /* the line as first seen recurring (may be empty if unknown) */
    uint64_t key;     /* hash of its letters and digits */
    uint64_t documents; /* documents of that source (or of all) it occurs in */
    uint64_t stories;   /* different stories among them */
} cd_boilerplate_line;

/* Entries are ordered by source, then documents (most first), then key; the
 * lines of every source come first. Errors: CD_ERR_ARG (index out of range). */
cd_status cd_boilerplate_get_line(const cd_boilerplate *model, size_t index,
                                  cd_boilerplate_line *out);

/* The model as bytes: a versioned, checksummed format with a fixed byte
 * order (docs/boilerplate.md). cd_boilerplate_save_size gives the size;
 * cd_boilerplate_save writes it to buf (of size bytes). Errors: CD_ERR_ARG
 * (buf too small). The CLI writes the file, atomically. */
size_t cd_boilerplate_save_size(const cd_boilerplate *model);
cd_status cd_boilerplate_save(const cd_boilerplate *model, void *buf, size_t size);

/* Reads a model saved by cd_boilerplate_save. Errors: CD_ERR_FORMAT (not a
 * model, another format version, truncated, or a checksum mismatch; err
 * says which), CD_ERR_NOMEM. */
cd_status cd_boilerplate_load(const void *bytes, size_t size, cd_boilerplate **out, char *err,
                              size_t err_size);

/* Makes signer remove model's chrome before normalising (NULL: none). The
 * model is borrowed: it must outlive the signer's use of it. */
cd_status cd_signer_set_boilerplate(cd_signer *signer, const cd_boilerplate *model);

/* The text signer would tokenise for doc (the title aside): HTML
 * extracted, chrome removed. Valid until the next call on signer. For tests
 * and inspection. Errors: CD_ERR_NOMEM. */
cd_status cd_signer_text(cd_signer *signer, const cd_doc *doc, cd_str *text);

/* Makes the engine remove model's chrome instead of learning it (call
 * before the first cd_dedup_add; the model is borrowed and must outlive the
 * engine). NULL restores learning (when params.boilerplate is set).
 * Errors: CD_ERR_STATE (documents already added). */
cd_status cd_dedup_set_boilerplate(cd_dedup *dedup, const cd_boilerplate *model);

/* The model the engine used: the one given, or after cd_dedup_run the one
 * it learned (owned by the engine); NULL when boilerplate removal is off or
 * before a learning run. */
const cd_boilerplate *cd_dedup_boilerplate(const cd_dedup *dedup);

/* 1 when text looks like HTML: it starts with <!doctype html> or <html>, or
 * it holds at least two tags of HTML elements, one of them a closing tag or
 * <br> (so "<SRD>"-style tickers in plain text do not count). Thread-safe. */
int cd_looks_like_html(cd_str text);

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

/* ------------------------------------------------------------------ index */

/* A persistent, incremental index: documents are added one batch at a time
 * and each is matched against every live document indexed before it, so a
 * copy joins the story of its best match. An index is a directory holding a
 * checkpoint (read through mmap, every block checksummed), an append-only
 * log of the batches added since (replayed at open) and a lock file; its
 * format is in docs/index-format.md. One writer at a time (a file lock);
 * any number of readers, concurrently with it. A handle is not thread-safe;
 * separate handles (and processes) are. */
typedef struct cd_index cd_index;

#define CD_INDEX_NONE ((size_t)-1)

typedef struct cd_index_options {
    int writable;           /* 1: take the writer lock (add, evict, compact) */
    unsigned threads;       /* signing threads; 0 = all online cores */
    size_t checkpoint_docs; /* add writes a checkpoint once the log holds
                               max(checkpoint_docs, documents / 4)
                               documents; 0 = never; 65536 */
    int verify;             /* 1: verify every checksum at open (reads the
                               whole checkpoint); 0 = verify each block the
                               first time it is read */
    const cd_params *expect; /* NULL, or parameters the index must have been
                               created with (threads and keep are ignored) */
    int sync;               /* 1: fsync before acknowledging (the default);
                               0: never fsync: faster, but a crash of the
                               machine (not of the process) may lose or tear
                               what was acknowledged. For tests and bulk
                               loads that can be redone. */
    const cd_boilerplate *boilerplate; /* create only: a chrome model (learned
                               with cd_boilerplate_learner_*) stored in the
                               index and removed from every document added or
                               queried; NULL: none. The index never learns
                               one. Copied; open uses the stored model. */
} cd_index_options;

/* Fills *options with the defaults above (read-only, sync on). */
void cd_index_options_init(cd_index_options *options);

/* Creates an empty index in directory path (created if missing; it must
 * not already hold an index) with *params (resolved privately), and opens
 * it for writing (options->writable is implied; NULL options = defaults).
 * The index scores pairs as the batch engine does with verify estimate:
 * the signature estimate of Jaccard, or of containment (with the shingle
 * counts) for match containment, and with lead_shingles it also proposes
 * the candidates whose leading shingles are similar (excerpts).
 * Errors: CD_ERR_ARG (bad params; verify exact, which needs the shingle
 * sets the index does not keep; or path already holds an index),
 * CD_ERR_IO, CD_ERR_NOMEM. On error *out is NULL and err holds the message
 * (when err_size > 0). */
cd_status cd_index_create(const char *path, const cd_params *params,
                          const cd_index_options *options, cd_index **out, char *err,
                          size_t err_size);

/* Opens the index in directory path with the parameters it was created
 * with. Replays the log; an incomplete last batch (an add interrupted before
 * it returned) is dropped, and cd_index_warning says so.
 * Errors: CD_ERR_IO (missing, unreadable, or locked by another writer),
 * CD_ERR_FORMAT (corrupt or truncated checkpoint or log, other format
 * version, or signatures this build computes differently),
 * CD_ERR_ARG (options->expect differs: the message names the parameter),
 * CD_ERR_NOMEM. On error *out is NULL and err holds the message. */
cd_status cd_index_open(const char *path, const cd_index_options *options, cd_index **out,
                        char *err, size_t err_size);

/* Closes the index and releases the lock; NULL is a no-op. Everything
 * acknowledged is already durable: free writes nothing. */
void cd_index_free(cd_index *index);

/* The index's resolved parameters. */
const cd_params *cd_index_params(const cd_index *index);

/* The chrome model stored in the index (owned by it), or NULL. */
const cd_boilerplate *cd_index_boilerplate(const cd_index *index);

/* Where a document landed (add) or would land (query). */
typedef struct cd_index_result {
    int copy;           /* 1: joined an existing story; 0: a new story */
    int empty;          /* no tokens: a new story that never matches */
    size_t doc;         /* its document number (add); CD_INDEX_NONE (query) */
    size_t story;       /* story number (query, new story: CD_INDEX_NONE) */
    size_t story_doc;   /* document number of the story's representative
                           (its first document); for a new story the
                           document itself (query: CD_INDEX_NONE) */
    double similarity;  /* estimated score (Jaccard or containment) with its
                           best match; 1 if new */
    int64_t first_seen; /* time of the story's earliest document, this one
                           included (its date, or the ingest time) */
    size_t copies;      /* documents in the story after this add */
} cd_index_result;

/* Adds docs[0..n) in order: each is signed (on options.threads threads),
 * matched against every live document indexed before it (earlier documents
 * of the same batch included) and joins the story of its best match at or
 * above the threshold (highest estimated score, Jaccard or containment as
 * params.match says; ties go to the earliest story), or starts a story. A document without a parseable date
 * gets ingest_time (seconds since 1970, usually time(NULL)). The batch is
 * appended to the log and fsynced before the call returns: *added documents
 * are durable, and results[0..*added) describe them. When the log reaches
 * the checkpoint size a checkpoint is written after that.
 * Stops early at the first document whose id is missing, empty, contains a
 * NUL (CD_ERR_INPUT) or is already indexed in a live story or earlier in the
 * batch (CD_ERR_DUPLICATE_ID): *added is then its position, and the
 * documents before it were added. Other errors: CD_ERR_STATE (read-only or
 * unusable handle), CD_ERR_NOMEM, CD_ERR_IO, CD_ERR_FORMAT (corrupt
 * checkpoint); *added is then 0 and nothing of the batch was added, except
 * for an error of the checkpoint that follows a durable batch (*added > 0). */
cd_status cd_index_add(cd_index *index, const cd_doc *docs, size_t n, int64_t ingest_time,
                       cd_index_result *results, size_t *added);

/* What cd_index_add would answer for each of docs[0..n) on its own, without
 * adding anything (documents of the batch do not see each other; ids are
 * not checked, so an indexed document finds itself). Works on read-only
 * handles. Errors: CD_ERR_NOMEM, CD_ERR_FORMAT, CD_ERR_STATE. */
cd_status cd_index_query(cd_index *index, const cd_doc *docs, size_t n, int64_t ingest_time,
                         cd_index_result *results);

/* The id of document doc (NUL-terminated), or NULL when doc is out of range
 * or unreadable (corrupt). Valid until the next add, evict, compact or free. */
const char *cd_index_doc_id(cd_index *index, size_t doc);

/* Number of documents in the index, evicted ones included (until compact). */
size_t cd_index_doc_count(const cd_index *index);

/* One indexed document, as stored. */
typedef struct cd_index_doc_info {
    const char *id;    /* NUL-terminated; valid as cd_index_doc_id's */
    size_t story;      /* story number */
    size_t story_doc;  /* the story's representative */
    double similarity; /* with its best match when added; 1 for a representative */
    int64_t time;      /* its date, or the ingest time when undated */
    int dated, empty, evicted;
} cd_index_doc_info;

/* Describes document doc. Errors: CD_ERR_ARG (doc out of range),
 * CD_ERR_FORMAT (corrupt checkpoint). */
cd_status cd_index_doc(cd_index *index, size_t doc, cd_index_doc_info *out);

/* Evicts every story whose newest document is older than before (seconds
 * since 1970): they no longer match, their ids may be added again, and
 * cd_index_compact reclaims their space. Stories added later with older
 * documents are evicted too (the window only moves forward; an earlier
 * cutoff than the current one changes nothing). Durable on return. *stories
 * and *docs (either may be NULL) receive how many became evicted. Errors:
 * CD_ERR_STATE (read-only), CD_ERR_IO, CD_ERR_NOMEM, CD_ERR_FORMAT. */
cd_status cd_index_evict(cd_index *index, int64_t before, size_t *stories, size_t *docs);

/* Writes a checkpoint (and empties the log) now. */
cd_status cd_index_checkpoint(cd_index *index);

/* Writes a checkpoint without the evicted stories and their documents;
 * documents and stories are renumbered (in the same order). */
cd_status cd_index_compact(cd_index *index);

/* Reads and verifies every checksum of the checkpoint. Errors: CD_ERR_FORMAT. */
cd_status cd_index_verify(cd_index *index);

typedef struct cd_index_stats {
    size_t documents, stories;                 /* live + evicted */
    size_t live_documents, live_stories;
    size_t evicted_documents, evicted_stories;
    size_t empty_documents, undated_documents;
    size_t log_documents;   /* added since the last checkpoint */
    uint64_t checkpoint_bytes, log_bytes;
    uint64_t generation;    /* checkpoints written since creation */
    int64_t evict_before;   /* INT64_MIN when nothing was evicted */
    int64_t oldest, newest; /* document times; 0 when empty */
} cd_index_stats;

/* Counts (reads the story table). Errors: CD_ERR_FORMAT, CD_ERR_IO. */
cd_status cd_index_get_stats(cd_index *index, cd_index_stats *out);

/* The message of the last failed call. */
const char *cd_index_errmsg(const cd_index *index);

/* A warning from open (a dropped log tail), or "" when there was none. */
const char *cd_index_warning(const cd_index *index);

/* ------------------------------------------------------------ fetch / feed */

/* Feeds (issue 6): RSS 2.0, RSS 1.0 (RDF) and Atom parsed with libxml2,
 * JSON Feed with cJSON, into items with a stable key, a title, a link, a
 * date and plain text; and a fetcher that downloads many URLs at once with
 * libcurl's multi interface. Only the fetcher touches the network. */

typedef enum cd_feed_format {
    CD_FEED_RSS = 1,  /* RSS 0.9x / 2.0: <rss><channel><item> */
    CD_FEED_RDF = 2,  /* RSS 1.0: <rdf:RDF><item> */
    CD_FEED_ATOM = 3, /* Atom 1.0 (and 0.3): <feed><entry> */
    CD_FEED_JSON = 4  /* JSON Feed 1.0 / 1.1 */
} cd_feed_format;

typedef struct cd_feed_options {
    size_t max_items;      /* items kept per feed, later ones counted as skipped; 10000 */
    size_t max_text_bytes; /* bytes kept of an item's text (cut at a character); 1 MiB */
} cd_feed_options;

/* Fills *options with the defaults above. */
void cd_feed_options_init(cd_feed_options *options);

/* A parsed feed: read-only, owned by the caller, freed with cd_feed_free. */
typedef struct cd_feed cd_feed;

/* Parses a feed document. The format is recognised from the content (a
 * JSON object or an XML root element rss, rdf:RDF or feed), never from a
 * file name or a Content-Type; an HTML page is refused. XML is parsed
 * without network access and without loading or substituting entities (a
 * reference to an entity declared in an internal DTD stays literal text,
 * counted in entities_dropped). Invalid UTF-8 (in a document that is, or
 * says it is, UTF-8) is replaced by U+FFFD and counted. Malformed XML is
 * parsed in recovery mode, after bare '&'s and HTML entities (&nbsp;) are
 * repaired: the items recovered are kept, info.recovered is set and
 * info.warning says what was wrong and where. Every string is valid UTF-8.
 * Relative links are resolved against xml:base and base_url (may be
 * NULL). An item's key is its guid (RSS), id (Atom, JSON Feed), else its
 * link, else a hash of its title and date; items without any of these are
 * skipped, and a key seen earlier in the same feed makes the item a
 * duplicate (dropped, counted). options may be NULL (defaults).
 * Errors: CD_ERR_FORMAT (not a feed: neither JSON nor XML, an unknown root,
 * or XML too broken to recover; err says which), CD_ERR_LIMIT (over 2 GiB),
 * CD_ERR_ARG, CD_ERR_NOMEM. On error *out is NULL and err holds the message
 * (when err_size > 0). Thread-safe (each call has its own parser). */
cd_status cd_feed_parse(const void *bytes, size_t len, const char *base_url,
                        const cd_feed_options *options, cd_feed **out, char *err, size_t err_size);

/* Frees a feed; NULL is a no-op. */
void cd_feed_free(cd_feed *feed);

/* What a parse found. Strings belong to the feed. */
typedef struct cd_feed_info {
    cd_feed_format format;
    cd_str title;            /* the feed's title (plain text), ptr NULL if none */
    cd_str link;             /* its home page, ptr NULL if none */
    size_t items;            /* items kept */
    size_t duplicate_items;  /* items dropped: their key occurred earlier in the feed */
    size_t skipped_items;    /* items dropped: no key, or over max_items */
    size_t invalid_utf8;     /* invalid byte sequences replaced */
    size_t entities_dropped; /* references to DTD-declared entities not expanded */
    int recovered;           /* 1: malformed XML, parsed in recovery mode */
    const char *warning;     /* the first problem ("line 12: ..."), or "" */
} cd_feed_info;

void cd_feed_get_info(const cd_feed *feed, cd_feed_info *out);

/* One item. Strings belong to the feed; a field absent from the item has
 * ptr == NULL. title and text are plain text: HTML tags removed, entities
 * decoded, white space collapsed (text keeps blank lines between paragraphs). */
typedef struct cd_feed_item {
    cd_str key;  /* never empty: guid / id, else link, else "hash:" + 16 hex */
    cd_str link; /* absolute URL of the item's page */
    cd_str title;
    cd_str published;       /* the date as written: pubDate, dc:date, published,
                               updated, date_published, date_modified */
    int64_t published_time; /* seconds since 1970, when dated */
    int dated;              /* 1 when published parsed (cd_parse_date) */
    cd_str text;            /* full content when the feed has it (content:encoded,
                               Atom content, content_text / content_html), else the
                               description / summary */
    cd_str author;
} cd_feed_item;

/* Items in document order. Errors: CD_ERR_ARG (index out of range). */
size_t cd_feed_item_count(const cd_feed *feed);
cd_status cd_feed_get_item(const cd_feed *feed, size_t index, cd_feed_item *out);

/* The main text of an article page: the page decoded from charset (from
 * the Content-Type header; NULL or "" = from a <meta> charset in the page,
 * else UTF-8, with invalid bytes replaced), then reduced with the extract
 * stage (script, style, navigation, header, footer, aside and forms
 * dropped; one paragraph per block element). *text is NUL-terminated, owned
 * by the caller and freed with cd_text_free. Errors: CD_ERR_NOMEM,
 * CD_ERR_LIMIT (over 2 GiB). Thread-safe. */
cd_status cd_article_text(const void *html, size_t len, const char *charset, char **text,
                          size_t *text_len);

/* Frees a text returned by the engine; NULL is a no-op. */
void cd_text_free(char *text);

/* Downloads URLs concurrently with libcurl's multi interface: at most
 * max_parallel transfers at once and max_per_host per host (scheme, host
 * and port); conditional GET (If-None-Match / If-Modified-Since from the
 * validators given); any compression curl supports; connect and total
 * timeouts per attempt; a body limit enforced while receiving (on the
 * decoded bytes); a redirect limit; retries with exponential backoff after
 * timeouts, connection failures, 429 and 5xx (Retry-After honoured up to
 * max_backoff_ms); only http and https, for the URL and every redirect;
 * and, for requests that ask for it, robots.txt (RFC 9309) fetched once per
 * host and cached. A fetcher is not thread-safe; separate fetchers are. */
typedef struct cd_fetcher cd_fetcher;

typedef struct cd_fetch_options {
    unsigned max_parallel;    /* transfers at once; 16 */
    unsigned max_per_host;    /* transfers at once per host; 2 */
    long connect_timeout_ms;  /* per attempt; 10000 */
    long timeout_ms;          /* whole attempt, redirects included; 30000 */
    size_t max_body;          /* bytes of decoded body; 8 MiB */
    unsigned max_redirects;   /* 5 */
    unsigned retries;         /* attempts after the first; 3 */
    long backoff_ms;          /* wait before the first retry, doubled each time; 1000 */
    long max_backoff_ms;      /* longest wait; 60000 */
    const char *user_agent;   /* "copydesk/0.1"; operators should add a contact URL */
    const char *robots_agent; /* product token looked up in robots.txt; "copydesk" */
    long robots_ttl;          /* seconds a robots.txt stays cached; 86400 */
} cd_fetch_options;

/* Fills *options with the defaults above. */
void cd_fetch_options_init(cd_fetch_options *options);

/* How a request ended. */
typedef enum cd_fetch_outcome {
    CD_FETCH_OK = 0,       /* a 2xx response; the body is in the result */
    CD_FETCH_NOT_MODIFIED, /* 304: the validators still hold */
    CD_FETCH_HTTP_ERROR,   /* another status (5xx and 429 after the last retry) */
    CD_FETCH_TIMEOUT,      /* connect or total timeout, after the last retry */
    CD_FETCH_TOO_LARGE,    /* the body passed max_body (announced or received) */
    CD_FETCH_TOO_MANY_REDIRECTS,
    CD_FETCH_REFUSED,       /* not an http or https URL, a redirect to one, or
                               a private address with public_only */
    CD_FETCH_ROBOTS_DENIED, /* robots.txt disallows it (not fetched) */
    CD_FETCH_NETWORK_ERROR, /* resolve, connect, TLS, reset, ... after the last retry */
    CD_FETCH_CANCELLED      /* cd_fetcher_run was cancelled before it finished */
} cd_fetch_outcome;

/* A short, static name of an outcome ("ok", "not modified", "timeout", ...). */
const char *cd_fetch_outcome_name(cd_fetch_outcome outcome);

typedef struct cd_fetch_request {
    const char *url;           /* http:// or https:// */
    const char *etag;          /* validator from an earlier response, or NULL */
    const char *last_modified; /* validator from an earlier response, or NULL */
    const char *accept;        /* Accept header, or NULL for curl's default */
    int robots;                /* 1: fetch only if robots.txt allows it */
    int public_only;           /* 1: refuse to connect (also after a redirect, and
                                  for its robots.txt) to a loopback, private,
                                  link-local, shared or unspecified address:
                                  for URLs taken from untrusted documents */
} cd_fetch_request;

/* A finished request. Strings belong to the fetcher and stay valid until
 * cd_fetcher_reset or cd_fetcher_free; absent ones are NULL. */
typedef struct cd_fetch_result {
    cd_fetch_outcome outcome;
    long http_status; /* of the last response, 0 if none */
    const char *body; /* NUL-terminated (the NUL not counted) when OK */
    size_t body_len;
    const char *final_url; /* after redirects */
    const char *etag;      /* validators of the response (OK or 304) */
    const char *last_modified;
    const char *content_type;
    unsigned attempts; /* 1 + retries made */
    double seconds;    /* from the first attempt's start to the end, waits included */
    const char *error; /* what went wrong ("" when OK or NOT_MODIFIED) */
} cd_fetch_result;

/* Hooks called by cd_fetcher_run on its own thread. Any may be NULL. */
typedef struct cd_fetch_hooks {
    /* Polled at least every 100 ms: 0 goes on, 1 starts no new attempt
     * (waiting requests end CD_FETCH_CANCELLED, transfers in flight finish),
     * 2 also aborts the transfers in flight. */
    int (*cancel)(void *user);
    /* Request id has finished; its result may be read, and new requests may
     * be added (they are run by the same call). */
    void (*done)(void *user, size_t id);
    void *user;
} cd_fetch_hooks;

/* Creates a fetcher (options NULL = defaults). Errors: CD_ERR_ARG (a zero
 * limit or a negative time, with err naming it), CD_ERR_NOMEM, CD_ERR_IO
 * (libcurl could not start). */
cd_status cd_fetcher_create(const cd_fetch_options *options, cd_fetcher **out, char *err,
                            size_t err_size);

/* Frees a fetcher, its connections, results and robots cache; NULL is a no-op. */
void cd_fetcher_free(cd_fetcher *fetcher);

/* Queues a request; *id (0, 1, ... since the last reset) names its result.
 * A URL that is not http or https is not refused here: its result is
 * CD_FETCH_REFUSED. Errors: CD_ERR_ARG (url NULL), CD_ERR_NOMEM. */
cd_status cd_fetcher_add(cd_fetcher *fetcher, const cd_fetch_request *request, size_t *id);

/* Runs every queued request to its end (retries and robots.txt included).
 * hooks may be NULL. Errors: CD_ERR_NOMEM, CD_ERR_IO (libcurl's multi
 * interface failed); requests not finished then end CD_FETCH_CANCELLED. */
cd_status cd_fetcher_run(cd_fetcher *fetcher, const cd_fetch_hooks *hooks);

/* Requests queued since the last reset. */
size_t cd_fetcher_count(const cd_fetcher *fetcher);

/* The result of request id. Errors: CD_ERR_ARG (no such id),
 * CD_ERR_STATE (not finished). */
cd_status cd_fetcher_result(const cd_fetcher *fetcher, size_t id, cd_fetch_result *out);

/* Forgets every request and result (keeps connections and robots.txt). */
void cd_fetcher_reset(cd_fetcher *fetcher);

/* Counters since the fetcher was created. */
typedef struct cd_fetch_stats {
    size_t requests, attempts, retries;
    size_t robots_fetched, robots_denied;
    uint64_t bytes; /* decoded body bytes received */
} cd_fetch_stats;

void cd_fetcher_get_stats(const cd_fetcher *fetcher, cd_fetch_stats *out);

/* The message of the last failed call. */
const char *cd_fetcher_errmsg(const cd_fetcher *fetcher);

#ifdef __cplusplus
}
#endif

#endif /* COPYDESK_H */
