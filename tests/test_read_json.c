/* test_read_json.c: the reader's JSON fast path (engine/src/read_json.c)
 * against cJSON, the parser it stands in for. Whenever the fast path accepts
 * a line, cJSON must accept it too, as the reader checks it (an object, text
 * a string, id a string or a number, nothing but spaces after it, no NUL),
 * and every field must have the same bytes. Checked on hand-written lines
 * and on hundreds of thousands of random mutations of them; the fast path
 * must also accept the ordinary lines, or it would be no faster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "copydesk/copydesk.h"
#include "read_json.h"
#include "support.h"

static const char *const names[CD__JSON_FIELDS] = {"id", "text", "title", "date", "source", "url"};

/* The reader's rules, with cJSON: 1 and the fields when the line is a
 * document, 0 when the reader rejects it. */
typedef struct reference {
    cJSON *json;
    cd_str value[CD__JSON_FIELDS];
    int id_is_number;
    double id_number;
} reference;

static int has_nul(const char *s, size_t len)
{
    if (memchr(s, '\0', len))
        return 1;
    for (size_t i = 0; i + 5 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (memcmp(s + i + 1, "u0000", 5) == 0)
            return 1;
        i++; /* past the escaped character */
    }
    return 0;
}

static int reference_parse(const char *line, size_t len, reference *ref)
{
    memset(ref, 0, sizeof *ref);
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!json)
        return 0;
    ref->json = json;
    for (const char *p = end; p < line + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return 0;
    if (!cJSON_IsObject(json) || has_nul(line, len))
        return 0;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(json, "text");
    if (!cJSON_IsString(text) || !text->valuestring)
        return 0;
    for (int f = 0; f < CD__JSON_FIELDS; f++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, names[f]);
        if (cJSON_IsString(item) && item->valuestring)
            ref->value[f] = (cd_str){item->valuestring, strlen(item->valuestring)};
        else if (f == CD__JSON_ID && cJSON_IsNumber(item)) {
            ref->id_is_number = 1;
            ref->id_number = item->valuedouble;
        } else if (f == CD__JSON_ID && item)
            return 0;
    }
    return 1;
}

static void print_line(const char *line, size_t len)
{
    print_error("line (%zu bytes): ", len);
    for (size_t i = 0; i < len && i < 400; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c >= 0x20 && c < 0x7F)
            print_error("%c", c);
        else
            print_error("\\x%02X", c);
    }
    print_error("\n");
}

/* Checks one line; returns 1 when the fast path accepted it. */
static int check_line(cd__json_scanner *s, const char *line, size_t len)
{
    cd__json_fields got;
    int accepted = cd__json_scan(s, line, len, names, &got);
    assert_true(accepted == 0 || accepted == 1);
    reference ref;
    int ok = reference_parse(line, len, &ref);
    if (accepted) {
        if (!ok) {
            print_line(line, len);
            fail_msg("the fast path accepted a line the reader rejects");
        }
        for (int f = 0; f < CD__JSON_FIELDS; f++) {
            const cd_str *a = &got.value[f], *b = &ref.value[f];
            if (a->ptr && a->ptr[a->len] != '\0') {
                print_line(line, len);
                fail_msg("field %s is not NUL-terminated", names[f]);
            }
            if ((a->ptr == NULL) != (b->ptr == NULL) || a->len != b->len ||
                (a->len && memcmp(a->ptr, b->ptr, a->len) != 0)) {
                print_line(line, len);
                fail_msg("field %s differs: fast %zu bytes, cJSON %zu bytes", names[f], a->len,
                         b->len);
            }
        }
        if (got.id_is_number != ref.id_is_number ||
            (got.id_is_number && memcmp(&got.id_number, &ref.id_number, sizeof(double)) != 0)) {
            print_line(line, len);
            fail_msg("numeric id differs: fast %d %.17g, cJSON %d %.17g", got.id_is_number,
                     got.id_number, ref.id_is_number, ref.id_number);
        }
    }
    cJSON_Delete(ref.json);
    return accepted;
}

#define LINE(s)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

static const struct {
    const char *s;
    size_t len;
} accepted_lines[] = {
    LINE("{\"id\":\"a1\",\"text\":\"Hello world\"}"),
    LINE("  {\"text\":\"x\"}  \t\r"),
    LINE("{\"id\":42,\"text\":\"t\",\"title\":\"T\",\"date\":\"2024-01-01\",\"source\":\"s\","
         "\"url\":\"u\"}"),
    LINE("{\"id\":-1.5e3,\"text\":\"t\"}"),
    LINE("{\"id\":0,\"text\":\"t\"}"),
    LINE("{\"id\":12345678901234567890,\"text\":\"t\"}"),
    LINE("{ \"text\" : \"a\\nb\\t\\\"c\\\\d\\/e\\b\\f\\r\" , \"id\" : \"\\u00e9\\u4e2d\" }"),
    LINE("{\"text\":\"emoji \\ud83d\\ude00 end\"}"),
    LINE("{\"text\":\"first\",\"text\":\"second\"}"),
    LINE("{\"title\":null,\"date\":17,\"source\":[1,2,{\"a\":[]}],\"url\":{},\"text\":\"t\"}"),
    LINE("{\"extra\":{\"nested\":{\"deep\":[true,false,null,1,-0.5,\"s\"]}},\"text\":\"t\"}"),
    LINE("{\"text\":\"raw \xC3\xA9 and invalid \xFF bytes and a raw\ttab\"}"),
    LINE("{\"\":\"empty key\",\"text\":\"\"}"),
    LINE("{\"title\":\"t\",\"id\":\"x\",\"cluster\":\"c1\",\"story_family\":\"f\",\"text\":"
         "\"body\"}"),
};

