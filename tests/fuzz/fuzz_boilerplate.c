/* fuzz_boilerplate.c: fuzz target for the boilerplate model: its loader
 * (cd_boilerplate_load, the --boilerplate-load file) on arbitrary bytes,
 * and the learner on fuzzed documents whose model is saved, loaded back and
 * damaged. The first byte chooses: odd = the rest is a model file; even =
 * the rest is documents ("source 0xFE text", separated by 0xFF) to learn
 * from, with the thresholds from the next bytes.
 * Oracle: a load succeeds or fails with CD_ERR_FORMAT and a message; a
 * loaded model is consistent (its lines can all be read, sources ordered
 * first by "every source") and saves to bytes that load back and save to
 * the same bytes; a learned model round-trips the same way; a saved model
 * with one byte changed never crashes the loader. */
#include "copydesk/copydesk.h"
#include "fuzz.h"

/* Saves model, loads the bytes back, saves again: both saves must agree.
 * Returns the saved bytes (caller frees) and their size. */
static uint8_t *round_trip(const cd_boilerplate *model, size_t *size)
{
    size_t n = cd_boilerplate_save_size(model);
    uint8_t *saved = malloc(n ? n : 1), *again = malloc(n ? n : 1);
    FUZZ_CHECK(saved && again);
    FUZZ_CHECK(cd_boilerplate_save(model, saved, n) == CD_OK);
    if (n > 0)
        FUZZ_CHECK(cd_boilerplate_save(model, saved, n - 1) == CD_ERR_ARG);
    char err[512];
    cd_boilerplate *loaded = NULL;
    cd_status st = cd_boilerplate_load(saved, n, &loaded, err, sizeof err);
    if (st != CD_OK)
        fprintf(stderr, "load of a saved model: %s\n", err);
    FUZZ_CHECK(st == CD_OK);
    FUZZ_CHECK(cd_boilerplate_save_size(loaded) == n);
    FUZZ_CHECK(cd_boilerplate_save(loaded, again, n) == CD_OK);
    FUZZ_CHECK(memcmp(saved, again, n) == 0);
    cd_boilerplate_info a, b;
    cd_boilerplate_get_info(model, &a);
    cd_boilerplate_get_info(loaded, &b);
    FUZZ_CHECK(a.lines == b.lines && a.sources == b.sources && a.documents == b.documents);
    cd_boilerplate_free(loaded);
    free(again);
    *size = n;
    return saved;
}

static void check_model(const cd_boilerplate *model)
{
    cd_boilerplate_info info;
    cd_boilerplate_get_info(model, &info);
    int seen_source = 0;
    for (size_t i = 0; i < info.lines; i++) {
        cd_boilerplate_line line;
        FUZZ_CHECK(cd_boilerplate_get_line(model, i, &line) == CD_OK);
        if (line.source.ptr)
            seen_source = 1;
        else
            FUZZ_CHECK(!seen_source); /* lines of every source come first */
    }
    cd_boilerplate_line line;
    FUZZ_CHECK(cd_boilerplate_get_line(model, info.lines, &line) == CD_ERR_ARG);
}

static void load_bytes(const uint8_t *data, size_t size)
{
    char err[512] = "";
    cd_boilerplate *model = NULL;
    cd_status st = cd_boilerplate_load(data, size, &model, err, sizeof err);
    if (st != CD_OK) {
        FUZZ_CHECK(st == CD_ERR_FORMAT && model == NULL && err[0] != '\0');
        return;
    }
    check_model(model);
    size_t n;
    free(round_trip(model, &n));
    cd_boilerplate_free(model);
}

static void learn(fuzz_input *in)
{
    cd_params p;
    cd_params_init(&p);
    p.bands = p.rows = 1;
    p.boilerplate_min_stories = 2 + fuzz_byte(in) % 3;
    p.boilerplate_min_sources = 2 + fuzz_byte(in) % 3;
    p.extract_html = fuzz_byte(in) & 1;
    size_t flip_at = (size_t)fuzz_uint(in, 2);
    uint8_t flip = fuzz_byte(in) | 1;

    enum { MAX_DOCS = 64 };
    cd_doc docs[MAX_DOCS];
    size_t n = 0;
    while (in->left > 0 && n < MAX_DOCS) {
        const uint8_t *end = memchr(in->p, 0xFF, in->left);
        size_t len = end ? (size_t)(end - in->p) : in->left;
        const uint8_t *sep = memchr(in->p, 0xFE, len);
        cd_doc d = {0};
        if (sep) {
            d.source = (cd_str){(const char *)in->p, (size_t)(sep - in->p)};
            d.text = (cd_str){(const char *)sep + 1, len - (size_t)(sep - in->p) - 1};
        } else {
            d.text = (cd_str){(const char *)in->p, len};
        }
        docs[n++] = d;
        in->p += len + (end != NULL);
        in->left -= len + (end != NULL);
    }
    cd_boilerplate_learner *learner = NULL;
    FUZZ_CHECK(cd_boilerplate_learner_create(&p, &learner) == CD_OK);
    FUZZ_CHECK(cd_boilerplate_learner_add(learner, docs, n / 2) == CD_OK);
    FUZZ_CHECK(cd_boilerplate_learner_add(learner, docs + n / 2, n - n / 2) == CD_OK);
    cd_boilerplate *model = NULL;
    FUZZ_CHECK(cd_boilerplate_learner_finish(learner, &model) == CD_OK && model);
    cd_boilerplate *twice = NULL;
    FUZZ_CHECK(cd_boilerplate_learner_finish(learner, &twice) == CD_ERR_STATE && !twice);
    cd_boilerplate_learner_free(learner);
    check_model(model);

    /* The model removes chrome from the documents it was learned from. */
    cd_signer *signer = NULL;
    FUZZ_CHECK(cd_signer_create(&p, &signer) == CD_OK);
    FUZZ_CHECK(cd_signer_set_boilerplate(signer, model) == CD_OK);
    for (size_t i = 0; i < n; i++) {
        cd_str text;
        FUZZ_CHECK(cd_signer_text(signer, &docs[i], &text) == CD_OK);
    }
    cd_signer_free(signer);

    size_t size;
    uint8_t *saved = round_trip(model, &size);
    if (size > 0) {
        saved[flip_at % size] ^= flip;
        load_bytes(saved, size);
    }
    free(saved);
    cd_boilerplate_free(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    if (fuzz_byte(&in) & 1)
        load_bytes(in.p, in.left);
    else
        learn(&in);
    return 0;
}
