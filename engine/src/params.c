/* params.c: defaults and validation of cd_params, the parameters that
 * change results. Resolving fills in LSH bands and rows from the threshold. */
#include <stdio.h>

#include "copydesk/copydesk.h"

void cd_params_init(cd_params *params)
{
    *params = (cd_params){
        .threshold = 0.8,
        .ngram = 5,
        .perm = 128,
        .bands = 0,
        .rows = 0,
        .fp_weight = 0.5,
        .fn_weight = 0.5,
        .seed = 0,
        .with_title = 0,
        .keep = CD_KEEP_EARLIEST,
        .threads = 0,
        .max_bucket = 2000,
        .minhash_scheme = CD_MINHASH_ONE_PERMUTATION_ROUNDS,
        .char_ngram = 3,
        .extract_html = 1,
        .boilerplate = 1,
        .boilerplate_min_stories = 4,
        .boilerplate_min_sources = 3,
        .match = CD_MATCH_JACCARD,
        .min_containment_shingles = 50,
        .lead_shingles = 0,
        .lead_threshold = 0.3,
        .verify = CD_VERIFY_ESTIMATE,
        .min_line_tokens = 15,
        .cluster = CD_CLUSTER_COMPONENTS,
    };
}

static cd_status fail(char *err, size_t err_size, const char *message)
{
    if (err_size > 0)
        snprintf(err, err_size, "%s", message);
    return CD_ERR_ARG;
}

cd_status cd_params_resolve(cd_params *p, char *err, size_t err_size)
{
    if (!(p->threshold > 0.0 && p->threshold <= 1.0))
        return fail(err, err_size, "threshold must be in (0, 1]");
    if (p->ngram < 1 || p->ngram > 32)
        return fail(err, err_size, "ngram must be between 1 and 32");
    if (p->perm < 1 || p->perm > 1024)
        return fail(err, err_size, "perm must be between 1 and 1024");
    if (!(p->fp_weight >= 0.0) || !(p->fn_weight >= 0.0) || p->fp_weight + p->fn_weight <= 0.0)
        return fail(err, err_size, "fp-weight and fn-weight must be >= 0 and not both 0");
    if (p->keep != CD_KEEP_EARLIEST && p->keep != CD_KEEP_LONGEST && p->keep != CD_KEEP_FIRST)
        return fail(err, err_size, "keep must be earliest, longest or first");
    if (p->minhash_scheme != CD_MINHASH_CLASSIC &&
        p->minhash_scheme != CD_MINHASH_ONE_PERMUTATION &&
        p->minhash_scheme != CD_MINHASH_CIRCULANT &&
        p->minhash_scheme != CD_MINHASH_ONE_PERMUTATION_ROUNDS)
        return fail(err, err_size,
                    "minhash scheme must be classic, one-permutation, circulant or "
                    "one-permutation-rounds");
    if (p->char_ngram < 1 || p->char_ngram > 32)
        return fail(err, err_size, "char-ngram must be between 1 and 32");
    if ((p->extract_html != 0 && p->extract_html != 1) ||
        (p->boilerplate != 0 && p->boilerplate != 1))
        return fail(err, err_size, "extract_html and boilerplate must be 0 or 1");
    if (p->boilerplate_min_stories < 2 || p->boilerplate_min_stories > 1000000 ||
        p->boilerplate_min_sources < 2 || p->boilerplate_min_sources > 1000000)
        return fail(err, err_size, "boilerplate thresholds must be between 2 and 1000000");
    if (p->match != CD_MATCH_JACCARD && p->match != CD_MATCH_CONTAINMENT)
        return fail(err, err_size, "match must be jaccard or containment");
    if (p->lead_shingles > 1000000 || !(p->lead_threshold > 0.0 && p->lead_threshold <= 1.0))
        return fail(err, err_size, "lead shingles must be at most 1000000, lead threshold in (0, 1]");
    if (p->verify != CD_VERIFY_ESTIMATE && p->verify != CD_VERIFY_EXACT)
        return fail(err, err_size, "verify must be estimate or exact");
    if (p->cluster != CD_CLUSTER_COMPONENTS && p->cluster != CD_CLUSTER_STAR)
        return fail(err, err_size, "cluster must be components or star");
    if ((p->bands == 0) != (p->rows == 0))
        return fail(err, err_size, "bands and rows must be given together");
    if (p->bands == 0) {
        /* Containment t between documents of equal size is Jaccard t / (2 - t):
         * LSH aims there so that pairs of unequal size are proposed too. */
        double aim = p->match == CD_MATCH_CONTAINMENT ? p->threshold / (2.0 - p->threshold)
                                                      : p->threshold;
        if (cd_lsh_choose(aim, p->perm, p->fp_weight, p->fn_weight, &p->bands,
                          &p->rows) != CD_OK)
            return fail(err, err_size, "cannot choose LSH bands and rows");
    } else if ((unsigned long long)p->bands * p->rows > p->perm) {
        return fail(err, err_size, "bands x rows must not exceed perm");
    }
    return CD_OK;
}
