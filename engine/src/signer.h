/* signer.h: what the batch engine (dedup.c) uses of the signer beyond the
 * public cd_signer_*: one call that signs a document and, on request, also
 * gives the MinHash of its leading shingles and its exact shingle set; and
 * the extracted text and lines of a document for learning boilerplate. */
#ifndef CD_SIGNER_H
#define CD_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "boilerplate.h"
#include "copydesk/copydesk.h"
#include "extract.h"

/* In and out of cd__signer_run for one document. */
typedef struct cd__signed {
    /* in */
    uint32_t *sig;          /* params.perm values to fill */
    uint32_t *lead;         /* NULL, or params.perm values: the MinHash of the
                               first lead_shingles shingles */
    unsigned lead_shingles;
    int want_set;           /* 1: fill set */
    const cd__bp_line *lines; /* NULL, or the lines of doc's text already split
                                 (cd__signer_extract), used with extract 0 */
    size_t line_count;
    /* out */
    const uint32_t *set;    /* sorted distinct high halves of the shingle
                               hashes; valid until the next call */
    size_t set_count;
    size_t shingles;        /* with repeats */
    size_t tokens, invalid_utf8;
    int html;               /* the text was HTML */
    size_t chrome_lines;    /* lines removed by the model */
    int all_chrome;         /* every line was chrome: the text was kept whole */
} cd__signed;

/* Signs doc like cd_signer_sign (HTML extracted first only when extract is
 * set: the engine passes 0 for a text it extracted itself). Errors:
 * CD_ERR_NOMEM (message in the signer). Not thread-safe on one signer. */
cd_status cd__signer_run(cd_signer *signer, const cd_doc *doc, int extract, cd__signed *out);

/* The text of doc with HTML extracted (chrome kept, whatever the model),
 * and its lines with their keys. Both valid until the next call on signer.
 * Errors: CD_ERR_NOMEM. */
cd_status cd__signer_extract(cd_signer *signer, const cd_doc *doc, cd_str *text,
                             const cd__bp_scratch **lines, int *html);

#endif
