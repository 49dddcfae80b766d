/* index_params.c: the parameter record of an index. Every cd_params field
 * that changes what an index stores is listed once in `fields` below; the
 * record ("name=value" lines), its fingerprint, the parser and the mismatch
 * message are all driven by that table, so a field added there is covered
 * everywhere. The record also names the boilerplate model stored in the
 * index (by the XXH3 of its saved bytes), so the fingerprint covers it. tests/test_index.c fails
 * when cd_params has bytes that no entry covers. Also the probe signature, which catches a change
 * of normalisation, hashing or MinHash that forgot to bump a version. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "index.h"

typedef enum field_type { F_DOUBLE, F_UNSIGNED, F_U64, F_INT, F_SIZE, F_ENUM } field_type;

typedef struct field {
    cd__param_field f;
    field_type type;
} field;

#define FIELD(name, type, recorded)                                                                \
    {                                                                                              \
        {#name, offsetof(cd_params, name), sizeof(((cd_params *)0)->name), recorded}, type         \
    }

/* In cd_params order. recorded 0: the field does not change what an index
 * stores: keep (a story's representative is always its first document),
 * threads (results do not depend on it) and cluster (the index has its own
 * online rule: a document joins the story of its best match). */
static const field fields[] = {
    FIELD(threshold, F_DOUBLE, 1),
    FIELD(ngram, F_UNSIGNED, 1),
    FIELD(perm, F_UNSIGNED, 1),
    FIELD(bands, F_UNSIGNED, 1),
    FIELD(rows, F_UNSIGNED, 1),
    FIELD(fp_weight, F_DOUBLE, 1),
    FIELD(fn_weight, F_DOUBLE, 1),
    FIELD(seed, F_U64, 1),
    FIELD(with_title, F_INT, 1),
    FIELD(keep, F_ENUM, 0),
    FIELD(threads, F_UNSIGNED, 0),
    FIELD(max_bucket, F_SIZE, 1),
    FIELD(minhash_scheme, F_ENUM, 1),
    FIELD(char_ngram, F_UNSIGNED, 1),
    FIELD(extract_html, F_INT, 1),
    FIELD(boilerplate, F_INT, 1),
    FIELD(boilerplate_min_stories, F_UNSIGNED, 1),
    FIELD(boilerplate_min_sources, F_UNSIGNED, 1),
    FIELD(match, F_ENUM, 1),
    FIELD(min_containment_shingles, F_UNSIGNED, 1),
    FIELD(lead_shingles, F_UNSIGNED, 1),
    FIELD(lead_threshold, F_DOUBLE, 1),
    FIELD(verify, F_ENUM, 1),
    FIELD(min_line_tokens, F_UNSIGNED, 1),
    FIELD(cluster, F_ENUM, 0),
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])

static cd__param_field public_fields[FIELD_COUNT];

const cd__param_field *cd__index_param_fields(size_t *count)
{
    for (size_t i = 0; i < FIELD_COUNT; i++)
        public_fields[i] = fields[i].f;
    *count = FIELD_COUNT;
    return public_fields;
}

/* The shortest decimal that reads back as exactly v. */
static void format_double(double v, char *out, size_t size)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* The value of field f of p as the record writes it. */
static void format_value(const field *f, const cd_params *p, char *out, size_t size)
{
    const unsigned char *at = (const unsigned char *)p + f->f.offset;
    switch (f->type) {
    case F_DOUBLE: {
        double v;
        memcpy(&v, at, sizeof v);
        format_double(v, out, size);
        break;
    }
    case F_UNSIGNED: {
        unsigned v;
        memcpy(&v, at, sizeof v);
        snprintf(out, size, "%u", v);
        break;
    }
    case F_U64: {
        uint64_t v;
        memcpy(&v, at, sizeof v);
        snprintf(out, size, "%" PRIu64, v);
        break;
    }
    case F_INT: {
        int v;
        memcpy(&v, at, sizeof v);
        snprintf(out, size, "%d", v);
        break;
    }
    case F_SIZE: {
        size_t v;
        memcpy(&v, at, sizeof v);
        snprintf(out, size, "%zu", v);
        break;
    }
    case F_ENUM: {
        int v;
        _Static_assert(sizeof(cd_keep_rule) == sizeof(int), "enums are int-sized");
        memcpy(&v, at, sizeof v);
        snprintf(out, size, "%d", v);
        break;
    }
    }
}

