/* index_log.c: the append-only log of an index, which makes an add durable
 * without rewriting the checkpoint. Each add call appends one batch of
 * framed, checksummed records (one per document) closed by a COMMIT record
 * that hashes the batch, in one write followed by fdatasync; the call
 * returns only after that. Opening replays every committed batch into the
 * overlay. What follows the last commit is an add that never returned (a
 * crash mid-write): it is dropped with a warning, and a writer truncates it.
 * A bad record followed by a valid commit is corruption and an error.
 * Layout: docs/index-format.md. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "index.h"

#define LOG_HEADER 48
#define FRAME_MAGIC 0x524C4443u /* "CDLR" */
#define FRAME_OVERHEAD 16       /* magic, length, checksum */
#define MAX_BODY ((uint64_t)1 << 30)

enum { REC_ADD = 1, REC_EVICT = 2, REC_COMMIT = 3 };

#define ADD_FIXED 32

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

int cd__fsync(const cd_index *x, int fd)
{
    return x->sync ? fsync(fd) : 0;
}

int cd__fdatasync(const cd_index *x, int fd)
{
    return x->sync ? fdatasync(fd) : 0;
}

int cd__fsync_dir(const cd_index *x, const char *dir)
{
    if (!x->sync)
        return 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static void encode_header(unsigned char *h, uint64_t generation, uint64_t fingerprint)
{
    memset(h, 0, LOG_HEADER);
    memcpy(h, "CDINDLOG", 8);
    cd__put32(h + 8, CD__INDEX_FORMAT_VERSION);
    cd__put32(h + 12, LOG_HEADER);
    cd__put64(h + 16, generation);
    cd__put64(h + 24, fingerprint);
    cd__put64(h + 40, XXH3_64bits(h, 40));
}

static int write_all(int fd, const unsigned char *p, size_t len, uint64_t offset)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, (off_t)offset);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
        offset += (uint64_t)w;
    }
    return 0;
}

cd_status cd__log_reset(cd_index *x, uint64_t generation)
{
    unsigned char h[LOG_HEADER];
    encode_header(h, generation, x->ck.fingerprint);
    int fd = open(x->log_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || write_all(fd, h, sizeof h, 0) != 0 || cd__fsync(x, fd) != 0) {
        cd__set_error(x->errmsg, "%s: cannot write: %s", x->log_tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(x->log_tmp);
        }
        return CD_ERR_IO;
    }
    close(fd);
    if (rename(x->log_tmp, x->log_path) != 0 || cd__fsync_dir(x, x->dir) != 0) {
        cd__set_error(x->errmsg, "%s: cannot replace: %s", x->log_path, strerror(errno));
        unlink(x->log_tmp);
        return CD_ERR_IO;
    }
    if (x->log_fd >= 0)
        close(x->log_fd);
    x->log_fd = -1;
    x->log_size = LOG_HEADER;
    x->log_docs = 0;
    if (x->writable) {
        x->log_fd = open(x->log_path, O_RDWR | O_CLOEXEC);
        if (x->log_fd < 0) {
            cd__set_error(x->errmsg, "%s: cannot open: %s", x->log_path, strerror(errno));
            return CD_ERR_IO;
        }
    }
    return CD_OK;
}

/* ------------------------------------------------------------- encoding */

static unsigned char *frame_begin(cd_index *x, size_t body)
{
    size_t need = x->logbuf_used + FRAME_OVERHEAD + body;
    if (cd__grow((void **)&x->logbuf, &x->logbuf_cap, need, 1) != 0)
        return NULL;
    unsigned char *f = x->logbuf + x->logbuf_used;
    memset(f, 0, FRAME_OVERHEAD + body);
    cd__put32(f, FRAME_MAGIC);
    cd__put32(f + 4, (uint32_t)body);
    return f + 8;
}

