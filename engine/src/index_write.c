/* index_write.c: writes an index checkpoint: the mapped checkpoint and the
 * overlay merged into one file (without the evicted stories when
 * compacting), every section cut into 4 KiB blocks whose XXH3 checksums go
 * into a table the header checksums. Written to checkpoint.tmp, fsynced,
 * renamed over checkpoint and the directory fsynced, so a crash leaves
 * either the old checkpoint or the new one. Layout: docs/index-format.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "index.h"
#include "lsh.h"

#define HEADER_FIXED 160
#define SECTION_ENTRY 32
#define OUT_BUFFER ((size_t)1 << 20)
#define CHUNK 4096 /* table entries read from the old checkpoint at a time */

/* ---------------------------------------------------------------- writer */

typedef struct writer {
    int fd;
    cd_status status;
    int error;         /* errno of the failed write */
    uint64_t file_pos; /* file offset of out[0] */
    unsigned char *out;
    size_t out_used;
    unsigned char block[CD__INDEX_BLOCK];
    size_t block_used;
    unsigned char *sums; /* little-endian XXH3 of each block */
    size_t sums_used, sums_cap;
    uint64_t sec_start, sec_len;
    size_t sec_first;
} writer;

static uint64_t w_pos(const writer *w)
{
    return w->file_pos + w->out_used;
}

static void w_flush_out(writer *w)
{
    const unsigned char *p = w->out;
    size_t left = w->out_used;
    while (left > 0 && w->status == CD_OK) {
        ssize_t n = pwrite(w->fd, p, left, (off_t)w->file_pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            w->status = CD_ERR_IO;
            w->error = errno;
            break;
        }
        p += n;
        left -= (size_t)n;
        w->file_pos += (uint64_t)n;
    }
    w->out_used = 0;
}

static void w_raw(writer *w, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0 && w->status == CD_OK) {
        size_t take = OUT_BUFFER - w->out_used < len ? OUT_BUFFER - w->out_used : len;
        memcpy(w->out + w->out_used, p, take);
        w->out_used += take;
        p += take;
        len -= take;
        if (w->out_used == OUT_BUFFER)
            w_flush_out(w);
    }
}

static void w_flush_block(writer *w)
{
    if (w->block_used == 0 || w->status != CD_OK) {
        w->block_used = 0; /* after a failure, bytes are dropped */
        return;
    }
    if (cd__grow((void **)&w->sums, &w->sums_cap, w->sums_used + 8, 1) != 0) {
        w->status = CD_ERR_NOMEM;
        w->block_used = 0;
        return;
    }
    cd__put64(w->sums + w->sums_used, XXH3_64bits(w->block, w->block_used));
    w->sums_used += 8;
    w_raw(w, w->block, w->block_used);
    w->sec_len += w->block_used;
    w->block_used = 0;
}

static void w_put(writer *w, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0 && w->status == CD_OK) {
        size_t take = CD__INDEX_BLOCK - w->block_used;
        if (take > len)
            take = len;
        memcpy(w->block + w->block_used, p, take);
        w->block_used += take;
        p += take;
        len -= take;
        if (w->block_used == CD__INDEX_BLOCK)
            w_flush_block(w);
    }
}

static void w_u32(writer *w, uint32_t v)
{
    unsigned char b[4];
    cd__put32(b, v);
    w_put(w, b, 4);
}

static void w_u64(writer *w, uint64_t v)
{
    unsigned char b[8];
    cd__put64(b, v);
    w_put(w, b, 8);
}

static void w_begin(writer *w)
{
    static const unsigned char zeros[CD__INDEX_ALIGN];
    uint64_t pad = (CD__INDEX_ALIGN - w_pos(w) % CD__INDEX_ALIGN) % CD__INDEX_ALIGN;
    w_raw(w, zeros, (size_t)pad);
    w->sec_start = w_pos(w);
    w->sec_len = 0;
    w->sec_first = w->sums_used / 8;
}

static void w_end(writer *w, unsigned char *entry, int type)
{
    w_flush_block(w);
    cd__put32(entry, (uint32_t)type + 1);
    cd__put32(entry + 4, 0);
    cd__put64(entry + 8, w->sec_start);
    cd__put64(entry + 16, w->sec_len);
    size_t len = w->sums_used - w->sec_first * 8;
    cd__put64(entry + 24, XXH3_64bits(len ? w->sums + w->sec_first * 8 : NULL, len));
}

/* ------------------------------------------------------- sorted entries */

typedef struct entry {
    uint64_t key, doc;
} entry;

