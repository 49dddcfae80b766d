/* cmd_eval.c: `copydesk eval`, which scores a predicted clustering against a
 * gold one. Reads both files through the engine's reader (plain, gzip or
 * zstd), turns every accepted line shape into union-find merges over a table
 * of ids, and hands one gold and one predicted label per item to cd_eval. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "copydesk/copydesk.h"

static const char usage_line[] =
    "usage: copydesk eval --gold GOLD --pred PRED [--json] [--id-field F] [--cluster-field F]\n";

static const char usage_text[] =
    "\n"
    "Scores a predicted clustering against a gold one: pairwise precision, recall\n"
    "and F1 over same-cluster pairs, the adjusted Rand index, and B-cubed\n"
    "precision, recall and F1.\n"
    "\n"
    "GOLD is JSONL of documents {\"id\", \"cluster\"} or of pairs {\"a\", \"b\"}\n"
    "(with an optional \"label\": pairs labelled 0 are ignored; the gold clusters\n"
    "are the connected components of the pairs).\n"
    "PRED is any copydesk output: clusters {\"cluster\", \"members\": [...]},\n"
    "per-document lines {\"id\", \"cluster\"}, pairs {\"a\", \"b\"} or removed\n"
    "documents {\"id\", \"duplicate_of\"}; a documents file like GOLD works too.\n"
    "Either file may be gzip or zstd compressed; '-' reads stdin.\n"
    "\n"
    "Items: with gold documents, the gold ids (gold ids missing from PRED are\n"
    "singletons; predicted ids not in GOLD are counted and ignored). With gold\n"
    "pairs, every id in either file (ids in no pair are singletons).\n"
    "\n"
    "options:\n"
    "  --gold FILE          the reference clustering (required)\n"
    "  --pred FILE          the clustering to score (required)\n"
    "  --json               print one JSON object instead of a table\n"
    "  --id-field F         document id field (default \"id\"; PRED lines may\n"
    "                       also use \"id\")\n"
    "  --cluster-field F    document cluster field (default \"cluster\"; PRED\n"
    "                       lines may also use \"cluster\")\n"
    "  -h, --help           print this help\n";

/* ------------------------------------------------------------ id table */

/* Every string the files name is a node: document ids, and the cluster
 * labels of each side, kept apart so that gold label "3" is neither
 * predicted label "3" nor document "3". */
enum node_kind { NODE_ID = 0, NODE_GOLD_LABEL = 1, NODE_PRED_LABEL = 2 };

/* Flags of id nodes. */
enum { SEEN_IN_GOLD = 1, SEEN_IN_PRED = 2 };

#define NO_NODE UINT32_MAX
#define MAX_NODES (UINT32_MAX - 1)

typedef struct node {
    size_t offset; /* of the string in table.bytes */
    uint32_t len;
    uint8_t kind;
    uint8_t flags;
    uint64_t hash;
} node;

/* An open-addressing hash table of nodes (linear probing, at most half
 * full), and two union-find forests over them: one per clustering. */
typedef struct table {
    char *bytes;
    size_t bytes_len, bytes_cap;
    node *nodes;
    uint32_t *gold_parent, *pred_parent;
    size_t count, cap;
    uint32_t *slots; /* node numbers, NO_NODE when empty */
    size_t slot_mask;
} table;

