/* index_ckpt.c: reading an index checkpoint. The file is mapped read-only
 * and used in place: opening checks the header, the section bounds and the
 * table of block checksums (a few bytes per 4 KiB), not the data, so a big
 * index opens in constant time; each data block is verified against its
 * checksum the first time a lookup touches it, so corrupt bytes are
 * reported, never used. Sorted key tables are searched through a directory
 * of key prefixes. Layout: docs/index-format.md. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "index.h"

static const char *const section_names[CD__SEC_COUNT] = {
    "documents",         "ids",
    "signatures",        "stories",
    "band keys",         "band documents",
    "band directory",    "id hashes",
    "id documents",      "id directory",
    "boilerplate model", "checksums",
};

#define HEADER_FIXED 160
#define SECTION_ENTRY 32

void cd__ckpt_close(cd__ckpt *ck)
{
    if (ck->map)
        munmap((void *)ck->map, ck->size);
    if (ck->fd >= 0)
        close(ck->fd);
    cd__free(ck->verified);
    memset(ck, 0, sizeof *ck);
    ck->fd = -1;
}

static cd_status corrupt(char *err, const char *path, const char *what)
{
    cd__set_error(err, "%s: corrupt or truncated checkpoint: %s", path, what);
    return CD_ERR_FORMAT;
}

cd_status cd__ckpt_open(cd__ckpt *ck, const char *path, char *err)
{
    memset(ck, 0, sizeof *ck);
    ck->fd = -1;
    ck->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ck->fd < 0) {
        cd__set_error(err, "%s: cannot open: %s", path, strerror(errno));
        return CD_ERR_IO;
    }
    struct stat st;
    if (fstat(ck->fd, &st) != 0) {
        cd__set_error(err, "%s: cannot stat: %s", path, strerror(errno));
        return CD_ERR_IO;
    }
    if ((uint64_t)st.st_size < HEADER_FIXED)
        return corrupt(err, path, "shorter than a header");
    if ((uint64_t)st.st_size > SIZE_MAX)
        return corrupt(err, path, "too large to map");
    ck->size = (size_t)st.st_size;
    void *map = mmap(NULL, ck->size, PROT_READ, MAP_SHARED, ck->fd, 0);
    if (map == MAP_FAILED) {
        ck->map = NULL;
        cd__set_error(err, "%s: cannot map: %s", path, strerror(errno));
        return errno == ENOMEM ? CD_ERR_NOMEM : CD_ERR_IO;
    }
    ck->map = map;
    const unsigned char *h = ck->map;

    if (memcmp(h, "CDINDEX\0", 8) != 0) {
        cd__set_error(err, "%s: not a copydesk index checkpoint (bad magic)", path);
        return CD_ERR_FORMAT;
    }
    uint32_t version = cd__get32(h + 8);
    if (version != CD__INDEX_FORMAT_VERSION) {
        cd__set_error(err, "%s: index format version %u; this copydesk reads version %d", path,
                      version, CD__INDEX_FORMAT_VERSION);
        return CD_ERR_FORMAT;
    }
    uint64_t header_len = cd__get32(h + 12);
    uint32_t sections = cd__get32(h + 144);
    uint32_t text_len = cd__get32(h + 148);
    if (header_len > ck->size || header_len % CD__INDEX_ALIGN != 0 || sections != CD__SEC_COUNT ||
        HEADER_FIXED + (uint64_t)SECTION_ENTRY * sections + text_len + 8 > header_len)
        return corrupt(err, path, "bad header length");
    if (XXH3_64bits(h, header_len - 8) != cd__get64(h + header_len - 8))
        return corrupt(err, path, "header checksum mismatch");

    ck->generation = cd__get64(h + 16);
    ck->created = (int64_t)cd__get64(h + 24);
    ck->written = (int64_t)cd__get64(h + 32);
    ck->normalise_version = cd__get32(h + 76);
    ck->minhash_scheme = cd__get32(h + 80);
    uint32_t block = cd__get32(h + 84);
    ck->fingerprint = cd__get64(h + 96);
    ck->probe = cd__get64(h + 104);
    ck->documents = cd__get64(h + 112);
    ck->stories = cd__get64(h + 120);
    ck->band_entries = cd__get64(h + 128);
    ck->evict_before = (int64_t)cd__get64(h + 136);
    ck->lead_bands = cd__get32(h + 152);
    ck->lead_rows = cd__get32(h + 156);
    if (block != CD__INDEX_BLOCK)
        return corrupt(err, path, "unexpected block size");

    const char *text = (const char *)h + HEADER_FIXED + SECTION_ENTRY * sections;
    char perr[CD_ERRMSG_SIZE];
    if (XXH3_64bits(text, text_len) != ck->fingerprint)
        return corrupt(err, path, "parameter record does not match its fingerprint");
    if (cd__index_params_parse(text, text_len, &ck->params, &ck->model, perr) != 0)
        return corrupt(err, path, perr);
    double threshold;
    uint64_t bits = cd__get64(h + 64);
    memcpy(&threshold, &bits, 8);
    const cd_params *p = &ck->params;
    if (p->seed != cd__get64(h + 40) || p->perm != cd__get32(h + 48) ||
        p->ngram != cd__get32(h + 52) || p->bands != cd__get32(h + 56) ||
        p->rows != cd__get32(h + 60) || p->threshold != threshold ||
        (uint32_t)p->with_title != cd__get32(h + 72) ||
        (uint64_t)p->max_bucket != cd__get64(h + 88) ||
        (uint32_t)p->minhash_scheme != ck->minhash_scheme)
        return corrupt(err, path, "parameter record disagrees with the header fields");
    cd_params resolved = *p;
    if (cd_params_resolve(&resolved, perr, sizeof perr) != CD_OK || resolved.bands != p->bands ||
        resolved.rows != p->rows || p->perm > 1024)
        return corrupt(err, path, "invalid parameters");
    uint64_t all_bands = (uint64_t)p->bands + ck->lead_bands;
    if (ck->documents >= CD__INDEX_NONE || ck->stories > ck->documents || ck->lead_bands > 1024 ||
        ck->band_entries % all_bands != 0 || ck->band_entries / all_bands > ck->documents)
        return corrupt(err, path, "impossible counts");

    /* Section table: in order, aligned, inside the file, not overlapping. */
    uint64_t expected[CD__SEC_COUNT] = {0};
    uint64_t n = ck->documents, e = ck->band_entries;
    ck->band_dir_bits = cd__index_directory_bits(e);
    ck->id_dir_bits = cd__index_directory_bits(n);
    expected[CD__SEC_DOCS] = n * CD__DOC_RECORD;
    expected[CD__SEC_SIGNATURES] = n * p->perm * 4;
    expected[CD__SEC_STORIES] = ck->stories * CD__STORY_RECORD;
    expected[CD__SEC_BAND_KEYS] = e * 8;
    expected[CD__SEC_BAND_DOCS] = e * 4;
    expected[CD__SEC_BAND_DIRECTORY] = (((uint64_t)1 << ck->band_dir_bits) + 1) * 8;
    expected[CD__SEC_ID_HASHES] = n * 8;
    expected[CD__SEC_ID_DOCS] = n * 4;
    expected[CD__SEC_ID_DIRECTORY] = (((uint64_t)1 << ck->id_dir_bits) + 1) * 8;
    uint64_t end = header_len;
    size_t blocks = 0;
    for (int s = 0; s < CD__SEC_COUNT; s++) {
        const unsigned char *entry = h + HEADER_FIXED + SECTION_ENTRY * s;
        cd__section *sec = &ck->sec[s];
        sec->offset = cd__get64(entry + 8);
        sec->length = cd__get64(entry + 16);
        sec->checksum = cd__get64(entry + 24);
        if (cd__get32(entry) != (uint32_t)s + 1 || sec->offset % CD__INDEX_ALIGN != 0 ||
            sec->offset < end || sec->length > ck->size || sec->offset > ck->size - sec->length)
            return corrupt(err, path, "bad section table");
        if (s != CD__SEC_IDS && s != CD__SEC_BOILERPLATE && s != CD__SEC_CHECKSUMS &&
            sec->length != expected[s]) {
            char what[96];
            snprintf(what, sizeof what, "section '%s' has the wrong length", section_names[s]);
            return corrupt(err, path, what);
        }
        end = sec->offset + sec->length;
        sec->first_block = blocks;
        sec->blocks = (size_t)((sec->length + CD__INDEX_BLOCK - 1) / CD__INDEX_BLOCK);
        if (s != CD__SEC_CHECKSUMS)
            blocks += sec->blocks;
    }
    if (end != ck->size)
        return corrupt(err, path, "file length does not match its sections");
    if ((ck->model == 0) != (ck->sec[CD__SEC_BOILERPLATE].length == 0))
        return corrupt(err, path, "boilerplate model section disagrees with the parameter record");
    cd__section *sums = &ck->sec[CD__SEC_CHECKSUMS];
    if (sums->length != (uint64_t)blocks * 8)
        return corrupt(err, path, "checksum table has the wrong length");
    const unsigned char *table = ck->map + sums->offset;
    if (XXH3_64bits(table, sums->length) != sums->checksum)
        return corrupt(err, path, "checksum table checksum mismatch");
    for (int s = 0; s < CD__SEC_CHECKSUMS; s++) {
        const cd__section *sec = &ck->sec[s];
        if (XXH3_64bits(table + sec->first_block * 8, sec->blocks * 8) != sec->checksum) {
            char what[96];
            snprintf(what, sizeof what, "section '%s' checksum mismatch", section_names[s]);
            return corrupt(err, path, what);
        }
    }
    ck->blocks = blocks;
    ck->verified = cd__calloc(blocks / 8 + 1, 1);
    if (!ck->verified) {
        cd__set_error(err, "%s: out of memory", path);
        return CD_ERR_NOMEM;
    }
    return CD_OK;
}