/* Stable LSD radix sort by key; returns whichever buffer holds the result. */
static entry *sort_entries(entry *a, entry *tmp, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 8; d++)
            count[d][(a[i].key >> (8 * d)) & 0xff]++;
    entry *src = a, *dst = tmp;
    for (int d = 0; d < 8; d++) {
        size_t *c = count[d];
        if (n == 0 || c[(src[0].key >> (8 * d)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t t = c[v];
            c[v] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].key >> (8 * d)) & 0xff]++] = src[i];
        entry *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/* Everything one checkpoint write needs. */
typedef struct plan {
    cd_index *x;
    int compact;
    size_t docs, stories; /* in the old state */
    uint32_t *doc_new;    /* compact: new number or NONE */
    uint32_t *story_new;
    uint64_t kept_docs, kept_stories, band_entries;
    entry *band, *band_tmp; /* overlay entries, sorted */
    size_t band_count;
    entry *ids, *ids_tmp;
    size_t id_count;
} plan;

static uint32_t new_doc(const plan *p, uint32_t doc)
{
    return p->doc_new ? p->doc_new[doc] : doc;
}

/* Streams the merged table (checkpoint keys_sec/docs_sec + overlay entries)
 * into w: its keys (want_keys) or its documents; with the keys, fills dir
 * (2^bits + 1 entries). Returns CD_OK or the error. */
static cd_status merge_table(plan *p, writer *w, int keys_sec, const entry *ov, size_t ov_count,
                             int want_keys, uint64_t *dir, unsigned bits)
{
    cd_index *x = p->x;
    uint64_t old = x->ck.map ? x->ck.sec[keys_sec].length / 8 : 0;
    uint64_t e = 0, written = 0, next_prefix = 0;
    size_t o = 0;
    const unsigned char *keys = NULL, *docs = NULL;
    uint64_t chunk_start = 0, chunk_end = 0;
    for (;;) {
        /* Next live checkpoint entry. */
        uint64_t ck_key = 0;
        uint32_t ck_doc = CD__INDEX_NONE;
        while (e < old) {
            if (e >= chunk_end) {
                chunk_start = e;
                chunk_end = e + CHUNK < old ? e + CHUNK : old;
                keys = cd__ckpt_bytes(&x->ck, keys_sec, chunk_start * 8,
                                      (chunk_end - chunk_start) * 8, x->errmsg);
                docs = cd__ckpt_bytes(&x->ck, keys_sec + 1, chunk_start * 4,
                                      (chunk_end - chunk_start) * 4, x->errmsg);
                if (!keys || !docs)
                    return CD_ERR_FORMAT;
            }
            uint32_t doc = cd__get32(docs + (e - chunk_start) * 4);
            if (doc >= p->docs) {
                cd__set_error(x->errmsg, "corrupt checkpoint: a table names document %u", doc);
                return CD_ERR_FORMAT;
            }
            if (new_doc(p, doc) != CD__INDEX_NONE) {
                ck_key = cd__get64(keys + (e - chunk_start) * 8);
                ck_doc = new_doc(p, doc);
                break;
            }
            e++;
        }
        uint64_t key;
        uint32_t doc;
        if (ck_doc != CD__INDEX_NONE && (o == ov_count || ck_key <= ov[o].key)) {
            key = ck_key;
            doc = ck_doc;
            e++;
        } else if (o < ov_count) {
            key = ov[o].key;
            doc = (uint32_t)ov[o].doc;
            o++;
        } else {
            break;
        }
        if (want_keys) {
            uint64_t prefix = bits ? key >> (64 - bits) : 0;
            while (next_prefix <= prefix)
                dir[next_prefix++] = written;
            w_u64(w, key);
        } else {
            w_u32(w, doc);
        }
        written++;
    }
    if (want_keys)
        while (next_prefix <= ((uint64_t)1 << bits))
            dir[next_prefix++] = written;
    return CD_OK;
}

static cd_status write_table(plan *p, writer *w, unsigned char *table, int keys_sec,
                             const entry *ov, size_t ov_count, uint64_t total)
{
    unsigned bits = cd__index_directory_bits(total);
    size_t dir_len = ((size_t)1 << bits) + 1;
    uint64_t *dir = cd__malloc(dir_len * sizeof *dir);
    if (!dir)
        return CD_ERR_NOMEM;
    w_begin(w);
    cd_status st = merge_table(p, w, keys_sec, ov, ov_count, 1, dir, bits);
    w_end(w, table + SECTION_ENTRY * keys_sec, keys_sec);
    if (st == CD_OK) {
        w_begin(w);
        st = merge_table(p, w, keys_sec, ov, ov_count, 0, NULL, bits);
        w_end(w, table + SECTION_ENTRY * (keys_sec + 1), keys_sec + 1);
    }
    if (st == CD_OK) {
        w_begin(w);
        for (size_t i = 0; i < dir_len; i++)
            w_u64(w, dir[i]);
        w_end(w, table + SECTION_ENTRY * (keys_sec + 2), keys_sec + 2);
    }
    cd__free(dir);
    return st;
}

