/* read_json.h: the reader's fast path for JSON (used by read.c, the first
 * stage). It scans one JSONL line for the document fields without building a
 * cJSON tree, and only accepts a line when cJSON 1.7 would parse it into an
 * object with the same field values: well-formed JSON made of the common
 * constructs, whose text field is a string and whose id is absent, a string or
 * a number. Anything else (malformed, unusual or deeply nested JSON, a NUL, a
 * missing or mistyped field) it declines, and the reader parses the line with
 * cJSON, which also writes every error message. */
#ifndef CD_READ_JSON_H
#define CD_READ_JSON_H

#include <stddef.h>

#include "copydesk/copydesk.h"

/* The fields the reader looks up, in this order. */
enum {
    CD__JSON_ID,
    CD__JSON_TEXT,
    CD__JSON_TITLE,
    CD__JSON_DATE,
    CD__JSON_SOURCE,
    CD__JSON_URL,
    CD__JSON_FIELDS
};

/* Scratch space for unescaped strings, reused from line to line (it only
 * grows). Zero it to start; free with cd__json_scanner_free. */
typedef struct cd__json_scanner {
    char *buf;
    size_t cap;
} cd__json_scanner;

void cd__json_scanner_free(cd__json_scanner *s);

/* What an accepted line holds: each field's first occurrence among the
 * top-level keys (as cJSON_GetObjectItemCaseSensitive finds it). */
typedef struct cd__json_fields {
    cd_str value[CD__JSON_FIELDS]; /* a string field's text, NUL-terminated with
                                      no NUL inside, in the scanner (valid until
                                      its next scan); ptr NULL when the field
                                      is absent or not a string */
    int id_is_number;              /* the id is a JSON number ... */
    double id_number;              /* ... with this value (strtod of it) */
} cd__json_fields;

/* Scans line[0..len) (any bytes). names[f] is the key of field f, or NULL
 * for none; names[CD__JSON_TEXT] is not NULL. Returns 1 and fills *out when
 * the line is accepted, 0 when it is declined, -1 when memory for the
 * scanner's buffer ran out (nothing to free in any case). Thread-safe on
 * distinct scanners.
 *
 * For benchmarks and tests, COPYDESK_READ_JSON=cjson in the environment of
 * cd_reader_open turns the fast path off for that reader. */
int cd__json_scan(cd__json_scanner *s, const char *line, size_t len,
                  const char *const names[CD__JSON_FIELDS], cd__json_fields *out);

#endif
