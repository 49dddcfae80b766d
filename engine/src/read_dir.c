/* read_dir.c: the reader's directory mode (see read_dir.h): lists the
 * files once at open, then reads one file per record. Only the reader
 * touches files; this is part of it. */
#include "read_dir.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"

struct cd__dir {
    char **paths; /* full paths, sorted */
    size_t count, cap, next;
    size_t root_len; /* bytes of the root path and its '/' */
    size_t max_doc_bytes;
    char *content; /* the current file */
    size_t content_cap;
    char *raw; /* its JSON line (cJSON's allocation) */
};

int cd__is_directory(const char *path)
{
    struct stat st;
    return path && strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int wanted(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    char ext[8] = {0};
    size_t n = strlen(dot + 1);
    if (n == 0 || n >= sizeof ext)
        return 0;
    for (size_t i = 0; i < n; i++)
        ext[i] = (char)(dot[1 + i] >= 'A' && dot[1 + i] <= 'Z' ? dot[1 + i] + 32 : dot[1 + i]);
    return !strcmp(ext, "html") || !strcmp(ext, "htm") || !strcmp(ext, "txt");
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *p = cd__malloc(a + slash + b + 1);
    if (p) {
        memcpy(p, dir, a);
        if (slash)
            p[a] = '/';
        memcpy(p + a + slash, name, b + 1);
    }
    return p;
}

/* Adds the wanted files under path to d (depth-first; sorted at the end). */
static cd_status walk(cd__dir *d, const char *path, int depth, char *reason)
{
    if (depth > 64)
        return CD_OK; /* deeper is a link loop or an accident: skipped */
    DIR *dir = opendir(path);
    if (!dir) {
        snprintf(reason, CD_ERRMSG_SIZE, "cannot list %s: %s", path, strerror(errno));
        return CD_ERR_IO;
    }
    cd_status st = CD_OK;
    struct dirent *e;
    while (st == CD_OK && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *full = join(path, e->d_name);
        if (!full) {
            st = CD_ERR_NOMEM;
            break;
        }
        struct stat info;
        if (stat(full, &info) != 0) {
            cd__free(full);
            continue;
        }
        if (S_ISDIR(info.st_mode)) {
            st = walk(d, full, depth + 1, reason);
            cd__free(full);
        } else if (S_ISREG(info.st_mode) && wanted(e->d_name)) {
            if (cd__grow((void **)&d->paths, &d->cap, d->count + 1, sizeof *d->paths) != 0) {
                cd__free(full);
                st = CD_ERR_NOMEM;
            } else {
                d->paths[d->count++] = full;
            }
        } else {
            cd__free(full);
        }
    }
    closedir(dir);
    if (st == CD_ERR_NOMEM)
        snprintf(reason, CD_ERRMSG_SIZE, "out of memory listing %s", path);
    return st;
}

cd_status cd__dir_open(const char *path, size_t max_doc_bytes, cd__dir **out, char *reason)
{
    *out = NULL;
    cd__dir *d = cd__calloc(1, sizeof *d);
    if (!d) {
        snprintf(reason, CD_ERRMSG_SIZE, "out of memory");
        return CD_ERR_NOMEM;
    }
    d->max_doc_bytes = max_doc_bytes;
    size_t n = strlen(path);
    d->root_len = n + (n > 0 && path[n - 1] != '/');
    cd_status st = walk(d, path, 0, reason);
    if (st != CD_OK) {
        cd__dir_close(d);
        return st;
    }
    if (d->count == 0) {
        snprintf(reason, CD_ERRMSG_SIZE, "is a directory without .html, .htm or .txt files");
        cd__dir_close(d);
        return CD_ERR_IO;
    }
    qsort(d->paths, d->count, sizeof *d->paths, cmp_paths);
    *out = d;
    return CD_OK;
}

void cd__dir_close(cd__dir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++)
        cd__free(d->paths[i]);
    cd__free(d->paths);
    cd__free(d->content);
    cJSON_free(d->raw);
    cd__free(d);
}

/* Reads path whole into d->content. */
static cd_status read_whole(cd__dir *d, const char *path, size_t *len, char *errmsg)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cd__set_error(errmsg, "%s: cannot open: %s", path, strerror(errno));
        return CD_ERR_INPUT;
    }
    size_t n = 0;
    cd_status st = CD_OK;
    for (;;) {
        if (cd__grow((void **)&d->content, &d->content_cap, n + 65536 + 1, 1) != 0) {
            cd__set_error(errmsg, "%s: out of memory", path);
            st = CD_ERR_NOMEM;
            break;
        }
        size_t got = fread(d->content + n, 1, 65536, f);
        n += got;
        if (n > d->max_doc_bytes) {
            cd__set_error(errmsg, "%s: file is over --max-doc-bytes (%zu)", path,
                          d->max_doc_bytes);
            st = CD_ERR_LIMIT;
            break;
        }
        if (got < 65536) {
            if (ferror(f)) {
                cd__set_error(errmsg, "%s: read failed: %s", path, strerror(errno));
                st = CD_ERR_INPUT;
            }
            break;
        }
    }
    fclose(f);
    if (st == CD_OK)
        d->content[n] = '\0';
    *len = n;
    return st;
}

cd_status cd__dir_next(cd__dir *d, cd_record *rec, int parse, char *errmsg)
{
    cJSON_free(d->raw);
    d->raw = NULL;
    if (d->next >= d->count)
        return CD_END;
    size_t index = d->next++;
    const char *path = d->paths[index];
    rec->line = index + 1;
    rec->raw = (cd_str){"", 0};
    size_t len;
    cd_status st = read_whole(d, path, &len, errmsg);
    if (st != CD_OK)
        return st;
    /* A NUL would cut the text short: the file is bad input, as a JSONL
     * line holding one is. Without parse (cd_reader_next_line, which never
     * rejects) such a file's raw line has its text cut at the NUL; it is
     * never printed, as the parsing pass rejected it. */
    const char *nul = memchr(d->content, '\0', len);
    if (nul && parse) {
        cd__set_error(errmsg, "%s: NUL byte at byte %zu: documents may not contain NUL characters",
                      path, (size_t)(nul - d->content) + 1);
        return CD_ERR_INPUT;
    }
    /* the source: the first directory below the root, if any */
    const char *rel = path + (strlen(path) >= d->root_len ? d->root_len : 0);
    const char *slash = strchr(rel, '/');
    size_t source_len = slash ? (size_t)(slash - rel) : 0;

    cJSON *obj = cJSON_CreateObject();
    char *source = cd__strndup(rel, source_len);
    cJSON *text = obj && source ? cJSON_CreateString(d->content) : NULL;
    int ok = text && cJSON_AddStringToObject(obj, "id", path) != NULL;
    if (ok)
        cJSON_AddItemToObject(obj, "text", text);
    else
        cJSON_Delete(text);
    if (ok && source_len > 0)
        ok = cJSON_AddStringToObject(obj, "source", source) != NULL;
    d->raw = ok ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    cd__free(source);
    if (!d->raw) {
        cd__set_error(errmsg, "%s: out of memory", path);
        return CD_ERR_NOMEM;
    }
    rec->raw = (cd_str){d->raw, strlen(d->raw)};
    if (parse) {
        rec->doc.id = (cd_str){path, strlen(path)};
        rec->doc.text = (cd_str){d->content, len};
        rec->doc.source = source_len ? (cd_str){rel, source_len} : (cd_str){NULL, 0};
    }
    return CD_OK;
}
