/* boilerplate.h: the boilerplate stage, between extract and normalise.
 * Page chrome (sign-up prompts, menus, "Related Stories", copyright lines)
 * is learned from the corpus: a line is chrome of a source when it occurs in
 * documents of many different stories of that source, and chrome of every
 * source when it occurs in many sources and many different stories. A
 * learned model (cd_boilerplate, public) removes those lines before
 * normalisation. See docs/boilerplate.md for the model and its file format. */
#ifndef CD_BOILERPLATE_H
#define CD_BOILERPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"

/* One line of a text (its '\n' excluded) and its key: 16 bytes, since the
 * batch engine keeps every line of every document until it signs them. */
typedef struct cd__bp_line {
    uint64_t key;   /* 0: no letters or digits (never chrome); else bit 0 set,
                       and bit 1 set for a long line (CD__BP_LONG_LINE) */
    uint32_t start; /* bytes of the line in its text */
    uint32_t len;
} cd__bp_line;

#define CD__BP_KEY_LONG 2u /* bit of a key: the line is long */

/* Scratch of the line splitter, reused between documents. */
typedef struct cd__bp_scratch {
    cd__bp_line *lines;
    size_t count, lines_cap;
    char *folded; /* the bytes a key is hashed from */
    size_t folded_cap;
} cd__bp_scratch;

void cd__bp_scratch_free(cd__bp_scratch *s); /* frees the buffers, not s */

/* Lines of at least this many key bytes are long: they describe their
 * document (the story contexts that tell copies from different stories). */
#define CD__BP_LONG_LINE 40

/* Lines of at least this many bytes (trimmed) are keyed byte-exact. */
#define CD__BP_EXACT_LINE 256

/* Splits text[0..len) into units: a line (at '\n'), or a paragraph of
 * lines wrapped at a fixed width (hard_wrapped in boilerplate.c: greedy
 * wrapping, or most lines going on with a lower-case letter): so a
 * hard-wrapped story is never taken apart line by line, however its copies
 * are wrapped. Units cover the text in order; each is followed by a '\n'
 * except at the end. With keys, a unit's key is XXH3-64 (low bit set, bit 1
 * for CD__BP_LONG_LINE key bytes or more) of its letters and digits: ASCII
 * letters lower-cased; ASCII punctuation and white space, NBSP, guillemets
 * and the general and CJK punctuation blocks (U+2000-U+206F, U+3000-U+303F)
 * left out; every other byte kept. So "Sign up!" and "sign up" share a key,
 * and quote or dash styles do not matter. A single line of
 * CD__BP_EXACT_LINE bytes or more (without leading and trailing blanks) is
 * hashed as it is: chrome is short, and long lines are most of the bytes.
 * Without keys, a unit's key is only 0 (no letters or digits) or not.
 * A text of UINT32_MAX bytes or more has no units (nothing is chrome).
 * Returns CD_OK or CD_ERR_NOMEM. */
cd_status cd__bp_split(cd__bp_scratch *s, const char *text, size_t len, int keys);

/* Hash naming the source of doc: XXH3-64 of its source field, or when that
 * is absent or empty, of its URL's host (lower-cased, without "www." or a
 * port), or of "" when it has neither. Never 0. *name receives the bytes
 * hashed (pointing into doc). */
uint64_t cd__bp_source_hash(const cd_doc *doc, cd_str *name);

/* 1 when the model says the line with this key is chrome in the source
 * with this hash. Thread-safe (the model is read-only). */
int cd__bp_is_chrome(const cd_boilerplate *model, uint64_t source_hash, uint64_t key);

/* Writes into out the text without its chrome units (a unit is dropped
 * with its '\n') and returns its length; lines are text's units, from
 * cd__bp_split with keys. When every unit with letters or digits is
 * chrome, out receives the whole text unchanged, *dropped is 0 and
 * *all_chrome 1 (a page that is all chrome is compared as it is). out must
 * have room for len bytes. kept, when not NULL (with room for
 * lines->count units), receives the units of out. Thread-safe. */
size_t cd__bp_strip(const cd_boilerplate *model, uint64_t source_hash, const char *text,
                    size_t len, const cd__bp_scratch *lines, char *out, size_t *dropped,
                    int *all_chrome, cd__bp_scratch *kept);

/* The learner: counts, per source, the documents each line occurs in; at
 * the end decides which lines are chrome. Not thread-safe. */
typedef struct cd__bp_learner cd__bp_learner;

cd_status cd__bp_learner_create(unsigned min_stories, unsigned min_sources,
                                cd__bp_learner **out);
void cd__bp_learner_free(cd__bp_learner *l);

/* Adds one document: its source (hash and name) and the lines of its text
 * (split by cd__bp_split; text holds the line bytes, used to keep a copy
 * of lines that recur). Errors: CD_ERR_NOMEM (nothing of the document is
 * then counted). */
cd_status cd__bp_learner_add(cd__bp_learner *l, uint64_t source_hash, cd_str source_name,
                             const char *text, const cd__bp_line *lines, size_t count);

/* Decides and builds the model on up to threads threads (the decisions
 * and the model do not depend on it); the learner may then be freed.
 * Errors: CD_ERR_NOMEM. */
cd_status cd__bp_learner_finish(cd__bp_learner *l, unsigned threads, cd_boilerplate **model);

/* Bytes of memory the learner holds now. */
size_t cd__bp_learner_memory(const cd__bp_learner *l);

#endif
