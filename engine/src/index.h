/* index.h: the persistent incremental index (cd_index_*), the streaming
 * counterpart of the batch engine: signatures go in one document at a time
 * and each is matched against everything indexed before it. Internal
 * structures shared by index.c (API, matching, overlay), index_ckpt.c (the
 * mapped checkpoint and its writer), index_log.c (the append-only log) and
 * index_params.c (the parameter record). The on-disk format is described in
 * docs/index-format.md. */
#ifndef CD_INDEX_H
#define CD_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "copydesk/copydesk.h"
#include "idset.h"

/* ------------------------------------------------------------ byte order */

/* Every integer on disk is little-endian; these read and write one at any
 * alignment. On a little-endian host they are plain loads and stores. */
static inline uint32_t cd__get32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t cd__get64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void cd__put32(void *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

static inline void cd__put64(void *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* A float as its IEEE 754 binary32 bits, little-endian. */
static inline float cd__getf32(const void *p)
{
    uint32_t bits = cd__get32(p);
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

static inline void cd__putf32(void *p, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    cd__put32(p, bits);
}

/* 1 when arrays of little-endian integers on disk can be used in place. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CD__HOST_LE 0
#else
#define CD__HOST_LE 1
#endif

/* ------------------------------------------------------------- constants */

#define CD__INDEX_FORMAT_VERSION 1
#define CD__INDEX_BLOCK 4096      /* bytes per checksummed block of a section */
#define CD__INDEX_ALIGN 64        /* sections start at multiples of this */
#define CD__INDEX_NONE UINT32_MAX /* no document / no story */

/* Section types, in file order. Each is an array of little-endian records
 * (docs/index-format.md). */
enum {
    CD__SEC_DOCS = 0,       /* 40 bytes per document */
    CD__SEC_IDS,            /* ids, each followed by a NUL */
    CD__SEC_SIGNATURES,     /* perm uint32 per document */
    CD__SEC_STORIES,        /* 24 bytes per story */
    CD__SEC_BAND_KEYS,      /* uint64 band keys (bands, then lead bands), ascending */
    CD__SEC_BAND_DOCS,      /* uint32 document of each band key */
    CD__SEC_BAND_DIRECTORY, /* uint64 per key prefix: first entry at or above it */
    CD__SEC_ID_HASHES,      /* uint64 XXH3 of each id, ascending */
    CD__SEC_ID_DOCS,        /* uint32 document of each id hash */
    CD__SEC_ID_DIRECTORY,   /* as BAND_DIRECTORY, over ID_HASHES */
    CD__SEC_BOILERPLATE,    /* the chrome model (cd_boilerplate_save), or empty */
    CD__SEC_CHECKSUMS,      /* uint64 XXH3 of every block of every other section */
    CD__SEC_COUNT
};

/* Bits of key prefix indexed by the directory of a sorted table of n
 * entries: about 16 to 32 entries per prefix. */
static inline unsigned cd__index_directory_bits(uint64_t n)
{
    unsigned bits = 0;
    while (bits < 30 && (n >> (bits + 4)) >= 2)
        bits++;
    return bits;
}

#define CD__DOC_RECORD 40
#define CD__STORY_RECORD 24

/* Document flags (DOCS records and log records). */
enum {
    CD__DOC_DATED = 1, /* time is the document's own date, not the ingest time */
    CD__DOC_EMPTY = 2, /* no tokens: a story of its own, never matched */
};

/* ------------------------------------------------------------ parameters */

/* The canonical parameter record: one "name=value\n" line per cd_params
 * field that changes results, plus the normalisation version and the
 * boilerplate model (the XXH3 of its saved bytes, model; 0 = none). Written
 * into every checkpoint header; its XXH3 is the params fingerprint. Returns
 * the length written (NUL-terminated), or 0 when out of space. */
size_t cd__index_params_text(const cd_params *params, uint64_t model, char *out, size_t size);

/* Parses a record written by cd__index_params_text into *params (starting
 * from cd_params_init) and *model. Returns 0, or -1 with a message in err
 * (size CD_ERRMSG_SIZE) naming the bad line. */
int cd__index_params_parse(const char *text, size_t len, cd_params *params, uint64_t *model,
                           char *err);

/* Compares two parameter sets field by field; returns 0 when every recorded
 * field is equal, else -1 with "NAME is V1 in the index, V2 asked" in err. */
int cd__index_params_compare(const cd_params *index, const cd_params *asked, char *err);

/* The fields cd__index_params_text records or deliberately leaves out, for
 * the layout test that fails when cd_params gains a field no entry covers. */
typedef struct cd__param_field {
    const char *name;
    size_t offset, size;
    int recorded; /* 0: does not change what an index stores (threads, keep) */
} cd__param_field;
const cd__param_field *cd__index_param_fields(size_t *count);

/* XXH3-64 of the little-endian signature of a fixed probe document signed
 * with params (and model, when not NULL): any change to normalisation,
 * shingling, hashing or MinHash changes it. Errors: CD_ERR_NOMEM, CD_ERR_ARG. */
cd_status cd__index_probe(const cd_params *params, const cd_boilerplate *model, uint64_t *hash);

/* ------------------------------------------------------------ checkpoint */

typedef struct cd__section {
    uint64_t offset, length; /* in the file */
    uint64_t checksum;       /* XXH3 of this section's block checksums */
    size_t first_block, blocks;
} cd__section;

/* A mapped checkpoint. Sections are read in place; each block is verified
 * against its checksum the first time it is touched. */
typedef struct cd__ckpt {
    int fd;
    const unsigned char *map;
    size_t size;
    cd__section sec[CD__SEC_COUNT];
    uint8_t *verified; /* bitmap, one bit per block */
    size_t blocks;
    unsigned band_dir_bits, id_dir_bits;

    uint64_t generation, documents, stories, band_entries;
    unsigned lead_bands, lead_rows; /* bands of the lead signatures (0 = none) */
    int64_t evict_before, created, written;
    uint32_t normalise_version, minhash_scheme;
    uint64_t fingerprint, probe;
    uint64_t model;   /* XXH3 of the boilerplate section; 0 = none */
    cd_params params; /* from the parameter record */
} cd__ckpt;

/* Maps and checks path: header checksum, section bounds and the checksum
 * table (not the data blocks). Errors: CD_ERR_IO, CD_ERR_FORMAT,
 * CD_ERR_NOMEM, with a message in err naming path. *ck is zeroed first and
 * needs cd__ckpt_close even on error. */
cd_status cd__ckpt_open(cd__ckpt *ck, const char *path, char *err);
void cd__ckpt_close(cd__ckpt *ck);

/* Bytes [offset, offset+length) of section sec, after verifying the blocks
 * they lie in. NULL (with a message in err) when out of bounds or corrupt. */
const unsigned char *cd__ckpt_bytes(cd__ckpt *ck, int sec, uint64_t offset, uint64_t length,
                                    char *err);

/* Verifies every block. Errors: CD_ERR_FORMAT. */
cd_status cd__ckpt_verify(cd__ckpt *ck, char *err);

/* The same for keys[0..n) at once, into lo[i], hi[i], overlapping the
 * memory latency of the lookups. Errors: CD_ERR_FORMAT. */
cd_status cd__ckpt_find_many(cd__ckpt *ck, int keys_sec, const uint64_t *keys, size_t n,
                             uint64_t *lo, uint64_t *hi, char *err);

/* The entries of a sorted key table (band or id) holding key: [*lo, *hi).
 * Errors: CD_ERR_FORMAT. */
cd_status cd__ckpt_find(cd__ckpt *ck, int keys_sec, uint64_t key, uint64_t *lo, uint64_t *hi,
                        char *err);

/* --------------------------------------------------------------- overlay */

typedef struct cd__story {
    uint32_t rep;                  /* document number of its representative (first document) */
    uint32_t count;                /* documents in the story */
    int64_t first_seen, last_seen; /* earliest and latest document time */
} cd__story;

/* Documents added since the checkpoint, in memory. Local document i is
 * document ckpt.documents + i. */
typedef struct cd__overlay {
    size_t count, cap;
    int64_t *time;
    uint64_t *id_hash;
    size_t *id_off; /* into ids */
    uint32_t *id_len, *story, *flags, *size;
    float *score;
    uint32_t *sigs; /* count * perm */
    char *ids;
    size_t ids_used, ids_cap;

    /* The band map: entry e = local document * all_bands + band (bands of
     * the signature, then lead bands) has key ekeys[e]; the entries of each
     * hash bucket are chained newest first from bheads[] through enext[]. */
    uint32_t *bheads; /* per bucket, CD__INDEX_NONE = empty; a power of two */
    size_t bhead_count;
    uint64_t *ekeys;
    uint32_t *enext;

    cd__idset id_set; /* local documents by id_hash */

    cd__story *stories; /* stories created since the checkpoint */
    size_t story_count, story_cap;

    uint32_t *dirty_keys; /* checkpoint stories changed since, CD__INDEX_NONE = empty */
    cd__story *dirty_vals;
    size_t dirty_count, dirty_slot_count;
} cd__overlay;

/* One change to undo if a batch fails. */
typedef struct cd__undo {
    uint32_t story;
    uint32_t kind; /* 0: restore old; 1: remove from the dirty map */
    cd__story old;
} cd__undo;

/* --------------------------------------------------------------- handle */

struct cd_index {
    char *dir, *ckpt_path, *log_path, *lock_path, *ckpt_tmp, *log_tmp;
    int writable;
    int broken; /* a failed checkpoint left memory out of step with disk */
    int sync;   /* fsync files and the directory (cd_index_options.sync) */
    int lock_fd, log_fd;
    cd_params params;               /* resolved, from the checkpoint */
    unsigned lead_bands, lead_rows; /* bands of the lead signatures (0 = none) */
    unsigned all_bands;             /* params.bands + lead_bands */
    unsigned thread_count;
    size_t checkpoint_docs;

    uint64_t probe;             /* cd__index_probe of params */
    int64_t created;            /* when the index was created */
    cd_boilerplate *model;      /* the stored chrome model, or NULL */
    unsigned char *model_bytes; /* as saved (written into each checkpoint) */
    size_t model_len;
    uint64_t model_hash; /* XXH3 of model_bytes; 0 = no model */

    cd__ckpt ck;
    cd__overlay ov;
    int64_t evict_before;       /* checkpoint + log */
    uint64_t log_size;          /* bytes of the log up to its last complete batch */
    size_t log_docs;            /* ADD records in the log */
    uint32_t log_batch_records; /* records encoded since cd__log_begin */
    uint64_t log_batch_chain;   /* running hash of their checksums */

    cd_signer **signers;
    uint32_t *sigs; /* batch signatures */
    size_t sigs_cap;
    uint32_t *leads; /* batch lead signatures (lead_bands > 0) */
    size_t leads_cap;
    uint32_t *sizes; /* batch shingle counts */
    size_t sizes_cap;
    uint8_t *empty;
    size_t empty_cap;
    uint32_t *cands; /* distinct candidates of one lookup */
    size_t cands_cap;
    uint32_t *cset;   /* open-addressing set of them, CD__INDEX_NONE = empty */
    size_t cset_cap;  /* a power of two */
    uint32_t *bucket; /* the overlay documents of one band key */
    size_t bucket_cap;
    uint64_t *band_keys;         /* all_bands keys of the document being matched */
    uint64_t *band_lo, *band_hi; /* their checkpoint ranges */
    uint32_t *band_heads;        /* their overlay chains */
    cd__undo *undo;
    size_t undo_count, undo_cap;
    unsigned char *logbuf;
    size_t logbuf_used, logbuf_cap;
    uint32_t sig_scratch[1024];  /* a signature converted from disk order */
    uint64_t lead_scratch[1024]; /* lead keys of a log record */

    char errmsg[CD_ERRMSG_SIZE];
    char warning[CD_ERRMSG_SIZE];
};

/* ------------------------------------------------- state used by the files */

/* Per-document accessors over checkpoint + overlay. On a corrupt checkpoint
 * they return -1 / NULL with x->errmsg set. */
int cd__index_story(cd_index *x, uint32_t story, cd__story *out);
size_t cd__index_story_count(const cd_index *x);
size_t cd__index_doc_count(const cd_index *x);

/* A document as the log and the checkpoint writer see it. */
typedef struct cd__doc_rec {
    const char *id;
    uint32_t id_len;
    uint64_t id_hash;
    int64_t time;
    uint32_t flags, story;
    float score;               /* with its best match when added; 1 if it started a story */
    uint32_t size;             /* shingles, with repeats (the containment estimate's |A|) */
    const uint32_t *sig;       /* native order, perm values */
    const uint64_t *lead_keys; /* lead_bands band keys of its lead signature, or NULL */
} cd__doc_rec;

/* The seed of the lead bands' keys, as the batch engine hashes them. */
#define CD__LEAD_SEED_XOR 0x1eadbeefcafef00dull
int cd__index_doc(cd_index *x, uint32_t doc, cd__doc_rec *out);

/* Appends a decided document to the overlay; capacity must be reserved
 * (cd__index_reserve). story CD__INDEX_NONE creates a new story. Records
 * undo entries when undo is non-zero. Returns 0, or -1 when the story
 * cannot be read (corrupt checkpoint; x->errmsg says why). */
int cd__index_apply(cd_index *x, const cd__doc_rec *d, int undo);
/* Reserves overlay room for n more documents. Returns 0 or -1 (NOMEM). */
int cd__index_reserve(cd_index *x, size_t n, size_t id_bytes);

/* Writes a checkpoint of the current state (dropping evicted stories when
 * compact is set) as generation, to ckpt_tmp, then renames it into place.
 * Errors: CD_ERR_IO, CD_ERR_NOMEM, CD_ERR_FORMAT (corrupt source). */
cd_status cd__index_write_checkpoint(cd_index *x, int compact, uint64_t generation);

/* ------------------------------------------------------------------ log */

/* Opens or replays x->log_path into the overlay (x->ck must be open).
 * Drops an incomplete tail with a warning in x->warning; a writer truncates
 * it. Errors: CD_ERR_FORMAT, CD_ERR_IO, CD_ERR_NOMEM, and CD_ERR_STATE when
 * the log belongs to a newer checkpoint (a reader should retry). */
cd_status cd__log_open(cd_index *x);

/* Writes a fresh, empty log for generation to log_tmp, renames it into
 * place and (for a writer) reopens it for appending. */
cd_status cd__log_reset(cd_index *x, uint64_t generation);

/* Batch encoding into x->logbuf: begin, one record per document / evict,
 * commit; then cd__log_write appends the batch and fsyncs. */
void cd__log_begin(cd_index *x);
int cd__log_add(cd_index *x, const cd__doc_rec *d); /* 0 or -1 (NOMEM) */
int cd__log_evict(cd_index *x, int64_t before);
int cd__log_commit(cd_index *x);
cd_status cd__log_write(cd_index *x);

/* fsync / fdatasync / fsync of a directory, skipped (returning 0) when
 * x->sync is 0. Return 0 or -1 (errno set). */
int cd__fsync(const cd_index *x, int fd);
int cd__fdatasync(const cd_index *x, int fd);
int cd__fsync_dir(const cd_index *x, const char *dir);

#endif