/* Which stories and documents survive, and the overlay's sorted entries. */
static cd_status make_plan(plan *p)
{
    cd_index *x = p->x;
    unsigned bands = x->all_bands;
    p->docs = cd__index_doc_count(x);
    p->stories = cd__index_story_count(x);
    p->kept_docs = p->docs;
    p->kept_stories = p->stories;
    if (p->compact) {
        p->story_new = cd__malloc((p->stories ? p->stories : 1) * sizeof *p->story_new);
        p->doc_new = cd__malloc((p->docs ? p->docs : 1) * sizeof *p->doc_new);
        if (!p->story_new || !p->doc_new)
            return CD_ERR_NOMEM;
        p->kept_stories = 0;
        for (size_t s = 0; s < p->stories; s++) {
            cd__story rec;
            if (cd__index_story(x, (uint32_t)s, &rec) != 0)
                return CD_ERR_FORMAT;
            p->story_new[s] =
                rec.last_seen >= x->evict_before ? (uint32_t)p->kept_stories++ : CD__INDEX_NONE;
        }
    }
    uint64_t nonempty = 0;
    p->kept_docs = 0;
    for (size_t d = 0; d < p->docs; d++) {
        cd__doc_rec r;
        uint32_t story, flags;
        if (d < x->ck.documents) {
            const unsigned char *rec = cd__ckpt_bytes(
                &x->ck, CD__SEC_DOCS, (uint64_t)d * CD__DOC_RECORD, CD__DOC_RECORD, x->errmsg);
            if (!rec)
                return CD_ERR_FORMAT;
            story = cd__get32(rec + 20);
            flags = cd__get32(rec + 24);
        } else {
            cd__index_doc(x, (uint32_t)d, &r);
            story = r.story;
            flags = r.flags;
        }
        if (story >= p->stories) {
            cd__set_error(x->errmsg, "corrupt index: document %zu names story %u", d, story);
            return CD_ERR_FORMAT;
        }
        int kept = !p->compact || p->story_new[story] != CD__INDEX_NONE;
        if (p->doc_new)
            p->doc_new[d] = kept ? (uint32_t)p->kept_docs : CD__INDEX_NONE;
        if (kept) {
            p->kept_docs++;
            nonempty += !(flags & CD__DOC_EMPTY);
        }
    }
    p->band_entries = nonempty * bands;

    /* Overlay entries, sorted by (key, document). */
    size_t ov = x->ov.count;
    p->band = cd__malloc((ov ? ov : 1) * bands * sizeof *p->band);
    p->band_tmp = cd__malloc((ov ? ov : 1) * bands * sizeof *p->band_tmp);
    p->ids = cd__malloc((ov ? ov : 1) * sizeof *p->ids);
    p->ids_tmp = cd__malloc((ov ? ov : 1) * sizeof *p->ids_tmp);
    if (!p->band || !p->band_tmp || !p->ids || !p->ids_tmp)
        return CD_ERR_NOMEM;
    for (size_t i = 0; i < ov; i++) {
        uint32_t doc = new_doc(p, (uint32_t)(x->ck.documents + i));
        if (doc == CD__INDEX_NONE)
            continue;
        p->ids[p->id_count++] = (entry){x->ov.id_hash[i], doc};
        if (x->ov.flags[i] & CD__DOC_EMPTY)
            continue;
        for (unsigned j = 0; j < bands; j++)
            p->band[p->band_count++] = (entry){x->ov.ekeys[i * bands + j], doc};
    }
    entry *sorted = sort_entries(p->band, p->band_tmp, p->band_count);
    if (sorted != p->band) {
        p->band_tmp = p->band;
        p->band = sorted;
    }
    sorted = sort_entries(p->ids, p->ids_tmp, p->id_count);
    if (sorted != p->ids) {
        p->ids_tmp = p->ids;
        p->ids = sorted;
    }
    return CD_OK;
}

static void free_plan(plan *p)
{
    cd__free(p->doc_new);
    cd__free(p->story_new);
    cd__free(p->band);
    cd__free(p->band_tmp);
    cd__free(p->ids);
    cd__free(p->ids_tmp);
}

