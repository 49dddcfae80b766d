/* fuzz_index.c: fuzz target for the index loader (cd_index_open: the
 * checkpoint header, parameter record, section table and checksums, then
 * lazily checked blocks; the log replay) and what runs on what it loaded
 * (stats, documents, query, verify, and on a writable open add, evict and
 * compact). A template index is made once per process (16 documents, a
 * checkpoint, then a logged batch and an eviction); each input damages a
 * copy of it. The first byte chooses how:
 *   0  the log is rebuilt from the input as framed records with valid
 *      checksums (and COMMITs with valid or damaged batch hashes), so replay
 *      itself is fuzzed, not just the frame checksum;
 *   1  the log is damaged byte by byte (offset, xor pairs);
 *   2  the checkpoint is damaged byte by byte, then every checksum and the
 *      parameter fingerprint are recomputed, so what is behind them is fuzzed;
 *   3  the checkpoint is damaged without repair, or cut short.
 * and the options (writable, verify at open, compact).
 * Oracle: open fails only with CD_ERR_FORMAT / CD_ERR_IO / CD_ERR_ARG and a
 * message; every later call fails only with its documented statuses; an
 * index whose checkpoint was not touched verifies; no crash, no leak. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "copydesk/copydesk.h"
#include "fuzz.h"

/* ------------------------------------------------------------- helpers */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

typedef struct blob {
    uint8_t *p;
    size_t len;
} blob;

static blob read_blob(const char *path)
{
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f);
    FUZZ_CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    FUZZ_CHECK(n >= 0);
    rewind(f);
    b.len = (size_t)n;
    b.p = malloc(b.len ? b.len : 1);
    FUZZ_CHECK(b.p && fread(b.p, 1, b.len, f) == b.len);
    fclose(f);
    return b;
}

static void write_blob(const char *path, const uint8_t *p, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(len == 0 || write(fd, p, len) == (ssize_t)len);
    close(fd);
}

/* Removes every file of dir (an index directory holds no subdirectories). */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[600];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

/* ------------------------------------------------------------ template */

static char base[256], template_dir[300], work_dir[300];
static blob template_checkpoint, template_log;
static unsigned perm, lead_bands;
static const char *story_a = "the prime minister told the president that ukraine must be put in "
                             "the strongest possible position in order to secure a lasting peace";
static const char *story_b = "heavy rain caused flooding across the north of the county "
                             "overnight closing roads and leaving homes without power";

static void remove_base(void)
{
    empty_dir(template_dir);
    rmdir(template_dir);
    empty_dir(work_dir);
    rmdir(work_dir);
    rmdir(base);
}

static void make_template(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/copydesk-fuzz-index-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(base));
    snprintf(template_dir, sizeof template_dir, "%s/template", base);
    snprintf(work_dir, sizeof work_dir, "%s/work", base);
    FUZZ_CHECK(mkdir(work_dir, 0755) == 0);
    atexit(remove_base);

    cd_params p;
    cd_params_init(&p);
    p.perm = 16;
    p.ngram = 3;
    p.bands = 4;
    p.rows = 4;
    p.threshold = 0.5;
    p.lead_shingles = 8; /* so that ADD records carry lead keys */
    p.threads = 1;
    cd_index_options o;
    cd_index_options_init(&o);
    o.sync = 0;
    o.checkpoint_docs = 0;
    cd_index *x = NULL;
    char err[512];
    FUZZ_CHECK(cd_index_create(template_dir, &p, &o, &x, err, sizeof err) == CD_OK);
    perm = cd_index_params(x)->perm;

    char ids[20][16], texts[20][300], dates[20][40];
    cd_doc docs[20];
    cd_index_result results[20];
    for (int i = 0; i < 20; i++) {
        snprintf(ids[i], sizeof ids[i], "doc-%d", i);
        snprintf(texts[i], sizeof texts[i], "%s %s", i % 3 == 2 ? story_b : story_a,
                 i % 4 == 3 ? "with an extra sentence at the end of this copy" : "");
        snprintf(dates[i], sizeof dates[i], "2026-03-%02dT08:00:00Z", 1 + i);
        docs[i] = (cd_doc){.id = {ids[i], strlen(ids[i])},
                           .text = {texts[i], strlen(texts[i])},
                           .date = {dates[i], i % 5 == 4 ? 0 : strlen(dates[i])}};
    }
    docs[7].text = (cd_str){"", 0}; /* an empty document */
    size_t added;
    FUZZ_CHECK(cd_index_add(x, docs, 16, 1767225600, results, &added) == CD_OK && added == 16);
    FUZZ_CHECK(cd_index_checkpoint(x) == CD_OK);
    FUZZ_CHECK(cd_index_add(x, docs + 16, 4, 1767225600, results, &added) == CD_OK);
    FUZZ_CHECK(cd_index_evict(x, 1772323200 + 3 * 86400, NULL, NULL) == CD_OK);
    cd_index_free(x);

    char path[600];
    snprintf(path, sizeof path, "%s/checkpoint", template_dir);
    template_checkpoint = read_blob(path);
    FUZZ_CHECK(template_checkpoint.len >= 160);
    lead_bands = get32(template_checkpoint.p + 152);
    FUZZ_CHECK(lead_bands > 0 && 32 + 4 * perm + 8 * lead_bands + 40 <= 4096);
    snprintf(path, sizeof path, "%s/log", template_dir);
    template_log = read_blob(path);
}

