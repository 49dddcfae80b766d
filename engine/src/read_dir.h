/* read_dir.h: the reader's directory mode (read.c). A directory given as
 * an input is read as a corpus of one document per .html, .htm or .txt
 * file found under it (recursively, hidden names skipped, in byte order of
 * their paths): the id is the file's path, the text its bytes, the source
 * the first directory below the root (pages saved as DIR/SOURCE/... learn
 * each source's chrome). Each record's raw line is the JSON object
 * {"id","text"[,"source"]}, so dedup prints kept pages as JSONL. */
#ifndef CD_READ_DIR_H
#define CD_READ_DIR_H

#include <stddef.h>

#include "copydesk/copydesk.h"

typedef struct cd__dir cd__dir;

/* 1 when path names a directory. */
int cd__is_directory(const char *path);

/* Lists the files under path. reason (CD_ERRMSG_SIZE) says why on error.
 * Errors: CD_ERR_IO (cannot list a directory, or no file to read under
 * path: "is a directory without .html, .htm or .txt files"), CD_ERR_NOMEM. */
cd_status cd__dir_open(const char *path, size_t max_doc_bytes, cd__dir **out, char *reason);

void cd__dir_close(cd__dir *dir); /* NULL is a no-op */

/* The next file as a record (rec->line is its 1-based number in the
 * listing; with parse, rec->doc is filled). Pointers stay valid until the
 * next call. CD_END after the last file; CD_ERR_LIMIT for a file over
 * max_doc_bytes and CD_ERR_INPUT for one that cannot be read or, with
 * parse, that holds a NUL byte (errmsg, of CD_ERRMSG_SIZE, says which; the
 * next call goes on); CD_ERR_NOMEM. */
cd_status cd__dir_next(cd__dir *dir, cd_record *rec, int parse, char *errmsg);

#endif
