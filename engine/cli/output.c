/* output.c: atomic output files (see output.h). */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum { OUTPUT_BUFFER = 1 << 20 };

int cli_output_open(cli_output *out, const char *path)
{
    *out = (cli_output){stdout, NULL, NULL, NULL};
    if (path == NULL || strcmp(path, "-") == 0)
        return 0;
    size_t len = strlen(path);
    out->final_path = strdup(path);
    out->temp_path = malloc(len + sizeof ".tmp.XXXXXX");
    out->buffer = malloc(OUTPUT_BUFFER);
    if (!out->final_path || !out->temp_path || !out->buffer) {
        cli_error("%s: out of memory", path);
        goto fail;
    }
    memcpy(out->temp_path, path, len);
    memcpy(out->temp_path + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(out->temp_path);
    if (fd < 0) {
        cli_error("%s: cannot write: %s", path, strerror(errno));
        goto fail;
    }
    /* mkstemp makes the file 0600: give it the mode of the file it replaces,
     * or the one a plain open(2) would (0666 less the umask). */
    struct stat st;
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0666 & ~mask);
    out->fp = fdopen(fd, "w");
    if (!out->fp) {
        cli_error("%s: cannot write: %s", path, strerror(errno));
        close(fd);
        unlink(out->temp_path);
        goto fail;
    }
    setvbuf(out->fp, out->buffer, _IOFBF, OUTPUT_BUFFER);
    return 0;
fail:
    free(out->final_path);
    free(out->temp_path);
    free(out->buffer);
    *out = (cli_output){NULL, NULL, NULL, NULL};
    return -1;
}

int cli_output_flush(cli_output *out)
{
    if (fflush(out->fp) != 0 || ferror(out->fp) ||
        (out->final_path && fsync(fileno(out->fp)) != 0)) {
        cli_error("%s: write failed: %s", out->final_path ? out->final_path : "<stdout>",
                  strerror(errno));
        return -1;
    }
    return 0;
}

int cli_output_commit(cli_output *out)
{
    const char *name = out->final_path ? out->final_path : "<stdout>";
    int failed = fflush(out->fp) != 0 || ferror(out->fp);
    if (!out->final_path) {
        if (failed)
            cli_error("%s: write failed: %s", name, strerror(errno));
        return failed ? -1 : 0;
    }
    failed = failed || fsync(fileno(out->fp)) != 0;
    int saved = errno;
    failed = (fclose(out->fp) != 0) || failed;
    out->fp = NULL;
    if (!failed && rename(out->temp_path, out->final_path) != 0) {
        saved = errno;
        failed = 1;
    }
    if (failed) {
        cli_error("%s: write failed: %s", name, strerror(saved ? saved : errno));
        unlink(out->temp_path);
    }
    free(out->final_path);
    free(out->temp_path);
    free(out->buffer);
    *out = (cli_output){NULL, NULL, NULL, NULL};
    return failed ? -1 : 0;
}

void cli_output_abort(cli_output *out)
{
    if (!out->final_path) {
        if (out->fp)
            fflush(out->fp);
        return;
    }
    if (out->fp)
        fclose(out->fp);
    unlink(out->temp_path);
    free(out->final_path);
    free(out->temp_path);
    free(out->buffer);
    *out = (cli_output){NULL, NULL, NULL, NULL};
}
