/* fuzz_signer.c: fuzz target for the front of the pipeline on arbitrary
 * bytes: normalise (UTF-8 repair, NFKC + case fold, tokens), shingle + hash
 * and MinHash, through the public signer. The first bytes choose the
 * parameters (n-grams, perm, MinHash scheme, seed, title); the rest is the title and text.
 * Oracle: the ASCII fast path and the utf8proc path give the same tokens;
 * every token is valid UTF-8 made of token characters only; normalising the
 * tokens again changes nothing; the shingle count follows the n-gram rule;
 * the signature is the reference MinHash of the shingles, and signing again
 * gives the same signature. */
#include <utf8proc.h>

#include "copydesk/copydesk.h"
#include "fuzz.h"
#include "minhash.h"
#include "normalise.h"
#include "shingle.h"

/* The tokens of n joined by single spaces, in a buffer the caller frees. */
static char *joined_tokens(const cd__normaliser *n, size_t *len)
{
    char *out = malloc(n->bytes_len + n->count + 1);
    FUZZ_CHECK(out);
    size_t o = 0;
    for (size_t i = 0; i < n->count; i++) {
        if (i)
            out[o++] = ' ';
        memcpy(out + o, n->bytes + n->tokens[i].offset, n->tokens[i].len);
        o += n->tokens[i].len;
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* Every token is non-empty valid UTF-8 of token characters, and no token
 * character of a per-character script shares a token with another. */
static void check_tokens(const cd__normaliser *n)
{
    for (size_t i = 0; i < n->count; i++) {
        const uint8_t *t = (const uint8_t *)n->bytes + n->tokens[i].offset;
        utf8proc_ssize_t len = (utf8proc_ssize_t)n->tokens[i].len, pos = 0;
        FUZZ_CHECK(len > 0);
        int chars = 0, char_script = 0;
        while (pos < len) {
            int32_t cp;
            utf8proc_ssize_t step = utf8proc_iterate(t + pos, len - pos, &cp);
            FUZZ_CHECK(step > 0);
            FUZZ_CHECK(cd__is_token_char(cp));
            char_script |= cd__is_char_token_script(cp);
            chars++;
            pos += step;
        }
        FUZZ_CHECK(!char_script || chars == 1);
    }
}

static char *normalise(const char *text, size_t len, cd__normalise_mode mode, size_t *out_len,
                       size_t *count, size_t *invalid)
{
    cd__normaliser n;
    cd__normaliser_init(&n);
    FUZZ_CHECK(cd__normalise_append(&n, text, len, mode) == CD_OK);
    check_tokens(&n);
    char *joined = joined_tokens(&n, out_len);
    *count = n.count;
    *invalid = n.invalid_utf8;
    cd__normaliser_free(&n);
    return joined;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t b0 = fuzz_byte(&in), b1 = fuzz_byte(&in), b2 = fuzz_byte(&in);
    cd_params params;
    cd_params_init(&params);
    params.ngram = 1 + (b0 & 0x80 ? b0 % 32 : b0 % 6);
    params.perm = 1 + b1 % 192;
    params.bands = params.rows = 1; /* unused by the signer; saves choosing them */
    params.with_title = b2 & 1;
    params.minhash_scheme = (cd_minhash_scheme)((b2 >> 3) % 3);
    params.char_ngram = b2 & 0x20 ? params.ngram : 1 + (b0 >> 3) % 4;
    params.extract_html = (b2 >> 6) & 1;
    if (b2 & 2)
        params.seed = fuzz_uint(&in, 8);
    size_t title_len = b2 & 4 ? fuzz_byte(&in) : 0;
    if (title_len > in.left)
        title_len = in.left;
    cd_doc doc = {0};
    doc.title = (cd_str){(const char *)in.p, title_len};
    doc.text = (cd_str){(const char *)in.p + title_len, in.left - title_len};

    /* Both normalisation paths agree, and normalising is idempotent. */
    size_t auto_len, uni_len, auto_count, uni_count, auto_invalid, uni_invalid;
    char *fast = normalise(doc.text.ptr, doc.text.len, CD__NORMALISE_AUTO, &auto_len, &auto_count,
                           &auto_invalid);
    char *slow = normalise(doc.text.ptr, doc.text.len, CD__NORMALISE_UNICODE, &uni_len, &uni_count,
                           &uni_invalid);
    FUZZ_CHECK(auto_count == uni_count && auto_invalid == uni_invalid);
    FUZZ_CHECK(auto_len == uni_len && memcmp(fast, slow, auto_len) == 0);
    size_t again_len, again_count, again_invalid;
    char *again = normalise(fast, auto_len, CD__NORMALISE_AUTO, &again_len, &again_count,
                            &again_invalid);
    FUZZ_CHECK(again_invalid == 0 && again_count == auto_count);
    FUZZ_CHECK(again_len == auto_len && memcmp(again, fast, auto_len) == 0);
    free(again);
    free(slow);

    cd_signer *signer = NULL;
    FUZZ_CHECK(cd_signer_create(&params, &signer) == CD_OK);

    /* cd_signer_tokens is the same stream as the normaliser's. */
    const char *joined;
    size_t count;
    FUZZ_CHECK(cd_signer_tokens(signer, doc.text, &joined, &count) == CD_OK);
    FUZZ_CHECK(count == auto_count && strlen(joined) == auto_len &&
               memcmp(joined, fast, auto_len) == 0);
    free(fast);

    uint32_t *sig = malloc(params.perm * sizeof *sig);
    uint32_t *ref = malloc(params.perm * sizeof *ref);
    FUZZ_CHECK(sig && ref);
    cd_sign_stats stats;
    FUZZ_CHECK(cd_signer_sign(signer, &doc, sig, &stats) == CD_OK);
    if (params.char_ngram == params.ngram)
        FUZZ_CHECK(stats.shingles == cd__shingle_count(stats.tokens, params.ngram));
    FUZZ_CHECK(stats.shingles <= stats.tokens && (stats.tokens == 0) == (stats.shingles == 0));
    if (params.with_title == 0 && params.extract_html == 0 && doc.text.len > 0)
        FUZZ_CHECK(stats.tokens == auto_count && stats.invalid_utf8 == auto_invalid);
    if (stats.shingles == 0)
        for (unsigned i = 0; i < params.perm; i++)
            FUZZ_CHECK(sig[i] == UINT32_MAX);

    /* The signature is the reference MinHash of the shingles. */
    const uint64_t *hashes;
    size_t shingles;
    FUZZ_CHECK(cd_signer_shingles(signer, &doc, &hashes, &shingles) == CD_OK);
    FUZZ_CHECK(shingles == stats.shingles);
    cd__minhasher m;
    FUZZ_CHECK(cd__minhash_init(&m, params.minhash_scheme, params.perm, params.seed) == CD_OK);
    cd__minhash_reference(&m, hashes, shingles, ref);
    cd__minhash_free(&m);
    FUZZ_CHECK(memcmp(sig, ref, params.perm * sizeof *sig) == 0);

    /* Signing again (with warm scratch buffers) gives the same values. */
    FUZZ_CHECK(cd_signer_sign(signer, &doc, ref, NULL) == CD_OK);
    FUZZ_CHECK(memcmp(sig, ref, params.perm * sizeof *sig) == 0);
    FUZZ_CHECK(cd_signature_similarity(sig, ref, params.perm) == (stats.shingles ? 1.0 : 0.0));

    free(sig);
    free(ref);
    cd_signer_free(signer);
    return 0;
}
