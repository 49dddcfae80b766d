/* run_options.h: the options of dedup, cluster and pairs, parsed from argv. */
#ifndef CD_CLI_RUN_OPTIONS_H
#define CD_CLI_RUN_OPTIONS_H

#include "copydesk/copydesk.h"

typedef enum run_mode { MODE_DEDUP, MODE_CLUSTER, MODE_PAIRS } run_mode;

typedef struct run_options {
    run_mode mode;
    cd_params params;
    cd_read_options read;
    int skip_errors;        /* --on-error skip */
    const char *output;     /* -o, NULL = stdout */
    const char *removed;    /* --removed */
    const char *boilerplate_load; /* --boilerplate-load FILE */
    const char *boilerplate_save; /* --boilerplate-save FILE */
    int all;                /* cluster --all */
    int per_doc;            /* cluster --per-doc */
    int progress;           /* --progress / --no-progress; default: stderr is a tty */
    int quiet, verbose;
    unsigned long long memory; /* --memory: bytes of texts kept while learning; 0 = RAM / 8 */
    const char **files;     /* "-" when none given */
    int file_count;
} run_options;

/* Parses argv (argv[0] = the command). Returns -1 when the run should go
 * on, or an exit code (0 after --help, 2 after a usage error, with the
 * message printed). */
int run_options_parse(run_options *opts, int argc, char **argv);

#endif
