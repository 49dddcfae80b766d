/* synth_copy.c: one outlet's copy of a story in copydesk-synth. Applies the
 * outlet's habits (excerpt + "Read more", headline rewrite, a paragraph added
 * or cut, word edits, typos), renders quotes and dashes in the outlet's style,
 * and wraps the body in the outlet's constant chrome, as plain text or as an
 * HTML page. Also builds the copy's URL. */
#include <stdio.h>
#include <stdlib.h>

#include "synth.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(rng, a) ((a)[synth_below((rng), (uint32_t)COUNT(a))])

static const char *const months[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};

static int is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ------------------------------------------------------------- rendering */

/* Appends s[0..n) with the markers rendered in the outlet's style; in HTML
 * also escapes &, < and >. */
static void put_styled(synth_buf *out, const char *s, size_t n, const synth_outlet *o, int html,
                       synth_rng *rng)
{
    static const char *const dashes[] = {" -- ", " \xE2\x80\x94 ", " \xE2\x80\x93 ", "\xE2\x80\x94"};
    static const char *const html_dashes[] = {" -- ", " &mdash; ", " &ndash; ", "&mdash;"};
    int entities = html && o->html_entities;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run + 8 <= n) {
            uint64_t x = synth_load64(s + run);
            if (synth_has_below(x, 0x05) ||
                (html && (synth_has_byte(x, '&') | synth_has_byte(x, '<') | synth_has_byte(x, '>'))))
                break;
            run += 8;
        }
        while (run < n) {
            unsigned char c = (unsigned char)s[run];
            if (c < 0x05 || (html && (c == '&' || c == '<' || c == '>')))
                break;
            run++;
        }
        synth_buf_put(out, s + i, run - i);
        if (run == n)
            break;
        unsigned char c = (unsigned char)s[run];
        int curly = 0;
        if (c == SYNTH_OPEN_QUOTE || c == SYNTH_CLOSE_QUOTE) /* style 2 slips now and then */
            curly = o->quote_style == 1 || (o->quote_style == 2 && !synth_chance(rng, 0.08));
        switch (c) {
        case SYNTH_OPEN_QUOTE:
            synth_buf_puts(out, !curly ? "\"" : entities ? "&ldquo;" : "\xE2\x80\x9C");
            break;
        case SYNTH_CLOSE_QUOTE:
            synth_buf_puts(out, !curly ? "\"" : entities ? "&rdquo;" : "\xE2\x80\x9D");
            break;
        case SYNTH_APOSTROPHE:
            synth_buf_puts(out, o->quote_style == 0 ? "'" : entities ? "&rsquo;" : "\xE2\x80\x99");
            break;
        case SYNTH_DASH:
            synth_buf_puts(out, (entities ? html_dashes : dashes)[o->dash_style & 3]);
            break;
        case '&': synth_buf_puts(out, "&amp;"); break;
        case '<': synth_buf_puts(out, "&lt;"); break;
        case '>': synth_buf_puts(out, "&gt;"); break;
        default: synth_buf_putc(out, ' '); break; /* a stray control byte */
        }
        i = run + 1;
    }
}

static void put_plain(synth_buf *out, const char *s, int html)
{
    if (!html) {
        synth_buf_puts(out, s);
        return;
    }
    static const synth_outlet plain = {.quote_style = 1};
    put_styled(out, s, strlen(s), &plain, 1, NULL);
}

/* Replaces the first "%s"/"%d" in form with value. */
static void put_form(synth_buf *out, const char *form, const char *value)
{
    const char *at = strchr(form, '%');
    if (!at || !at[1]) {
        synth_buf_puts(out, form);
        return;
    }
    synth_buf_put(out, form, (size_t)(at - form));
    synth_buf_puts(out, value);
    synth_buf_puts(out, at + 2);
}

/* ------------------------------------------------------------------ edits */

