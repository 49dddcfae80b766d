/* output.c: atomic output files (see output.h). */
#define _GNU_SOURCE /* sync_file_range */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum { OUTPUT_BUFFER = 1 << 20, WRITEBACK = 4 << 20 };

static const char *shown(const cli_output *out) { return out->name ? out->name : "<stdout>"; }

/* Frees out's names and buffer (its stream already closed). */
static void release(cli_output *out)
{
    free(out->name);
    free(out->final_path);
    free(out->temp_path);
    free(out->buffer);
    *out = (cli_output){0};
}

/* Opens out->name for writing as it is (a device, a pipe, a socket). */
static int open_direct(cli_output *out)
{
    out->fp = fopen(out->name, "w");
    if (!out->fp) {
        cli_error("%s: cannot write: %s", out->name, strerror(errno));
        return -1;
    }
    return 0;
}

/* Opens a temporary file beside out->final_path, with the mode of the file
 * it replaces, or the one a plain open(2) would give (0666 less the umask):
 * mkstemp makes it 0600. */
static int open_temporary(cli_output *out)
{
    size_t len = strlen(out->final_path);
    out->temp_path = malloc(len + sizeof ".tmp.XXXXXX");
    if (!out->temp_path) {
        cli_error("%s: out of memory", out->name);
        return -1;
    }
    memcpy(out->temp_path, out->final_path, len);
    memcpy(out->temp_path + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(out->temp_path);
    if (fd < 0) {
        cli_error("%s: cannot write: %s", out->name, strerror(errno));
        return -1;
    }
    struct stat st;
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, stat(out->final_path, &st) == 0 ? st.st_mode & 07777 : 0666 & ~mask);
    out->fp = fdopen(fd, "w");
    if (!out->fp) {
        cli_error("%s: cannot write: %s", out->name, strerror(errno));
        close(fd);
        unlink(out->temp_path);
        return -1;
    }
    return 0;
}

int cli_output_open(cli_output *out, const char *path)
{
    *out = (cli_output){.fp = stdout};
    if (path == NULL || strcmp(path, "-") == 0)
        return 0;
    out->fp = NULL;
    out->name = strdup(path);
    out->buffer = malloc(OUTPUT_BUFFER);
    if (!out->name || !out->buffer) {
        cli_error("%s: out of memory", path);
        release(out);
        return -1;
    }
    struct stat st;
    int exists = stat(path, &st) == 0;
    int opened;
    if (exists && S_ISDIR(st.st_mode)) {
        cli_error("%s: cannot write: %s", path, strerror(EISDIR));
        opened = -1;
    } else if (exists && !S_ISREG(st.st_mode)) {
        opened = open_direct(out);
    } else {
        /* the file a symbolic link points to is the one replaced */
        struct stat link;
        int is_link = exists && lstat(path, &link) == 0 && S_ISLNK(link.st_mode);
        out->final_path = is_link ? realpath(path, NULL) : strdup(path);
        if (!out->final_path) {
            cli_error("%s: cannot write: %s", path, strerror(errno));
            opened = -1;
        } else {
            opened = open_temporary(out);
        }
    }
    if (opened != 0) {
        release(out);
        return -1;
    }
    setvbuf(out->fp, out->buffer, _IOFBF, OUTPUT_BUFFER);
    return 0;
}

void cli_output_write(cli_output *out, const void *bytes, size_t len)
{
    fwrite(bytes, 1, len, out->fp);
    out->written += len;
    if (out->temp_path && out->written - out->handed >= WRITEBACK && fflush(out->fp) == 0) {
        /* a hint: a failure here shows again at the fsync */
        sync_file_range(fileno(out->fp), (off_t)out->handed, (off_t)(out->written - out->handed),
                        SYNC_FILE_RANGE_WRITE);
        out->handed = out->written;
    }
}

int cli_output_flush(cli_output *out)
{
    if (fflush(out->fp) != 0 || ferror(out->fp) ||
        (out->temp_path && fsync(fileno(out->fp)) != 0)) {
        cli_error("%s: write failed: %s", shown(out), strerror(errno));
        return -1;
    }
    return 0;
}

int cli_output_commit(cli_output *out)
{
    int failed = fflush(out->fp) != 0 || ferror(out->fp);
    int saved = errno;
    if (!out->name) { /* stdout stays open */
        if (failed)
            cli_error("%s: write failed: %s", shown(out), strerror(saved));
        return failed ? -1 : 0;
    }
    if (out->temp_path && !failed && fsync(fileno(out->fp)) != 0) {
        saved = errno;
        failed = 1;
    }
    if (fclose(out->fp) != 0 && !failed) {
        saved = errno;
        failed = 1;
    }
    out->fp = NULL;
    if (out->temp_path && !failed && rename(out->temp_path, out->final_path) != 0) {
        saved = errno;
        failed = 1;
    }
    if (failed) {
        cli_error("%s: write failed: %s", shown(out), strerror(saved));
        if (out->temp_path)
            unlink(out->temp_path);
    }
    release(out);
    return failed ? -1 : 0;
}

void cli_output_abort(cli_output *out)
{
    if (!out->name) {
        if (out->fp)
            fflush(out->fp);
        return;
    }
    if (out->fp)
        fclose(out->fp);
    if (out->temp_path)
        unlink(out->temp_path);
    release(out);
}