static uint64_t hash_key(int kind, const char *s, size_t len)
{
    /* FNV-1a, then a murmur3 finaliser so the low bits are well mixed. */
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)kind;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static void table_free(table *t)
{
    free(t->bytes);
    free(t->nodes);
    free(t->gold_parent);
    free(t->pred_parent);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static int table_rehash(table *t, size_t slot_count)
{
    uint32_t *slots = malloc(slot_count * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0xff, slot_count * sizeof *slots);
    size_t mask = slot_count - 1;
    for (size_t i = 0; i < t->count; i++) {
        size_t s = t->nodes[i].hash & mask;
        while (slots[s] != NO_NODE)
            s = (s + 1) & mask;
        slots[s] = (uint32_t)i;
    }
    free(t->slots);
    t->slots = slots;
    t->slot_mask = mask;
    return 0;
}

static int grow(void **array, size_t elem_size, size_t cap)
{
    void *p = realloc(*array, cap * elem_size);
    if (!p)
        return -1;
    *array = p;
    return 0;
}

/* The node of (kind, s[0..len)), added if new. NO_NODE when out of memory
 * or out of node numbers. */
static uint32_t table_node(table *t, int kind, const char *s, size_t len)
{
    if (len > UINT32_MAX)
        return NO_NODE;
    uint64_t h = hash_key(kind, s, len);
    if (t->slots == NULL && table_rehash(t, 1024) != 0)
        return NO_NODE;
    size_t slot = h & t->slot_mask;
    for (uint32_t n; (n = t->slots[slot]) != NO_NODE; slot = (slot + 1) & t->slot_mask) {
        const node *e = &t->nodes[n];
        if (e->hash == h && e->kind == kind && e->len == len &&
            memcmp(t->bytes + e->offset, s, len) == 0)
            return n;
    }
    if (t->count >= MAX_NODES)
        return NO_NODE;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        if (grow((void **)&t->nodes, sizeof *t->nodes, cap) ||
            grow((void **)&t->gold_parent, sizeof *t->gold_parent, cap) ||
            grow((void **)&t->pred_parent, sizeof *t->pred_parent, cap))
            return NO_NODE;
        t->cap = cap;
    }
    if (t->bytes_cap - t->bytes_len < len) {
        size_t cap = t->bytes_cap ? t->bytes_cap : 1 << 16;
        while (cap - t->bytes_len < len)
            cap *= 2;
        if (grow((void **)&t->bytes, 1, cap))
            return NO_NODE;
        t->bytes_cap = cap;
    }
    uint32_t n = (uint32_t)t->count++;
    memcpy(t->bytes + t->bytes_len, s, len);
    t->nodes[n] = (node){t->bytes_len, (uint32_t)len, (uint8_t)kind, 0, h};
    t->bytes_len += len;
    t->gold_parent[n] = n;
    t->pred_parent[n] = n;
    if (2 * t->count > t->slot_mask + 1) {
        /* The new node is placed by the rehash. */
        if (table_rehash(t, 2 * (t->slot_mask + 1)) != 0) {
            t->count--;
            return NO_NODE;
        }
    } else {
        t->slots[slot] = n;
    }
    return n;
}

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]]; /* path halving */
        x = parent[x];
    }
    return x;
}