enum edit_kind {
    TYPO_SWAP,
    TYPO_DROP,
    TYPO_DOUBLE,
    TYPO_REPLACE,
    EDIT_REPLACE,
    EDIT_DELETE,
    EDIT_REPEAT,
};

typedef struct edit {
    uint32_t para, pos;
    int kind;
} edit;

/* A replacement word: from the vocabulary for generated stories, else a word
 * of the story itself. */
static synth_span replacement_word(const synth_copy_env *env, const synth_story *story,
                                   synth_rng *rng)
{
    if (!story->from_base && env->lex->n_words > 100) {
        uint32_t w;
        do
            w = synth_alias_draw(&env->lex->zipf, rng);
        while (w < 20);
        return env->lex->word[w];
    }
    const char *s = story->body.ptr;
    size_t n = story->body.len;
    for (int tries = 0; tries < 8 && n > 0; tries++) {
        size_t i = synth_below(rng, (uint32_t)n);
        while (i < n && is_letter((unsigned char)s[i]))
            i--; /* wraps to SIZE_MAX at 0: caught by i < n below */
        i++;
        while (i < n && !is_letter((unsigned char)s[i]))
            i++;
        size_t j = i;
        while (j < n && is_letter((unsigned char)s[j]))
            j++;
        if (j - i >= 3)
            return (synth_span){s + i, (uint32_t)(j - i)};
    }
    return (synth_span){"the", 3};
}

/* Copies s[0..n) to out with the edits applied (ops sorted by pos) and adds
 * the number of edits and typos actually made to edits_made and typos_made. */
static void apply_edits(synth_buf *out, const char *s, size_t n, const edit *ops, uint32_t n_ops,
                        const synth_copy_env *env, const synth_story *story, synth_rng *rng,
                        uint32_t *edits_made, uint32_t *typos_made)
{
    size_t cursor = 0;
    for (uint32_t k = 0; k < n_ops; k++) {
        int typo = ops[k].kind <= TYPO_REPLACE;
        size_t i = ops[k].pos > cursor ? ops[k].pos : cursor;
        /* the next whole word at or after i (typos: lowercase words of 4+ letters) */
        size_t ws = 0, we = 0;
        int found = 0;
        while (i < n && !found) {
            while (i < n && (!is_letter((unsigned char)s[i]) ||
                             (i > 0 && is_letter((unsigned char)s[i - 1]))))
                i++;
            if (i >= n)
                break;
            size_t j = i;
            while (j < n && is_letter((unsigned char)s[j]))
                j++;
            int usable = (j >= n || (unsigned char)s[j] < 0x80) &&
                         (i == 0 || (unsigned char)s[i - 1] < 0x80) && j - i >= 2;
            if (typo)
                usable = usable && j - i >= 4 && is_lower((unsigned char)s[i]);
            if (usable) {
                ws = i;
                we = j;
                found = 1;
            }
            i = j;
        }
        if (!found)
            break;
        synth_buf_put(out, s + cursor, ws - cursor);
        const char *w = s + ws;
        uint32_t len = (uint32_t)(we - ws);
        size_t next = we;
        switch (ops[k].kind) {
        case TYPO_SWAP: {
            uint32_t at = synth_range(rng, 1, len - 3);
            synth_buf_put(out, w, at);
            synth_buf_putc(out, w[at + 1]);
            synth_buf_putc(out, w[at]);
            synth_buf_put(out, w + at + 2, len - at - 2);
            break;
        }
        case TYPO_DROP: {
            uint32_t at = synth_range(rng, 1, len - 2);
            synth_buf_put(out, w, at);
            synth_buf_put(out, w + at + 1, len - at - 1);
            break;
        }
        case TYPO_DOUBLE: {
            uint32_t at = synth_range(rng, 1, len - 2);
            synth_buf_put(out, w, at + 1);
            synth_buf_put(out, w + at, len - at);
            break;
        }
        case TYPO_REPLACE: {
            uint32_t at = synth_range(rng, 1, len - 2);
            char c = (char)('a' + synth_below(rng, 26));
            if (c == w[at])
                c = c == 'z' ? 'a' : (char)(c + 1);
            synth_buf_put(out, w, at);
            synth_buf_putc(out, c);
            synth_buf_put(out, w + at + 1, len - at - 1);
            break;
        }
        case EDIT_REPLACE: {
            synth_span r = replacement_word(env, story, rng);
            size_t start = out->len;
            synth_buf_put(out, r.ptr, r.len);
            char *first = out->ptr + start;
            if (w[0] >= 'A' && w[0] <= 'Z' && is_lower((unsigned char)*first))
                *first = (char)(*first - 'a' + 'A');
            else if (is_lower((unsigned char)w[0]) && *first >= 'A' && *first <= 'Z' && r.len > 1 &&
                     is_lower((unsigned char)first[1]))
                *first = (char)(*first - 'A' + 'a');
            break;
        }
        case EDIT_DELETE:
            if (next < n && s[next] == ' ')
                next++;
            else if (out->len && out->ptr[out->len - 1] == ' ' && next < n)
                out->len--;
            break;
        default: /* EDIT_REPEAT: "the the" */
            synth_buf_put(out, w, len);
            synth_buf_putc(out, ' ');
            synth_buf_put(out, w, len);
            break;
        }
        if (typo)
            (*typos_made)++;
        else
            (*edits_made)++;
        cursor = next;
    }
    synth_buf_put(out, s + cursor, n - cursor);
}