/* Parses text as field f into p. Returns 0 or -1. */
static int parse_value(const field *f, const char *text, cd_params *p)
{
    unsigned char *at = (unsigned char *)p + f->f.offset;
    char *end;
    errno = 0;
    if (f->type == F_DOUBLE) {
        double v = strtod(text, &end);
        if (errno || end == text || *end)
            return -1;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    if (text[0] == '-' && f->type != F_INT && f->type != F_ENUM)
        return -1;
    long long s = 0;
    unsigned long long u = 0;
    if (f->type == F_INT || f->type == F_ENUM)
        s = strtoll(text, &end, 10);
    else
        u = strtoull(text, &end, 10);
    if (errno || end == text || *end)
        return -1;
    switch (f->type) {
    case F_UNSIGNED: {
        if (u > UINT32_MAX)
            return -1;
        unsigned v = (unsigned)u;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    case F_U64: {
        uint64_t v = u;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    case F_INT:
    case F_ENUM: {
        if (s < -2147483647 || s > 2147483647)
            return -1;
        int v = (int)s;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    case F_SIZE: {
        if (u > SIZE_MAX)
            return -1;
        size_t v = (size_t)u;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    default:
        return -1;
    }
}

size_t cd__index_params_text(const cd_params *params, uint64_t model, char *out, size_t size)
{
    size_t used = 0;
    char value[64];
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (!fields[i].f.recorded)
            continue;
        format_value(&fields[i], params, value, sizeof value);
        int n = snprintf(out + used, size - used, "%s=%s\n", fields[i].f.name, value);
        if (n < 0 || (size_t)n >= size - used)
            return 0;
        used += (size_t)n;
    }
    int n = model
                ? snprintf(out + used, size - used,
                           "normalise_version=%d\nboilerplate_model=%016" PRIx64 "\n",
                           CD_NORMALISE_VERSION, model)
                : snprintf(out + used, size - used,
                           "normalise_version=%d\nboilerplate_model=none\n", CD_NORMALISE_VERSION);
    if (n < 0 || (size_t)n >= size - used)
        return 0;
    return used + (size_t)n;
}

int cd__index_params_parse(const char *text, size_t len, cd_params *params, uint64_t *model,
                           char *err)
{
    cd_params_init(params);
    *model = 0;
    int model_seen = 0;
    unsigned char seen[FIELD_COUNT] = {0};
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (!nl) {
            cd__set_error(err, "parameter record: last line is not terminated");
            return -1;
        }
        size_t line_len = (size_t)(nl - line);
        pos += line_len + 1;
        const char *eq = memchr(line, '=', line_len);
        char name[64], value[64];
        size_t name_len = eq ? (size_t)(eq - line) : 0;
        size_t value_len = eq ? line_len - name_len - 1 : 0;
        if (!eq || name_len == 0 || name_len >= sizeof name || value_len >= sizeof value) {
            cd__set_error(err, "parameter record: malformed line '%.*s'", (int)line_len, line);
            return -1;
        }
        memcpy(name, line, name_len);
        name[name_len] = '\0';
        memcpy(value, eq + 1, value_len);
        value[value_len] = '\0';
        if (!strcmp(name, "normalise_version"))
            continue; /* checked against the binary header field */
        if (!strcmp(name, "boilerplate_model")) {
            char *end;
            errno = 0;
            *model = strcmp(value, "none") ? strtoull(value, &end, 16) : 0;
            if (model_seen++ || (strcmp(value, "none") && (errno || *end || !*model))) {
                cd__set_error(err, "parameter record: bad boilerplate_model '%s'", value);
                return -1;
            }
            continue;
        }
        size_t i = 0;
        while (i < FIELD_COUNT && (!fields[i].f.recorded || strcmp(fields[i].f.name, name)))
            i++;
        if (i == FIELD_COUNT) {
            cd__set_error(err,
                          "parameter record: unknown parameter '%s' (written by a newer "
                          "copydesk?)",
                          name);
            return -1;
        }
        if (seen[i]++ || parse_value(&fields[i], value, params) != 0) {
            cd__set_error(err, "parameter record: bad or repeated value '%s=%s'", name, value);
            return -1;
        }
    }
    if (!model_seen) {
        cd__set_error(err, "parameter record: no 'boilerplate_model'");
        return -1;
    }
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (fields[i].f.recorded && !seen[i]) {
            cd__set_error(err,
                          "parameter record: no '%s' (written by an older copydesk; rebuild the "
                          "index)",
                          fields[i].f.name);
            return -1;
        }
    return 0;
}

int cd__index_params_compare(const cd_params *index, const cd_params *asked, char *err)
{
    char a[64], b[64];
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (!fields[i].f.recorded)
            continue;
        format_value(&fields[i], index, a, sizeof a);
        format_value(&fields[i], asked, b, sizeof b);
        if (strcmp(a, b)) {
            cd__set_error(err, "%s is %s in the index, %s asked", fields[i].f.name, a, b);
            return -1;
        }
    }
    return 0;
}

/* Mixed scripts, quotes, dashes and digits, so that a change of any
 * normalisation rule is likely to change the probe signature. */
static const char probe_title[] = "Probe \xE2\x80\x9C"
                                  "headline\xE2\x80\x9D \xE2\x80\x94 Copydesk";
static const char probe_text[] =
    "The quick brown fox jumps over the lazy dog 1234567890 times. \xC3\x9C"
    "BER "
    "Stra\xC3\x9F"
    "e caf\xC3\xA9 na\xC3\xAF"
    "ve \xEF\xAC\x81"
    "nance \xE2\x84\x96 5 "
    "\xE6\x9D\xB1\xE4\xBA\xAC\xE3\x82\xBF\xE3\x83\xAF\xE3\x83\xBC \xEC\x84\x9C\xEC\x9A\xB8 "
    "\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2\xE0\xB9\x84\xE0\xB8\x97\xE0\xB8\xA2 "
    "don\xE2\x80\x99t \xE2\x80\x98quote\xE2\x80\x99 \xC2\xA0nbsp \xEF\xBC\xA6\xEF\xBD\x95"
    "\xEF\xBD\x8C\xEF\xBD\x8C width \xFF\xFE invalid bytes, and the end of the probe.";

cd_status cd__index_probe(const cd_params *params, const cd_boilerplate *model, uint64_t *hash)
{
    cd_signer *signer = NULL;
    uint32_t *sig = NULL;
    unsigned char *le = NULL;
    cd_status st = cd_signer_create(params, &signer);
    if (st != CD_OK)
        return st;
    if (model && (st = cd_signer_set_boilerplate(signer, model)) != CD_OK)
        goto done;
    sig = cd__malloc((size_t)params->perm * 4);
    le = cd__malloc((size_t)params->perm * 4);
    if (!sig || !le) {
        st = CD_ERR_NOMEM;
        goto done;
    }
    cd_doc doc = {.text = {probe_text, sizeof probe_text - 1},
                  .title = {probe_title, sizeof probe_title - 1}};
    st = cd_signer_sign(signer, &doc, sig, NULL);
    if (st != CD_OK)
        goto done;
    for (unsigned i = 0; i < params->perm; i++)
        cd__put32(le + (size_t)i * 4, sig[i]);
    *hash = XXH3_64bits(le, (size_t)params->perm * 4);
done:
    cd__free(sig);
    cd__free(le);
    cd_signer_free(signer);
    return st;
}