static void unite(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = find(parent, a);
    b = find(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

/* ------------------------------------------------------------ one file */

enum gold_form { GOLD_EMPTY = 0, GOLD_DOCS, GOLD_PAIRS };

typedef struct eval_state {
    table t;
    const char *id_field, *cluster_field;
    enum gold_form gold_form;
    /* where the gold form was set, for mixing messages */
    uint64_t gold_form_line;
    /* the line being read, for messages */
    const char *path;
    uint64_t line;
} eval_state;

/* Prints "FILE:LINE: reason" and returns CLI_EXIT_BAD_INPUT. */
static int bad_line(const eval_state *s, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int bad_line(const eval_state *s, const char *format, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, format);
    vsnprintf(reason, sizeof reason, format, ap);
    va_end(ap);
    cli_error("%s:%llu: %s", s->path, (unsigned long long)s->line, reason);
    return CLI_EXIT_BAD_INPUT;
}

/* The node of a JSON id or label: a string as is, a number as its digits
 * (the reader's convention for numeric ids). *node is NO_NODE when the value
 * is neither; returns -1 when out of memory. */
static int value_node(eval_state *s, int kind, const cJSON *value, uint32_t *out)
{
    char digits[64];
    const char *str;
    size_t len;
    *out = NO_NODE;
    if (cJSON_IsString(value)) {
        str = value->valuestring;
        len = strlen(str);
    } else if (cJSON_IsNumber(value)) {
        double v = value->valuedouble;
        if (v == floor(v) && fabs(v) < 1e18)
            snprintf(digits, sizeof digits, "%.0f", v);
        else
            snprintf(digits, sizeof digits, "%.17g", v);
        str = digits;
        len = strlen(digits);
    } else {
        return 0;
    }
    *out = table_node(&s->t, kind, str, len);
    return *out == NO_NODE ? -1 : 0;
}

static int out_of_memory(void)
{
    cli_error("out of memory (or more than %lu distinct ids and labels)", (unsigned long)MAX_NODES);
    return CLI_EXIT_IO;
}

/* The node of value, the field called name of the current line: an id
 * (kind NODE_ID, which gets flag) or a label. Returns 0 with *out set, or an
 * exit code after printing why. */
static int field_node(eval_state *s, const cJSON *value, const char *name, int kind, int flag,
                      uint32_t *out)
{
    if (value_node(s, kind, value, out) != 0)
        return out_of_memory();
    if (*out == NO_NODE)
        return bad_line(s, "\"%s\" must be a string or a number", name);
    if (kind == NODE_ID)
        s->t.nodes[*out].flags |= (uint8_t)flag;
    return 0;
}

static const cJSON *field(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* A field by its configured name, or by its copydesk output name. */
static const cJSON *field_or(const cJSON *obj, const char *name, const char *fallback,
                             const char **used)
{
    const cJSON *v = field(obj, name);
    *used = name;
    if (!v && strcmp(name, fallback) != 0) {
        v = field(obj, fallback);
        *used = fallback;
    }
    return v;
}

/* Is a gold pair's "label" one that says "not the same story"? */
static int negative_label(const cJSON *label)
{
    if (!label)
        return 0;
    if (cJSON_IsFalse(label))
        return 1;
    if (cJSON_IsNumber(label))
        return label->valuedouble == 0;
    if (cJSON_IsString(label))
        return strcmp(label->valuestring, "0") == 0;
    return 0;
}

static int gold_line(eval_state *s, const cJSON *obj)
{
    table *t = &s->t;
    const cJSON *id = field(obj, s->id_field), *cluster = field(obj, s->cluster_field);
    const cJSON *a = field(obj, "a"), *b = field(obj, "b");
    enum gold_form form;
    if (id && cluster)
        form = GOLD_DOCS;
    else if (a && b)
        form = GOLD_PAIRS;
    else
        return bad_line(s, "expected a document (\"%s\", \"%s\") or a pair (\"a\", \"b\") in gold",
                        s->id_field, s->cluster_field);
    if (s->gold_form == GOLD_EMPTY) {
        s->gold_form = form;
        s->gold_form_line = s->line;
    } else if (s->gold_form != form) {
        return bad_line(s, "a %s line, but line %llu made this a gold file of %s",
                        form == GOLD_DOCS ? "document" : "pair",
                        (unsigned long long)s->gold_form_line,
                        s->gold_form == GOLD_DOCS ? "documents" : "pairs");
    }

    uint32_t x, y;
    int code;
    if (form == GOLD_DOCS) {
        if ((code = field_node(s, id, s->id_field, NODE_ID, 0, &x)) ||
            (code = field_node(s, cluster, s->cluster_field, NODE_GOLD_LABEL, 0, &y)))
            return code;
        if (t->nodes[x].flags & SEEN_IN_GOLD) {
            if (find(t->gold_parent, x) != find(t->gold_parent, y))
                return bad_line(s, "id \"%.*s\" appears again with another cluster",
                                (int)t->nodes[x].len, t->bytes + t->nodes[x].offset);
            return 0;
        }
        t->nodes[x].flags |= SEEN_IN_GOLD;
        unite(t->gold_parent, x, y);
        return 0;
    }
    if ((code = field_node(s, a, "a", NODE_ID, SEEN_IN_GOLD, &x)) ||
        (code = field_node(s, b, "b", NODE_ID, SEEN_IN_GOLD, &y)))
        return code;
    if (!negative_label(field(obj, "label")))
        unite(t->gold_parent, x, y);
    return 0;
}

static int pred_line(eval_state *s, const cJSON *obj)
{
    table *t = &s->t;
    uint32_t x, y;
    int code;
    const char *id_name, *cluster_name;
    const cJSON *members = field(obj, "members");
    if (members) {
        /* {"cluster","representative","size","members":[...]} */
        if (!cJSON_IsArray(members))
            return bad_line(s, "\"members\" must be an array");
        uint32_t first = NO_NODE;
        const cJSON *m;
        cJSON_ArrayForEach(m, members)
        {
            if ((code = field_node(s, m, "members", NODE_ID, SEEN_IN_PRED, &x)))
                return code;
            if (first == NO_NODE)
                first = x;
            else
                unite(t->pred_parent, first, x);
        }
        const cJSON *rep = field(obj, "representative");
        if (rep) {
            if ((code = field_node(s, rep, "representative", NODE_ID, SEEN_IN_PRED, &x)))
                return code;
            if (first == NO_NODE)
                first = x;
            else
                unite(t->pred_parent, first, x);
        }
        const cJSON *cluster = field_or(obj, s->cluster_field, "cluster", &cluster_name);
        if (cluster && first != NO_NODE) {
            if ((code = field_node(s, cluster, cluster_name, NODE_PRED_LABEL, 0, &y)))
                return code;
            unite(t->pred_parent, first, y);
        }
        return 0;
    }
    const cJSON *id = field_or(obj, s->id_field, "id", &id_name);
    const cJSON *dup = field(obj, "duplicate_of");
    if (dup) {
        /* {"id","duplicate_of","similarity"} */
        if (!id)
            return bad_line(s, "a removed-document line without \"%s\"", id_name);
        if ((code = field_node(s, id, id_name, NODE_ID, SEEN_IN_PRED, &x)) ||
            (code = field_node(s, dup, "duplicate_of", NODE_ID, SEEN_IN_PRED, &y)))
            return code;
        unite(t->pred_parent, x, y);
        return 0;
    }
    const cJSON *a = field(obj, "a"), *b = field(obj, "b");
    if (a && b) {
        /* {"a","b","similarity"} */
        if ((code = field_node(s, a, "a", NODE_ID, SEEN_IN_PRED, &x)) ||
            (code = field_node(s, b, "b", NODE_ID, SEEN_IN_PRED, &y)))
            return code;
        unite(t->pred_parent, x, y);
        return 0;
    }
    const cJSON *cluster = field_or(obj, s->cluster_field, "cluster", &cluster_name);
    if (id && cluster) {
        /* {"id","cluster",...} */
        if ((code = field_node(s, id, id_name, NODE_ID, SEEN_IN_PRED, &x)) ||
            (code = field_node(s, cluster, cluster_name, NODE_PRED_LABEL, 0, &y)))
            return code;
        unite(t->pred_parent, x, y);
        return 0;
    }
    return bad_line(s,
                    "expected a cluster (\"members\"), a document (\"%s\", \"%s\"), a pair "
                    "(\"a\", \"b\") or a removed document (\"%s\", \"duplicate_of\")",
                    s->id_field, s->cluster_field, s->id_field);
}

/* Reads every line of path into the table, as gold or as prediction. */
static int read_file(eval_state *s, const char *path, int is_gold)
{
    cd_read_options options;
    cd_read_options_init(&options);
    /* A cluster line lists all its members: allow long lines. */
    options.max_doc_bytes = (size_t)1 << 30;
    char err[512];
    cd_reader *reader;
    if (cd_reader_open(path, &options, &reader, err, sizeof err) != CD_OK) {
        cli_error("%s", err);
        return CLI_EXIT_IO;
    }
    s->path = cd_reader_path(reader);
    int code = 0;
    cd_record rec;
    while (code == 0) {
        cd_status st = cd_reader_next_line(reader, &rec);
        if (st == CD_END)
            break;
        if (st == CD_ERR_LIMIT || st == CD_ERR_FORMAT) {
            cli_error("%s", cd_reader_errmsg(reader));
            code = CLI_EXIT_BAD_INPUT;
            break;
        }
        if (st != CD_OK) {
            cli_error("%s", cd_reader_errmsg(reader));
            code = CLI_EXIT_IO;
            break;
        }
        s->line = rec.line;
        cJSON *obj = cJSON_ParseWithLength(rec.raw.ptr, rec.raw.len);
        if (!obj) {
            code = bad_line(s, "malformed JSON");
        } else if (!cJSON_IsObject(obj)) {
            code = bad_line(s, "not a JSON object");
        } else {
            code = is_gold ? gold_line(s, obj) : pred_line(s, obj);
        }
        cJSON_Delete(obj);
    }
    cd_reader_free(reader);
    return code;
}

/* -------------------------------------------------------------- report */

static void print_text(FILE *out, const cd_eval_result *r)
{
    const int w = 28;
    fprintf(out, "%-*s%10zu\n", w, "items", r->items);
    fprintf(out, "%-*s%10zu\n", w, "gold clusters", r->gold_clusters);
    fprintf(out, "%-*s%10zu\n", w, "predicted clusters", r->pred_clusters);
    fprintf(out, "%-*s%10zu\n", w, "largest gold cluster", r->gold_largest);
    fprintf(out, "%-*s%10zu\n", w, "largest predicted cluster", r->pred_largest);
    fprintf(out, "%-*s%10.0f\n", w, "gold pairs", r->gold_pairs);
    fprintf(out, "%-*s%10.0f\n", w, "predicted pairs", r->pred_pairs);
    fprintf(out, "%-*s%10.0f\n", w, "true pairs", r->true_pairs);
    fprintf(out, "%-*s%10.4f\n", w, "pairwise precision", r->precision);
    fprintf(out, "%-*s%10.4f\n", w, "pairwise recall", r->recall);
    fprintf(out, "%-*s%10.4f\n", w, "pairwise F1", r->f1);
    fprintf(out, "%-*s%10.4f\n", w, "adjusted Rand index", r->ari);
    fprintf(out, "%-*s%10.4f\n", w, "B-cubed precision", r->bcubed_precision);
    fprintf(out, "%-*s%10.4f\n", w, "B-cubed recall", r->bcubed_recall);
    fprintf(out, "%-*s%10.4f\n", w, "B-cubed F1", r->bcubed_f1);
}

static void print_json(FILE *out, const cd_eval_result *r)
{
    fprintf(out,
            "{\"items\":%zu,\"gold_clusters\":%zu,\"pred_clusters\":%zu,"
            "\"gold_largest\":%zu,\"pred_largest\":%zu,"
            "\"gold_pairs\":%.0f,\"pred_pairs\":%.0f,\"true_pairs\":%.0f,"
            "\"precision\":%.6f,\"recall\":%.6f,\"f1\":%.6f,\"ari\":%.6f,"
            "\"bcubed_precision\":%.6f,\"bcubed_recall\":%.6f,\"bcubed_f1\":%.6f}\n",
            r->items, r->gold_clusters, r->pred_clusters, r->gold_largest, r->pred_largest,
            r->gold_pairs, r->pred_pairs, r->true_pairs, r->precision, r->recall, r->f1, r->ari,
            r->bcubed_precision, r->bcubed_recall, r->bcubed_f1);
}

/* Labels the items and scores them. */
static int score(eval_state *s, int json)
{
    table *t = &s->t;
    /* With gold documents only the gold ids are items; otherwise every id. */
    int gold_ids_only = s->gold_form == GOLD_DOCS;
    size_t items = 0, ignored = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (t->nodes[i].kind != NODE_ID)
            continue;
        if (!gold_ids_only || (t->nodes[i].flags & SEEN_IN_GOLD))
            items++;
        else
            ignored++;
    }
    if (ignored > 0)
        cli_error("%zu predicted %s not in gold, ignored", ignored, ignored == 1 ? "id" : "ids");
    uint32_t *gold = malloc(items * sizeof *gold), *pred = malloc(items * sizeof *pred);
    if (!gold || !pred) {
        free(gold);
        free(pred);
        return out_of_memory();
    }
    size_t k = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (t->nodes[i].kind != NODE_ID)
            continue;
        if (gold_ids_only && !(t->nodes[i].flags & SEEN_IN_GOLD))
            continue;
        gold[k] = find(t->gold_parent, (uint32_t)i);
        pred[k] = find(t->pred_parent, (uint32_t)i);
        k++;
    }
    cd_eval_result r;
    cd_status st = cd_eval(gold, pred, items, &r);
    free(gold);
    free(pred);
    if (st != CD_OK) {
        cli_error("eval: %s", cd_strerror(st));
        return CLI_EXIT_IO;
    }
    if (json)
        print_json(stdout, &r);
    else
        print_text(stdout, &r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("<stdout>: write failed: %s", strerror(errno));
        return CLI_EXIT_IO;
    }
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- argv */

static int usage_error(const char *format, const char *arg)
{
    cli_error(format, arg);
    fputs(usage_line, stderr);
    return CLI_EXIT_USAGE;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past the value.
 * Returns 1 with *value set, 0 when argv[*i] is another option, -1 when
 * the value is missing. */
static int option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

int cli_eval(int argc, char **argv)
{
    const char *gold_path = NULL, *pred_path = NULL;
    const char *id_field = "id", *cluster_field = "cluster";
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        static const char *const names[] = {"--gold", "--pred", "--id-field", "--cluster-field"};
        const char **targets[] = {&gold_path, &pred_path, &id_field, &cluster_field};
        int matched = 0;
        for (size_t o = 0; o < sizeof names / sizeof names[0] && !matched; o++) {
            int got = option_value(argc, argv, &i, names[o], targets[o]);
            if (got < 0)
                return usage_error("eval: option %s needs a value", names[o]);
            matched = got;
        }
        if (matched)
            continue;
        if (strcmp(arg, "--json") == 0) {
            json = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage_line, stdout);
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return usage_error("eval: unknown option '%s'", arg);
        } else {
            return usage_error("eval: unexpected argument '%s'", arg);
        }
    }
    if (!gold_path)
        return usage_error("eval: %s is required", "--gold");
    if (!pred_path)
        return usage_error("eval: %s is required", "--pred");
    if (strcmp(gold_path, "-") == 0 && strcmp(pred_path, "-") == 0)
        return usage_error("eval: %s", "--gold and --pred cannot both read stdin");
    if (!*id_field || !*cluster_field)
        return usage_error("eval: %s", "field names cannot be empty");

    eval_state s;
    memset(&s, 0, sizeof s);
    s.id_field = id_field;
    s.cluster_field = cluster_field;
    int code = read_file(&s, gold_path, 1);
    if (code == 0 && s.gold_form == GOLD_EMPTY) {
        cli_error("%s: no gold documents or pairs",
                  strcmp(gold_path, "-") == 0 ? "<stdin>" : gold_path);
        code = CLI_EXIT_BAD_INPUT;
    }
    if (code == 0)
        code = read_file(&s, pred_path, 0);
    if (code == 0)
        code = score(&s, json);
    table_free(&s.t);
    return code;
}
