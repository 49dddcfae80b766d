/* args.c: parsing of option values shared by every subcommand (numbers, the
 * similarity options, the input options), so each reports a bad value with
 * the same message. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_unsigned(const char *option, const char *text, unsigned long long min,
                       unsigned long long max, unsigned long long *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
        cli_error("--%s: expected a whole number from %llu to %llu, got '%s'", option, min, max,
                  text);
        return -1;
    }
    *value = v;
    return 0;
}

int cli_parse_double(const char *option, const char *text, double *value)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end) {
        cli_error("--%s: expected a number, got '%s'", option, text);
        return -1;
    }
    *value = v;
    return 0;
}

/* Parses a whole number within [min, max] into *value. Returns 1, or -1
 * after a message (as cli_parse_similarity_option). */
static int parse_unsigned_param(const char *option, const char *text, unsigned long long min,
                                unsigned long long max, unsigned *value)
{
    unsigned long long u;
    if (cli_parse_unsigned(option, text, min, max, &u))
        return -1;
    *value = (unsigned)u;
    return 1;
}

int cli_parse_similarity_option(const char *option, const char *text, cd_params *params)
{
    unsigned long long u;
    double *real = !strcmp(option, "threshold")   ? &params->threshold
                   : !strcmp(option, "fp-weight") ? &params->fp_weight
                   : !strcmp(option, "fn-weight") ? &params->fn_weight
                                                  : NULL;
    if (real)
        return cli_parse_double(option, text, real) ? -1 : 1;
    unsigned *whole = !strcmp(option, "ngram")   ? &params->ngram
                      : !strcmp(option, "perm")  ? &params->perm
                      : !strcmp(option, "bands") ? &params->bands
                      : !strcmp(option, "rows")  ? &params->rows
                                                 : NULL;
    if (whole) {
        if (cli_parse_unsigned(option, text, 1, whole == &params->ngram ? 32 : 1024, &u))
            return -1;
        *whole = (unsigned)u;
        return 1;
    }
    if (!strcmp(option, "seed")) {
        if (cli_parse_unsigned(option, text, 0, UINT64_MAX, &u))
            return -1;
        params->seed = u;
        return 1;
    }
    if (!strcmp(option, "with-title")) {
        params->with_title = 1;
        return 1;
    }
    if (!strcmp(option, "max-bucket")) {
        if (cli_parse_unsigned(option, text, 0, UINT32_MAX, &u))
            return -1;
        params->max_bucket = (size_t)u;
        return 1;
    }
    if (!strcmp(option, "char-ngram"))
        return parse_unsigned_param(option, text, 1, 32, &params->char_ngram);
    if (!strcmp(option, "min-containment"))
        return parse_unsigned_param(option, text, 0, UINT32_MAX, &params->min_containment_shingles);
    if (!strcmp(option, "lead-shingles"))
        return parse_unsigned_param(option, text, 0, 1000000, &params->lead_shingles);
    if (!strcmp(option, "lead-threshold"))
        return cli_parse_double(option, text, &params->lead_threshold) ? -1 : 1;
    if (!strcmp(option, "match")) {
        if (strcmp(text, "jaccard") && strcmp(text, "containment")) {
            cli_error("--match: expected jaccard or containment, got '%s'", text);
            return -1;
        }
        params->match = !strcmp(text, "jaccard") ? CD_MATCH_JACCARD : CD_MATCH_CONTAINMENT;
        return 1;
    }
    return 0;
}

int cli_parse_input_option(const char *option, const char *text, cd_read_options *read,
                           int *skip_errors)
{
    const char **field = !strcmp(option, "id-field")       ? &read->id_field
                         : !strcmp(option, "text-field")   ? &read->text_field
                         : !strcmp(option, "title-field")  ? &read->title_field
                         : !strcmp(option, "date-field")   ? &read->date_field
                         : !strcmp(option, "source-field") ? &read->source_field
                         : !strcmp(option, "url-field")    ? &read->url_field
                                                           : NULL;
    if (field) {
        *field = text;
        return 1;
    }
    if (!strcmp(option, "max-doc-bytes")) {
        unsigned long long u;
        if (cli_parse_unsigned(option, text, 1, (unsigned long long)1 << 40, &u))
            return -1;
        read->max_doc_bytes = (size_t)u;
        return 1;
    }
    if (!strcmp(option, "on-error")) {
        if (strcmp(text, "fail") && strcmp(text, "skip")) {
            cli_error("--on-error: expected fail or skip, got '%s'", text);
            return -1;
        }
        *skip_errors = !strcmp(text, "skip");
        return 1;
    }
    return 0;
}

int cli_parse_shared_option(const char *option, const char *text, cd_params *params,
                            cd_read_options *read, int *skip_errors)
{
    if (!option)
        return 0;
    int parsed = params ? cli_parse_similarity_option(option, text, params) : 0;
    return parsed ? parsed : cli_parse_input_option(option, text, read, skip_errors);
}

const char *cli_option_name(const struct option *options, int val)
{
    const char *name = NULL;
    for (const struct option *row = options; row->name; row++)
        if (row->val == val)
            name = row->name;
    return name;
}

int cli_resolve_params(cd_params *params, const char *prefix)
{
    char err[256];
    if (cd_params_resolve(params, err, sizeof err) != CD_OK) {
        cli_error("%s%s", prefix, err);
        return -1;
    }
    return 0;
}

int cli_check_params(const cd_params *params, const char *prefix)
{
    cd_params check = *params;
    return cli_resolve_params(&check, prefix);
}

void cli_input_files(int argc, char **argv, int first, const char ***files, int *count)
{
    static const char *stdin_only[] = {"-"};
    *files = first < argc ? (const char **)argv + first : stdin_only;
    *count = first < argc ? argc - first : 1;
}