/* The document sections: DOCS, IDS, SIGNATURES. */
static cd_status write_docs(plan *p, writer *w, unsigned char *table)
{
    cd_index *x = p->x;
    unsigned perm = x->params.perm;
    for (int sec = CD__SEC_DOCS; sec <= CD__SEC_SIGNATURES; sec++) {
        w_begin(w);
        uint64_t id_off = 0;
        for (size_t d = 0; d < p->docs && w->status == CD_OK; d++) {
            if (new_doc(p, (uint32_t)d) == CD__INDEX_NONE)
                continue;
            cd__doc_rec r;
            if (cd__index_doc(x, (uint32_t)d, &r) != 0)
                return CD_ERR_FORMAT;
            if (sec == CD__SEC_DOCS) {
                w_u64(w, (uint64_t)r.time);
                w_u64(w, id_off);
                w_u32(w, r.id_len);
                w_u32(w, p->story_new ? p->story_new[r.story] : r.story);
                w_u32(w, r.flags);
                uint32_t bits;
                memcpy(&bits, &r.score, 4);
                w_u32(w, bits);
                w_u32(w, r.size);
                w_u32(w, 0);
                id_off += (uint64_t)r.id_len + 1;
            } else if (sec == CD__SEC_IDS) {
                w_put(w, r.id, (size_t)r.id_len + 1);
            } else {
                for (unsigned i = 0; i < perm; i++)
                    w_u32(w, r.sig[i]);
            }
        }
        w_end(w, table + SECTION_ENTRY * sec, sec);
    }
    return CD_OK;
}

static cd_status write_stories(plan *p, writer *w, unsigned char *table)
{
    cd_index *x = p->x;
    w_begin(w);
    for (size_t s = 0; s < p->stories && w->status == CD_OK; s++) {
        if (p->story_new && p->story_new[s] == CD__INDEX_NONE)
            continue;
        cd__story rec;
        if (cd__index_story(x, (uint32_t)s, &rec) != 0)
            return CD_ERR_FORMAT;
        if (rec.rep >= p->docs || new_doc(p, rec.rep) == CD__INDEX_NONE) {
            cd__set_error(x->errmsg, "corrupt index: story %zu has a bad representative", s);
            return CD_ERR_FORMAT;
        }
        w_u32(w, new_doc(p, rec.rep));
        w_u32(w, rec.count);
        w_u64(w, (uint64_t)rec.first_seen);
        w_u64(w, (uint64_t)rec.last_seen);
    }
    w_end(w, table + SECTION_ENTRY * CD__SEC_STORIES, CD__SEC_STORIES);
    return CD_OK;
}

static void encode_header(const plan *p, unsigned char *h, size_t header_len,
                          const unsigned char *table, const char *text, size_t text_len,
                          uint64_t generation)
{
    const cd_index *x = p->x;
    const cd_params *q = &x->params;
    memset(h, 0, header_len);
    memcpy(h, "CDINDEX\0", 8);
    cd__put32(h + 8, CD__INDEX_FORMAT_VERSION);
    cd__put32(h + 12, (uint32_t)header_len);
    cd__put64(h + 16, generation);
    cd__put64(h + 24, (uint64_t)x->created);
    cd__put64(h + 32, (uint64_t)time(NULL));
    cd__put64(h + 40, q->seed);
    cd__put32(h + 48, q->perm);
    cd__put32(h + 52, q->ngram);
    cd__put32(h + 56, q->bands);
    cd__put32(h + 60, q->rows);
    uint64_t bits;
    memcpy(&bits, &q->threshold, 8);
    cd__put64(h + 64, bits);
    cd__put32(h + 72, (uint32_t)q->with_title);
    cd__put32(h + 76, CD_NORMALISE_VERSION);
    cd__put32(h + 80, (uint32_t)q->minhash_scheme);
    cd__put32(h + 84, CD__INDEX_BLOCK);
    cd__put64(h + 88, (uint64_t)q->max_bucket);
    cd__put64(h + 96, XXH3_64bits(text, text_len));
    cd__put64(h + 104, x->probe);
    cd__put64(h + 112, p->kept_docs);
    cd__put64(h + 120, p->kept_stories);
    cd__put64(h + 128, p->band_entries);
    cd__put64(h + 136, (uint64_t)x->evict_before);
    cd__put32(h + 152, x->lead_bands);
    cd__put32(h + 156, x->lead_rows);
    cd__put32(h + 144, CD__SEC_COUNT);
    cd__put32(h + 148, (uint32_t)text_len);
    memcpy(h + HEADER_FIXED, table, SECTION_ENTRY * CD__SEC_COUNT);
    memcpy(h + HEADER_FIXED + SECTION_ENTRY * CD__SEC_COUNT, text, text_len);
    cd__put64(h + header_len - 8, XXH3_64bits(h, header_len - 8));
}

