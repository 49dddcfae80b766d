/* read_stream.c: the decompression layer under the reader (read.c), the
 * first stage of the pipeline. Reads a file or stdin in 1 MiB blocks and
 * inflates gzip (zlib, concatenated members) or zstd (libzstd, concatenated
 * and skippable frames), chosen by magic bytes, never by the file name. A
 * compressed regular file, or a plain one of more than two blocks, is read
 * and decompressed a block ahead on a thread of its own while the caller
 * parses the block before, which it may borrow instead of copying. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDCtx_advanced, for the allocator hook */
#include "read_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "alloc.h"

/* Compressed bytes read from the file per read(2) (tiny in fuzz targets). */
#ifndef STREAM_INPUT_SIZE
#define STREAM_INPUT_SIZE ((size_t)1 << 20)
#endif

/* Decompressed bytes per read-ahead block (tiny in fuzz targets). */
#ifndef AHEAD_BLOCK_SIZE
#define AHEAD_BLOCK_SIZE ((size_t)1 << 20)
#endif

/* Calls of ZSTD_decompressStream in a row that neither consume nor produce
 * a byte before the stream is declared corrupt (a guard against looping). */
#define ZSTD_MAX_STALLS 8

struct cd__stream {
    int fd;
    int owns_fd; /* 0 for stdin */
    cd__stream_kind kind;
    int eof;          /* read(2) returned 0 */
    cd_status failed; /* sticky failure, reported once the bytes before it are out */
    char reason[CD_ERRMSG_SIZE];

    unsigned char head[4]; /* first bytes, read to detect the compression */
    size_t head_len;
    size_t head_pos; /* plain: head bytes already handed out */

    unsigned char *in; /* compressed input (gzip, zstd) */

    z_stream z;      /* gzip */
    int z_ready;     /* inflateInit2 succeeded */
    int member_done; /* the last gzip member ended cleanly */

    ZSTD_DCtx *zd; /* zstd */
    ZSTD_inBuffer zin;
    size_t zret;   /* last ZSTD_decompressStream result: 0 = at a frame end */
    int zout_full; /* the last call filled the output: more may be buffered */

    /* Read-ahead: the thread fills next (while next_full is 0) and the
     * caller drains current; they swap under the lock. Each block carries
     * how the reading ended after its bytes (CD_OK and end: the end of the
     * input). */
    int ahead;       /* the thread runs */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stop;        /* close asks the thread to end */
    struct ahead_block {
        char *data;
        size_t len, pos;
        int end;     /* nothing follows this block */
        cd_status status;
        char reason[CD_ERRMSG_SIZE];
    } current, next;
    int next_full;
};

static cd_status start_ahead(cd__stream *s);
static void stop_ahead(cd__stream *s);

/* ------------------------------------------------------------ allocation */

static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return cd__calloc(items, size);
}

static void zlib_free(voidpf opaque, voidpf address)
{
    (void)opaque;
    cd__free(address);
}

static void *zstd_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return cd__malloc(size);
}

static void zstd_free(void *opaque, void *address)
{
    (void)opaque;
    cd__free(address);
}

/* --------------------------------------------------------------- helpers */