/* -------------------------------------------------------------- damage */

/* Applies (u16 offset, u8 xor) edits from the input to b. */
static void xor_edits(blob *b, fuzz_input *in)
{
    while (in->left >= 3 && b->len > 0) {
        size_t at = (size_t)fuzz_uint(in, 2) % b->len;
        b->p[at] ^= fuzz_byte(in);
    }
}

/* Recomputes every checksum of a checkpoint, and its parameter
 * fingerprint, as far as its header's numbers allow. */
static void repair_checkpoint(blob *c)
{
    uint8_t *h = c->p;
    if (c->len < 168)
        return;
    uint32_t header = get32(h + 12), sections = get32(h + 144), record = get32(h + 148);
    uint32_t block = get32(h + 84);
    if (header < 168 || header > c->len || sections == 0 || sections > 64 || block == 0)
        return;
    size_t table = 160, record_at = table + 32 * (size_t)sections;
    if (record_at + record + 8 <= header)
        put64(h + 96, XXH3_64bits(h + record_at, record));
    /* the last section holds one checksum per block of the others */
    uint8_t *last = h + table + 32 * (size_t)(sections - 1);
    uint64_t sums_at = get64(last + 8), sums_len = get64(last + 16);
    if (sums_at <= c->len && sums_len <= c->len - sums_at) {
        size_t slot = 0;
        for (uint32_t s = 0; s + 1 < sections; s++) {
            uint8_t *e = h + table + 32 * (size_t)s;
            uint64_t at = get64(e + 8), len = get64(e + 16);
            if (at > c->len || len > c->len - at)
                break;
            size_t first = slot;
            for (uint64_t off = 0; off < len; off += block, slot++) {
                uint64_t n = len - off < block ? len - off : block;
                if ((slot + 1) * 8 > sums_len)
                    break;
                put64(h + sums_at + slot * 8, XXH3_64bits(h + at + off, (size_t)n));
            }
            if (slot * 8 <= sums_len)
                put64(e + 24, XXH3_64bits(h + sums_at + first * 8, (slot - first) * 8));
        }
        put64(last + 24, XXH3_64bits(h + sums_at, (size_t)sums_len));
    }
    put64(h + header - 8, XXH3_64bits(h, header - 8));
}

/* A log rebuilt from the input: the template's header, then records whose
 * frames (and, unless the input says otherwise, COMMIT hashes) are valid.
 * ADD records follow the current layout (docs/index-format.md, "The log";
 * engine/src/index_log.c), so that they reach cd__index_apply: a kind byte's
 * high bits make one field inconsistent (id length, flags, score). */
