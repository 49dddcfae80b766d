/* index.c: the persistent incremental index (cd_index_*), the streaming end
 * of the pipeline: sign ─► match against the index ─► log ─► acknowledge.
 * State = the mapped checkpoint (index_ckpt.c) + an in-memory overlay of the
 * documents added since, rebuilt at open by replaying the log
 * (index_log.c). Each added document is matched through the LSH band keys
 * of both, verified against the threshold and joins the story of its best
 * match. A batch is applied to the overlay, logged and fsynced; if anything
 * fails before the fsync the batch is undone, so memory never holds what the
 * disk does not. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "index.h"
#include "lsh.h"
#include "signer.h"

#define MAX_THREADS 256

/* ------------------------------------------------------------ utilities */

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = cd__malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

static uint64_t id_hash(const char *id, size_t len)
{
    return XXH3_64bits(id, len);
}

/* ----------------------------------------------------------- overlay maps */

static size_t mix(uint64_t key)
{
    return (size_t)(key ^ (key >> 29));
}

/* The bucket of a band key. */
static size_t band_bucket(const cd__overlay *ov, uint64_t key)
{
    return mix(key) & (ov->bhead_count - 1);
}

/* Grows the bucket array to at least one bucket per entry (entries are
 * rechained oldest first, so chains stay newest first). */
static int band_map_reserve(cd__overlay *ov, size_t entries, unsigned all_bands)
{
    if (entries <= ov->bhead_count)
        return 0;
    size_t count = ov->bhead_count;
    uint32_t *heads = cd__empty_slots(&count, entries);
    if (!heads)
        return -1;
    cd__free(ov->bheads);
    ov->bheads = heads;
    ov->bhead_count = count;
    for (size_t i = 0; i < ov->count; i++) {
        if (ov->flags[i] & CD__DOC_EMPTY)
            continue;
        for (unsigned j = 0; j < all_bands; j++) {
            uint32_t e = (uint32_t)(i * all_bands + j);
            size_t b = band_bucket(ov, ov->ekeys[e]);
            ov->enext[e] = heads[b];
            heads[b] = e;
        }
    }
    return 0;
}

/* The id hash of local document i (a cd__idset_hash_fn over the overlay). */
static uint64_t overlay_id_hash(const void *ov, uint32_t i)
{
    return ((const cd__overlay *)ov)->id_hash[i];
}

static size_t dirty_find(const cd__overlay *ov, uint32_t story)
{
    size_t mask = ov->dirty_slot_count - 1, i = mix(story * 0x9E3779B97F4A7C15ull) & mask;
    while (ov->dirty_keys[i] != CD__INDEX_NONE && ov->dirty_keys[i] != story)
        i = (i + 1) & mask;
    return i;
}

static int dirty_reserve(cd__overlay *ov, size_t extra)
{
    size_t need = (ov->dirty_count + extra) * 2;
    if (need <= ov->dirty_slot_count)
        return 0;
    size_t count = ov->dirty_slot_count;
    uint32_t *keys = cd__empty_slots(&count, need);
    cd__story *vals = keys ? cd__malloc(count * sizeof *vals) : NULL;
    if (!keys || !vals) {
        cd__free(keys);
        return -1;
    }
    uint32_t *old_keys = ov->dirty_keys;
    cd__story *old_vals = ov->dirty_vals;
    size_t old_count = ov->dirty_slot_count;
    ov->dirty_keys = keys;
    ov->dirty_vals = vals;
    ov->dirty_slot_count = count;
    for (size_t i = 0; i < old_count; i++)
        if (old_keys[i] != CD__INDEX_NONE) {
            size_t s = dirty_find(ov, old_keys[i]);
            keys[s] = old_keys[i];
            vals[s] = old_vals[i];
        }
    cd__free(old_keys);
    cd__free(old_vals);
    return 0;
}

/* Removes a key from an open-addressing table with linear probing. Safe only
 * for the most recently inserted keys, removed newest first (batch undo). */
static void dirty_remove(cd__overlay *ov, uint32_t story)
{
    size_t s = dirty_find(ov, story);
    if (ov->dirty_keys[s] == story) {
        ov->dirty_keys[s] = CD__INDEX_NONE;
        ov->dirty_count--;
    }
}

static void overlay_free(cd__overlay *ov)
{
    cd__free(ov->time);
    cd__free(ov->id_hash);
    cd__free(ov->id_off);
    cd__free(ov->id_len);
    cd__free(ov->story);
    cd__free(ov->flags);
    cd__free(ov->score);
    cd__free(ov->size);
    cd__free(ov->sigs);
    cd__free(ov->ids);
    cd__free(ov->bheads);
    cd__free(ov->ekeys);
    cd__free(ov->enext);
    cd__idset_free(&ov->id_set);
    cd__free(ov->stories);
    cd__free(ov->dirty_keys);
    cd__free(ov->dirty_vals);
    memset(ov, 0, sizeof *ov);
}