/* ---------------------------------------------------------------- headline */

static void rewrite_title(synth_buf *out, const synth_story *story, const synth_copy_env *env,
                          synth_rng *rng)
{
    const char *s = story->title.ptr;
    size_t n = story->title.len;
    /* word boundaries */
    uint32_t starts[64], ends[64], words = 0;
    for (size_t i = 0; i < n && words < 64;) {
        while (i < n && s[i] == ' ')
            i++;
        if (i == n)
            break;
        starts[words] = (uint32_t)i;
        while (i < n && s[i] != ' ')
            i++;
        ends[words++] = (uint32_t)i;
    }
    uint32_t pick = synth_below(rng, 100);
    if (words < 4 || pick < 15) {
        static const char *const prefixes[] = {"Breaking: ", "Watch: ", "Revealed: ",
                                               "Latest: ",   "Explained: ", "Live: "};
        synth_buf_puts(out, PICK(rng, prefixes));
        synth_buf_put(out, s, n);
        return;
    }
    if (pick < 55) { /* replace one word after the first */
        uint32_t w = synth_range(rng, 1, words - 1);
        synth_buf_put(out, s, starts[w]);
        synth_span r = replacement_word(env, story, rng);
        int caps = 1; /* an all-capitals headline gets a capitalised word */
        for (uint32_t i = starts[w]; i < ends[w]; i++)
            caps &= !is_lower((unsigned char)s[i]);
        size_t at = out->len;
        synth_buf_put(out, r.ptr, r.len);
        for (size_t i = at; caps && i < out->len; i++)
            if (is_lower((unsigned char)out->ptr[i]))
                out->ptr[i] = (char)(out->ptr[i] - 'a' + 'A');
        synth_buf_put(out, s + ends[w], n - ends[w]);
        return;
    }
    if (pick < 80) { /* cut the tail */
        uint32_t keep = words - synth_range(rng, 1, words >= 7 ? 3 : 1);
        synth_buf_put(out, s, ends[keep - 1]);
        return;
    }
    /* swap two neighbouring words */
    uint32_t w = synth_range(rng, 1, words - 2);
    synth_buf_put(out, s, starts[w]);
    synth_buf_put(out, s + starts[w + 1], ends[w + 1] - starts[w + 1]);
    synth_buf_putc(out, ' ');
    synth_buf_put(out, s + starts[w], ends[w] - starts[w]);
    synth_buf_put(out, s + ends[w + 1], n - ends[w + 1]);
}