static void frame_end(cd_index *x, size_t body, int counts)
{
    unsigned char *f = x->logbuf + x->logbuf_used;
    uint64_t sum = XXH3_64bits(f, 8 + body);
    cd__put64(f + 8 + body, sum);
    x->logbuf_used += FRAME_OVERHEAD + body;
    if (counts) {
        unsigned char le[8];
        cd__put64(le, sum);
        x->log_batch_chain = XXH3_64bits_withSeed(le, 8, x->log_batch_chain);
        x->log_batch_records++;
    }
}

void cd__log_begin(cd_index *x)
{
    x->logbuf_used = 0;
    x->log_batch_records = 0;
    x->log_batch_chain = 0;
}

int cd__log_add(cd_index *x, const cd__doc_rec *d)
{
    unsigned perm = x->params.perm, leads = x->lead_bands;
    size_t body = ADD_FIXED + (size_t)perm * 4 + (size_t)leads * 8 + pad8(d->id_len);
    unsigned char *b = frame_begin(x, body);
    if (!b)
        return -1;
    b[0] = REC_ADD;
    b[1] = (unsigned char)d->flags;
    cd__put32(b + 4, d->story);
    cd__put64(b + 8, (uint64_t)d->time);
    cd__putf32(b + 16, d->score);
    cd__put32(b + 20, d->id_len);
    cd__put32(b + 24, d->size);
    unsigned char *p = b + ADD_FIXED;
    for (unsigned i = 0; i < perm; i++, p += 4)
        cd__put32(p, d->sig[i]);
    for (unsigned j = 0; j < leads; j++, p += 8) /* an empty document's are unused */
        cd__put64(p, d->lead_keys && !(d->flags & CD__DOC_EMPTY) ? d->lead_keys[j] : 0);
    memcpy(p, d->id, d->id_len);
    frame_end(x, body, 1);
    return 0;
}

int cd__log_evict(cd_index *x, int64_t before)
{
    unsigned char *b = frame_begin(x, 16);
    if (!b)
        return -1;
    b[0] = REC_EVICT;
    cd__put64(b + 8, (uint64_t)before);
    frame_end(x, 16, 1);
    return 0;
}

int cd__log_commit(cd_index *x)
{
    unsigned char *b = frame_begin(x, 16);
    if (!b)
        return -1;
    b[0] = REC_COMMIT;
    cd__put32(b + 4, x->log_batch_records);
    cd__put64(b + 8, x->log_batch_chain);
    frame_end(x, 16, 0);
    return 0;
}

cd_status cd__log_write(cd_index *x)
{
    if (write_all(x->log_fd, x->logbuf, x->logbuf_used, x->log_size) != 0 ||
        cd__fdatasync(x, x->log_fd) != 0) {
        cd__set_error(x->errmsg, "%s: cannot append: %s", x->log_path, strerror(errno));
        /* Nothing was acknowledged: cut what may have reached the file. */
        if (ftruncate(x->log_fd, (off_t)x->log_size) != 0)
            x->broken = 1;
        return CD_ERR_IO;
    }
    x->log_size += x->logbuf_used;
    return CD_OK;
}

/* --------------------------------------------------------------- replay */

/* A valid frame at p of a buffer of `size` bytes: its body and length. */
static int frame_at(const unsigned char *map, uint64_t size, uint64_t p, const unsigned char **body,
                    uint64_t *body_len)
{
    if (size - p < FRAME_OVERHEAD || cd__get32(map + p) != FRAME_MAGIC)
        return 0;
    uint64_t len = cd__get32(map + p + 4);
    if (len % 8 != 0 || len < 8 || len > MAX_BODY || size - p - FRAME_OVERHEAD < len)
        return 0;
    if (XXH3_64bits(map + p, 8 + len) != cd__get64(map + p + 8 + len))
        return 0;
    *body = map + p + 8;
    *body_len = len;
    return 1;
}