static const struct {
    const char *s;
    size_t len;
} declined_lines[] = {
    LINE(""),
    LINE("[]"),
    LINE("\"text\""),
    LINE("{\"text\":17}"),
    LINE("{\"id\":\"x\"}"),
    LINE("{\"id\":null,\"text\":\"t\"}"),
    LINE("{\"id\":[1],\"text\":\"t\"}"),
    LINE("{\"text\":\"t\"} x"),
    LINE("{\"text\":\"t\"}{}"),
    LINE("{\"text\":\"unterminated}"),
    LINE("{\"text\":\"bad \\x escape\"}"),
    LINE("{\"text\":\"nul \\u0000 escape\"}"),
    LINE("{\"text\":\"raw nul \0 byte\"}"),
    LINE("{\"text\":\"lone \\udc00 low\"}"),
    LINE("{\"text\":\"lone \\ud800 high\"}"),
    LINE("{\"text\":\"bad \\u12g4 hex\"}"),
    LINE("{\"te\\u0078t\":\"escaped key\"}"),
    LINE("{\"text\":\"t\",}"),
    LINE("{\"text\":\"t\" \"id\":1}"),
    LINE("{\"id\":01,\"text\":\"t\"}"),
    LINE("{\"id\":1.,\"text\":\"t\"}"),
    LINE("{\"id\":+1,\"text\":\"t\"}"),
    LINE("{\"id\":tru,\"text\":\"t\"}"),
    LINE("\xEF\xBB\xBF{\"text\":\"bom\"}"),
    LINE("{\"text\":\"t\"}\x01"),
    LINE("\x01{\"text\":\"t\"}"),
};

static void test_hand_written(void **state)
{
    (void)state;
    cd__json_scanner s = {0};
    for (size_t i = 0; i < sizeof accepted_lines / sizeof *accepted_lines; i++) {
        if (!check_line(&s, accepted_lines[i].s, accepted_lines[i].len)) {
            print_line(accepted_lines[i].s, accepted_lines[i].len);
            fail_msg("an ordinary line was declined");
        }
    }
    for (size_t i = 0; i < sizeof declined_lines / sizeof *declined_lines; i++) {
        if (check_line(&s, declined_lines[i].s, declined_lines[i].len)) {
            print_line(declined_lines[i].s, declined_lines[i].len);
            fail_msg("an unusual line was accepted");
        }
    }
    /* nesting: 64 levels are left to cJSON */
    char deep[400];
    size_t n = (size_t)snprintf(deep, sizeof deep, "{\"text\":\"t\",\"x\":");
    for (int i = 0; i < 70; i++)
        deep[n++] = '[';
    for (int i = 0; i < 70; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    assert_int_equal(check_line(&s, deep, n), 0);
    cd__json_scanner_free(&s);
}

static uint64_t rng_state = 0x5EED5EED12345678ull;

static uint64_t rnd(void) { return test_random(&rng_state); }

/* Random edits of the hand-written lines: bytes replaced, inserted or
 * deleted, favouring the characters JSON's grammar turns on. */
static void test_mutations(void **state)
{
    (void)state;
    static const char alphabet[] = "\"\\{}[],:0123456789.-+eEuntrfalsd/bx \t\r\x01\x7F\xC3\xA9";
    cd__json_scanner s = {0};
    char line[1024];
    size_t accepted = 0, trials = 0;
    size_t count = sizeof accepted_lines / sizeof *accepted_lines;
    for (int t = 0; t < 300000; t++) {
        size_t pick = (size_t)(rnd() % count);
        size_t len = accepted_lines[pick].len;
        memcpy(line, accepted_lines[pick].s, len);
        int edits = 1 + (int)(rnd() % 3);
        for (int e = 0; e < edits; e++) {
            uint64_t r = rnd();
            size_t at = len ? (size_t)((r >> 8) % len) : 0;
            char c = (r & 64) ? (char)(r >> 32) : alphabet[(r >> 32) % (sizeof alphabet - 1)];
            switch (r % 3) {
            case 0:
                if (len)
                    line[at] = c;
                break;
            case 1:
                if (len + 1 < sizeof line) {
                    memmove(line + at + 1, line + at, len - at);
                    line[at] = c;
                    len++;
                }
                break;
            default:
                if (len) {
                    memmove(line + at, line + at + 1, len - at - 1);
                    len--;
                }
                break;
            }
        }
        accepted += (size_t)check_line(&s, line, len);
        trials++;
    }
    print_message("%zu of %zu mutated lines accepted by the fast path, all as cJSON reads them\n",
                  accepted, trials);
    assert_true(accepted > trials / 20);
    cd__json_scanner_free(&s);
}

/* Long strings with escapes at every offset around the 16-byte steps of the
 * vector search. */
static void test_long_strings(void **state)
{
    (void)state;
    cd__json_scanner s = {0};
    char line[600];
    for (size_t body = 0; body < 80; body++) {
        for (size_t at = 0; at <= body; at++) {
            size_t n = (size_t)snprintf(line, sizeof line, "{\"id\":\"%zu\",\"text\":\"", at);
            for (size_t i = 0; i < body; i++)
                line[n++] = (char)('a' + i % 26);
            if (at < body) { /* an escape in the middle */
                memmove(line + n - (body - at) + 2, line + n - (body - at), body - at);
                line[n - (body - at)] = '\\';
                line[n - (body - at) + 1] = (at & 1) ? 'n' : '"';
                n += 2;
            }
            n += (size_t)snprintf(line + n, sizeof line - n, "\"}");
            assert_int_equal(check_line(&s, line, n), 1);
        }
    }
    cd__json_scanner_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_written),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_long_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