/* Verifies block b of section s (if not done yet). */
static int verify_block(cd__ckpt *ck, int s, size_t b, char *err)
{
    const cd__section *sec = &ck->sec[s];
    size_t global = sec->first_block + b;
    if (ck->verified[global >> 3] & (1u << (global & 7)))
        return 0;
    uint64_t start = (uint64_t)b * CD__INDEX_BLOCK;
    uint64_t len = sec->length - start < CD__INDEX_BLOCK ? sec->length - start : CD__INDEX_BLOCK;
    uint64_t want = cd__get64(ck->map + ck->sec[CD__SEC_CHECKSUMS].offset + global * 8);
    if (XXH3_64bits(ck->map + sec->offset + start, len) != want) {
        cd__set_error(err,
                      "corrupt checkpoint: section '%s', block %zu (file bytes %" PRIu64
                      "..%" PRIu64 "): checksum mismatch",
                      section_names[s], b, sec->offset + start, sec->offset + start + len);
        return -1;
    }
    ck->verified[global >> 3] |= (uint8_t)(1u << (global & 7));
    return 0;
}

const unsigned char *cd__ckpt_bytes(cd__ckpt *ck, int s, uint64_t offset, uint64_t length,
                                    char *err)
{
    const cd__section *sec = &ck->sec[s];
    if (offset > sec->length || length > sec->length - offset) {
        cd__set_error(err, "corrupt checkpoint: read past the end of section '%s'",
                      section_names[s]);
        return NULL;
    }
    if (length > 0) {
        size_t first = (size_t)(offset / CD__INDEX_BLOCK);
        size_t last = (size_t)((offset + length - 1) / CD__INDEX_BLOCK);
        for (size_t b = first; b <= last; b++)
            if (verify_block(ck, s, b, err) != 0)
                return NULL;
    }
    return ck->map + sec->offset + offset;
}

