/* cmd_boilerplate.c: `copydesk boilerplate`, which learns the page chrome of
 * a corpus (or loads a saved model) and prints every chrome line with its
 * counts, so users can see what dedup, cluster and pairs would remove. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "copydesk/copydesk.h"
#include "output.h"

static const char help_text[] =
    "usage: copydesk boilerplate [OPTIONS] FILE...\n"
    "       copydesk boilerplate --load MODEL\n"
    "\n"
    "Learns the page chrome of a corpus (JSONL, gzip/zstd, or directories of\n"
    ".html/.txt files) and prints one JSON line per chrome line:\n"
    "  {\"source\":S,\"documents\":N,\"stories\":M,\"text\":T}\n"
    "where source is null for a line that is chrome in every source, documents\n"
    "counts the documents it occurs in and stories the different stories among\n"
    "them. A summary goes to stderr.\n"
    "\n"
    "options:\n"
    "  --save FILE          also save the model (atomically), for\n"
    "                       dedup/cluster/pairs --boilerplate-load\n"
    "  --load FILE          print a saved model instead of learning one\n"
    "  --boilerplate-min-stories N  chrome of a source from N stories (4)\n"
    "  --boilerplate-min-sources N  chrome of every source from N sources (3)\n"
    "  --html auto|off      reduce HTML texts to their main text first (auto)\n"
    "  --id-field F --text-field F --title-field F --date-field F\n"
    "  --source-field F --url-field F      JSON field names\n"
    "  --max-doc-bytes N    longest accepted input line (16777216)\n"
    "  --on-error fail|skip stop at the first bad line (exit 1) or skip it (fail)\n"
    "  -o, --output FILE    write here instead of stdout (atomically)\n"
    "  --quiet              no summary on stderr\n"
    "  -h, --help\n";

enum { OPT_SAVE = 256, OPT_LOAD, OPT_MIN_STORIES, OPT_MIN_SOURCES, OPT_HTML, OPT_QUIET };

static const struct option long_options[] = {
    {"save", required_argument, NULL, OPT_SAVE},
    {"load", required_argument, NULL, OPT_LOAD},
    {"boilerplate-min-stories", required_argument, NULL, OPT_MIN_STORIES},
    {"boilerplate-min-sources", required_argument, NULL, OPT_MIN_SOURCES},
    {"html", required_argument, NULL, OPT_HTML},
    CLI_INPUT_OPTIONS,
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Feeds every document of path to the learner. Returns -1, or an exit code. */
static int learn_file(cd_boilerplate_learner *learner, const char *path,
                      const cd_read_options *read, int skip_errors, size_t *docs,
                      size_t *rejected)
{
    char err[512];
    cd_reader *reader;
    if (cd_reader_open(path, read, &reader, err, sizeof err) != CD_OK) {
        cli_error("%s", err);
        return CLI_EXIT_IO;
    }
    int code = -1;
    cd_record rec;
    for (;;) {
        cd_status st = cd_reader_next(reader, &rec);
        if (st == CD_END)
            break;
        if (st == CD_OK) {
            if (cd_boilerplate_learner_add(learner, &rec.doc, 1) != CD_OK) {
                cli_error("%s", cd_boilerplate_learner_errmsg(learner));
                code = CLI_EXIT_IO;
                break;
            }
            (*docs)++;
        } else if (st == CD_ERR_INPUT || st == CD_ERR_LIMIT || st == CD_ERR_FORMAT) {
            (*rejected)++;
            if (!skip_errors) {
                cli_error("%s", cd_reader_errmsg(reader));
                code = CLI_EXIT_BAD_INPUT;
                break;
            }
            cli_error("%s (skipped)", cd_reader_errmsg(reader));
            if (st == CD_ERR_FORMAT)
                break;
        } else {
            cli_error("%s", cd_reader_errmsg(reader));
            code = CLI_EXIT_IO;
            break;
        }
    }
    cd_reader_free(reader);
    return code;
}

static void print_model(const cd_boilerplate *model, FILE *out)
{
    cd_boilerplate_info info;
    cd_boilerplate_get_info(model, &info);
    for (size_t i = 0; i < info.lines; i++) {
        cd_boilerplate_line line;
        cd_boilerplate_get_line(model, i, &line);
        fputs("{\"source\":", out);
        if (line.source.ptr)
            cli_write_json_string(out, line.source.ptr, line.source.len);
        else
            fputs("null", out);
        fprintf(out, ",\"documents\":%" PRIu64 ",\"stories\":%" PRIu64 ",\"text\":",
                line.documents, line.stories);
        cli_write_json_string(out, line.text.ptr, line.text.len);
        fputs("}\n", out);
    }
}

