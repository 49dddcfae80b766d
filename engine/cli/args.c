/* args.c: parsing of numeric option values, shared by every subcommand so
 * each reports a bad value with the same message. */
#include <errno.h>
#include <stdlib.h>

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