cd_status cd__ckpt_verify(cd__ckpt *ck, char *err)
{
    /* The padding between sections belongs to no checksum: it must be zero. */
    uint64_t end = cd__get32(ck->map + 12);
    for (int s = 0; s < CD__SEC_COUNT; s++) {
        for (uint64_t p = end; p < ck->sec[s].offset; p++)
            if (ck->map[p] != 0) {
                cd__set_error(err, "corrupt checkpoint: non-zero padding at file byte %" PRIu64, p);
                return CD_ERR_FORMAT;
            }
        end = ck->sec[s].offset + ck->sec[s].length;
    }
    for (int s = 0; s < CD__SEC_CHECKSUMS; s++)
        for (size_t b = 0; b < ck->sec[s].blocks; b++)
            if (verify_block(ck, s, b, err) != 0)
                return CD_ERR_FORMAT;
    return CD_OK;
}

/* The entries equal to key among n sorted big-endian keys at k: *first is
 * the first index with k[i] >= key, *end the first with k[i] > key. */
static void equal_range(const unsigned char *k, uint64_t n, uint64_t key, uint64_t *first,
                        uint64_t *end)
{
    uint64_t l = 0, r = n;
    while (l < r) {
        uint64_t m = l + (r - l) / 2;
        if (cd__get64(k + m * 8) < key)
            l = m + 1;
        else
            r = m;
    }
    *first = l;
    r = n;
    while (l < r) {
        uint64_t m = l + (r - l) / 2;
        if (cd__get64(k + m * 8) <= key)
            l = m + 1;
        else
            r = m;
    }
    *end = l;
}