static void apply_case(char *s, size_t n, int title_case)
{
    if (title_case == 1) {
        for (size_t i = 0; i < n; i++)
            if ((i == 0 || s[i - 1] == ' ' || (unsigned char)s[i - 1] < 0x05) &&
                is_lower((unsigned char)s[i]))
                s[i] = (char)(s[i] - 'a' + 'A');
    } else if (title_case == 2) {
        size_t upper = 0, lower = 0;
        for (size_t i = 0; i < n; i++) {
            upper += s[i] >= 'A' && s[i] <= 'Z';
            lower += is_lower((unsigned char)s[i]);
        }
        if (upper <= lower)
            return;
        int first = 1;
        for (size_t i = 0; i < n; i++) {
            if (is_letter((unsigned char)s[i])) {
                if (!first && s[i] >= 'A' && s[i] <= 'Z')
                    s[i] = (char)(s[i] - 'A' + 'a');
                first = 0;
            }
        }
    }
}

static void put_slug(synth_buf *out, const char *s, size_t n)
{
    uint32_t words = 0;
    int in_word = 0;
    size_t start = out->len;
    for (size_t i = 0; i < n && words <= 8; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (!in_word) {
                if (++words > 8)
                    break;
                if (out->len > start)
                    synth_buf_putc(out, '-');
                in_word = 1;
            }
            synth_buf_putc(out, c);
        } else if (c != SYNTH_APOSTROPHE && c != '\'') {
            in_word = 0;
        }
    }
    if (out->len == start)
        synth_buf_puts(out, "story");
}

/* ------------------------------------------------------------------- copy */

static void block_break(synth_buf *out, int html)
{
    if (!html && out->len)
        synth_buf_puts(out, "\n\n");
    else if (html)
        synth_buf_putc(out, '\n');
}

static void extra_paragraph(synth_buf *out, const synth_copy_env *env, const synth_story *story,
                            const synth_outlet *o, int64_t date, synth_rng *rng)
{
    const synth_outlet *origin = &env->pool->outlet[story->origin];
    if (!story->from_base && synth_chance(rng, 0.5)) {
        synth_gen_paragraph(env->lex, &env->lex->topic[story->topic], story->lead, rng, out, 0);
        return;
    }
    int y, mo, d, h, mi, s;
    synth_civil(date, &y, &mo, &d, &h, &mi, &s);
    switch (synth_below(rng, 5)) {
    case 0:
        synth_buf_printf(out, "%s has contacted the organisations involved for comment.", o->name);
        break;
    case 1: {
        synth_span r = env->lex->reporter[synth_below(rng, env->lex->n_reporters)];
        synth_buf_printf(out, "Additional reporting by %.*s.", (int)r.len, r.ptr);
        break;
    }
    case 2:
        synth_buf_printf(out, "This article was amended on %d %s %d to correct a detail.", d,
                         months[mo - 1], y);
        break;
    case 3:
        synth_buf_printf(out, "Do you have a story? Contact %s at news@%s.", o->name, o->host);
        break;
    default:
        synth_buf_printf(out, "This story originally appeared on %s.", origin->name);
        break;
    }
}

/* The outlet's constant header and footer lines, laid out once. */
static void lay_out_chrome(synth_outlet *o)
{
    for (uint32_t k = 0; k < o->n_header; k++) {
        if (k)
            synth_buf_putc(&o->head_text, '\n');
        synth_buf_puts(&o->head_text, o->header[k]);
    }
    if (o->n_header) {
        synth_buf_puts(&o->head_html, "<nav><ul>");
        for (uint32_t k = 0; k < o->n_header; k++) {
            synth_buf_puts(&o->head_html, "<li>");
            put_plain(&o->head_html, o->header[k], 1);
            synth_buf_puts(&o->head_html, "</li>");
        }
        synth_buf_puts(&o->head_html, "</ul></nav>\n");
    }
    synth_buf_puts(&o->foot_html, "<footer>");
    for (uint32_t f = 0; f < o->n_footer; f++) {
        synth_buf_puts(&o->foot_text, o->footer[f]);
        synth_buf_putc(&o->foot_text, '\n');
        synth_buf_puts(&o->foot_html, "<p>");
        put_plain(&o->foot_html, o->footer[f], 1);
        synth_buf_puts(&o->foot_html, "</p>");
    }
    o->laid_out = 1;
}

