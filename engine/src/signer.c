/* signer.c: the public signer (cd_signer_*), which runs normalise ->
 * shingle/hash -> MinHash over one document at a time with scratch buffers
 * reused between documents; and cd_signature_similarity, used by verify. */
#include <string.h>

#include "alloc.h"
#include "copydesk/copydesk.h"
#include "minhash.h"
#include "normalise.h"
#include "shingle.h"

struct cd_signer {
    cd_params params; /* resolved */
    cd__normaliser norm;
    cd__shingler shingler;
    cd__minhasher minhash;
    char *joined; /* cd_signer_tokens output */
    size_t joined_cap;
    char errmsg[CD_ERRMSG_SIZE];
};

cd_status cd_signer_create(const cd_params *params, cd_signer **out)
{
    if (!out)
        return CD_ERR_ARG;
    *out = NULL;
    if (!params)
        return CD_ERR_ARG;
    cd_params resolved = *params;
    char err[CD_ERRMSG_SIZE];
    if (cd_params_resolve(&resolved, err, sizeof err) != CD_OK)
        return CD_ERR_ARG;
    cd_signer *s = cd__calloc(1, sizeof *s);
    if (!s)
        return CD_ERR_NOMEM;
    s->params = resolved;
    cd__normaliser_init(&s->norm);
    cd__shingler_init(&s->shingler);
    cd_status st = cd__minhash_init(&s->minhash, resolved.perm, resolved.seed);
    if (st != CD_OK) {
        cd__free(s);
        return st;
    }
    *out = s;
    return CD_OK;
}

void cd_signer_free(cd_signer *s)
{
    if (!s)
        return;
    cd__normaliser_free(&s->norm);
    cd__shingler_free(&s->shingler);
    cd__minhash_free(&s->minhash);
    cd__free(s->joined);
    cd__free(s);
}

const char *cd_signer_errmsg(const cd_signer *s)
{
    return s ? s->errmsg : "no signer";
}

static int is_empty(cd_str str)
{
    return str.ptr == NULL || str.len == 0;
}

/* The token stream of doc: the text, preceded by the title when with_title
 * is set, or the title alone when the text is empty. */
static cd_status tokenise_doc(cd_signer *s, const cd_doc *doc)
{
    cd__normaliser_reset(&s->norm);
    cd_status st = CD_OK;
    int text_empty = is_empty(doc->text);
    if ((s->params.with_title || text_empty) && !is_empty(doc->title))
        st = cd__normalise_append(&s->norm, doc->title.ptr, doc->title.len, CD__NORMALISE_AUTO);
    if (st == CD_OK && !text_empty)
        st = cd__normalise_append(&s->norm, doc->text.ptr, doc->text.len, CD__NORMALISE_AUTO);
    if (st != CD_OK)
        cd__set_error(s->errmsg, "out of memory normalising a document of %zu bytes",
                      doc->text.len + doc->title.len);
    return st;
}

static cd_status shingle_doc(cd_signer *s, const cd_doc *doc)
{
    cd_status st = tokenise_doc(s, doc);
    if (st != CD_OK)
        return st;
    st = cd__shingle(&s->shingler, &s->norm, s->params.ngram, s->params.seed);
    if (st != CD_OK)
        cd__set_error(s->errmsg, "out of memory hashing %zu tokens", s->norm.count);
    return st;
}

cd_status cd_signer_sign(cd_signer *s, const cd_doc *doc, uint32_t *sig, cd_sign_stats *stats)
{
    if (!s || !doc || !sig) {
        if (s)
            cd__set_error(s->errmsg, "cd_signer_sign: NULL document or signature");
        return CD_ERR_ARG;
    }
    cd_status st = shingle_doc(s, doc);
    if (st != CD_OK)
        return st;
    cd__minhash(&s->minhash, s->shingler.hashes, s->shingler.count, sig);
    if (stats) {
        stats->tokens = s->norm.count;
        stats->shingles = s->shingler.count;
        stats->invalid_utf8 = s->norm.invalid_utf8;
    }
    return CD_OK;
}

cd_status cd_signer_shingles(cd_signer *s, const cd_doc *doc, const uint64_t **hashes,
                             size_t *count)
{
    if (!s || !doc || !hashes || !count) {
        if (s)
            cd__set_error(s->errmsg, "cd_signer_shingles: NULL argument");
        return CD_ERR_ARG;
    }
    *hashes = NULL;
    *count = 0;
    cd_status st = shingle_doc(s, doc);
    if (st != CD_OK)
        return st;
    *hashes = s->shingler.hashes;
    *count = s->shingler.count;
    return CD_OK;
}

cd_status cd_signer_tokens(cd_signer *s, cd_str text, const char **joined, size_t *count)
{
    if (!s || !joined || !count) {
        if (s)
            cd__set_error(s->errmsg, "cd_signer_tokens: NULL argument");
        return CD_ERR_ARG;
    }
    *joined = NULL;
    *count = 0;
    cd__normaliser *n = &s->norm;
    cd__normaliser_reset(n);
    cd_status st =
        is_empty(text) ? CD_OK : cd__normalise_append(n, text.ptr, text.len, CD__NORMALISE_AUTO);
    /* tokens, a space between each, and a NUL */
    if (st != CD_OK ||
        cd__grow((void **)&s->joined, &s->joined_cap, n->bytes_len + n->count + 1, 1) != 0) {
        cd__set_error(s->errmsg, "out of memory listing the tokens of %zu bytes", text.len);
        return CD_ERR_NOMEM;
    }
    char *out = s->joined;
    for (size_t i = 0; i < n->count; i++) {
        if (i)
            *out++ = ' ';
        memcpy(out, n->bytes + n->tokens[i].offset, n->tokens[i].len);
        out += n->tokens[i].len;
    }
    *out = '\0';
    *joined = s->joined;
    *count = n->count;
    return CD_OK;
}

double cd_signature_similarity(const uint32_t *a, const uint32_t *b, unsigned perm)
{
    if (!a || !b || perm == 0)
        return 0.0;
    unsigned equal = 0, a_full = 0, b_full = 0;
    for (unsigned i = 0; i < perm; i++) {
        equal += a[i] == b[i];
        a_full += a[i] == UINT32_MAX;
        b_full += b[i] == UINT32_MAX;
    }
    if (a_full == perm && b_full == perm)
        return 0.0; /* two empty documents are not copies of each other */
    return (double)equal / perm;
}