/* Records a failure; later reads report it again. Returns status. */
static cd_status stream_fail(cd__stream *s, cd_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static cd_status stream_fail(cd__stream *s, cd_status status, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(s->reason, sizeof s->reason, format, ap);
    va_end(ap);
    s->failed = status;
    return status;
}

/* read(2) retried on EINTR. *got == 0 at the end of the file. */
static cd_status read_fd(cd__stream *s, void *buf, size_t cap, size_t *got)
{
    *got = 0;
    for (;;) {
        ssize_t n = read(s->fd, buf, cap);
        if (n >= 0) {
            *got = (size_t)n;
            if (n == 0)
                s->eof = 1;
            return CD_OK;
        }
        if (errno != EINTR)
            return stream_fail(s, CD_ERR_IO, "read error: %s", strerror(errno));
    }
}

/* Refills the compressed input buffer once it is empty. */
static cd_status fill_input(cd__stream *s, size_t *got)
{
    *got = 0;
    if (s->eof)
        return CD_OK;
    return read_fd(s, s->in, STREAM_INPUT_SIZE, got);
}

static cd__stream_kind detect(const unsigned char *head, size_t len)
{
    if (len >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        return CD__STREAM_GZIP;
    if (len >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
        return CD__STREAM_ZSTD;
    /* A zstd skippable frame (magic 0x184D2A50..5F), as pzstd writes first. */
    if (len >= 4 && (head[0] & 0xf0) == 0x50 && head[1] == 0x2a && head[2] == 0x4d &&
        head[3] == 0x18)
        return CD__STREAM_ZSTD;
    return CD__STREAM_PLAIN;
}

/* ------------------------------------------------------------------ open */

static cd_status setup_decoder(cd__stream *s)
{
    s->in = cd__malloc(STREAM_INPUT_SIZE);
    if (!s->in)
        return stream_fail(s, CD_ERR_NOMEM, "out of memory");
    memcpy(s->in, s->head, s->head_len);

    if (s->kind == CD__STREAM_GZIP) {
        s->z.zalloc = zlib_alloc;
        s->z.zfree = zlib_free;
        s->z.opaque = Z_NULL;
        s->z.next_in = s->in;
        s->z.avail_in = (uInt)s->head_len;
        /* 15 + 16: gzip wrapper only (the magic said gzip), 32 KiB window. */
        int ret = inflateInit2(&s->z, 15 + 16);
        if (ret == Z_MEM_ERROR)
            return stream_fail(s, CD_ERR_NOMEM, "out of memory");
        if (ret != Z_OK)
            return stream_fail(s, CD_ERR_FORMAT, "cannot start gzip decoder: %s",
                               s->z.msg ? s->z.msg : zError(ret));
        s->z_ready = 1;
    } else {
        ZSTD_customMem mem = {zstd_alloc, zstd_free, NULL};
        s->zd = ZSTD_createDCtx_advanced(mem);
        if (!s->zd)
            return stream_fail(s, CD_ERR_NOMEM, "out of memory");
        s->zin = (ZSTD_inBuffer){s->in, s->head_len, 0};
        s->zret = 1; /* not at a frame end until a frame has been decoded */
    }
    return CD_OK;
}

cd_status cd__stream_open(const char *path, cd__stream **out, char *reason)
{
    *out = NULL;
    cd__stream *s = cd__calloc(1, sizeof *s);
    if (!s) {
        snprintf(reason, CD_ERRMSG_SIZE, "out of memory");
        return CD_ERR_NOMEM;
    }
    cd_status status;

    if (strcmp(path, "-") == 0) {
        s->fd = STDIN_FILENO;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            status = stream_fail(s, CD_ERR_IO, "%s", strerror(errno));
            goto fail;
        }
        s->owns_fd = 1;
    }

    struct stat st;
    if (fstat(s->fd, &st) != 0) {
        status = stream_fail(s, CD_ERR_IO, "%s", strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        status = stream_fail(s, CD_ERR_IO, "is a directory");
        goto fail;
    }

    /* Pipes may return fewer bytes than asked: read until the magic is in. */
    while (s->head_len < sizeof s->head && !s->eof) {
        size_t got;
        status = read_fd(s, s->head + s->head_len, sizeof s->head - s->head_len, &got);
        if (status != CD_OK)
            goto fail;
        s->head_len += got;
    }

    s->kind = detect(s->head, s->head_len);
    if (s->kind != CD__STREAM_PLAIN) {
        status = setup_decoder(s);
        if (status != CD_OK)
            goto fail;
    }
    /* Only regular files: a pipe could block the thread forever. A small
     * plain file is not worth a thread. */
    if (S_ISREG(st.st_mode) &&
        (s->kind != CD__STREAM_PLAIN || (unsigned long long)st.st_size > 2 * AHEAD_BLOCK_SIZE) &&
        (status = start_ahead(s)) != CD_OK)
        goto fail;
    *out = s;
    return CD_OK;

fail:
    snprintf(reason, CD_ERRMSG_SIZE, "%s", s->reason);
    cd__stream_close(s);
    return status;
}

void cd__stream_close(cd__stream *s)
{
    if (!s)
        return;
    stop_ahead(s);
    if (s->z_ready)
        inflateEnd(&s->z);
    ZSTD_freeDCtx(s->zd); /* NULL is a no-op */
    cd__free(s->in);
    if (s->owns_fd && s->fd >= 0)
        close(s->fd);
    cd__free(s);
}

cd__stream_kind cd__stream_get_kind(const cd__stream *stream)
{
    return stream->kind;
}

/* ------------------------------------------------------------------ read */

static cd_status read_plain(cd__stream *s, char *buf, size_t cap, size_t *got)
{
    if (s->head_pos < s->head_len) {
        size_t n = s->head_len - s->head_pos;
        if (n > cap)
            n = cap;
        memcpy(buf, s->head + s->head_pos, n);
        s->head_pos += n;
        *got = n;
        /* Fill the rest of the block too, so the first line is not split
         * after the magic bytes. A read failure is reported next call. */
        size_t more = 0;
        if (n < cap && !s->eof && read_fd(s, buf + n, cap - n, &more) == CD_OK)
            *got += more;
        return CD_OK;
    }
    if (s->eof)
        return CD_OK;
    return read_fd(s, buf, cap, got);
}

static cd_status read_gzip(cd__stream *s, char *buf, size_t cap, size_t *got)
{
    uInt out_cap = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
    for (;;) {
        if (s->z.avail_in == 0 && !s->eof) {
            size_t n;
            if (fill_input(s, &n) != CD_OK)
                return s->failed;
            s->z.next_in = s->in;
            s->z.avail_in = (uInt)n;
        }
        if (s->member_done) {
            if (s->z.avail_in == 0)
                return CD_OK; /* the end, right after a complete member */
            /* Another member follows (as `cat a.gz b.gz` makes). */
            if (inflateReset(&s->z) != Z_OK)
                return stream_fail(s, CD_ERR_FORMAT, "corrupt gzip stream");
            s->member_done = 0;
        }

        s->z.next_out = (Bytef *)buf;
        s->z.avail_out = out_cap;
        int ret = inflate(&s->z, Z_NO_FLUSH);
        *got = out_cap - s->z.avail_out;
        switch (ret) {
        case Z_OK:
            break;
        case Z_STREAM_END:
            s->member_done = 1;
            break;
        case Z_BUF_ERROR: /* no progress possible with this input */
            if (s->z.avail_in == 0 && s->eof)
                stream_fail(s, CD_ERR_FORMAT, "truncated gzip stream");
            else if (s->z.avail_in != 0)
                stream_fail(s, CD_ERR_FORMAT, "corrupt gzip stream: no progress");
            break; /* else: read more input */
        case Z_MEM_ERROR:
            stream_fail(s, CD_ERR_NOMEM, "out of memory");
            break;
        default: /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
            stream_fail(s, CD_ERR_FORMAT, "corrupt gzip stream: %s",
                        s->z.msg ? s->z.msg : zError(ret));
            break;
        }
        if (*got > 0)
            return CD_OK; /* a failure is reported on the next call */
        if (s->failed)
            return s->failed;
    }
}

static cd_status read_zstd(cd__stream *s, char *buf, size_t cap, size_t *got)
{
    int stalls = 0;
    for (;;) {
        int filled = 0;
        if (s->zin.pos == s->zin.size && !s->eof) {
            size_t n;
            if (fill_input(s, &n) != CD_OK)
                return s->failed;
            s->zin = (ZSTD_inBuffer){s->in, n, 0};
            filled = n > 0;
        }
        /* Out of input: done if the last call ended a frame (zret 0: nothing
         * left to flush, even when it filled the output), else truncated. */
        if (s->zin.pos == s->zin.size && s->eof && (!s->zout_full || s->zret == 0)) {
            if (s->zret == 0)
                return CD_OK; /* the end, right after a complete frame */
            return stream_fail(s, CD_ERR_FORMAT, "truncated zstd stream");
        }

        size_t before = s->zin.pos;
        ZSTD_outBuffer out = {buf, cap, 0};
        size_t ret = ZSTD_decompressStream(s->zd, &out, &s->zin);
        *got = out.pos;
        if (ZSTD_isError(ret)) {
            if (ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
                stream_fail(s, CD_ERR_NOMEM, "out of memory");
            else
                stream_fail(s, CD_ERR_FORMAT, "corrupt zstd stream: %s", ZSTD_getErrorName(ret));
        } else {
            s->zret = ret;
            s->zout_full = out.pos == out.size;
        }
        if (*got > 0)
            return CD_OK; /* a failure is reported on the next call */
        if (s->failed)
            return s->failed;
        if (s->zin.pos == before && !filled && ++stalls > ZSTD_MAX_STALLS)
            return stream_fail(s, CD_ERR_FORMAT, "corrupt zstd stream: no progress");
    }
}

/* On the caller's thread, or on the read-ahead thread for its blocks. */
cd_status cd__stream_read(cd__stream *s, char *buf, size_t cap, size_t *got, char *reason)
{
    *got = 0;
    cd_status status = s->failed;
    if (status == CD_OK) {
        switch (s->kind) {
        case CD__STREAM_PLAIN:
            status = read_plain(s, buf, cap, got);
            break;
        case CD__STREAM_GZIP:
            status = read_gzip(s, buf, cap, got);
            break;
        case CD__STREAM_ZSTD:
            status = read_zstd(s, buf, cap, got);
            break;
        }
    }
    if (status != CD_OK)
        snprintf(reason, CD_ERRMSG_SIZE, "%s", s->reason);
    return status;
}

/* ------------------------------------------------------------- read-ahead */

/* Fills b with up to a block of bytes and how the reading ended. */
static void fill_block(cd__stream *s, struct ahead_block *b)
{
    b->len = b->pos = 0;
    b->end = 0;
    b->status = CD_OK;
    while (b->len < AHEAD_BLOCK_SIZE) {
        size_t got;
        b->status =
            cd__stream_read(s, b->data + b->len, AHEAD_BLOCK_SIZE - b->len, &got, b->reason);
        b->len += got;
        if (b->status != CD_OK || got == 0) {
            b->end = 1;
            return;
        }
    }
}

/* The read-ahead thread: fills the next block whenever it is free. */
static void *read_ahead(void *arg)
{
    cd__stream *s = arg;
    for (int end = 0; !end;) {
        pthread_mutex_lock(&s->lock);
        while (s->next_full && !s->stop)
            pthread_cond_wait(&s->changed, &s->lock);
        int stop = s->stop;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            break;
        fill_block(s, &s->next); /* the caller does not touch next now */
        end = s->next.end;
        pthread_mutex_lock(&s->lock);
        s->next_full = 1;
        pthread_cond_signal(&s->changed);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* Starts the read-ahead thread. Errors: CD_ERR_NOMEM (no blocks); when no
 * thread can be had, the stream reads on the caller's thread as before. */
static cd_status start_ahead(cd__stream *s)
{
    /* one spare byte each, for the borrower (cd__stream_borrow) */
    s->current.data = cd__malloc(AHEAD_BLOCK_SIZE + 1);
    s->next.data = cd__malloc(AHEAD_BLOCK_SIZE + 1);
    if (!s->current.data || !s->next.data) {
        cd__free(s->current.data);
        cd__free(s->next.data);
        s->current.data = s->next.data = NULL;
        return stream_fail(s, CD_ERR_NOMEM, "out of memory");
    }
    if (pthread_mutex_init(&s->lock, NULL) == 0) {
        if (pthread_cond_init(&s->changed, NULL) == 0) {
            if (pthread_create(&s->thread, NULL, read_ahead, s) == 0) {
                s->ahead = 1;
                return CD_OK;
            }
            pthread_cond_destroy(&s->changed);
        }
        pthread_mutex_destroy(&s->lock);
    }
    cd__free(s->current.data);
    cd__free(s->next.data);
    s->current.data = s->next.data = NULL;
    return CD_OK;
}

/* Stops the read-ahead thread (it ends after the block it is filling). */
static void stop_ahead(cd__stream *s)
{
    if (!s->ahead)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->changed);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    cd__free(s->current.data);
    cd__free(s->next.data);
    s->ahead = 0;
}

int cd__stream_can_lend(const cd__stream *s)
{
    return s->ahead;
}

cd_status cd__stream_borrow(cd__stream *s, char **data, size_t *got, char *reason)
{
    *got = 0;
    struct ahead_block *b = &s->current;
    while (b->pos == b->len) { /* the block lent last time comes back */
        if (b->end) { /* every later call ends the same way */
            if (b->status != CD_OK)
                snprintf(reason, CD_ERRMSG_SIZE, "%s", b->reason);
            return b->status;
        }
        pthread_mutex_lock(&s->lock);
        while (!s->next_full)
            pthread_cond_wait(&s->changed, &s->lock);
        struct ahead_block drained = s->current;
        s->current = s->next;
        s->next = drained;
        s->next_full = 0;
        pthread_cond_signal(&s->changed);
        pthread_mutex_unlock(&s->lock);
    }
    *data = b->data + b->pos;
    *got = b->len - b->pos;
    b->pos = b->len;
    return CD_OK;
}
