/* read_stream.h: the byte source under the reader (read.c). Opens a file or
 * stdin, detects gzip or zstd by magic bytes and hands out decompressed
 * bytes in large blocks. Knows nothing of lines or JSON; messages it writes
 * are bare reasons that read.c prefixes with "FILE:LINE: ". */
#ifndef CD_READ_STREAM_H
#define CD_READ_STREAM_H

#include <stddef.h>

#include "copydesk/copydesk.h"

typedef struct cd__stream cd__stream;

typedef enum cd__stream_kind {
    CD__STREAM_PLAIN = 0,
    CD__STREAM_GZIP,
    CD__STREAM_ZSTD
} cd__stream_kind;

/* Opens path ("-" = stdin, which is never closed) and reads its first bytes
 * to detect the compression. On error *out is NULL and reason (of
 * CD_ERRMSG_SIZE bytes) holds why, without the file name: strerror(errno)
 * or "is a directory".
 * Errors: CD_ERR_IO, CD_ERR_NOMEM. */
cd_status cd__stream_open(const char *path, cd__stream **out, char *reason);

/* Reads up to cap (> 0) decompressed bytes into buf, on the calling thread
 * (only for a stream that cannot lend: see cd__stream_can_lend). *got is
 * the number of bytes read; CD_OK with *got == 0 means the end of the
 * input. A stream that ends inside a compressed frame or holds corrupt data
 * fails with CD_ERR_FORMAT; the bytes before the failure are handed out
 * first. Once failed, every later call fails the same way.
 * Errors: CD_ERR_FORMAT, CD_ERR_IO, CD_ERR_NOMEM (with a reason). */
cd_status cd__stream_read(cd__stream *stream, char *buf, size_t cap, size_t *got, char *reason);

/* 1 when the stream reads ahead on a thread (a compressed regular file, or
 * a plain one of more than two blocks): it is then read with
 * cd__stream_borrow, never with cd__stream_read. */
int cd__stream_can_lend(const cd__stream *stream);

/* Like cd__stream_read, but hands out the next decompressed bytes in place:
 * *data points to *got bytes, followed by one spare byte; the caller may
 * write to all of them. They stay valid until the next call on the stream.
 * Only for a stream that can lend. */
cd_status cd__stream_borrow(cd__stream *stream, char **data, size_t *got, char *reason);

/* The compression detected at open. */
cd__stream_kind cd__stream_get_kind(const cd__stream *stream);

/* Frees the stream and closes its file (not stdin); NULL is a no-op. */
void cd__stream_close(cd__stream *stream);

#endif