/* Lookups of many keys overlap their cache and TLB misses: every
 * directory entry is prefetched, then every key range, before any is
 * searched. */
cd_status cd__ckpt_find_many(cd__ckpt *ck, int keys_sec, const uint64_t *keys, size_t n,
                             uint64_t *lo, uint64_t *hi, char *err)
{
    int dir_sec = keys_sec + 2;
    unsigned bits = keys_sec == CD__SEC_BAND_KEYS ? ck->band_dir_bits : ck->id_dir_bits;
    uint64_t entries = ck->sec[keys_sec].length / 8;
    const unsigned char *dir = ck->map + ck->sec[dir_sec].offset;
    const unsigned char *table = ck->map + ck->sec[keys_sec].offset;
    for (size_t i = 0; i < n; i++)
        __builtin_prefetch(dir + (bits ? keys[i] >> (64 - bits) : 0) * 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t prefix = bits ? keys[i] >> (64 - bits) : 0;
        const unsigned char *d = cd__ckpt_bytes(ck, dir_sec, prefix * 8, 16, err);
        if (!d)
            return CD_ERR_FORMAT;
        lo[i] = cd__get64(d);
        hi[i] = cd__get64(d + 8);
        if (lo[i] > hi[i] || hi[i] > entries) {
            cd__set_error(err, "corrupt checkpoint: bad directory entry");
            return CD_ERR_FORMAT;
        }
        __builtin_prefetch(table + lo[i] * 8);
        __builtin_prefetch(table + lo[i] * 8 + 64);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t a = lo[i], b = hi[i];
        if (a == b)
            continue;
        const unsigned char *k = cd__ckpt_bytes(ck, keys_sec, a * 8, (b - a) * 8, err);
        if (!k)
            return CD_ERR_FORMAT;
        equal_range(k, b - a, keys[i], &lo[i], &hi[i]);
        lo[i] += a;
        hi[i] += a;
    }
    return CD_OK;
}

cd_status cd__ckpt_find(cd__ckpt *ck, int keys_sec, uint64_t key, uint64_t *lo, uint64_t *hi,
                        char *err)
{
    int dir_sec = keys_sec + 2;
    unsigned bits = keys_sec == CD__SEC_BAND_KEYS ? ck->band_dir_bits : ck->id_dir_bits;
    uint64_t n = ck->sec[keys_sec].length / 8;
    uint64_t prefix = bits ? key >> (64 - bits) : 0;
    const unsigned char *d = cd__ckpt_bytes(ck, dir_sec, prefix * 8, 16, err);
    if (!d)
        return CD_ERR_FORMAT;
    uint64_t a = cd__get64(d), b = cd__get64(d + 8);
    if (a > b || b > n) {
        cd__set_error(err, "corrupt checkpoint: bad directory entry");
        return CD_ERR_FORMAT;
    }
    *lo = *hi = a;
    if (a == b)
        return CD_OK;
    const unsigned char *keys = cd__ckpt_bytes(ck, keys_sec, a * 8, (b - a) * 8, err);
    if (!keys)
        return CD_ERR_FORMAT;
    equal_range(keys, b - a, key, lo, hi);
    *lo += a;
    *hi += a;
    return CD_OK;
}