static int grow_array(void **p, size_t count, size_t elem)
{
    if (elem && count > SIZE_MAX / elem)
        return -1;
    void *q = cd__realloc(*p, count * elem);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

int cd__index_reserve(cd_index *x, size_t n, size_t id_bytes)
{
    cd__overlay *ov = &x->ov;
    unsigned perm = x->params.perm, bands = x->all_bands;
    size_t need = ov->count + n;
    if (x->ck.documents + need >= CD__INDEX_NONE - 1 || need > (CD__INDEX_NONE - 1) / bands)
        return -1;
    if (need > ov->cap) {
        size_t cap = ov->cap ? ov->cap : 256;
        while (cap < need)
            cap *= 2;
        if (grow_array((void **)&ov->time, cap, sizeof *ov->time) ||
            grow_array((void **)&ov->id_hash, cap, sizeof *ov->id_hash) ||
            grow_array((void **)&ov->id_off, cap, sizeof *ov->id_off) ||
            grow_array((void **)&ov->id_len, cap, sizeof *ov->id_len) ||
            grow_array((void **)&ov->story, cap, sizeof *ov->story) ||
            grow_array((void **)&ov->flags, cap, sizeof *ov->flags) ||
            grow_array((void **)&ov->score, cap, sizeof *ov->score) ||
            grow_array((void **)&ov->size, cap, sizeof *ov->size) ||
            grow_array((void **)&ov->sigs, cap, (size_t)perm * 4) ||
            grow_array((void **)&ov->ekeys, cap, (size_t)bands * 8) ||
            grow_array((void **)&ov->enext, cap, (size_t)bands * 4))
            return -1;
        ov->cap = cap;
    }
    if (cd__grow((void **)&ov->ids, &ov->ids_cap, ov->ids_used + id_bytes + n, 1) != 0 ||
        cd__grow((void **)&ov->stories, &ov->story_cap, ov->story_count + n, sizeof *ov->stories) ||
        cd__grow((void **)&x->undo, &x->undo_cap, x->undo_count + n, sizeof *x->undo) != 0 ||
        band_map_reserve(ov, need * bands, bands) != 0 ||
        cd__idset_reserve(&ov->id_set, ov->count, n, overlay_id_hash, ov) != 0 ||
        dirty_reserve(ov, n) != 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ accessors */

size_t cd__index_doc_count(const cd_index *x)
{
    return (size_t)x->ck.documents + x->ov.count;
}

size_t cd__index_story_count(const cd_index *x)
{
    return (size_t)x->ck.stories + x->ov.story_count;
}

int cd__index_story(cd_index *x, uint32_t s, cd__story *out)
{
    if (s >= x->ck.stories) {
        size_t i = s - (size_t)x->ck.stories;
        if (i >= x->ov.story_count) {
            cd__set_error(x->errmsg, "corrupt index: story %u does not exist", s);
            return -1;
        }
        *out = x->ov.stories[i];
        return 0;
    }
    if (x->ov.dirty_slot_count) {
        size_t slot = dirty_find(&x->ov, s);
        if (x->ov.dirty_keys[slot] == s) {
            *out = x->ov.dirty_vals[slot];
            return 0;
        }
    }
    const unsigned char *r = cd__ckpt_bytes(&x->ck, CD__SEC_STORIES, (uint64_t)s * CD__STORY_RECORD,
                                            CD__STORY_RECORD, x->errmsg);
    if (!r)
        return -1;
    out->rep = cd__get32(r);
    out->count = cd__get32(r + 4);
    out->first_seen = (int64_t)cd__get64(r + 8);
    out->last_seen = (int64_t)cd__get64(r + 16);
    return 0;
}

static void story_put(cd_index *x, uint32_t s, const cd__story *rec)
{
    if (s >= x->ck.stories) {
        x->ov.stories[s - x->ck.stories] = *rec;
        return;
    }
    size_t slot = dirty_find(&x->ov, s);
    if (x->ov.dirty_keys[slot] != s) {
        x->ov.dirty_keys[slot] = s;
        x->ov.dirty_count++;
    }
    x->ov.dirty_vals[slot] = *rec;
}

static int story_dirty(const cd_index *x, uint32_t s)
{
    return s >= x->ck.stories || x->ov.dirty_keys[dirty_find(&x->ov, s)] == s;
}

static int live(const cd_index *x, const cd__story *s)
{
    return s->last_seen >= x->evict_before;
}

/* The DOCS record of checkpoint document doc. */
static const unsigned char *ck_doc(cd_index *x, uint32_t doc)
{
    return cd__ckpt_bytes(&x->ck, CD__SEC_DOCS, (uint64_t)doc * CD__DOC_RECORD, CD__DOC_RECORD,
                          x->errmsg);
}

/* A 32-bit field of doc: overlay[i] for an overlay document, else the
 * field at byte offset in its checkpoint record. Returns 0 or -1. */
static int doc_field32(cd_index *x, uint32_t doc, const uint32_t *overlay, size_t offset,
                       uint32_t *value)
{
    if (doc >= x->ck.documents) {
        *value = overlay[doc - x->ck.documents];
        return 0;
    }
    const unsigned char *r = ck_doc(x, doc);
    if (!r)
        return -1;
    *value = cd__get32(r + offset);
    return 0;
}

static int doc_story(cd_index *x, uint32_t doc, uint32_t *story)
{
    return doc_field32(x, doc, x->ov.story, 20, story);
}

/* The signature of doc in native order (checkpoint signatures are used in
 * place on little-endian hosts). */
static const uint32_t *doc_sig(cd_index *x, uint32_t doc)
{
    unsigned perm = x->params.perm;
    if (doc >= x->ck.documents)
        return x->ov.sigs + (size_t)(doc - x->ck.documents) * perm;
    const unsigned char *p = cd__ckpt_bytes(&x->ck, CD__SEC_SIGNATURES, (uint64_t)doc * perm * 4,
                                            (uint64_t)perm * 4, x->errmsg);
    if (!p)
        return NULL;
    if (CD__HOST_LE)
        return (const uint32_t *)(const void *)p;
    for (unsigned i = 0; i < perm; i++)
        x->sig_scratch[i] = cd__get32(p + (size_t)i * 4);
    return x->sig_scratch;
}

/* The size (shingles) of doc. */
static int doc_size(cd_index *x, uint32_t doc, uint32_t *size)
{
    return doc_field32(x, doc, x->ov.size, 32, size);
}

/* The id of doc (NUL-terminated). */
static const char *doc_id(cd_index *x, uint32_t doc, uint32_t *len)
{
    if (doc >= x->ck.documents) {
        size_t i = doc - (size_t)x->ck.documents;
        *len = x->ov.id_len[i];
        return x->ov.ids + x->ov.id_off[i];
    }
    const unsigned char *r = ck_doc(x, doc);
    if (!r)
        return NULL;
    uint64_t off = cd__get64(r + 8);
    *len = cd__get32(r + 16);
    const unsigned char *id =
        cd__ckpt_bytes(&x->ck, CD__SEC_IDS, off, (uint64_t)*len + 1, x->errmsg);
    if (id && id[*len] != '\0') {
        cd__set_error(x->errmsg, "corrupt checkpoint: id of document %u is not terminated", doc);
        return NULL;
    }
    return (const char *)id;
}

int cd__index_doc(cd_index *x, uint32_t doc, cd__doc_rec *out)
{
    if (doc >= x->ck.documents) {
        size_t i = doc - (size_t)x->ck.documents;
        *out =
            (cd__doc_rec){x->ov.ids + x->ov.id_off[i],
                          x->ov.id_len[i],
                          x->ov.id_hash[i],
                          x->ov.time[i],
                          x->ov.flags[i],
                          x->ov.story[i],
                          x->ov.score[i],
                          x->ov.size[i],
                          x->ov.sigs + i * x->params.perm,
                          x->lead_bands ? x->ov.ekeys + i * x->all_bands + x->params.bands : NULL};
        return 0;
    }
    const unsigned char *r = ck_doc(x, doc);
    if (!r)
        return -1;
    out->time = (int64_t)cd__get64(r);
    out->flags = cd__get32(r + 24);
    out->story = cd__get32(r + 20);
    out->score = cd__getf32(r + 28);
    out->size = cd__get32(r + 32);
    out->lead_keys = NULL; /* in the band table */
    out->id = doc_id(x, doc, &out->id_len);
    out->sig = doc_sig(x, doc);
    if (!out->id || !out->sig)
        return -1;
    out->id_hash = id_hash(out->id, out->id_len);
    return 0;
}

/* --------------------------------------------------------- apply / undo */

int cd__index_apply(cd_index *x, const cd__doc_rec *d, int undo)
{
    cd__overlay *ov = &x->ov;
    unsigned perm = x->params.perm, bands = x->params.bands, all = x->all_bands;
    uint32_t i = (uint32_t)ov->count;
    uint32_t doc = (uint32_t)(x->ck.documents + i);
    uint32_t story = d->story;
    cd__story rec;
    if (story == CD__INDEX_NONE) {
        story = (uint32_t)cd__index_story_count(x);
        ov->stories[ov->story_count++] = (cd__story){doc, 1, d->time, d->time};
    } else {
        if (cd__index_story(x, story, &rec) != 0)
            return -1;
        if (undo)
            x->undo[x->undo_count++] = (cd__undo){story, story_dirty(x, story) ? 0u : 1u, rec};
        rec.count++;
        if (d->time < rec.first_seen)
            rec.first_seen = d->time;
        if (d->time > rec.last_seen)
            rec.last_seen = d->time;
        story_put(x, story, &rec);
    }
    ov->time[i] = d->time;
    ov->id_hash[i] = d->id_hash;
    ov->id_off[i] = ov->ids_used;
    ov->id_len[i] = d->id_len;
    memcpy(ov->ids + ov->ids_used, d->id, d->id_len);
    ov->ids[ov->ids_used + d->id_len] = '\0';
    ov->ids_used += d->id_len + 1;
    ov->story[i] = story;
    ov->flags[i] = d->flags;
    ov->score[i] = d->score;
    ov->size[i] = d->size;
    memcpy(ov->sigs + (size_t)i * perm, d->sig, (size_t)perm * 4);
    cd__idset_insert(&ov->id_set, d->id_hash, i);
    if (!(d->flags & CD__DOC_EMPTY)) {
        uint64_t *keys = ov->ekeys + (size_t)i * all;
        cd__lsh_band_keys(d->sig, bands, x->params.rows, x->params.seed, keys);
        if (x->lead_bands)
            memcpy(keys + bands, d->lead_keys, (size_t)x->lead_bands * 8);
        for (unsigned j = 0; j < all; j++) {
            uint32_t e = i * all + j;
            size_t b = band_bucket(ov, keys[j]);
            ov->enext[e] = ov->bheads[b];
            ov->bheads[b] = e;
        }
    }
    ov->count++;
    return 0;
}

/* Undoes everything applied since the overlay held `count` documents,
 * `stories` new stories, `ids_used` id bytes and `undo_count` undo entries. */
static void undo_batch(cd_index *x, size_t count, size_t stories, size_t ids_used,
                       size_t undo_count)
{
    cd__overlay *ov = &x->ov;
    unsigned all = x->all_bands;
    while (ov->count > count) {
        uint32_t i = (uint32_t)--ov->count;
        if (!(ov->flags[i] & CD__DOC_EMPTY)) /* newest first: each entry heads its chain */
            for (unsigned j = all; j-- > 0;) {
                uint32_t e = i * all + j;
                ov->bheads[band_bucket(ov, ov->ekeys[e])] = ov->enext[e];
            }
        cd__idset_remove(&ov->id_set, ov->id_hash[i], i);
    }
    while (x->undo_count > undo_count) {
        cd__undo *u = &x->undo[--x->undo_count];
        if (u->kind == 1)
            dirty_remove(ov, u->story);
        else
            story_put(x, u->story, &u->old);
    }
    ov->story_count = stories;
    ov->ids_used = ids_used;
}

/* ------------------------------------------------------------- matching */

/* The first entry of each key's bucket into heads[0..n), prefetching the
 * buckets and then the entries so that their misses overlap. */
static void overlay_heads(const cd_index *x, const uint64_t *keys, size_t n, uint32_t *heads)
{
    const cd__overlay *ov = &x->ov;
    if (!ov->bhead_count) {
        for (size_t j = 0; j < n; j++)
            heads[j] = CD__INDEX_NONE;
        return;
    }
    for (size_t j = 0; j < n; j++)
        __builtin_prefetch(&ov->bheads[band_bucket(ov, keys[j])]);
    for (size_t j = 0; j < n; j++) {
        heads[j] = ov->bheads[band_bucket(ov, keys[j])];
        if (heads[j] != CD__INDEX_NONE) {
            __builtin_prefetch(&ov->ekeys[heads[j]]);
            __builtin_prefetch(&ov->enext[heads[j]]);
        }
    }
}

/* The overlay documents whose band entries have key, newest first, into
 * x->bucket[0..*found), walking the chain from head. Returns 0 or -1. */
static int overlay_bucket(cd_index *x, uint64_t key, uint32_t head, size_t *found)
{
    *found = 0;
    unsigned all = x->all_bands;
    for (uint32_t e = head; e != CD__INDEX_NONE; e = x->ov.enext[e])
        if (x->ov.ekeys[e] == key) {
            if (cd__grow((void **)&x->bucket, &x->bucket_cap, *found + 1, sizeof *x->bucket))
                return -1;
            x->bucket[(*found)++] = (uint32_t)(x->ck.documents + e / all);
        }
    return 0;
}

/* Adds doc to the distinct candidates x->cands[0..*n). Returns 0 or -1. */
static int add_candidate(cd_index *x, uint32_t doc, size_t *n)
{
    if ((*n + 1) * 2 > x->cset_cap) { /* grow the set and the list */
        size_t cap = x->cset_cap ? x->cset_cap * 2 : 1024;
        while ((*n + 1) * 2 > cap)
            cap *= 2;
        uint32_t *set = cd__malloc(cap * sizeof *set);
        if (!set || cd__grow((void **)&x->cands, &x->cands_cap, cap / 2, sizeof *x->cands)) {
            cd__free(set);
            return -1;
        }
        memset(set, 0xff, cap * sizeof *set);
        for (size_t c = 0; c < *n; c++) {
            size_t i = mix(x->cands[c] * 0x9E3779B97F4A7C15ull) & (cap - 1);
            while (set[i] != CD__INDEX_NONE)
                i = (i + 1) & (cap - 1);
            set[i] = x->cands[c];
        }
        cd__free(x->cset);
        x->cset = set;
        x->cset_cap = cap;
    }
    size_t mask = x->cset_cap - 1, i = mix(doc * 0x9E3779B97F4A7C15ull) & mask;
    for (; x->cset[i] != CD__INDEX_NONE; i = (i + 1) & mask)
        if (x->cset[i] == doc)
            return 0;
    x->cset[i] = doc;
    x->cands[(*n)++] = doc;
    return 0;
}

/* Empties the candidate set (only the slots used). */
static void clear_candidates(cd_index *x, size_t n)
{
    size_t mask = x->cset_cap - 1;
    for (size_t c = 0; c < n; c++) {
        size_t i = mix(x->cands[c] * 0x9E3779B97F4A7C15ull) & mask;
        while (x->cset[i] != x->cands[c])
            i = (i + 1) & mask;
        x->cset[i] = CD__INDEX_NONE;
    }
}

static int live_doc(cd_index *x, uint32_t doc, int *is_live)
{
    uint32_t story;
    cd__story rec;
    if (doc_story(x, doc, &story) != 0 || cd__index_story(x, story, &rec) != 0)
        return -1;
    *is_live = live(x, &rec);
    return 0;
}

/* A bucket over max_bucket is compared to its first live member only (the
 * batch engine compares such buckets to their first member): the smallest
 * live document among the checkpoint entries [lo, hi) and the overlay
 * documents x->bucket[0..found) (newest first), or NONE. */
static cd_status first_live(cd_index *x, uint64_t lo, uint64_t hi, size_t found, uint32_t *first)
{
    *first = CD__INDEX_NONE;
    for (uint64_t e = lo; e < hi; e++) {
        const unsigned char *p = cd__ckpt_bytes(&x->ck, CD__SEC_BAND_DOCS, e * 4, 4, x->errmsg);
        int is_live;
        if (!p || live_doc(x, cd__get32(p), &is_live) != 0)
            return CD_ERR_FORMAT;
        if (is_live) {
            *first = cd__get32(p);
            return CD_OK;
        }
    }
    for (size_t c = found; c-- > 0;) {
        int is_live;
        if (live_doc(x, x->bucket[c], &is_live) != 0)
            return CD_ERR_FORMAT;
        if (is_live) {
            *first = x->bucket[c];
            return CD_OK;
        }
    }
    return CD_OK;
}

/* The score of a pair from its signatures and sizes, as the batch engine
 * estimates it: Jaccard, or with match containment the share of the
 * smaller document found in the larger. */
static double pair_score(const cd_index *x, uint32_t agree, uint32_t na, uint32_t nb)
{
    double j = (double)agree / x->params.perm;
    double small = na < nb ? na : nb;
    if (x->params.match != CD_MATCH_CONTAINMENT || small < x->params.min_containment_shingles ||
        small <= 0)
        return j;
    double c = j * ((double)na + nb) / (1.0 + j) / small;
    return c > 1.0 ? 1.0 : c;
}

typedef struct match {
    int found;
    uint32_t story, doc;
    double score;
} match;

/* The best live match at or above the threshold of a document with
 * signature sig, size and the band keys keys[all_bands]: highest score,
 * ties to the earliest story. */
static cd_status best_match(cd_index *x, const uint32_t *sig, uint32_t size, const uint64_t *keys,
                            match *m)
{
    unsigned perm = x->params.perm, all = x->all_bands;
    *m = (match){0, CD__INDEX_NONE, CD__INDEX_NONE, 0.0};
    size_t n = 0, max_bucket = x->params.max_bucket;
    uint64_t *lo = x->band_lo, *hi = x->band_hi;
    memset(lo, 0, all * sizeof *lo);
    memset(hi, 0, all * sizeof *hi);
    if (x->ck.band_entries &&
        cd__ckpt_find_many(&x->ck, CD__SEC_BAND_KEYS, keys, all, lo, hi, x->errmsg) != CD_OK)
        return CD_ERR_FORMAT;
    const unsigned char *band_docs =
        x->ck.map ? x->ck.map + x->ck.sec[CD__SEC_BAND_DOCS].offset : NULL;
    for (unsigned j = 0; j < all; j++)
        if (hi[j] > lo[j])
            __builtin_prefetch(band_docs + lo[j] * 4);
    uint32_t *heads = x->band_heads;
    overlay_heads(x, keys, all, heads);
    cd_status st = CD_OK;
    for (unsigned j = 0; j < all && st == CD_OK; j++) {
        size_t found;
        if (overlay_bucket(x, keys[j], heads[j], &found) != 0) {
            st = CD_ERR_NOMEM;
            break;
        }
        if (max_bucket && (hi[j] - lo[j]) + found > max_bucket) {
            uint32_t first;
            if ((st = first_live(x, lo[j], hi[j], found, &first)) == CD_OK &&
                first != CD__INDEX_NONE && add_candidate(x, first, &n) != 0)
                st = CD_ERR_NOMEM;
            continue;
        }
        for (size_t c = 0; c < found && st == CD_OK; c++)
            if (add_candidate(x, x->bucket[c], &n) != 0)
                st = CD_ERR_NOMEM;
        if (hi[j] > lo[j] && st == CD_OK) {
            const unsigned char *p = cd__ckpt_bytes(&x->ck, CD__SEC_BAND_DOCS, lo[j] * 4,
                                                    (hi[j] - lo[j]) * 4, x->errmsg);
            if (!p)
                st = CD_ERR_FORMAT;
            for (uint64_t e = 0; p && e < hi[j] - lo[j] && st == CD_OK; e++)
                if (add_candidate(x, cd__get32(p + e * 4), &n) != 0)
                    st = CD_ERR_NOMEM;
        }
    }
    if (n)
        clear_candidates(x, n);
    if (st != CD_OK)
        return st;
    /* Prefetch what verification reads of each candidate: its record and
     * the start of its signature. */
    if (x->ck.map) {
        const unsigned char *recs = x->ck.map + x->ck.sec[CD__SEC_DOCS].offset;
        const unsigned char *sigs = x->ck.map + x->ck.sec[CD__SEC_SIGNATURES].offset;
        for (size_t c = 0; c < n; c++)
            if (x->cands[c] < x->ck.documents) {
                __builtin_prefetch(recs + (size_t)x->cands[c] * CD__DOC_RECORD);
                __builtin_prefetch(sigs + (size_t)x->cands[c] * perm * 4);
            }
    }
    double threshold = x->params.threshold;
    for (size_t c = 0; c < n; c++) {
        uint32_t doc = x->cands[c];
        uint32_t story;
        cd__story rec;
        if (doc >= cd__index_doc_count(x)) {
            cd__set_error(x->errmsg, "corrupt checkpoint: band table names document %u", doc);
            return CD_ERR_FORMAT;
        }
        if (doc_story(x, doc, &story) || cd__index_story(x, story, &rec))
            return CD_ERR_FORMAT;
        if (!live(x, &rec))
            continue;
        const uint32_t *other = doc_sig(x, doc);
        uint32_t other_size;
        if (!other || doc_size(x, doc, &other_size) != 0)
            return CD_ERR_FORMAT;
        uint32_t agree = 0;
        for (unsigned i = 0; i < perm; i++)
            agree += sig[i] == other[i];
        double score = pair_score(x, agree, size, other_size);
        if (score + 1e-9 < threshold)
            continue;
        if (!m->found || score > m->score || (score == m->score && story < m->story))
            *m = (match){1, story, doc, score};
    }
    return CD_OK;
}

/* The live document with this id, or NONE. */
static cd_status find_live_id(cd_index *x, const char *id, size_t len, uint64_t hash, uint32_t *out)
{
    *out = CD__INDEX_NONE;
    const cd__idset *set = &x->ov.id_set;
    if (set->slot_count) {
        for (size_t s = cd__idset_first(set, hash); set->slots[s] != CD__IDSET_EMPTY;
             s = cd__idset_next(set, s)) {
            uint32_t i = set->slots[s];
            cd__story rec;
            if (x->ov.id_hash[i] != hash || x->ov.id_len[i] != len ||
                memcmp(x->ov.ids + x->ov.id_off[i], id, len))
                continue;
            if (cd__index_story(x, x->ov.story[i], &rec))
                return CD_ERR_FORMAT;
            if (live(x, &rec)) {
                *out = (uint32_t)(x->ck.documents + i);
                return CD_OK;
            }
        }
    }
    if (x->ck.documents == 0)
        return CD_OK;
    uint64_t lo, hi;
    if (cd__ckpt_find(&x->ck, CD__SEC_ID_HASHES, hash, &lo, &hi, x->errmsg) != CD_OK)
        return CD_ERR_FORMAT;
    for (uint64_t e = lo; e < hi; e++) {
        const unsigned char *p = cd__ckpt_bytes(&x->ck, CD__SEC_ID_DOCS, e * 4, 4, x->errmsg);
        if (!p)
            return CD_ERR_FORMAT;
        uint32_t doc = cd__get32(p), other_len, story;
        cd__story rec;
        const char *other;
        if (doc >= x->ck.documents || !(other = doc_id(x, doc, &other_len)) ||
            doc_story(x, doc, &story) || cd__index_story(x, story, &rec)) {
            if (doc >= x->ck.documents)
                cd__set_error(x->errmsg, "corrupt checkpoint: id table names document %u", doc);
            return CD_ERR_FORMAT;
        }
        if (other_len == len && !memcmp(other, id, len) && live(x, &rec)) {
            *out = doc;
            return CD_OK;
        }
    }
    return CD_OK;
}

/* -------------------------------------------------------------- signing */

typedef struct sign_job {
    cd_signer *signer;
    const cd_doc *docs;
    uint32_t *sigs, *leads, *sizes;
    uint8_t *empty;
    unsigned perm, lead_shingles;
    size_t n, first, step;
    cd_status status;
} sign_job;

static void *sign_range(void *arg)
{
    sign_job *job = arg;
    for (size_t i = job->first; i < job->n; i += job->step) {
        cd__signed out = {0};
        out.sig = job->sigs + i * job->perm;
        out.lead = job->leads ? job->leads + i * job->perm : NULL;
        out.lead_shingles = job->lead_shingles;
        cd_status st = cd__signer_run(job->signer, &job->docs[i], 1, &out);
        if (st != CD_OK) {
            job->status = st;
            return NULL;
        }
        job->sizes[i] = out.shingles > UINT32_MAX ? UINT32_MAX : (uint32_t)out.shingles;
        job->empty[i] = out.shingles == 0;
    }
    return NULL;
}

/* Signs docs[0..n) into x->sigs, x->leads, x->sizes and x->empty on up to
 * thread_count threads, exactly as the batch engine signs them. */
static cd_status sign_docs(cd_index *x, const cd_doc *docs, size_t n)
{
    unsigned perm = x->params.perm;
    if (cd__grow((void **)&x->sigs, &x->sigs_cap, n * perm, sizeof *x->sigs) != 0 ||
        (x->lead_bands &&
         cd__grow((void **)&x->leads, &x->leads_cap, n * perm, sizeof *x->leads) != 0) ||
        cd__grow((void **)&x->sizes, &x->sizes_cap, n, sizeof *x->sizes) != 0 ||
        cd__grow((void **)&x->empty, &x->empty_cap, n, 1) != 0)
        return CD_ERR_NOMEM;
    if (!x->signers) {
        x->signers = cd__calloc(x->thread_count, sizeof *x->signers);
        if (!x->signers)
            return CD_ERR_NOMEM;
    }
    unsigned threads = x->thread_count;
    if (n < 2 * (size_t)threads)
        threads = 1;
    for (unsigned t = 0; t < threads; t++)
        if (!x->signers[t]) {
            cd_status st = cd_signer_create(&x->params, &x->signers[t]);
            if (st == CD_OK && x->model)
                st = cd_signer_set_boilerplate(x->signers[t], x->model);
            if (st != CD_OK)
                return st;
        }
    sign_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    int running[MAX_THREADS] = {0};
    for (unsigned t = 0; t < threads; t++)
        jobs[t] = (sign_job){x->signers[t],
                             docs,
                             x->sigs,
                             x->lead_bands ? x->leads : NULL,
                             x->sizes,
                             x->empty,
                             perm,
                             x->params.lead_shingles,
                             n,
                             t,
                             threads,
                             CD_OK};
    for (unsigned t = 1; t < threads; t++)
        running[t] = pthread_create(&tids[t], NULL, sign_range, &jobs[t]) == 0;
    sign_range(&jobs[0]);
    cd_status status = CD_OK;
    for (unsigned t = 1; t < threads; t++) {
        if (running[t])
            pthread_join(tids[t], NULL);
        else
            sign_range(&jobs[t]);
    }
    for (unsigned t = 0; t < threads; t++)
        if (jobs[t].status != CD_OK)
            status = jobs[t].status;
    return status;
}

/* The band keys of batch document i: its signature's, then its lead's. */
static void batch_keys(const cd_index *x, size_t i, uint64_t *keys)
{
    unsigned perm = x->params.perm, bands = x->params.bands;
    cd__lsh_band_keys(x->sigs + i * perm, bands, x->params.rows, x->params.seed, keys);
    if (x->lead_bands)
        cd__lsh_band_keys(x->leads + i * perm, x->lead_bands, x->lead_rows,
                          x->params.seed ^ CD__LEAD_SEED_XOR, keys + bands);
}

static void doc_time(const cd_doc *doc, int64_t ingest_time, int64_t *time, uint32_t *flags)
{
    int64_t t;
    if (doc->date.ptr && cd_parse_date(doc->date, &t)) {
        *time = t;
        *flags |= CD__DOC_DATED;
    } else {
        *time = ingest_time;
    }
}

/* ------------------------------------------------------------ lifecycle */

void cd_index_options_init(cd_index_options *o)
{
    *o = (cd_index_options){0, 0, 65536, 0, NULL, 1, NULL};
}

static unsigned online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (n > MAX_THREADS ? MAX_THREADS : (unsigned)n) : 1;
}

static cd_index *handle_new(const char *path, const cd_index_options *o)
{
    cd_index *x = cd__calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->lock_fd = x->log_fd = x->ck.fd = -1;
    x->writable = o->writable;
    x->thread_count =
        o->threads ? (o->threads > MAX_THREADS ? MAX_THREADS : o->threads) : online_cores();
    x->checkpoint_docs = o->checkpoint_docs;
    x->sync = o->sync;
    x->evict_before = INT64_MIN;
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    x->dir = cd__strndup(path, len);
    if (!x->dir || !(x->ckpt_path = join_path(x->dir, "checkpoint")) ||
        !(x->log_path = join_path(x->dir, "log")) || !(x->lock_path = join_path(x->dir, "lock")) ||
        !(x->ckpt_tmp = join_path(x->dir, "checkpoint.tmp")) ||
        !(x->log_tmp = join_path(x->dir, "log.tmp"))) {
        cd_index_free(x);
        return NULL;
    }
    return x;
}

static void release_state(cd_index *x)
{
    /* Signers borrow the model: both go, and come back with the state. */
    if (x->signers)
        for (unsigned t = 0; t < x->thread_count; t++) {
            cd_signer_free(x->signers[t]);
            x->signers[t] = NULL;
        }
    cd_boilerplate_free(x->model);
    x->model = NULL;
    cd__free(x->model_bytes);
    x->model_bytes = NULL;
    x->model_len = 0;
    x->model_hash = 0;
    cd__ckpt_close(&x->ck);
    overlay_free(&x->ov);
    if (x->log_fd >= 0)
        close(x->log_fd);
    x->log_fd = -1;
    x->evict_before = INT64_MIN;
    x->undo_count = 0;
    x->log_docs = 0;
    x->warning[0] = '\0';
}

void cd_index_free(cd_index *x)
{
    if (!x)
        return;
    release_state(x);
    if (x->lock_fd >= 0)
        close(x->lock_fd); /* releases the flock */
    cd__free(x->signers);
    cd__free(x->sigs);
    cd__free(x->leads);
    cd__free(x->sizes);
    cd__free(x->empty);
    cd__free(x->cands);
    cd__free(x->cset);
    cd__free(x->bucket);
    cd__free(x->band_keys);
    cd__free(x->band_lo);
    cd__free(x->band_hi);
    cd__free(x->band_heads);
    cd__free(x->undo);
    cd__free(x->logbuf);
    cd__free(x->dir);
    cd__free(x->ckpt_path);
    cd__free(x->log_path);
    cd__free(x->lock_path);
    cd__free(x->ckpt_tmp);
    cd__free(x->log_tmp);
    cd__free(x);
}

static cd_status take_lock(cd_index *x)
{
    x->lock_fd = open(x->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (x->lock_fd < 0) {
        cd__set_error(x->errmsg, "%s: cannot open the lock file: %s", x->lock_path,
                      strerror(errno));
        return CD_ERR_IO;
    }
    if (flock(x->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            cd__set_error(x->errmsg,
                          "%s: another process is writing this index (it holds %s); one writer "
                          "at a time",
                          x->dir, x->lock_path);
        else
            cd__set_error(x->errmsg, "%s: cannot lock: %s", x->lock_path, strerror(errno));
        return CD_ERR_IO;
    }
    unlink(x->ckpt_tmp); /* left by a writer that crashed */
    unlink(x->log_tmp);
    return CD_OK;
}

/* Loads the boilerplate model stored in the checkpoint (if any). */
static cd_status load_model(cd_index *x)
{
    uint64_t len = x->ck.sec[CD__SEC_BOILERPLATE].length;
    x->model_hash = x->ck.model;
    if (len == 0)
        return CD_OK;
    const unsigned char *bytes = cd__ckpt_bytes(&x->ck, CD__SEC_BOILERPLATE, 0, len, x->errmsg);
    if (!bytes)
        return CD_ERR_FORMAT;
    if (XXH3_64bits(bytes, (size_t)len) != x->ck.model) {
        cd__set_error(x->errmsg,
                      "%s: corrupt checkpoint: the boilerplate model does not match "
                      "its hash in the parameter record",
                      x->ckpt_path);
        return CD_ERR_FORMAT;
    }
    char msg[CD_ERRMSG_SIZE];
    x->model_bytes = cd__malloc((size_t)len);
    if (!x->model_bytes) {
        cd__set_error(x->errmsg, "%s: out of memory", x->dir);
        return CD_ERR_NOMEM;
    }
    memcpy(x->model_bytes, bytes, (size_t)len);
    x->model_len = (size_t)len;
    cd_status st = cd_boilerplate_load(x->model_bytes, x->model_len, &x->model, msg, sizeof msg);
    if (st != CD_OK)
        cd__set_error(x->errmsg, "%s: boilerplate model: %s", x->ckpt_path, msg);
    return st;
}

/* The index scores pairs from what it stores: signatures and sizes. */
static int unsupported(const cd_params *p, char *msg)
{
    if (p->verify != CD_VERIFY_ESTIMATE) {
        cd__set_error(msg, "the index estimates scores from the signatures (verify estimate): "
                           "it does not keep the shingle sets that verify exact needs");
        return -1;
    }
    return 0;
}

/* The lead bands, chosen as the batch engine chooses them. */
static int choose_lead_bands(cd_index *x)
{
    x->lead_bands = x->lead_rows = 0;
    if (x->params.lead_shingles &&
        cd_lsh_choose(x->params.lead_threshold, x->params.perm, x->params.fp_weight,
                      x->params.fn_weight, &x->lead_bands, &x->lead_rows) != CD_OK)
        return -1;
    x->all_bands = x->params.bands + x->lead_bands;
    if (x->all_bands > 2048)
        return -1;
    return 0;
}

/* Scratch for the band keys of one document (sized once per handle). */
static int band_scratch(cd_index *x)
{
    if (x->band_keys)
        return 0;
    x->band_keys = cd__malloc(x->all_bands * sizeof *x->band_keys);
    x->band_lo = cd__malloc(x->all_bands * sizeof *x->band_lo);
    x->band_hi = cd__malloc(x->all_bands * sizeof *x->band_hi);
    x->band_heads = cd__malloc(x->all_bands * sizeof *x->band_heads);
    return x->band_keys && x->band_lo && x->band_hi && x->band_heads ? 0 : -1;
}

/* Opens the checkpoint, checks it against this build and the expected
 * parameters, and replays the log. */
static cd_status load_state(cd_index *x, const cd_index_options *o)
{
    cd_status st = cd__ckpt_open(&x->ck, x->ckpt_path, x->errmsg);
    if (st == CD_ERR_IO && errno == ENOENT) {
        struct stat sb;
        if (stat(x->dir, &sb) != 0)
            cd__set_error(x->errmsg, "%s: no such index: %s", x->dir, strerror(errno));
        else
            cd__set_error(x->errmsg, "%s: not a copydesk index (no %s)", x->dir, x->ckpt_path);
    }
    if (st != CD_OK)
        return st;
    x->params = x->ck.params;
    x->params.threads = x->thread_count;
    x->created = x->ck.created;
    if (choose_lead_bands(x) != 0 || x->lead_bands != x->ck.lead_bands ||
        x->lead_rows != x->ck.lead_rows ||
        (x->ck.band_entries && x->ck.band_entries % x->all_bands != 0)) {
        cd__set_error(x->errmsg, "%s: corrupt checkpoint: lead bands disagree with the parameters",
                      x->ckpt_path);
        return CD_ERR_FORMAT;
    }
    if (band_scratch(x) != 0) {
        cd__set_error(x->errmsg, "%s: out of memory", x->dir);
        return CD_ERR_NOMEM;
    }
    if (x->ck.normalise_version != CD_NORMALISE_VERSION) {
        cd__set_error(x->errmsg,
                      "%s: built with normalisation version %u; this copydesk normalises with "
                      "version %d: rebuild the index",
                      x->dir, x->ck.normalise_version, CD_NORMALISE_VERSION);
        return CD_ERR_FORMAT;
    }
    if ((st = load_model(x)) != CD_OK)
        return st;
    st = cd__index_probe(&x->params, x->model, &x->probe);
    if (st != CD_OK) {
        cd__set_error(x->errmsg, "%s: out of memory", x->dir);
        return st;
    }
    if (x->probe != x->ck.probe) {
        cd__set_error(x->errmsg,
                      "%s: this copydesk computes other signatures than the one that built the "
                      "index (normalisation, hashing or MinHash changed): rebuild the index",
                      x->dir);
        return CD_ERR_FORMAT;
    }
    if (o->expect) {
        cd_params asked = *o->expect;
        char msg[CD_ERRMSG_SIZE];
        if (cd_params_resolve(&asked, msg, sizeof msg) != CD_OK) {
            cd__set_error(x->errmsg, "%s: %s", x->dir, msg);
            return CD_ERR_ARG;
        }
        if (cd__index_params_compare(&x->params, &asked, msg) != 0) {
            cd__set_error(x->errmsg, "%s: parameter mismatch: %s", x->dir, msg);
            return CD_ERR_ARG;
        }
    }
    if (o->verify && (st = cd__ckpt_verify(&x->ck, x->errmsg)) != CD_OK)
        return st;
    x->evict_before = x->ck.evict_before;
    return cd__log_open(x);
}

static cd_status finish_open(cd_index *x, const cd_index_options *o, cd_index **out, char *err,
                             size_t err_size)
{
    cd_status st = CD_OK;
    struct stat sb;
    if (x->writable && x->lock_fd < 0) {
        if (stat(x->ckpt_path, &sb) != 0 && errno == ENOENT) {
            if (stat(x->dir, &sb) != 0)
                cd__set_error(x->errmsg, "%s: no such index: %s", x->dir, strerror(errno));
            else
                cd__set_error(x->errmsg, "%s: not a copydesk index (no %s)", x->dir, x->ckpt_path);
            st = CD_ERR_IO;
        } else {
            st = take_lock(x);
        }
    }
    for (int attempt = 0; st == CD_OK; attempt++) {
        st = load_state(x, o);
        /* A reader raced a checkpoint: the log is newer than the checkpoint
         * it opened. Try again. */
        if (st != CD_ERR_STATE || x->writable || attempt == 20)
            break;
        release_state(x);
        usleep(1000u << (attempt < 6 ? attempt : 6));
        st = CD_OK;
    }
    if (st != CD_OK) {
        if (err_size)
            snprintf(err, err_size, "%s", x->errmsg);
        cd_index_free(x);
        return st == CD_ERR_STATE ? CD_ERR_FORMAT : st;
    }
    *out = x;
    return CD_OK;
}

cd_status cd_index_open(const char *path, const cd_index_options *options, cd_index **out,
                        char *err, size_t err_size)
{
    if (out)
        *out = NULL;
    cd_index_options defaults;
    cd_index_options_init(&defaults);
    const cd_index_options *o = options ? options : &defaults;
    if (!path || !out) {
        if (err_size)
            snprintf(err, err_size, "cd_index_open: NULL path or handle");
        return CD_ERR_ARG;
    }
    cd_index *x = handle_new(path, o);
    if (!x) {
        if (err_size)
            snprintf(err, err_size, "%s: out of memory", path);
        return CD_ERR_NOMEM;
    }
    return finish_open(x, o, out, err, err_size);
}

cd_status cd_index_create(const char *path, const cd_params *params,
                          const cd_index_options *options, cd_index **out, char *err,
                          size_t err_size)
{
    if (out)
        *out = NULL;
    cd_index_options o;
    if (options)
        o = *options;
    else
        cd_index_options_init(&o);
    o.writable = 1;
    o.expect = NULL;
    if (!path || !params || !out) {
        if (err_size)
            snprintf(err, err_size, "cd_index_create: NULL argument");
        return CD_ERR_ARG;
    }
    cd_index *x = handle_new(path, &o);
    if (!x) {
        if (err_size)
            snprintf(err, err_size, "%s: out of memory", path);
        return CD_ERR_NOMEM;
    }
    cd_status st = CD_OK;
    x->params = *params;
    if (cd_params_resolve(&x->params, x->errmsg, sizeof x->errmsg) != CD_OK) {
        char msg[CD_ERRMSG_SIZE];
        snprintf(msg, sizeof msg, "%s", x->errmsg);
        cd__set_error(x->errmsg, "%s: %s", x->dir, msg);
        st = CD_ERR_ARG;
        goto fail;
    }
    char msg[CD_ERRMSG_SIZE];
    if (unsupported(&x->params, msg) != 0) {
        cd__set_error(x->errmsg, "%s: %s", x->dir, msg);
        st = CD_ERR_ARG;
        goto fail;
    }
    if (choose_lead_bands(x) != 0) {
        cd__set_error(x->errmsg, "%s: cannot choose LSH bands for lead_threshold %g", x->dir,
                      x->params.lead_threshold);
        st = CD_ERR_ARG;
        goto fail;
    }
    if (o.boilerplate) {
        x->model_len = cd_boilerplate_save_size(o.boilerplate);
        x->model_bytes = cd__malloc(x->model_len ? x->model_len : 1);
        if (!x->model_bytes) {
            cd__set_error(x->errmsg, "%s: out of memory", x->dir);
            st = CD_ERR_NOMEM;
            goto fail;
        }
        if ((st = cd_boilerplate_save(o.boilerplate, x->model_bytes, x->model_len)) != CD_OK) {
            cd__set_error(x->errmsg, "%s: cannot save the boilerplate model", x->dir);
            goto fail;
        }
        x->model_hash = XXH3_64bits(x->model_bytes, x->model_len);
    }
    if (mkdir(x->dir, 0777) != 0 && errno != EEXIST) {
        cd__set_error(x->errmsg, "%s: cannot create the directory: %s", x->dir, strerror(errno));
        st = CD_ERR_IO;
        goto fail;
    }
    if ((st = take_lock(x)) != CD_OK)
        goto fail;
    if (access(x->ckpt_path, F_OK) == 0) {
        cd__set_error(x->errmsg, "%s: already holds an index", x->dir);
        st = CD_ERR_ARG;
        goto fail;
    }
    x->params.threads = x->thread_count;
    if ((st = cd__index_probe(&x->params, o.boilerplate, &x->probe)) != CD_OK) {
        cd__set_error(x->errmsg, "%s: out of memory", x->dir);
        goto fail;
    }
    x->created = (int64_t)time(NULL);
    if ((st = cd__index_write_checkpoint(x, 0, 1)) != CD_OK)
        goto fail;
    cd__free(x->model_bytes); /* opening loads the stored copy */
    x->model_bytes = NULL;
    x->model_len = 0;
    /* Opening writes the log of generation 1. */
    return finish_open(x, &o, out, err, err_size);
fail:
    if (err_size)
        snprintf(err, err_size, "%s", x->errmsg);
    cd_index_free(x);
    return st;
}

const cd_params *cd_index_params(const cd_index *x)
{
    return &x->params;
}

const cd_boilerplate *cd_index_boilerplate(const cd_index *x)
{
    return x ? x->model : NULL;
}

const char *cd_index_errmsg(const cd_index *x)
{
    return x ? x->errmsg : "no index";
}

const char *cd_index_warning(const cd_index *x)
{
    return x ? x->warning : "";
}

static cd_status check_writable(cd_index *x)
{
    if (x->broken) {
        cd__set_error(x->errmsg, "%s: the index handle is unusable after a failed write; reopen it",
                      x->dir);
        return CD_ERR_STATE;
    }
    if (!x->writable) {
        cd__set_error(x->errmsg, "%s: opened read-only", x->dir);
        return CD_ERR_STATE;
    }
    return CD_OK;
}

/* ------------------------------------------------------------ checkpoint */

static cd_status checkpoint(cd_index *x, int compact)
{
    uint64_t generation = x->ck.generation + 1;
    cd_status st = cd__index_write_checkpoint(x, compact, generation);
    if (st != CD_OK)
        return st;
    /* The new checkpoint is in place; the old log is now stale. From here a
     * failure leaves the disk consistent but this handle out of step. */
    st = cd__log_reset(x, generation);
    if (st == CD_OK) {
        cd_index_options o = {1, x->thread_count, x->checkpoint_docs, 0, NULL, x->sync, NULL};
        int lock = x->lock_fd;
        release_state(x);
        st = load_state(x, &o);
        x->lock_fd = lock;
    }
    if (st != CD_OK)
        x->broken = 1;
    return st;
}

cd_status cd_index_checkpoint(cd_index *x)
{
    cd_status st = check_writable(x);
    return st != CD_OK ? st : checkpoint(x, 0);
}

cd_status cd_index_compact(cd_index *x)
{
    cd_status st = check_writable(x);
    return st != CD_OK ? st : checkpoint(x, 1);
}

cd_status cd_index_verify(cd_index *x)
{
    return cd__ckpt_verify(&x->ck, x->errmsg);
}

/* ---------------------------------------------------------- add / query */

static void fill_result(cd_index_result *r, const match *m, const cd__story *rec, size_t doc)
{
    r->doc = doc;
    r->copy = m->found;
    r->story = m->story;
    r->story_doc = rec->rep;
    r->similarity = m->found ? m->score : 1.0;
    r->first_seen = rec->first_seen;
    r->copies = rec->count;
}

cd_status cd_index_add(cd_index *x, const cd_doc *docs, size_t n, int64_t ingest_time,
                       cd_index_result *results, size_t *added)
{
    if (added)
        *added = 0;
    if (!x)
        return CD_ERR_ARG;
    cd_status st = check_writable(x);
    if (st != CD_OK)
        return st;
    if ((!docs || !results || !added) && n > 0) {
        cd__set_error(x->errmsg, "cd_index_add: NULL argument");
        return CD_ERR_ARG;
    }
    /* Documents up to the first one without a usable id. */
    size_t m = 0, id_bytes = 0;
    cd_status stop = CD_OK;
    for (; m < n; m++) {
        const cd_str *id = &docs[m].id;
        if (!id->ptr || id->len == 0 || id->len > UINT32_MAX / 2 ||
            memchr(id->ptr, '\0', id->len)) {
            cd__set_error(x->errmsg, "document %zu of the batch has no usable id", m);
            stop = CD_ERR_INPUT;
            break;
        }
        id_bytes += id->len;
    }
    if (m == 0)
        return stop;
    unsigned perm = x->params.perm;
    size_t log_bytes = 32;
    for (size_t i = 0; i < m; i++)
        log_bytes += 16 + 32 + (size_t)perm * 4 + (size_t)x->lead_bands * 8 +
                     ((docs[i].id.len + 7) & ~(size_t)7);
    if (cd__index_reserve(x, m, id_bytes) != 0 ||
        cd__grow((void **)&x->logbuf, &x->logbuf_cap, log_bytes, 1) != 0) {
        cd__set_error(x->errmsg,
                      "%s: out of memory adding %zu documents (or too many since the "
                      "last checkpoint)",
                      x->dir, m);
        return CD_ERR_NOMEM;
    }
    if ((st = sign_docs(x, docs, m)) != CD_OK) {
        cd__set_error(x->errmsg, "%s while signing documents", cd_strerror(st));
        return st;
    }

    size_t count0 = x->ov.count, stories0 = x->ov.story_count, ids0 = x->ov.ids_used;
    size_t undo0 = x->undo_count;
    cd__log_begin(x);
    size_t i = 0;
    for (; i < m; i++) {
        const cd_doc *doc = &docs[i];
        uint64_t hash = id_hash(doc->id.ptr, doc->id.len);
        uint32_t existing;
        if ((st = find_live_id(x, doc->id.ptr, doc->id.len, hash, &existing)) != CD_OK)
            goto undo;
        if (existing != CD__INDEX_NONE) {
            cd__set_error(x->errmsg, "duplicate id \"%.*s\" (already in the index)",
                          (int)(doc->id.len > 200 ? 200 : doc->id.len), doc->id.ptr);
            stop = CD_ERR_DUPLICATE_ID;
            break;
        }
        uint64_t *keys = x->band_keys;
        batch_keys(x, i, keys);
        cd__doc_rec d = {doc->id.ptr,
                         (uint32_t)doc->id.len,
                         hash,
                         0,
                         0,
                         CD__INDEX_NONE,
                         1.0f,
                         x->sizes[i],
                         x->sigs + i * perm,
                         x->lead_bands ? keys + x->params.bands : NULL};
        doc_time(doc, ingest_time, &d.time, &d.flags);
        match mt = {0, CD__INDEX_NONE, CD__INDEX_NONE, 0.0};
        if (x->empty[i])
            d.flags |= CD__DOC_EMPTY;
        else if ((st = best_match(x, d.sig, d.size, keys, &mt)) != CD_OK)
            goto undo;
        if (mt.found) {
            d.story = mt.story;
            d.score = (float)mt.score;
        }
        if (cd__index_apply(x, &d, 1) != 0) {
            st = CD_ERR_FORMAT;
            goto undo;
        }
        cd__doc_rec logged = d;
        logged.story = mt.found ? mt.story : CD__INDEX_NONE;
        cd__log_add(x, &logged);
        uint32_t story = x->ov.story[x->ov.count - 1];
        cd__story rec;
        cd__index_story(x, story, &rec);
        mt.story = story;
        fill_result(&results[i], &mt, &rec, cd__index_doc_count(x) - 1);
        results[i].empty = x->empty[i];
    }
    if (i == 0)
        return stop;
    cd__log_commit(x);
    if ((st = cd__log_write(x)) != CD_OK)
        goto undo;
    x->log_docs += i;
    x->undo_count = undo0;
    *added = i;
    if (x->checkpoint_docs) {
        size_t due = cd__index_doc_count(x) / 4;
        if (due < x->checkpoint_docs)
            due = x->checkpoint_docs;
        if (x->log_docs >= due && (st = checkpoint(x, 0)) != CD_OK)
            return st;
    }
    return stop;
undo:
    undo_batch(x, count0, stories0, ids0, undo0);
    if (st == CD_ERR_NOMEM)
        cd__set_error(x->errmsg, "%s: out of memory matching documents", x->dir);
    return st;
}

cd_status cd_index_query(cd_index *x, const cd_doc *docs, size_t n, int64_t ingest_time,
                         cd_index_result *results)
{
    if (!x)
        return CD_ERR_ARG;
    if (x->broken)
        return check_writable(x);
    if (n == 0)
        return CD_OK;
    if (!docs || !results) {
        cd__set_error(x->errmsg, "cd_index_query: NULL argument");
        return CD_ERR_ARG;
    }
    cd_status st = sign_docs(x, docs, n);
    if (st != CD_OK) {
        cd__set_error(x->errmsg, "%s while signing documents", cd_strerror(st));
        return st;
    }
    unsigned perm = x->params.perm;
    for (size_t i = 0; i < n; i++) {
        int64_t time;
        uint32_t flags = 0;
        doc_time(&docs[i], ingest_time, &time, &flags);
        match mt = {0, CD__INDEX_NONE, CD__INDEX_NONE, 0.0};
        uint64_t *keys = x->band_keys;
        if (!x->empty[i])
            batch_keys(x, i, keys);
        if (!x->empty[i] &&
            (st = best_match(x, x->sigs + i * perm, x->sizes[i], keys, &mt)) != CD_OK) {
            if (st == CD_ERR_NOMEM)
                cd__set_error(x->errmsg, "%s: out of memory matching documents", x->dir);
            return st;
        }
        cd__story rec = {CD__INDEX_NONE, 0, time, time};
        if (mt.found && cd__index_story(x, mt.story, &rec) != 0)
            return CD_ERR_FORMAT;
        rec.count++;
        if (time < rec.first_seen)
            rec.first_seen = time;
        fill_result(&results[i], &mt, &rec, CD_INDEX_NONE);
        if (!mt.found)
            results[i].story = CD_INDEX_NONE;
        results[i].empty = x->empty[i];
    }
    return CD_OK;
}

const char *cd_index_doc_id(cd_index *x, size_t doc)
{
    uint32_t len;
    if (!x || doc >= cd__index_doc_count(x))
        return NULL;
    return doc_id(x, (uint32_t)doc, &len);
}

size_t cd_index_doc_count(const cd_index *x)
{
    return x ? cd__index_doc_count(x) : 0;
}

cd_status cd_index_doc(cd_index *x, size_t doc, cd_index_doc_info *out)
{
    memset(out, 0, sizeof *out);
    if (!x || doc >= cd__index_doc_count(x))
        return CD_ERR_ARG;
    cd__doc_rec r;
    cd__story rec;
    if (cd__index_doc(x, (uint32_t)doc, &r) != 0 || cd__index_story(x, r.story, &rec) != 0)
        return CD_ERR_FORMAT;
    out->id = r.id;
    out->story = r.story;
    out->story_doc = rec.rep;
    out->similarity = r.score;
    out->time = r.time;
    out->dated = (r.flags & CD__DOC_DATED) != 0;
    out->empty = (r.flags & CD__DOC_EMPTY) != 0;
    out->evicted = !live(x, &rec);
    return CD_OK;
}

/* ------------------------------------------------------- evict / stats */

cd_status cd_index_evict(cd_index *x, int64_t before, size_t *stories, size_t *docs)
{
    if (stories)
        *stories = 0;
    if (docs)
        *docs = 0;
    cd_status st = check_writable(x);
    if (st != CD_OK)
        return st;
    if (before <= x->evict_before)
        return CD_OK;
    size_t s_count = 0, d_count = 0, total = cd__index_story_count(x);
    for (size_t s = 0; s < total; s++) {
        cd__story rec;
        if (cd__index_story(x, (uint32_t)s, &rec) != 0)
            return CD_ERR_FORMAT;
        if (rec.last_seen >= x->evict_before && rec.last_seen < before) {
            s_count++;
            d_count += rec.count;
        }
    }
    cd__log_begin(x);
    if (cd__log_evict(x, before) != 0 || cd__log_commit(x) != 0) {
        cd__set_error(x->errmsg, "%s: out of memory", x->dir);
        return CD_ERR_NOMEM;
    }
    if ((st = cd__log_write(x)) != CD_OK)
        return st;
    x->evict_before = before;
    if (stories)
        *stories = s_count;
    if (docs)
        *docs = d_count;
    return CD_OK;
}

cd_status cd_index_get_stats(cd_index *x, cd_index_stats *out)
{
    memset(out, 0, sizeof *out);
    size_t total = cd__index_story_count(x);
    out->stories = total;
    out->documents = cd__index_doc_count(x);
    out->evict_before = x->evict_before;
    out->generation = x->ck.generation;
    out->log_documents = x->log_docs;
    int first = 1;
    for (size_t s = 0; s < total; s++) {
        cd__story rec;
        if (cd__index_story(x, (uint32_t)s, &rec) != 0)
            return CD_ERR_FORMAT;
        if (live(x, &rec)) {
            out->live_stories++;
            out->live_documents += rec.count;
        } else {
            out->evicted_stories++;
            out->evicted_documents += rec.count;
        }
        if (first || rec.first_seen < out->oldest)
            out->oldest = rec.first_seen;
        if (first || rec.last_seen > out->newest)
            out->newest = rec.last_seen;
        first = 0;
    }
    for (size_t d = 0; d < out->documents; d++) {
        uint32_t flags;
        if (d < x->ck.documents) {
            const unsigned char *r = ck_doc(x, (uint32_t)d);
            if (!r)
                return CD_ERR_FORMAT;
            flags = cd__get32(r + 24);
        } else {
            flags = x->ov.flags[d - x->ck.documents];
        }
        out->empty_documents += (flags & CD__DOC_EMPTY) != 0;
        out->undated_documents += (flags & CD__DOC_DATED) == 0;
    }
    struct stat sb;
    if (stat(x->ckpt_path, &sb) == 0)
        out->checkpoint_bytes = (uint64_t)sb.st_size;
    if (stat(x->log_path, &sb) == 0)
        out->log_bytes = (uint64_t)sb.st_size;
    return CD_OK;
}
