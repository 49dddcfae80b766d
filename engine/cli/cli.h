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

/* Reads a model saved by cli_save_boilerplate (run.c). Returns it (the
 * caller frees it with cd_boilerplate_free), or NULL after a message that
 * names path, with *code the exit code: CLI_EXIT_BAD_INPUT for a damaged
 * model, CLI_EXIT_IO when the file cannot be read or memory runs out. */
struct cd_boilerplate *cli_load_boilerplate(const char *path, int *code);

/* Prints "copydesk: " + message + "\n" on stderr. */
void cli_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Parse the value of --option: a whole decimal number within [min, max], or
 * any number strtod accepts. Return 0, or -1 after printing a message that
 * names the option. */
int cli_parse_unsigned(const char *option, const char *text, unsigned long long min,
                       unsigned long long max, unsigned long long *value);
int cli_parse_double(const char *option, const char *text, double *value);

/* getopt_long values of the shared options below, above those of any
 * command's own options (which start at 256). */
enum {
    CLI_OPT_THRESHOLD = 1024,
    CLI_OPT_NGRAM,
    CLI_OPT_PERM,
    CLI_OPT_BANDS,
    CLI_OPT_ROWS,
    CLI_OPT_FP_WEIGHT,
    CLI_OPT_FN_WEIGHT,
    CLI_OPT_SEED,
    CLI_OPT_WITH_TITLE,
    CLI_OPT_MAX_BUCKET,
    CLI_OPT_CHAR_NGRAM,
    CLI_OPT_MATCH,
    CLI_OPT_MIN_CONTAINMENT,
    CLI_OPT_LEAD_SHINGLES,
    CLI_OPT_LEAD_THRESHOLD,
    CLI_OPT_ID_FIELD,
    CLI_OPT_TEXT_FIELD,
    CLI_OPT_TITLE_FIELD,
    CLI_OPT_DATE_FIELD,
    CLI_OPT_SOURCE_FIELD,
    CLI_OPT_URL_FIELD,
    CLI_OPT_MAX_DOC_BYTES,
    CLI_OPT_ON_ERROR,
};

/* The struct option rows (getopt.h) of the similarity options, for the
 * long_options table of a command that takes them all (dedup, cluster,
 * pairs, index); cli_parse_similarity_option parses each by its name. */
/* clang-format off */
#define CLI_SIMILARITY_OPTIONS                                                                     \
    {"threshold", required_argument, NULL, CLI_OPT_THRESHOLD},                                     \
    {"ngram", required_argument, NULL, CLI_OPT_NGRAM},                                             \
    {"perm", required_argument, NULL, CLI_OPT_PERM},                                               \
    {"bands", required_argument, NULL, CLI_OPT_BANDS},                                             \
    {"rows", required_argument, NULL, CLI_OPT_ROWS},                                               \
    {"fp-weight", required_argument, NULL, CLI_OPT_FP_WEIGHT},                                     \
    {"fn-weight", required_argument, NULL, CLI_OPT_FN_WEIGHT},                                     \
    {"seed", required_argument, NULL, CLI_OPT_SEED},                                               \
    {"with-title", no_argument, NULL, CLI_OPT_WITH_TITLE},                                         \
    {"max-bucket", required_argument, NULL, CLI_OPT_MAX_BUCKET},                                   \
    {"char-ngram", required_argument, NULL, CLI_OPT_CHAR_NGRAM},                                   \
    {"match", required_argument, NULL, CLI_OPT_MATCH},                                             \
    {"min-containment", required_argument, NULL, CLI_OPT_MIN_CONTAINMENT},                         \
    {"lead-shingles", required_argument, NULL, CLI_OPT_LEAD_SHINGLES},                             \
    {"lead-threshold", required_argument, NULL, CLI_OPT_LEAD_THRESHOLD}

/* The struct option rows of the input options, for the long_options table of
 * a command that reads documents; cli_parse_input_option parses each. */
#define CLI_INPUT_OPTIONS                                                                          \
    {"id-field", required_argument, NULL, CLI_OPT_ID_FIELD},                                       \
    {"text-field", required_argument, NULL, CLI_OPT_TEXT_FIELD},                                   \
    {"title-field", required_argument, NULL, CLI_OPT_TITLE_FIELD},                                 \
    {"date-field", required_argument, NULL, CLI_OPT_DATE_FIELD},                                   \
    {"source-field", required_argument, NULL, CLI_OPT_SOURCE_FIELD},                               \
    {"url-field", required_argument, NULL, CLI_OPT_URL_FIELD},                                     \
    {"max-doc-bytes", required_argument, NULL, CLI_OPT_MAX_DOC_BYTES},                             \
    {"on-error", required_argument, NULL, CLI_OPT_ON_ERROR}
/* clang-format on */

/* Parses the value of a similarity option shared by every command that
 * signs documents (threshold, ngram, perm, bands, rows, fp-weight,
 * fn-weight, seed, with-title, max-bucket, char-ngram, match,
 * min-containment, lead-shingles, lead-threshold) into *params; text is
 * not read for with-title, which takes no value. Returns 1 when option is
 * one of them, 0 when it is not (nothing is read), -1 on a bad value
 * (message printed). A command that takes only some of them (track) calls
 * it for those only. */
int cli_parse_similarity_option(const char *option, const char *text, cd_params *params);

/* Parses the value of an input option shared by every command that reads
 * documents (id-field, text-field, title-field, date-field, source-field,
 * url-field, max-doc-bytes, on-error) into *read, or for on-error into
 * *skip_errors (1: skip, 0: fail). A field name is kept as the pointer text,
 * not copied. Returns 1 when option is one of them, 0 when it is not
 * (nothing is read), -1 on a bad value (message printed). */
int cli_parse_input_option(const char *option, const char *text, cd_read_options *read,
                           int *skip_errors);

/* Parses option as cli_parse_similarity_option (unless params is NULL: a
 * command without the similarity options) and then as
 * cli_parse_input_option. option may be NULL (a short option), which is
 * none of them. Returns 1, 0 or -1 as those. */
int cli_parse_shared_option(const char *option, const char *text, cd_params *params,
                            cd_read_options *read, int *skip_errors);

/* The name of the row of options (a long_options table ending in a row
 * without a name) whose val is val, or NULL when there is none. */
struct option;
const char *cli_option_name(const struct option *options, int val);

/* Resolves params in place (cd_params_resolve: bands and rows chosen).
 * Returns 0, or -1 after printing why, after prefix ("" for none). */
int cli_resolve_params(cd_params *params, const char *prefix);

/* Checks that params resolve, as cli_resolve_params does on a copy: they
 * stay as given. */
int cli_check_params(const cd_params *params, const char *prefix);

/* The FILE operands argv[first..argc) into *files and *count, or "-"
 * (stdin) alone when there are none. *files points into argv or at static
 * storage: nothing to free. */
void cli_input_files(int argc, char **argv, int first, const char ***files, int *count);

/* Writes s[0..len) as a JSON string literal (with quotes) to out. */
void cli_write_json_string(FILE *out, const char *s, size_t len);

#endif