int cli_boilerplate(int argc, char **argv)
{
    cd_params params;
    cd_params_init(&params);
    cd_read_options read;
    cd_read_options_init(&read);
    const char *save = NULL, *load = NULL, *output = NULL;
    int skip_errors = 0, quiet = 0, c, html;
    unsigned long long u;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
        const char *name = cli_option_name(long_options, c);
        int shared = cli_parse_shared_option(name, optarg, NULL, &read, &skip_errors);
        if (shared < 0)
            return CLI_EXIT_USAGE;
        if (shared > 0)
            continue;
        switch (c) {
        case OPT_SAVE: save = optarg; break;
        case OPT_LOAD: load = optarg; break;
        case OPT_MIN_STORIES:
        case OPT_MIN_SOURCES:
            if (cli_parse_unsigned(c == OPT_MIN_STORIES ? "boilerplate-min-stories"
                                                 : "boilerplate-min-sources",
                            optarg, 2, 1000000, &u))
                return CLI_EXIT_USAGE;
            if (c == OPT_MIN_STORIES)
                params.boilerplate_min_stories = (unsigned)u;
            else
                params.boilerplate_min_sources = (unsigned)u;
            break;
        case OPT_HTML:
            html = !strcmp(optarg, "auto") ? 1 : !strcmp(optarg, "off") ? 0 : -1;
            if (html < 0) {
                cli_error("--html: expected auto or off, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            params.extract_html = html;
            break;
        case 'o': output = optarg; break;
        case OPT_QUIET: quiet = 1; break;
        case 'h': fputs(help_text, stdout); return CLI_EXIT_OK;
        case ':': cli_error("boilerplate: option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("boilerplate: unknown option '%s' (try --help)", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (load && optind < argc) {
        cli_error("boilerplate: give either --load MODEL or input files, not both");
        return CLI_EXIT_USAGE;
    }
    if (!load && optind >= argc) {
        cli_error("boilerplate: no input files (try --help)");
        return CLI_EXIT_USAGE;
    }

    cd_boilerplate *model = NULL;
    size_t docs = 0, rejected = 0;
    int code = -1;
    if (load) {
        int load_code;
        if (!(model = cli_load_boilerplate(load, &load_code)))
            return load_code;
    } else {
        cd_boilerplate_learner *learner;
        if (cd_boilerplate_learner_create(&params, &learner) != CD_OK) {
            cli_error("out of memory");
            return CLI_EXIT_IO;
        }
        for (int f = optind; f < argc && code < 0; f++)
            code = learn_file(learner, argv[f], &read, skip_errors, &docs, &rejected);
        if (code < 0 && cd_boilerplate_learner_finish(learner, &model) != CD_OK) {
            cli_error("%s", cd_boilerplate_learner_errmsg(learner));
            code = CLI_EXIT_IO;
        }
        cd_boilerplate_learner_free(learner);
    }
    if (code < 0 && save && cli_save_boilerplate(model, save) != 0)
        code = CLI_EXIT_IO;
    if (code < 0) {
        cli_output out;
        if (cli_output_open(&out, output) != 0) {
            code = CLI_EXIT_IO;
        } else {
            print_model(model, out.fp);
            if (cli_output_commit(&out) != 0)
                code = CLI_EXIT_IO;
        }
    }
    if (code < 0 && !quiet) {
        cd_boilerplate_info info;
        cd_boilerplate_get_info(model, &info);
        size_t every = 0;
        for (size_t i = 0; i < info.lines; i++) {
            cd_boilerplate_line line;
            cd_boilerplate_get_line(model, i, &line);
            every += line.source.ptr == NULL;
        }
        if (!load)
            cli_error("read %zu documents, rejected %zu", docs, rejected);
        cli_error("%zu chrome lines: %zu of every source, %zu of %zu sources (learned from %" PRIu64
                  " documents; a line is chrome from %u stories of a source, or %u sources)",
                  info.lines, every, info.lines - every, info.sources, info.documents,
                  info.min_stories, info.min_sources);
    }
    cd_boilerplate_free(model);
    return code < 0 ? CLI_EXIT_OK : code;
}
