/* fuzz_json.c: differential fuzz target for the reader's JSON fast path
 * (read_json.c, cd__json_scan) against cJSON, which the reader falls back
 * to. The fast path may decline any line, but a line it accepts must be one
 * cJSON parses into an object (with nothing but white space after it) whose
 * fields, looked up as the reader looks them up, have exactly the values
 * the fast path found: the same strings byte for byte, the same numeric id,
 * the same absent or non-string fields. The first byte picks the field
 * names (the defaults, unusual ones, or one name for two fields). */
#include <cjson/cJSON.h>

#include "copydesk/copydesk.h"
#include "fuzz.h"
#include "read_json.h"

static const char *const name_sets[][CD__JSON_FIELDS] = {
    {"id", "text", "title", "date", "source", "url"},
    {NULL, "text", NULL, NULL, NULL, NULL},
    {"text", "text", "text", "id", "id", "a"},
    {"", "body", "h\xc3\xa9", "a\"b", "\\", "\xe2\x80\x9c"},
    {"ID", "Text", "title ", " date", "source\n", "url\t"},
};

static void check_field(const cJSON *json, const char *name, cd_str fast, int is_id,
                        const cd__json_fields *f)
{
    const cJSON *item = name ? cJSON_GetObjectItemCaseSensitive(json, name) : NULL;
    if (is_id && f->id_is_number) {
        FUZZ_CHECK(cJSON_IsNumber(item));
        FUZZ_CHECK(item->valuedouble == f->id_number ||
                   (f->id_number != f->id_number && item->valuedouble != item->valuedouble));
        return;
    }
    if (cJSON_IsString(item) && item->valuestring) {
        FUZZ_CHECK(fast.ptr != NULL);
        FUZZ_CHECK(strlen(item->valuestring) == fast.len);
        FUZZ_CHECK(memcmp(item->valuestring, fast.ptr, fast.len) == 0);
        FUZZ_CHECK(fast.ptr[fast.len] == '\0');
    } else {
        FUZZ_CHECK(fast.ptr == NULL);
        if (is_id) /* an accepted id is absent, a string or a number */
            FUZZ_CHECK(item == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const char *const *names = name_sets[fuzz_byte(&in) % (sizeof name_sets / sizeof name_sets[0])];
    const char *line = (const char *)in.p;
    size_t len = in.left;

    cd__json_scanner scanner = {0};
    cd__json_fields fast;
    int accepted = cd__json_scan(&scanner, line, len, names, &fast);
    FUZZ_CHECK(accepted == 0 || accepted == 1);
    if (accepted) {
        const char *end = NULL;
        cJSON *json = cJSON_ParseWithLengthOpts(line, len, &end, 0);
        FUZZ_CHECK(json != NULL && cJSON_IsObject(json));
        for (const char *p = end; p < line + len; p++)
            FUZZ_CHECK(*p == ' ' || *p == '\t' || *p == '\r');
        FUZZ_CHECK(memchr(line, '\0', len) == NULL);
        for (int f = 0; f < CD__JSON_FIELDS; f++)
            check_field(json, names[f], fast.value[f], f == CD__JSON_ID, &fast);
        FUZZ_CHECK(fast.value[CD__JSON_TEXT].ptr != NULL);
        cJSON_Delete(json);
    }
    cd__json_scanner_free(&scanner);
    return 0;
}
