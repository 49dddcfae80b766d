/* output.h: output files written atomically. Data goes to a temporary file
 * beside the final name, which is fsynced and renamed over it only when the
 * run succeeds, so a failure never leaves a half-written file. A symbolic
 * link is kept: the file it points to is the one replaced. A path that
 * names a device, a pipe or a socket (/dev/null, a FIFO, /dev/stdout on a
 * pipe) is written directly, as stdout is: there is nothing to replace. */
#ifndef CD_CLI_OUTPUT_H
#define CD_CLI_OUTPUT_H

#include <stdio.h>

typedef struct cli_output {
    FILE *fp;
    char *name;       /* for messages: the path given; NULL for stdout */
    char *final_path; /* replaced at commit; NULL when written directly */
    char *temp_path;
    char *buffer; /* the stdio buffer (glibc ignores setvbuf's size without
                   * one, and writes a 5 KB line with a syscall) */
    unsigned long long written, handed; /* bytes written; handed to the disk */
} cli_output;

/* Opens path for writing (NULL or "-" = stdout). Returns 0, or -1 with a
 * message already printed. */
int cli_output_open(cli_output *out, const char *path);

/* Writes bytes[0..len) to out. For a file, every 4 MiB written are handed
 * to the disk at once (sync_file_range), so that the disk writes while the
 * run goes on and the fsync at commit finds little left to do (with 16 MiB
 * dedup's write stage took 0.20-0.22 s on synth-100k, with 4 MiB 0.17-0.20
 * s). A failure shows at flush or commit (the stream's error flag). */
void cli_output_write(cli_output *out, const void *bytes, size_t len);

/* Flushes, and for a file fsyncs, what was written so far, leaving only the
 * rename to cli_output_commit: a run with two outputs flushes one before
 * committing the other. Returns 0, or -1 with a message printed (abort the
 * output then). */
int cli_output_flush(cli_output *out);

/* Flushes, and for a file fsyncs and renames it into place. Returns 0, or
 * -1 with a message printed (the temporary file is then removed). */
int cli_output_commit(cli_output *out);

/* Discards a file output (removes the temporary file); a direct output
 * keeps what was written. */
void cli_output_abort(cli_output *out);

#endif
