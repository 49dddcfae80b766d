/* schemes.c: copydesk-schemes, the MinHash schemes side by side on a corpus
 * with ground truth: for each scheme and each of --seeds seeds, the whole
 * engine (cd_dedup, default parameters otherwise) clusters the documents and
 * cd_eval scores the result against the "cluster" field (pairwise F1, ARI),
 * beside the signing time. The seeds average out the luck of one seed, which
 * moves F1 by more than the schemes differ. Not part of the engine; uses only
 * the public API.
 *
 *   copydesk-schemes [--seeds N] [--threads T] [--gold-field F] FILE.jsonl[.gz|.zst] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copydesk/copydesk.h"

typedef struct corpus {
    cd_doc *docs;
    char **owned; /* the field copies, 6 per document */
    uint32_t *gold;
    size_t n;
} corpus;

static char *copy_str(cd_str s)
{
    if (!s.ptr)
        return NULL;
    char *c = malloc(s.len + 1);
    if (!c)
        exit(3);
    memcpy(c, s.ptr, s.len);
    c[s.len] = '\0';
    return c;
}

/* Labels: the gold field read as each line's id, numbered by first sight. */
static uint32_t label_of(char ***names, size_t *count, size_t *cap, cd_str value)
{
    for (size_t i = *count; i-- > 0;) /* recent labels first: copies are near */
        if (strlen((*names)[i]) == value.len && memcmp((*names)[i], value.ptr, value.len) == 0)
            return (uint32_t)i;
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *names = realloc(*names, *cap * sizeof **names);
        if (!*names)
            exit(3);
    }
    (*names)[*count] = copy_str(value);
    return (uint32_t)(*count)++;
}

static corpus load(const char *path, const char *gold_field)
{
    corpus c = {0};
    size_t cap = 0, labels = 0, label_cap = 0;
    char **label_names = NULL;
    char err[512];
    cd_reader *docs, *gold;
    cd_read_options gold_options;
    cd_read_options_init(&gold_options);
    gold_options.id_field = gold_field;
    if (cd_reader_open(path, NULL, &docs, err, sizeof err) != CD_OK ||
        cd_reader_open(path, &gold_options, &gold, err, sizeof err) != CD_OK) {
        fprintf(stderr, "copydesk-schemes: %s\n", err);
        exit(3);
    }
    cd_record rec, grec;
    cd_status st;
    while ((st = cd_reader_next(docs, &rec)) != CD_END) {
        if (st != CD_OK || cd_reader_next(gold, &grec) != CD_OK || !grec.doc.id.ptr) {
            fprintf(stderr, "copydesk-schemes: %s: every line needs text and \"%s\"\n", path,
                    gold_field);
            exit(1);
        }
        if (c.n == cap) {
            cap = cap ? cap * 2 : 4096;
            c.docs = realloc(c.docs, cap * sizeof *c.docs);
            c.owned = realloc(c.owned, cap * 6 * sizeof *c.owned);
            c.gold = realloc(c.gold, cap * sizeof *c.gold);
            if (!c.docs || !c.owned || !c.gold)
                exit(3);
        }
        cd_str fields[6] = {rec.doc.id,   rec.doc.text,   rec.doc.title,
                            rec.doc.date, rec.doc.source, rec.doc.url};
        cd_str *out[6] = {&c.docs[c.n].id,   &c.docs[c.n].text,   &c.docs[c.n].title,
                          &c.docs[c.n].date, &c.docs[c.n].source, &c.docs[c.n].url};
        for (int f = 0; f < 6; f++) {
            c.owned[c.n * 6 + f] = copy_str(fields[f]);
            *out[f] = (cd_str){c.owned[c.n * 6 + f], fields[f].len};
        }
        c.gold[c.n] = label_of(&label_names, &labels, &label_cap, grec.doc.id);
        c.n++;
    }
    cd_reader_free(docs);
    cd_reader_free(gold);
    for (size_t i = 0; i < labels; i++)
        free(label_names[i]);
    free(label_names);
    return c;
}

