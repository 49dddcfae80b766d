/* cli.h: the subcommands of the copydesk tool and the helpers they share.
 * The CLI owns argv, files, stdout and exit codes; it uses only the public
 * header of the engine. */
#ifndef CD_CLI_H
#define CD_CLI_H

#include <stdio.h>

#include "copydesk/copydesk.h"

/* Exit codes. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_BAD_INPUT = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_IO = 3,
};

/* Each subcommand gets argv after the subcommand name (argv[0] is the
 * subcommand) and returns an exit code. */
int cli_run(int argc, char **argv);  /* dedup, cluster, pairs */
int cli_eval(int argc, char **argv); /* eval */
int cli_boilerplate(int argc, char **argv); /* boilerplate */

/* Writes a boilerplate model to path atomically (run.c). Returns 0, or -1
 * after a message. */
struct cd_boilerplate;
int cli_save_boilerplate(const struct cd_boilerplate *model, const char *path);

/* Prints "copydesk: " + message + "\n" on stderr. */
void cli_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Parse the value of --option: a whole decimal number within [min, max], or
 * any number strtod accepts. Return 0, or -1 after printing a message that
 * names the option. */
int cli_parse_unsigned(const char *option, const char *text, unsigned long long min,
                       unsigned long long max, unsigned long long *value);
int cli_parse_double(const char *option, const char *text, double *value);

/* Parses the value of a similarity option shared by every command that
 * signs documents (threshold, ngram, perm, bands, rows, fp-weight,
 * fn-weight, seed) into *params. Returns 1 when option is one of them,
 * 0 when it is not (nothing is read), -1 on a bad value (message printed). */
int cli_parse_similarity_option(const char *option, const char *text, cd_params *params);

/* Parses the value of an input option shared by every command that reads
 * documents (id-field, text-field, title-field, date-field, source-field,
 * url-field, max-doc-bytes, on-error) into *read, or for on-error into
 * *skip_errors (1: skip, 0: fail). A field name is kept as the pointer text,
 * not copied. Returns 1 when option is one of them, 0 when it is not
 * (nothing is read), -1 on a bad value (message printed). */
int cli_parse_input_option(const char *option, const char *text, cd_read_options *read,
                           int *skip_errors);

/* Writes s[0..len) as a JSON string literal (with quotes) to out. */
void cli_write_json_string(FILE *out, const char *s, size_t len);

#endif