/* Applies one record of a committed batch. Returns 0, or -1 with errmsg. */
static int replay_record(cd_index *x, const unsigned char *b, uint64_t len, uint64_t offset)
{
    unsigned perm = x->params.perm, leads = x->lead_bands;
    uint64_t fixed = ADD_FIXED + (uint64_t)perm * 4 + (uint64_t)leads * 8;
    if (b[0] == REC_EVICT && len == 16) {
        int64_t before = (int64_t)cd__get64(b + 8);
        if (before > x->evict_before)
            x->evict_before = before;
        return 0;
    }
    if (b[0] != REC_ADD || len < fixed) {
        cd__set_error(x->errmsg, "%s: corrupt log: unknown record at offset %" PRIu64, x->log_path,
                      offset);
        return -1;
    }
    cd__doc_rec d;
    d.flags = b[1];
    d.story = cd__get32(b + 4);
    d.time = (int64_t)cd__get64(b + 8);
    d.score = cd__getf32(b + 16);
    d.id_len = cd__get32(b + 20);
    d.size = cd__get32(b + 24);
    d.id = (const char *)b + fixed;
    size_t stories = cd__index_story_count(x);
    if (d.id_len == 0 || pad8(d.id_len) != len - fixed || memchr(d.id, '\0', d.id_len) ||
        (d.flags & ~(uint32_t)(CD__DOC_DATED | CD__DOC_EMPTY)) ||
        (d.story != CD__INDEX_NONE && d.story >= stories) ||
        !(d.score >= 0.0f && d.score <= 1.0f) || cd__index_doc_count(x) >= CD__INDEX_NONE - 1) {
        cd__set_error(x->errmsg, "%s: corrupt log: inconsistent record at offset %" PRIu64,
                      x->log_path, offset);
        return -1;
    }
    uint32_t *sig = x->sig_scratch;
    for (unsigned i = 0; i < perm; i++)
        sig[i] = cd__get32(b + ADD_FIXED + (size_t)i * 4);
    d.sig = sig;
    for (unsigned j = 0; j < leads; j++)
        x->lead_scratch[j] = cd__get64(b + ADD_FIXED + (size_t)perm * 4 + (size_t)j * 8);
    d.lead_keys = leads ? x->lead_scratch : NULL;
    d.id_hash = XXH3_64bits(d.id, d.id_len);
    if (cd__index_reserve(x, 1, d.id_len) != 0) {
        cd__set_error(x->errmsg, "%s: out of memory replaying the log", x->log_path);
        return -2;
    }
    if (cd__index_apply(x, &d, 0) != 0)
        return -1;
    x->log_docs++;
    return 0;
}

/* 1 when a valid COMMIT frame starts somewhere in [from, size). */
static int commit_follows(const unsigned char *map, uint64_t size, uint64_t from)
{
    for (uint64_t p = (from + 7) & ~(uint64_t)7; p + FRAME_OVERHEAD <= size; p += 8) {
        const unsigned char *body;
        uint64_t len;
        if (cd__get32(map + p) == FRAME_MAGIC && frame_at(map, size, p, &body, &len) &&
            body[0] == REC_COMMIT)
            return 1;
    }
    return 0;
}