int main(int argc, char **argv)
{
    int seeds = 5;
    unsigned threads = 0;
    const char *path = NULL, *gold_field = "cluster";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            seeds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--gold-field") == 0 && i + 1 < argc)
            gold_field = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: copydesk-schemes [--seeds N] [--threads T] "
                            "[--gold-field F] FILE.jsonl\n");
            return 2;
        }
    }
    if (!path || seeds < 1) {
        fprintf(stderr, "copydesk-schemes: a JSONL file with a gold field is required\n");
        return 2;
    }
    corpus c = load(path, gold_field);
    static const cd_minhash_scheme schemes[] = {CD_MINHASH_CLASSIC, CD_MINHASH_ONE_PERMUTATION,
                                                CD_MINHASH_CIRCULANT,
                                                CD_MINHASH_ONE_PERMUTATION_ROUNDS};
    static const char *scheme_names[] = {"classic", "one-permutation", "circulant",
                                         "one-permutation-rounds"};
    cd_status *statuses = malloc(c.n * sizeof *statuses);
    uint32_t *pred = malloc(c.n * sizeof *pred);
    if (!statuses || !pred)
        return 3;
    printf("%s: %zu documents; mean over seeds 0..%d (min..max)\n", path, c.n, seeds - 1);
    printf("%-24s %-26s %-26s %s\n", "scheme", "pairwise F1", "ARI", "sign s");
    for (size_t k = 0; k < sizeof schemes / sizeof *schemes; k++) {
        double f1_sum = 0, f1_min = 2, f1_max = -1, ari_sum = 0, ari_min = 2, ari_max = -2;
        double sign_seconds = 0;
        for (int seed = 0; seed < seeds; seed++) {
            cd_params p;
            cd_params_init(&p);
            p.minhash_scheme = schemes[k];
            p.seed = (uint64_t)seed;
            p.threads = threads;
            cd_dedup *d;
            if (cd_dedup_create(&p, &d) != CD_OK ||
                cd_dedup_add(d, c.docs, c.n, statuses) != CD_OK || cd_dedup_run(d) != CD_OK) {
                fprintf(stderr, "copydesk-schemes: the engine failed\n");
                return 3;
            }
            for (size_t i = 0; i < c.n; i++) {
                cd_doc_result r;
                cd_dedup_result(d, i, &r);
                pred[i] = (uint32_t)r.representative;
            }
            cd_dedup_stats st;
            cd_dedup_get_stats(d, &st);
            sign_seconds += st.seconds_sign;
            cd_eval_result e;
            if (cd_dedup_count(d) != c.n || cd_eval(c.gold, pred, c.n, &e) != CD_OK) {
                fprintf(stderr, "copydesk-schemes: duplicate ids in %s?\n", path);
                return 1;
            }
            cd_dedup_free(d);
            f1_sum += e.f1;
            ari_sum += e.ari;
            f1_min = e.f1 < f1_min ? e.f1 : f1_min;
            f1_max = e.f1 > f1_max ? e.f1 : f1_max;
            ari_min = e.ari < ari_min ? e.ari : ari_min;
            ari_max = e.ari > ari_max ? e.ari : ari_max;
        }
        char f1[64], ari[64];
        snprintf(f1, sizeof f1, "%.4f (%.4f..%.4f)", f1_sum / seeds, f1_min, f1_max);
        snprintf(ari, sizeof ari, "%.4f (%.4f..%.4f)", ari_sum / seeds, ari_min, ari_max);
        printf("%-24s %-26s %-26s %.2f\n", scheme_names[k], f1, ari, sign_seconds / seeds);
        fflush(stdout);
    }
    for (size_t i = 0; i < c.n * 6; i++)
        free(c.owned[i]);
    free(c.owned);
    free(c.docs);
    free(c.gold);
    free(statuses);
    free(pred);
    return 0;
}
