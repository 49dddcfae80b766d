/* feed_json.c: the JSON Feed side of the feed stage (jsonfeed.org versions
 * 1 and 1.1) with cJSON: items become cd_feed items through the drafts of
 * feed.c. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "feed.h"

/* The string member name of object, or NULL. */
static const char *member(const cJSON *object, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static int set(cd_feed *f, int field, const char *s, cd__feed_kind kind)
{
    return s ? cd__feed_draft_set(f, field, s, strlen(s), kind, 0) : 0;
}

static int link(cd_feed *f, const char *url, const char *base)
{
    if (!url || f->draft.has[CD__FEED_LINK])
        return 0;
    while (*url == ' ' || *url == '\t' || *url == '\n' || *url == '\r')
        url++;
    if (!*url)
        return 0;
    char *abs = cd__feed_resolve(url, strlen(url), base);
    if (!abs)
        return -1;
    int r = cd__feed_draft_set(f, CD__FEED_LINK, abs, strlen(abs), CD__PLAIN, 0);
    cd__free(abs);
    return r;
}

static int item(cd_feed *f, const cJSON *it, const char *base)
{
    cd__feed_draft_reset(f);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
    char number[64];
    int r = 0;
    if (cJSON_IsString(id) && id->valuestring) {
        r |= set(f, CD__FEED_KEY, id->valuestring, CD__PLAIN);
    } else if (cJSON_IsNumber(id)) { /* 1.0 feeds sometimes write numbers */
        snprintf(number, sizeof number, "%.17g", id->valuedouble);
        r |= set(f, CD__FEED_KEY, number, CD__PLAIN);
    }
    r |= link(f, member(it, "url"), base);
    r |= link(f, member(it, "external_url"), base);
    r |= set(f, CD__FEED_TITLE, member(it, "title"), CD__GUESS);
    r |= set(f, CD__FEED_PUBLISHED, member(it, "date_published"), CD__PLAIN);
    r |= set(f, CD__FEED_PUBLISHED, member(it, "date_modified"), CD__PLAIN);
    const char *s;
    if ((s = member(it, "summary")) != NULL)
        r |= cd__feed_draft_text(f, s, strlen(s), CD__PLAIN, 1);
    if ((s = member(it, "content_html")) != NULL)
        r |= cd__feed_draft_text(f, s, strlen(s), CD__HTML, 2);
    if ((s = member(it, "content_text")) != NULL) /* preferred: no markup to remove */
        r |= cd__feed_draft_text(f, s, strlen(s), CD__PLAIN, 3);
    const cJSON *authors = cJSON_GetObjectItemCaseSensitive(it, "authors");
    const cJSON *author = cJSON_IsArray(authors) ? cJSON_GetArrayItem(authors, 0)
                                                 : cJSON_GetObjectItemCaseSensitive(it, "author");
    if (cJSON_IsObject(author))
        r |= set(f, CD__FEED_AUTHOR, member(author, "name"), CD__PLAIN);
    if (r != 0)
        return -1;
    return cd__feed_draft_commit(f);
}

cd_status cd__feed_parse_json(cd_feed *f, const char *bytes, size_t len, const char *base_url,
                              char *err, size_t err_size)
{
    size_t failures = cd__alloc_failures();
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(bytes, len, &end, 0);
    if (!root) {
        if (cd__alloc_failures() != failures)
            return CD_ERR_NOMEM;
        if (err && err_size) {
            size_t off = end && end >= bytes && end <= bytes + len ? (size_t)(end - bytes) : 0;
            snprintf(err, err_size, "not a feed: malformed JSON near byte %zu", off);
        }
        return CD_ERR_FORMAT;
    }
    cd_status status = CD_OK;
    const char *version = member(root, "version");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
    if (!cJSON_IsObject(root) || !version ||
        strncmp(version, "https://jsonfeed.org/version/", 29) != 0 || !cJSON_IsArray(items)) {
        if (err && err_size)
            snprintf(err, err_size, "not a feed: JSON without a jsonfeed.org version and items");
        status = CD_ERR_FORMAT;
        goto done;
    }
    /* where it was fetched from, else where it says it lives */
    const char *base = base_url ? base_url : member(root, "feed_url");
    const char *title = member(root, "title"), *home = member(root, "home_page_url");
    if ((title && cd__feed_set_meta(f, 0, title, strlen(title), CD__GUESS) != 0) ||
        (home && cd__feed_set_meta(f, 1, home, strlen(home), CD__PLAIN) != 0)) {
        status = CD_ERR_NOMEM;
        goto done;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        if (!cJSON_IsObject(it)) {
            f->skipped++;
            continue;
        }
        if (item(f, it, base) != 0) {
            status = CD_ERR_NOMEM;
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    return status;
}