cd_status cd__log_open(cd_index *x)
{
    x->log_size = LOG_HEADER;
    x->log_docs = 0;
    int fd = open(x->log_path, (x->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return x->writable ? cd__log_reset(x, x->ck.generation) : CD_OK;
    if (fd < 0) {
        cd__set_error(x->errmsg, "%s: cannot open: %s", x->log_path, strerror(errno));
        return CD_ERR_IO;
    }
    struct stat st;
    unsigned char h[LOG_HEADER];
    if (fstat(fd, &st) != 0 || pread(fd, h, LOG_HEADER, 0) != LOG_HEADER) {
        int short_file = errno == 0 || st.st_size < LOG_HEADER;
        cd__set_error(x->errmsg, "%s: %s", x->log_path,
                      short_file ? "corrupt log: shorter than its header" : strerror(errno));
        close(fd);
        return short_file ? CD_ERR_FORMAT : CD_ERR_IO;
    }
    if (memcmp(h, "CDINDLOG", 8) != 0 || XXH3_64bits(h, 40) != cd__get64(h + 40) ||
        cd__get32(h + 8) != CD__INDEX_FORMAT_VERSION) {
        cd__set_error(x->errmsg, "%s: corrupt log: bad header", x->log_path);
        close(fd);
        return CD_ERR_FORMAT;
    }
    uint64_t generation = cd__get64(h + 16);
    if (generation < x->ck.generation) {
        /* A checkpoint was written and the log not yet replaced: everything
         * in it is in the checkpoint. */
        close(fd);
        return x->writable ? cd__log_reset(x, x->ck.generation) : CD_OK;
    }
    if (generation > x->ck.generation) {
        close(fd);
        cd__set_error(x->errmsg, "%s: the log belongs to a newer checkpoint than %s", x->log_path,
                      x->ckpt_path);
        return CD_ERR_STATE;
    }
    if (cd__get64(h + 24) != x->ck.fingerprint) {
        close(fd);
        cd__set_error(x->errmsg, "%s: corrupt log: written for other parameters", x->log_path);
        return CD_ERR_FORMAT;
    }

    uint64_t size = (uint64_t)st.st_size;
    const unsigned char *map = NULL;
    if (size > LOG_HEADER) {
        void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            cd__set_error(x->errmsg, "%s: cannot map: %s", x->log_path, strerror(errno));
            close(fd);
            return CD_ERR_IO;
        }
        map = m;
    }
    cd_status status = CD_OK;
    uint64_t p = LOG_HEADER, batch_start = LOG_HEADER, committed = LOG_HEADER;
    uint32_t records = 0;
    uint64_t chain = 0;
    while (map && p < size) {
        const unsigned char *body;
        uint64_t len;
        if (!frame_at(map, size, p, &body, &len))
            break;
        if (body[0] == REC_COMMIT) {
            if (len != 16 || cd__get32(body + 4) != records || cd__get64(body + 8) != chain)
                break;
            /* Apply the batch. */
            for (uint64_t q = batch_start; q < p;) {
                const unsigned char *rb = NULL;
                uint64_t rl = 0;
                frame_at(map, size, q, &rb, &rl);
                int rc = replay_record(x, rb, rl, q);
                if (rc != 0) {
                    status = rc == -2 ? CD_ERR_NOMEM : CD_ERR_FORMAT;
                    goto done;
                }
                q += FRAME_OVERHEAD + rl;
            }
            p += FRAME_OVERHEAD + len;
            committed = batch_start = p;
            records = 0;
            chain = 0;
            continue;
        }
        unsigned char le[8];
        cd__put64(le, cd__get64(body + len));
        chain = XXH3_64bits_withSeed(le, 8, chain);
        records++;
        p += FRAME_OVERHEAD + len;
    }
    if (committed < size) {
        if (commit_follows(map, size, committed + 1)) {
            cd__set_error(x->errmsg,
                          "%s: corrupt log: bad record at offset %" PRIu64
                          " followed by committed batches",
                          x->log_path, committed);
            status = CD_ERR_FORMAT;
            goto done;
        }
        snprintf(x->warning, sizeof x->warning,
                 "%s: dropped an incomplete batch (%" PRIu64 " bytes at offset %" PRIu64
                 "): an add interrupted before it was acknowledged",
                 x->log_path, size - committed, committed);
        if (x->writable && (ftruncate(fd, (off_t)committed) != 0 || cd__fdatasync(x, fd) != 0)) {
            cd__set_error(x->errmsg, "%s: cannot truncate: %s", x->log_path, strerror(errno));
            status = CD_ERR_IO;
            goto done;
        }
    }
    x->log_size = committed;
done:
    if (map)
        munmap((void *)map, (size_t)size);
    if (status == CD_OK && x->writable)
        x->log_fd = fd;
    else
        close(fd);
    return status;
}