cd_status cd__index_write_checkpoint(cd_index *x, int compact, uint64_t generation)
{
    plan p = {.x = x, .compact = compact};
    writer w = {.fd = -1, .status = CD_OK};
    unsigned char table[SECTION_ENTRY * CD__SEC_COUNT];
    unsigned char *header = NULL;
    char text[1024];
    size_t text_len = cd__index_params_text(&x->params, x->model_hash, text, sizeof text);
    size_t header_len = (HEADER_FIXED + sizeof table + text_len + 8 + CD__INDEX_ALIGN - 1) &
                        ~(size_t)(CD__INDEX_ALIGN - 1);
    cd_status st = make_plan(&p);
    if (st != CD_OK)
        goto done;
    w.out = cd__malloc(OUT_BUFFER);
    header = cd__malloc(header_len);
    if (!w.out || !header || text_len == 0) {
        st = CD_ERR_NOMEM;
        goto done;
    }
    w.fd = open(x->ckpt_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (w.fd < 0) {
        cd__set_error(x->errmsg, "%s: cannot create: %s", x->ckpt_tmp, strerror(errno));
        st = CD_ERR_IO;
        goto done;
    }
    w.file_pos = header_len;
    if ((st = write_docs(&p, &w, table)) != CD_OK || (st = write_stories(&p, &w, table)) != CD_OK ||
        (st = write_table(&p, &w, table, CD__SEC_BAND_KEYS, p.band, p.band_count,
                          p.band_entries)) != CD_OK ||
        (st = write_table(&p, &w, table, CD__SEC_ID_HASHES, p.ids, p.id_count, p.kept_docs)) !=
            CD_OK)
        goto done;
    w_begin(&w);
    w_put(&w, x->model_bytes, x->model_len);
    w_end(&w, table + SECTION_ENTRY * CD__SEC_BOILERPLATE, CD__SEC_BOILERPLATE);
    /* The checksum table: raw, checksummed as a whole. */
    w_begin(&w);
    uint64_t sums_offset = w_pos(&w);
    w_raw(&w, w.sums, w.sums_used);
    unsigned char *e = table + SECTION_ENTRY * CD__SEC_CHECKSUMS;
    cd__put32(e, CD__SEC_CHECKSUMS + 1);
    cd__put32(e + 4, 0);
    cd__put64(e + 8, sums_offset);
    cd__put64(e + 16, w.sums_used);
    cd__put64(e + 24, XXH3_64bits(w.sums, w.sums_used));
    w_flush_out(&w);
    if (w.status != CD_OK) {
        st = w.status;
        goto done;
    }
    encode_header(&p, header, header_len, table, text, text_len, generation);
    w.out_used = 0;
    w.file_pos = 0;
    memcpy(w.out, header, header_len);
    w.out_used = header_len;
    w_flush_out(&w);
    if (w.status != CD_OK)
        goto io_failed;
    if (cd__fsync(x, w.fd) != 0) {
        w.error = errno;
        goto io_failed;
    }
    int fd = w.fd;
    w.fd = -1;
    if (close(fd) != 0) {
        w.error = errno;
        goto io_failed;
    }
    if (rename(x->ckpt_tmp, x->ckpt_path) != 0) {
        w.error = errno;
        goto io_failed;
    }
    if (cd__fsync_dir(x, x->dir) != 0) {
        /* The rename happened; only its durability is in doubt. */
        cd__set_error(x->errmsg, "%s: cannot sync the directory: %s", x->dir, strerror(errno));
        st = CD_ERR_IO;
        goto done;
    }
    st = CD_OK;
    goto done;
io_failed:
    cd__set_error(x->errmsg, "%s: cannot write: %s", x->ckpt_tmp, strerror(w.error));
    st = CD_ERR_IO;
done:
    if (st == CD_OK) {
        /* nothing */
    } else if (st == CD_ERR_NOMEM || w.status == CD_ERR_NOMEM) {
        cd__set_error(x->errmsg, "%s: out of memory writing a checkpoint", x->dir);
        st = CD_ERR_NOMEM;
    } else if (w.status == CD_ERR_IO && st != CD_ERR_FORMAT) {
        cd__set_error(x->errmsg, "%s: cannot write: %s", x->ckpt_tmp, strerror(w.error));
        st = CD_ERR_IO;
    }
    if (w.fd >= 0)
        close(w.fd);
    if (st != CD_OK)
        unlink(x->ckpt_tmp);
    cd__free(w.out);
    cd__free(w.sums);
    cd__free(header);
    free_plan(&p);
    return st;
}
