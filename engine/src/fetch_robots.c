/* fetch_robots.c: robots.txt (RFC 9309) for the fetch stage: which groups
 * apply to our product token, and whether a path may be fetched. */
#include <string.h>

#include "alloc.h"
#include "fetch.h"

typedef struct rule {
    char *pattern;
    size_t len;
    int allow;
} rule;

struct cd__robots {
    int mode; /* 0: rules, 1: allow all, 2: disallow all */
    rule *rules;
    size_t count, cap;
};

cd__robots *cd__robots_all(int allow)
{
    cd__robots *r = cd__calloc(1, sizeof *r);
    if (r)
        r->mode = allow ? 1 : 2;
    return r;
}

void cd__robots_free(cd__robots *robots)
{
    if (!robots)
        return;
    for (size_t i = 0; i < robots->count; i++)
        cd__free(robots->rules[i].pattern);
    cd__free(robots->rules);
    cd__free(robots);
}

size_t cd__robots_rule_count(const cd__robots *robots)
{
    return robots ? robots->count : 0;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int equal_ci(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int add_rule(rule **rules, size_t *count, size_t *cap, const char *v, size_t n, int allow)
{
    if (cd__grow((void **)rules, cap, *count + 1, sizeof **rules) != 0)
        return -1;
    char *p = cd__strndup(v, n);
    if (!p)
        return -1;
    (*rules)[(*count)++] = (rule){p, n, allow};
    return 0;
}

static void free_rules(rule *rules, size_t count)
{
    for (size_t i = 0; i < count; i++)
        cd__free(rules[i].pattern);
    cd__free(rules);
}

cd__robots *cd__robots_parse(const char *text, size_t len, const char *agent)
{
    cd__robots *r = cd__calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (len > CD__ROBOTS_MAX_BYTES)
        len = CD__ROBOTS_MAX_BYTES;
    /* Rules of the groups naming agent go to r; those of "*" groups to star. */
    rule *star = NULL;
    size_t star_count = 0, star_cap = 0;
    int named_seen = 0;                  /* some group names agent */
    int group_named = 0, group_star = 0; /* the current group applies */
    int in_agents = 0;                   /* the previous line was a User-agent line */
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && text[i] != '\n' && text[i] != '\r')
            i++;
        size_t end = i;
        while (i < len && (text[i] == '\n' || text[i] == '\r'))
            i++;
        const char *hash = memchr(text + start, '#', end - start);
        if (hash)
            end = (size_t)(hash - text);
        const char *colon = memchr(text + start, ':', end - start);
        if (!colon)
            continue;
        size_t ks = start, ke = (size_t)(colon - text);
        while (ks < ke && (text[ks] == ' ' || text[ks] == '\t'))
            ks++;
        while (ke > ks && (text[ke - 1] == ' ' || text[ke - 1] == '\t'))
            ke--;
        size_t vs = (size_t)(colon - text) + 1, ve = end;
        while (vs < ve && (text[vs] == ' ' || text[vs] == '\t'))
            vs++;
        while (ve > vs && (text[ve - 1] == ' ' || text[ve - 1] == '\t'))
            ve--;
        const char *key = text + ks, *value = text + vs;
        size_t klen = ke - ks, vlen = ve > vs ? ve - vs : 0;
        if (equal_ci(key, klen, "user-agent")) {
            if (!in_agents)
                group_named = group_star = 0;
            in_agents = 1;
            size_t tlen = 0; /* the product token: up to '/' or white space */
            while (tlen < vlen && value[tlen] != '/' && value[tlen] != ' ' && value[tlen] != '\t')
                tlen++;
            if (tlen == 1 && value[0] == '*')
                group_star = 1;
            else if (equal_ci(value, tlen, agent)) {
                group_named = 1;
                named_seen = 1;
            }
            continue;
        }
        int allow = equal_ci(key, klen, "allow"), disallow = equal_ci(key, klen, "disallow");
        if (!allow && !disallow)
            continue; /* Sitemap, Crawl-delay, ...: not group rules we use */
        in_agents = 0;
        if (vlen == 0)
            continue; /* "Disallow:" with no path allows everything: no rule */
        if (group_named && add_rule(&r->rules, &r->count, &r->cap, value, vlen, allow) != 0)
            goto nomem;
        if (group_star && add_rule(&star, &star_count, &star_cap, value, vlen, allow) != 0)
            goto nomem;
    }
    if (!named_seen) {
        free_rules(r->rules, r->count);
        r->rules = star;
        r->count = star_count;
        r->cap = star_cap;
    } else {
        free_rules(star, star_count);
    }
    return r;
nomem:
    free_rules(star, star_count);
    cd__robots_free(r);
    return NULL;
}

/* 1 when pattern p[0..pn) matches the start of s (the whole of s when it
 * ends with '$'); '*' matches any run of bytes. */
static int match(const char *p, size_t pn, const char *s)
{
    int anchored = pn > 0 && p[pn - 1] == '$';
    if (anchored)
        pn--;
    size_t sn = strlen(s), i = 0, j = 0, star = (size_t)-1, mark = 0;
    for (;;) {
        if (i == pn && (!anchored || j == sn))
            return 1;
        if (i < pn && p[i] == '*') {
            star = i++;
            mark = j;
            continue;
        }
        if (i < pn && j < sn && p[i] == s[j]) {
            i++;
            j++;
            continue;
        }
        if (star != (size_t)-1 && mark < sn) {
            i = star + 1;
            j = ++mark;
            continue;
        }
        return 0;
    }
}

int cd__robots_allowed(const cd__robots *robots, const char *path)
{
    if (!robots || robots->mode == 1 || strcmp(path, "/robots.txt") == 0)
        return 1;
    if (robots->mode == 2)
        return 0;
    size_t best = 0;
    int allowed = 1, found = 0;
    for (size_t k = 0; k < robots->count; k++) {
        const rule *ru = &robots->rules[k];
        if (!match(ru->pattern, ru->len, path))
            continue;
        if (!found || ru->len > best || (ru->len == best && ru->allow)) {
            allowed = ru->allow;
            best = ru->len;
            found = 1;
        }
    }
    return allowed;
}
