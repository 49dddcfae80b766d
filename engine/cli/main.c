/* main.c: the copydesk command-line tool's entry point: picks the
 * subcommand, prints help and version, and owns the shared message and
 * JSON-string helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_index.h"
#include "cmd_track.h"
#include "copydesk/copydesk.h"

static const char usage[] =
    "usage: copydesk COMMAND [OPTIONS] [FILE...]\n"
    "\n"
    "Finds the copies of one news story among many articles (MinHash + LSH).\n"
    "\n"
    "commands:\n"
    "  dedup    print the unique documents (input lines byte-exact)\n"
    "  cluster  print one JSON line per cluster of copies\n"
    "  pairs    print one JSON line per verified pair of copies\n"
    "  eval     score a predicted clustering against a gold one\n"
    "  boilerplate  show (and save) the page chrome learned from a corpus\n"
    "  index    a persistent index: create, add, query, stats, evict, compact\n"
    "  track    fetch feeds, match new items against an index, print story events\n"
    "\n"
    "FILE is JSONL, optionally gzip or zstd compressed, or a directory of .html/.txt\n"
    "files; '-' or nothing reads stdin.\n"
    "'copydesk COMMAND --help' lists the options of a command.\n";

void cli_error(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    fputs("copydesk: ", stderr);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_write_json_string(FILE *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    putc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20) {
                fputs("\\u00", out);
                putc(hex[c >> 4], out);
                putc(hex[c & 15], out);
            } else {
                putc(c, out);
            }
        }
    }
    putc('"', out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *command = argv[1];
    if (!strcmp(command, "--help") || !strcmp(command, "-h") || !strcmp(command, "help")) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(command, "--version")) {
        printf("copydesk %s\n", cd_version());
        return CLI_EXIT_OK;
    }
    if (!strcmp(command, "dedup") || !strcmp(command, "cluster") || !strcmp(command, "pairs"))
        return cli_run(argc - 1, argv + 1);
    if (!strcmp(command, "eval"))
        return cli_eval(argc - 1, argv + 1);
    if (!strcmp(command, "boilerplate"))
        return cli_boilerplate(argc - 1, argv + 1);
    if (!strcmp(command, "index"))
        return cli_index(argc - 1, argv + 1);
    if (!strcmp(command, "track"))
        return cli_track(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try 'copydesk --help')", command);
    return CLI_EXIT_USAGE;
}