static blob build_log(fuzz_input *in)
{
    size_t cap = 48 + 16 + 4096;
    blob b = {malloc(cap), 48};
    FUZZ_CHECK(b.p && template_log.len >= 48);
    memcpy(b.p, template_log.p, 48);
    uint64_t chain = 0;
    uint32_t records = 0;
    while (in->left > 0) {
        uint8_t kind = fuzz_byte(in);
        size_t body_len;
        uint8_t body[4096];
        memset(body, 0, sizeof body);
        switch (kind % 4) {
        case 0: { /* ADD: u8 1, u8 flags, u16 0, u32 story, i64 time, f32 score,
                   * u32 id length, u32 shingles, u32 0, perm x u32 signature,
                   * lead bands x u64 lead keys, the id padded to 8 */
            uint8_t id_len = fuzz_byte(in) % 40;
            body[0] = 1;
            body[1] = kind & 0x40 ? fuzz_byte(in) : fuzz_byte(in) & 3; /* dated, empty */
            put32(body + 4, (uint32_t)fuzz_uint(in, 1) - 2); /* story: small or UINT32_MAX */
            put64(body + 8, 1772323200 + fuzz_uint(in, 3));
            float score = fuzz_byte(in) / 255.0f;
            uint32_t score_bits;
            memcpy(&score_bits, &score, 4);
            put32(body + 16, kind & 0x20 ? (uint32_t)fuzz_uint(in, 4) : score_bits);
            put32(body + 20, kind & 0x80 ? fuzz_byte(in) : id_len);
            put32(body + 24, (uint32_t)fuzz_uint(in, 2)); /* shingles */
            uint8_t *p = body + 32;
            for (unsigned i = 0; i < perm; i++, p += 4) /* the same for the same id length */
                put32(p, (uint32_t)XXH3_64bits_withSeed(&i, sizeof i, id_len));
            for (unsigned j = 0; j < lead_bands; j++, p += 8)
                put64(p, XXH3_64bits_withSeed(&j, sizeof j, id_len + 1000));
            for (uint8_t i = 0; i < id_len; i++)
                p[i] = fuzz_byte(in);
            body_len = (size_t)(p - body) + ((size_t)id_len + 7) / 8 * 8;
            break;
        }
        case 1: /* EVICT */
            body[0] = 2;
            put64(body + 8, 1772323200 + fuzz_uint(in, 3));
            body_len = 16;
            break;
        case 2: /* COMMIT of the records so far */
            body[0] = 3;
            put32(body + 4, kind & 0x40 ? fuzz_byte(in) : records);
            put64(body + 8, kind & 0x80 ? fuzz_uint(in, 8) : chain);
            body_len = 16;
            break;
        default: /* raw bytes */
            body_len = (fuzz_byte(in) % 64) * 8;
            for (size_t i = 0; i < body_len; i++)
                body[i] = fuzz_byte(in);
        }
        if (b.len + 16 + body_len > cap) {
            cap = 2 * cap + 16 + body_len;
            b.p = realloc(b.p, cap);
            FUZZ_CHECK(b.p);
        }
        uint8_t *f = b.p + b.len;
        put32(f, 0x524C4443u);
        put32(f + 4, (uint32_t)body_len);
        memcpy(f + 8, body, body_len);
        uint64_t sum = XXH3_64bits(f, 8 + body_len);
        put64(f + 8 + body_len, sum);
        b.len += 16 + body_len;
        if (kind % 4 == 2) {
            chain = 0;
            records = 0;
        } else {
            uint8_t le[8];
            put64(le, sum);
            chain = XXH3_64bits_withSeed(le, 8, chain);
            records++;
        }
    }
    return b;
}

/* ----------------------------------------------------------- exercise */