static int cmp_edit(const void *a, const void *b)
{
    const edit *x = a, *y = b;
    if (x->para != y->para)
        return x->para < y->para ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void synth_render_copy(const synth_copy_env *env, const synth_story *story, synth_outlet *o,
                       int pristine, int64_t date, synth_rng *rng, synth_copy_scratch *sc,
                       synth_copy_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    const synth_outlet *origin = &env->pool->outlet[story->origin];
    int html = synth_chance(rng, o->p_html);
    int excerpt = !pristine && story->n_paras >= 4 && synth_chance(rng, o->p_excerpt);
    int rewrite = !pristine && synth_chance(rng, o->p_rewrite);
    int cut = !pristine && !excerpt && story->n_paras >= 4 && synth_chance(rng, o->p_cut);
    int add = !pristine && !excerpt && synth_chance(rng, o->p_add);
    uint32_t n_edits = pristine ? 0 : synth_poisson(rng, o->mean_edits);
    uint32_t n_typos = pristine ? 0 : synth_poisson(rng, o->mean_typos);
    stats->html = html;
    stats->excerpt = excerpt;

    /* paragraphs of this copy */
    enum { MAX_SEL = 512 };
    synth_span sel[MAX_SEL];
    uint32_t n_sel = 0;
    uint32_t take = story->n_paras;
    if (excerpt)
        take = synth_range(rng, 2, 3);
    if (take > MAX_SEL - 1)
        take = MAX_SEL - 1;
    uint32_t skip = cut ? synth_range(rng, 1, take - 1) : UINT32_MAX;
    for (uint32_t p = 0; p < take; p++)
        if (p != skip)
            sel[n_sel++] = (synth_span){story->body.ptr + story->para_off[p], story->para_len[p]};
    stats->cut = cut;
    if (add) {
        sc->extra.len = 0;
        extra_paragraph(&sc->extra, env, story, o, date, rng);
        uint32_t at = n_sel > 1 ? synth_range(rng, 1, n_sel) : n_sel;
        memmove(sel + at + 1, sel + at, sizeof *sel * (n_sel - at));
        sel[at] = (synth_span){sc->extra.ptr, (uint32_t)sc->extra.len};
        n_sel++;
        stats->added = 1;
    }

    /* edits and typos at random byte positions of the body */
    enum { MAX_OPS = 24 };
    edit ops[MAX_OPS];
    uint32_t n_ops = 0;
    uint64_t total = 0;
    for (uint32_t p = 0; p < n_sel; p++)
        total += sel[p].len;
    for (uint32_t k = 0; k < n_edits + n_typos && n_ops < MAX_OPS && total > 0; k++) {
        uint64_t at = (synth_next(rng) >> 11) % total;
        uint32_t p = 0;
        while (at >= sel[p].len) {
            at -= sel[p].len;
            p++;
        }
        uint32_t r = synth_below(rng, 10);
        int kind = k >= n_edits ? TYPO_SWAP + (int)(r % 4)
                   : r < 5      ? EDIT_REPLACE
                   : r < 8      ? EDIT_DELETE
                                : EDIT_REPEAT;
        ops[n_ops++] = (edit){p, (uint32_t)at, kind};
    }
    qsort(ops, n_ops, sizeof *ops, cmp_edit);

    /* headline */
    sc->raw.len = 0;
    if (rewrite)
        rewrite_title(&sc->raw, story, env, rng);
    else
        synth_buf_put(&sc->raw, story->title.ptr, story->title.len);
    stats->rewritten = rewrite;
    apply_case(sc->raw.ptr, sc->raw.len, o->title_case);
    sc->title.len = 0;
    put_styled(&sc->title, sc->raw.ptr, sc->raw.len, o, 0, rng);
    size_t headline_len = sc->title.len;
    synth_buf_puts(&sc->title, o->title_suffix);

    /* url: https://host/yyyy/mm/slug-ID */
    int y, mo, d, h, mi, s;
    synth_civil(date, &y, &mo, &d, &h, &mi, &s);
    o->next_article += 1 + synth_below(rng, 40);
    sc->url.len = 0;
    synth_buf_printf(&sc->url, "https://%s/%04d/%02d/", o->host, y, mo);
    put_slug(&sc->url, sc->raw.ptr, sc->raw.len);
    synth_buf_printf(&sc->url, "-%llu", (unsigned long long)o->next_article);

    /* text */
    synth_buf *out = &sc->text;
    out->len = 0;
    if (html) {
        synth_buf_puts(out, "<html><head><meta charset=\"utf-8\"><title>");
        put_styled(out, sc->title.ptr, sc->title.len, o, 1, rng);
        synth_buf_puts(out, "</title>");
        if (o->script) {
            synth_buf_puts(out, "<script>");
            synth_buf_puts(out, o->script);
            synth_buf_puts(out, "</script>");
        }
        synth_buf_puts(out, "</head><body>\n");
    }
    if (!o->laid_out)
        lay_out_chrome(o);
    if (html)
        synth_buf_put(out, o->head_html.ptr, o->head_html.len);
    else
        synth_buf_put(out, o->head_text.ptr, o->head_text.len);
    if (html)
        synth_buf_puts(out, "<article>");

    /* masthead lines: credit, section, byline (one block in text) */
    const char *section = o->section[story->number % 3];
    int credit = o->credit_origin && origin != o;
    int byline = o->byline_form != 5;
    if (credit || byline) {
        block_break(out, html);
        if (credit) {
            synth_buf_puts(out, html ? "<p class=\"credit\">" : "");
            put_plain(out, origin->name, html);
            synth_buf_puts(out, html ? "</p>\n<p class=\"section\">" : "\n");
            put_plain(out, section, html);
            synth_buf_puts(out, html ? "</p>" : "");
            if (byline)
                synth_buf_putc(out, '\n');
        }
        if (byline) {
            synth_buf_puts(out, html ? "<p class=\"byline\">" : "");
            synth_buf *b = &sc->tmp;
            b->len = 0;
            switch (o->byline_form) {
            case 0: synth_buf_printf(b, "By %.*s", (int)story->reporter.len, story->reporter.ptr); break;
            case 1: synth_buf_put(b, story->reporter.ptr, story->reporter.len); break;
            case 2:
                synth_buf_printf(b, "%.*s, %s", (int)story->reporter.len, story->reporter.ptr,
                                 origin->name);
                break;
            case 3:
                synth_buf_printf(b, "By %.*s, %s correspondent", (int)story->reporter.len,
                                 story->reporter.ptr, section);
                break;
            default: synth_buf_puts(b, o->staff_byline); break;
            }
            put_styled(out, b->ptr, b->len, o, html, rng);
            synth_buf_puts(out, html ? "</p>" : "");
        }
    }
    if (o->title_in_text || html) {
        block_break(out, html);
        synth_buf_puts(out, html ? "<h1>" : "");
        put_styled(out, sc->title.ptr, headline_len, o, html, rng); /* no markers left */
        synth_buf_puts(out, html ? "</h1>" : "");
    }
    if (o->published_line) {
        block_break(out, html);
        synth_buf *b = &sc->tmp;
        b->len = 0;
        switch (o->published_line) {
        case 1: synth_buf_printf(b, "Published: %d %s %d", d, months[mo - 1], y); break;
        case 2: synth_buf_printf(b, "Updated %02d:%02d GMT, %d %.3s %d", h, mi, d, months[mo - 1], y); break;
        default: synth_buf_printf(b, "%02d/%02d/%04d %02d:%02d", d, mo, y, h, mi); break;
        }
        if (html) {
            char iso[32];
            synth_format_date(date, iso);
            synth_buf_printf(out, "<time datetime=\"%s\">", iso);
        }
        synth_buf_put(out, b->ptr, b->len);
        synth_buf_puts(out, html ? "</time>" : "");
    }

    /* body */
    uint32_t k = 0;
    for (uint32_t p = 0; p < n_sel; p++) {
        block_break(out, html);
        if (html)
            synth_buf_puts(out, "<p>");
        uint32_t first = k;
        while (k < n_ops && ops[k].para == p)
            k++;
        if (k > first) {
            sc->raw.len = 0;
            apply_edits(&sc->raw, sel[p].ptr, sel[p].len, ops + first, k - first, env, story, rng,
                        &stats->edits, &stats->typos);
            put_styled(out, sc->raw.ptr, sc->raw.len, o, html, rng);
        } else {
            put_styled(out, sel[p].ptr, sel[p].len, o, html, rng);
        }
        if (html)
            synth_buf_puts(out, "</p>");
    }
    if (excerpt) {
        block_break(out, html);
        const synth_outlet *target = o->type == SYNTH_OUTLET_NEWSPAPER ? o : origin;
        sc->tmp.len = 0;
        put_form(&sc->tmp, o->read_more, target->name);
        synth_buf_putc(&sc->tmp, '\0');
        if (html)
            synth_buf_printf(out, "<p class=\"more\"><a href=\"https://%s/\">", target->host);
        put_plain(out, sc->tmp.ptr, html);
        if (html)
            synth_buf_puts(out, "</a></p>");
    }
    if (html)
        synth_buf_puts(out, "\n</article>");

    /* related stories: headlines of other recent stories */
    uint32_t want = o->related_count < env->n_recent ? o->related_count : env->n_recent;
    if (want) {
        block_break(out, html);
        if (html)
            synth_buf_puts(out, "<aside><h2>");
        put_plain(out, o->related_heading, html);
        synth_buf_puts(out, html ? "</h2><ul>" : "");
        uint8_t pick[256];
        for (uint32_t r = 0; r < env->n_recent; r++)
            pick[r] = (uint8_t)r;
        for (uint32_t r = 0; r < want; r++) { /* distinct: a partial shuffle */
            uint32_t j = r + synth_below(rng, env->n_recent - r);
            uint8_t t = pick[r];
            pick[r] = pick[j];
            pick[j] = t;
            const synth_story *other = env->recent[pick[r]];
            synth_buf_puts(out, html ? "<li>" : "\n");
            put_styled(out, other->title.ptr, other->title.len, o, html, rng);
            synth_buf_puts(out, html ? "</li>" : "");
        }
        synth_buf_puts(out, html ? "</ul></aside>" : "");
    }

    /* footer */
    block_break(out, html);
    if (html)
        synth_buf_put(out, o->foot_html.ptr, o->foot_html.len);
    else
        synth_buf_put(out, o->foot_text.ptr, o->foot_text.len);
    char year[16];
    snprintf(year, sizeof year, "%d", y);
    sc->tmp.len = 0;
    put_form(&sc->tmp, o->copyright, year);
    synth_buf_putc(&sc->tmp, '\0');
    synth_buf_puts(out, html ? "<p>" : "");
    put_plain(out, sc->tmp.ptr, html);
    synth_buf_puts(out, html ? "</p></footer>\n</body></html>" : "");
}

void synth_copy_scratch_free(synth_copy_scratch *sc)
{
    synth_buf_free(&sc->title);
    synth_buf_free(&sc->text);
    synth_buf_free(&sc->url);
    synth_buf_free(&sc->raw);
    synth_buf_free(&sc->tmp);
    synth_buf_free(&sc->extra);
}
