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
    if ((p->bands == 0) != (p->rows == 0))
        return fail(err, err_size, "bands and rows must be given together");
    if (p->bands == 0) {
        if (cd_lsh_choose(p->threshold, p->perm, p->fp_weight, p->fn_weight, &p->bands,
                          &p->rows) != CD_OK)
            return fail(err, err_size, "cannot choose LSH bands and rows");
    } else if ((unsigned long long)p->bands * p->rows > p->perm) {
        return fail(err, err_size, "bands x rows must not exceed perm");
    }
    return CD_OK;
}