static void use_index(cd_index *x, int writable, int compact, int checkpoint_intact)
{
    cd_index_stats st;
    cd_status s = cd_index_get_stats(x, &st);
    FUZZ_CHECK(s == CD_OK || s == CD_ERR_FORMAT || s == CD_ERR_IO);
    size_t count = cd_index_doc_count(x);
    for (size_t doc = 0; doc < count && doc < 64; doc++) {
        cd_index_doc_info info;
        s = cd_index_doc(x, doc, &info);
        FUZZ_CHECK(s == CD_OK || s == CD_ERR_FORMAT);
        const char *id = cd_index_doc_id(x, doc);
        if (s == CD_OK)
            FUZZ_CHECK(info.id != NULL);
        (void)id;
    }
    cd_index_doc_info info;
    FUZZ_CHECK(cd_index_doc(x, count, &info) == CD_ERR_ARG);
    cd_doc q[2] = {{.text = {story_a, strlen(story_a)}}, {.text = {story_b, strlen(story_b)}}};
    cd_index_result r[2];
    s = cd_index_query(x, q, 2, 1772323200, r);
    FUZZ_CHECK(s == CD_OK || s == CD_ERR_FORMAT);
    s = cd_index_verify(x);
    FUZZ_CHECK(s == CD_OK || s == CD_ERR_FORMAT);
    if (checkpoint_intact)
        FUZZ_CHECK(s == CD_OK);
    if (!writable)
        return;
    cd_doc add[2] = {{.id = {"new-1", 5}, .text = {story_a, strlen(story_a)}},
                     {.id = {"doc-3", 5}, .text = {story_b, strlen(story_b)}}};
    size_t added = 0;
    s = cd_index_add(x, add, 2, 1772323200, r, &added);
    FUZZ_CHECK(s == CD_OK || s == CD_ERR_DUPLICATE_ID || s == CD_ERR_FORMAT || s == CD_ERR_IO ||
               s == CD_ERR_STATE);
    s = cd_index_evict(x, 1772323200 + 5 * 86400, NULL, NULL);
    FUZZ_CHECK(s == CD_OK || s == CD_ERR_FORMAT || s == CD_ERR_IO || s == CD_ERR_STATE);
    if (compact) {
        s = cd_index_compact(x);
        FUZZ_CHECK(s == CD_OK || s == CD_ERR_FORMAT || s == CD_ERR_IO || s == CD_ERR_STATE);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!template_checkpoint.p)
        make_template();
    fuzz_input in = {data, size};
    uint8_t how = fuzz_byte(&in);
    blob checkpoint = {malloc(template_checkpoint.len), template_checkpoint.len};
    blob log = {NULL, 0};
    FUZZ_CHECK(checkpoint.p);
    memcpy(checkpoint.p, template_checkpoint.p, checkpoint.len);
    int checkpoint_intact = 0;
    switch (how % 4) {
    case 0:
        log = build_log(&in);
        checkpoint_intact = 1;
        break;
    case 1:
        log = (blob){malloc(template_log.len), template_log.len};
        FUZZ_CHECK(log.p);
        memcpy(log.p, template_log.p, log.len);
        xor_edits(&log, &in);
        checkpoint_intact = 1;
        break;
    case 2:
        xor_edits(&checkpoint, &in);
        repair_checkpoint(&checkpoint);
        break;
    default:
        if (how & 4) {
            checkpoint.len = (size_t)fuzz_uint(&in, 2) % (checkpoint.len + 1);
        } else {
            xor_edits(&checkpoint, &in);
        }
    }
    empty_dir(work_dir);
    char path[600];
    snprintf(path, sizeof path, "%s/checkpoint", work_dir);
    write_blob(path, checkpoint.p, checkpoint.len);
    snprintf(path, sizeof path, "%s/log", work_dir);
    if (log.p)
        write_blob(path, log.p, log.len);
    else
        write_blob(path, template_log.p, template_log.len);
    snprintf(path, sizeof path, "%s/lock", work_dir);
    write_blob(path, NULL, 0);

    cd_index_options o;
    cd_index_options_init(&o);
    o.writable = (how >> 5) & 1;
    o.verify = (how >> 6) & 1;
    o.sync = 0;
    o.threads = 1;
    char err[512] = "";
    cd_index *x = NULL;
    cd_status st = cd_index_open(work_dir, &o, &x, err, sizeof err);
    if (st != CD_OK) {
        FUZZ_CHECK(x == NULL && err[0] != '\0');
        FUZZ_CHECK(st == CD_ERR_FORMAT || st == CD_ERR_IO || st == CD_ERR_ARG);
    } else {
        use_index(x, o.writable, how >> 7, checkpoint_intact);
        cd_index_free(x);
    }
    free(checkpoint.p);
    free(log.p);
    return 0;
}
