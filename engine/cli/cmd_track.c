/* cmd_track.c: `copydesk track`: follows feeds and reports, for each new
 * item, whether it is a new story or a copy of one already indexed. A round
 * fetches every feed (cd_fetcher), parses them (cd_feed), optionally fetches
 * the new items' pages (cd_article_text), adds the new items to the index
 * (cd_index_add) in order of publication, writes one JSON event per item
 * and saves the state (validators, item keys seen) next to the index. The
 * state names the batch being added before the add, so a restart after a
 * crash re-emits its events instead of losing them (see docs/track.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cmd_track.h"
#include "copydesk/copydesk.h"
#include "output.h"

static const char help_text[] =
    "usage: copydesk track --feeds FEEDS --index INDEX [OPTIONS]\n"
    "\n"
    "Fetches RSS, Atom and JSON feeds and matches each new item against the index:\n"
    "one JSON line per new item, {\"event\":\"new_story\"|\"copy\",\"story\",\"doc\",\n"
    "\"source\",\"url\",\"title\",\"similarity\",\"published\",\"first_seen\",\"copies\"}.\n"
    "FEEDS has one feed URL per line, optionally followed by a source name; '#'\n"
    "starts a comment. INDEX is created when missing. State (validators and the\n"
    "items seen) is kept in INDEX.track-state, so a restart emits nothing twice.\n"
    "\n"
    "options:\n"
    "  --feeds FILE           the feed list (required)\n"
    "  --index DIR            the index (required; created when missing)\n"
    "  --once                 one round, then exit\n"
    "  --interval SECONDS     time between the starts of rounds (300)\n"
    "  --fetch-articles       fetch each new item's page (robots.txt honoured) and\n"
    "                         index its main text instead of the feed's text\n"
    "  --allow-private-addresses  let article links reach loopback, private and\n"
    "                         link-local addresses (refused by default)\n"
    "  --events FILE          append events to FILE instead of stdout\n"
    "  --state FILE           the state file (INDEX.track-state)\n"
    "  --window DAYS          evict stories older than DAYS after each round (0: never)\n"
    "  --forget-after DAYS    forget item keys not seen in a feed for DAYS (30)\n"
    "  --parallel N           transfers at once (16)\n"
    "  --per-host N           transfers at once per host (2)\n"
    "  --connect-timeout S    seconds to connect (10)\n"
    "  --timeout S            seconds for a whole transfer (30)\n"
    "  --max-body BYTES       largest body, with K, M or G (8M)\n"
    "  --max-redirects N      (5)\n"
    "  --retries N            retries after timeouts, connection errors, 429, 5xx (3)\n"
    "  --backoff S            wait before the first retry, doubled each time (1)\n"
    "  --user-agent STRING    (copydesk/0.1)\n"
    "  --threshold T, --ngram N, --perm K, --seed S, --with-title\n"
    "                         similarity parameters of a new index\n"
    "  --threads N            signing threads (1)\n"
    "  --progress, --no-progress   progress line on stderr (default: on a terminal)\n"
    "  --quiet                no summary\n"
    "  --verbose              report every article that could not be fetched\n"
    "\n"
    "SIGINT or SIGTERM stops after the current round's items are indexed and\n"
    "written (a second one also aborts the transfers in flight).\n";

enum {
    OPT_FEEDS = 256,
    OPT_INDEX,
    OPT_ONCE,
    OPT_INTERVAL,
    OPT_FETCH_ARTICLES,
    OPT_ALLOW_PRIVATE,
    OPT_EVENTS,
    OPT_STATE,
    OPT_WINDOW,
    OPT_FORGET,
    OPT_PARALLEL,
    OPT_PER_HOST,
    OPT_CONNECT_TIMEOUT,
    OPT_TIMEOUT,
    OPT_MAX_BODY,
    OPT_MAX_REDIRECTS,
    OPT_RETRIES,
    OPT_BACKOFF,
    OPT_USER_AGENT,
    OPT_THRESHOLD,
    OPT_NGRAM,
    OPT_PERM,
    OPT_SEED,
    OPT_WITH_TITLE,
    OPT_THREADS,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_QUIET,
    OPT_VERBOSE,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"feeds", required_argument, NULL, OPT_FEEDS},
    {"index", required_argument, NULL, OPT_INDEX},
    {"once", no_argument, NULL, OPT_ONCE},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"fetch-articles", no_argument, NULL, OPT_FETCH_ARTICLES},
    {"allow-private-addresses", no_argument, NULL, OPT_ALLOW_PRIVATE},
    {"events", required_argument, NULL, OPT_EVENTS},
    {"state", required_argument, NULL, OPT_STATE},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"forget-after", required_argument, NULL, OPT_FORGET},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"per-host", required_argument, NULL, OPT_PER_HOST},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-redirects", required_argument, NULL, OPT_MAX_REDIRECTS},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"backoff", required_argument, NULL, OPT_BACKOFF},
    {"user-agent", required_argument, NULL, OPT_USER_AGENT},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"ngram", required_argument, NULL, OPT_NGRAM},
    {"perm", required_argument, NULL, OPT_PERM},
    {"seed", required_argument, NULL, OPT_SEED},
    {"with-title", no_argument, NULL, OPT_WITH_TITLE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct track_options {
    const char *feeds, *index, *events, *state;
    int once, fetch_articles, allow_private, progress, quiet, verbose;
    double interval, window_days, forget_days;
    cd_fetch_options fetch;
    cd_params params;
    unsigned threads;
} track_options;

/* ------------------------------------------------------------ key sets */

/* A set of strings, each with a time (when an item key was last seen). */
typedef struct keyset {
    char **keys;
    int64_t *times;
    size_t count, cap; /* cap: a power of two, or 0 */
} keyset;

static uint64_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t keyset_slot(const keyset *k, const char *key)
{
    size_t mask = k->cap - 1, i = (size_t)hash_string(key) & mask;
    while (k->keys[i] && strcmp(k->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static int64_t *keyset_find(const keyset *k, const char *key)
{
    if (k->cap == 0)
        return NULL;
    size_t i = keyset_slot(k, key);
    return k->keys[i] ? &k->times[i] : NULL;
}

/* Adds key (copied) or updates its time. Returns 0 or -1 (NOMEM). */
static int keyset_put(keyset *k, const char *key, int64_t t)
{
    if ((k->count + 1) * 2 > k->cap) {
        keyset n = {NULL, NULL, 0, k->cap ? k->cap * 2 : 64};
        n.keys = calloc(n.cap, sizeof *n.keys);
        n.times = calloc(n.cap, sizeof *n.times);
        if (!n.keys || !n.times) {
            free(n.keys);
            free(n.times);
            return -1;
        }
        for (size_t i = 0; i < k->cap; i++)
            if (k->keys[i]) {
                size_t j = keyset_slot(&n, k->keys[i]);
                n.keys[j] = k->keys[i];
                n.times[j] = k->times[i];
            }
        n.count = k->count;
        free(k->keys);
        free(k->times);
        *k = n;
    }
    size_t i = keyset_slot(k, key);
    if (!k->keys[i]) {
        if (!(k->keys[i] = strdup(key)))
            return -1;
        k->count++;
    }
    k->times[i] = t;
    return 0;
}

static void keyset_free(keyset *k)
{
    for (size_t i = 0; i < k->cap; i++)
        free(k->keys[i]);
    free(k->keys);
    free(k->times);
    *k = (keyset){0};
}

/* ---------------------------------------------------------------- feeds */

enum { FEED_IDLE = 0, FEED_FETCHED, FEED_NOT_MODIFIED, FEED_FAILED };

typedef struct feed {
    char *url, *source;
    int line;   /* in FEEDS; 0 for a feed known only from the state file */
    int listed; /* in FEEDS this run */
    char *etag, *last_modified;
    keyset seen;
    /* this round */
    size_t request;
    int outcome; /* FEED_* */
    cd_feed *parsed;
    char *new_etag, *new_last_modified;
    char *base;        /* the URL it was fetched from, after redirects */
    char *parse_error; /* why the body is not a feed */
} feed;

/* One new item of a round. */
typedef struct candidate {
    size_t feed, item;
    char *doc_id;
    char *article; /* the page's main text (--fetch-articles), or NULL */
    size_t article_request;
    int64_t time;
    int dated;
    int added;   /* 1: in the index now (result valid) */
    int skipped; /* 1: its id was already indexed */
    cd_index_result result;
} candidate;

/* An event rebuilt from a pending batch after a restart. */
typedef struct pending_item {
    char *doc, *source, *url, *title, *published;
} pending_item;

typedef struct track {
    track_options o;
    char state_path[4096];
    feed *feeds;
    size_t feed_count, feed_cap;
    cd_index *index;
    cd_fetcher *fetcher;
    FILE *events;
    /* the batch being added, as saved in the state before the add */
    pending_item *pending;
    size_t pending_count;
    uint64_t pending_docs_before;
    long long pending_events_offset; /* -1: events go to stdout */
    /* counters */
    size_t rounds, fetched, not_modified, failed;
    size_t items_seen, items_new, already_indexed, articles_fetched, articles_denied,
        articles_failed;
    size_t events_new, events_copy;
    size_t feeds_done_round, feeds_round; /* progress */
    double t_fetch, t_parse, t_articles, t_index, t_started, last_progress;
    int progress_shown; /* the progress line is on screen, unfinished */
} track;

static volatile sig_atomic_t stop_level = 0;

static void on_signal(int sig)
{
    (void)sig;
    if (stop_level < 2)
        stop_level++;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void format_time(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, size, "%" PRId64, t);
        return;
    }
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------- options */

static int parse_number(const char *option, const char *text, double min, double max, double *value)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= min && v <= max)) {
        cli_error("--%s: expected a number from %g to %g, got '%s'", option, min, max, text);
        return -1;
    }
    *value = v;
    return 0;
}

static int parse_bytes(const char *option, const char *text, size_t *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned long long mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1ULL << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1ULL << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1ULL << 30, end++;
    if (errno || end == text || *end || text[0] == '-' || v == 0 || v > (1ULL << 40) / mult) {
        cli_error("--%s: expected a size such as 65536, 512K or 8M, got '%s'", option, text);
        return -1;
    }
    *value = (size_t)(v * mult);
    return 0;
}

static int parse_options(track_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    cd_fetch_options_init(&o->fetch);
    cd_params_init(&o->params);
    o->interval = 300;
    o->forget_days = 30;
    o->threads = 1;
    o->progress = isatty(STDERR_FILENO);
    double d;
    unsigned long long u;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        const char *name = cli_option_name(long_options, c);
        switch (c) {
        case OPT_FEEDS:
            o->feeds = optarg;
            break;
        case OPT_INDEX:
            o->index = optarg;
            break;
        case OPT_ONCE:
            o->once = 1;
            break;
        case OPT_INTERVAL:
            if (parse_number(name, optarg, 1, 7 * 86400, &o->interval))
                return CLI_EXIT_USAGE;
            break;
        case OPT_FETCH_ARTICLES:
            o->fetch_articles = 1;
            break;
        case OPT_ALLOW_PRIVATE:
            o->allow_private = 1;
            break;
        case OPT_EVENTS:
            o->events = optarg;
            break;
        case OPT_STATE:
            o->state = optarg;
            break;
        case OPT_WINDOW:
            if (parse_number(name, optarg, 0, 36500, &o->window_days))
                return CLI_EXIT_USAGE;
            break;
        case OPT_FORGET:
            if (parse_number(name, optarg, 0, 36500, &o->forget_days))
                return CLI_EXIT_USAGE;
            break;
        case OPT_PARALLEL:
            if (cli_parse_unsigned(name, optarg, 1, 1024, &u))
                return CLI_EXIT_USAGE;
            o->fetch.max_parallel = (unsigned)u;
            break;
        case OPT_PER_HOST:
            if (cli_parse_unsigned(name, optarg, 1, 1024, &u))
                return CLI_EXIT_USAGE;
            o->fetch.max_per_host = (unsigned)u;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_number(name, optarg, 0.001, 3600, &d))
                return CLI_EXIT_USAGE;
            o->fetch.connect_timeout_ms = (long)(d * 1000 + 0.5);
            break;
        case OPT_TIMEOUT:
            if (parse_number(name, optarg, 0.001, 86400, &d))
                return CLI_EXIT_USAGE;
            o->fetch.timeout_ms = (long)(d * 1000 + 0.5);
            break;
        case OPT_MAX_BODY:
            if (parse_bytes(name, optarg, &o->fetch.max_body))
                return CLI_EXIT_USAGE;
            break;
        case OPT_MAX_REDIRECTS:
            if (cli_parse_unsigned(name, optarg, 0, 100, &u))
                return CLI_EXIT_USAGE;
            o->fetch.max_redirects = (unsigned)u;
            break;
        case OPT_RETRIES:
            if (cli_parse_unsigned(name, optarg, 0, 100, &u))
                return CLI_EXIT_USAGE;
            o->fetch.retries = (unsigned)u;
            break;
        case OPT_BACKOFF:
            if (parse_number(name, optarg, 0, 3600, &d))
                return CLI_EXIT_USAGE;
            o->fetch.backoff_ms = (long)(d * 1000 + 0.5);
            break;
        case OPT_USER_AGENT:
            o->fetch.user_agent = optarg;
            break;
        case OPT_THRESHOLD:
            if (parse_number(name, optarg, 0, 1, &o->params.threshold))
                return CLI_EXIT_USAGE;
            break;
        case OPT_NGRAM:
        case OPT_PERM:
        case OPT_SEED:
        case OPT_WITH_TITLE:
            if (cli_parse_similarity_option(name, optarg, &o->params) < 0)
                return CLI_EXIT_USAGE;
            break;
        case OPT_THREADS:
            if (cli_parse_unsigned(name, optarg, 0, 1024, &u))
                return CLI_EXIT_USAGE;
            o->threads = (unsigned)u;
            break;
        case OPT_PROGRESS:
            o->progress = 1;
            break;
        case OPT_NO_PROGRESS:
            o->progress = 0;
            break;
        case OPT_QUIET:
            o->quiet = 1;
            break;
        case OPT_VERBOSE:
            o->verbose = 1;
            break;
        case 'h':
        case OPT_HELP:
            fputs(help_text, stdout);
            return CLI_EXIT_OK;
        case ':':
            cli_error("track: %s needs a value", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        default:
            cli_error("track: unknown option '%s' (try 'copydesk track --help')", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("track: unexpected argument '%s'", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (!o->feeds || !o->index) {
        cli_error("track: --feeds and --index are required (try 'copydesk track --help')");
        return CLI_EXIT_USAGE;
    }
    if (cli_check_params(&o->params, "track: ") != 0)
        return CLI_EXIT_USAGE;
    return -1;
}

/* -------------------------------------------------------- feed list */

static feed *add_feed(track *t, const char *url)
{
    for (size_t i = 0; i < t->feed_count; i++)
        if (strcmp(t->feeds[i].url, url) == 0)
            return &t->feeds[i];
    if (t->feed_count == t->feed_cap) {
        size_t cap = t->feed_cap ? t->feed_cap * 2 : 16;
        feed *p = realloc(t->feeds, cap * sizeof *p);
        if (!p)
            return NULL;
        t->feeds = p;
        t->feed_cap = cap;
    }
    feed *f = &t->feeds[t->feed_count];
    memset(f, 0, sizeof *f);
    if (!(f->url = strdup(url)))
        return NULL;
    t->feed_count++;
    return f;
}

/* The host of url without "www.", as a default source name. */
static char *host_of(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = NULL;
    size_t n = strcspn(p, "/?#");
    for (const char *q = p; q < p + n; q++)
        if (*q == '@')
            at = q;
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t h = n;
    if (p[0] == '[') { /* an IPv6 literal keeps its brackets */
        const char *close = memchr(p, ']', n);
        h = close ? (size_t)(close - p) + 1 : n;
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon)
            h = (size_t)(colon - p);
    }
    if (h > 4 && strncmp(p, "www.", 4) == 0) {
        p += 4;
        h -= 4;
    }
    return strndup(p, h);
}

static int is_http_url(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* Reads FEEDS. Lines that are not http(s) URLs are reported and skipped.
 * Returns 0, or an exit code. */
static int load_feeds(track *t)
{
    FILE *fp = fopen(t->o.feeds, "r");
    if (!fp) {
        cli_error("%s: %s", t->o.feeds, strerror(errno));
        return CLI_EXIT_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int number = 0, code = 0;
    while ((len = getline(&line, &cap, fp)) != -1) {
        number++;
        char *hash = strchr(line, '#');
        if (hash && (hash == line || hash[-1] == ' ' || hash[-1] == '\t'))
            *hash = '\0'; /* a comment; '#' inside a URL stays */
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        char *end = p + strlen(p);
        while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (!*p)
            continue;
        char *url = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (!is_http_url(url)) {
            cli_error("%s:%d: %s: refused: only http:// and https:// feeds are fetched", t->o.feeds,
                      number, url);
            continue;
        }
        size_t before = t->feed_count;
        feed *f = add_feed(t, url);
        if (!f) {
            cli_error("out of memory");
            code = CLI_EXIT_IO;
            break;
        }
        if (t->feed_count == before && f->listed) {
            cli_error("%s:%d: %s is listed twice (the first line counts)", t->o.feeds, number, url);
            continue;
        }
        f->listed = 1;
        f->line = number;
        f->source = *p ? strdup(p) : host_of(url);
        if (!f->source) {
            cli_error("out of memory");
            code = CLI_EXIT_IO;
            break;
        }
    }
    if (!code && ferror(fp)) {
        cli_error("%s: %s", t->o.feeds, strerror(errno));
        code = CLI_EXIT_IO;
    }
    free(line);
    fclose(fp);
    return code;
}

/* ---------------------------------------------------------------- state */

static const char *string_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_pending(track *t)
{
    for (size_t i = 0; i < t->pending_count; i++) {
        pending_item *p = &t->pending[i];
        free(p->doc);
        free(p->source);
        free(p->url);
        free(p->title);
        free(p->published);
    }
    free(t->pending);
    t->pending = NULL;
    t->pending_count = 0;
}

/* Reads the state file (a missing one is an empty state). Returns 0 or an
 * exit code. */
static int load_state(track *t)
{
    FILE *fp = fopen(t->state_path, "rb");
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        cli_error("%s: %s", t->state_path, strerror(errno));
        return CLI_EXIT_IO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(fp);
                cli_error("out of memory");
                return CLI_EXIT_IO;
            }
            buf = p;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    int read_error = ferror(fp);
    fclose(fp);
    if (read_error) {
        free(buf);
        cli_error("%s: read failed", t->state_path);
        return CLI_EXIT_IO;
    }
    cJSON *root = cJSON_ParseWithLength(buf ? buf : "", len);
    free(buf);
    const cJSON *feeds = cJSON_GetObjectItemCaseSensitive(root, "feeds");
    const char *format = string_member(root, "format");
    if (!root || !format || strcmp(format, "copydesk-track-state") != 0 || !cJSON_IsArray(feeds)) {
        cJSON_Delete(root);
        cli_error("%s: not a copydesk track state file (remove it to start afresh)", t->state_path);
        return CLI_EXIT_IO;
    }
    int code = 0;
    const cJSON *fj;
    cJSON_ArrayForEach(fj, feeds)
    {
        const char *url = string_member(fj, "url");
        if (!url)
            continue;
        feed *f = add_feed(t, url);
        if (!f) {
            code = CLI_EXIT_IO;
            break;
        }
        free(f->etag);
        free(f->last_modified);
        f->etag = dup_or_null(string_member(fj, "etag"));
        f->last_modified = dup_or_null(string_member(fj, "last_modified"));
        const cJSON *seen = cJSON_GetObjectItemCaseSensitive(fj, "seen"), *pair;
        cJSON_ArrayForEach(pair, seen)
        {
            const cJSON *k = cJSON_GetArrayItem(pair, 0), *tm = cJSON_GetArrayItem(pair, 1);
            if (cJSON_IsString(k) && cJSON_IsNumber(tm) &&
                keyset_put(&f->seen, k->valuestring, (int64_t)tm->valuedouble) != 0) {
                code = CLI_EXIT_IO;
                break;
            }
        }
    }
    const cJSON *pending = cJSON_GetObjectItemCaseSensitive(root, "pending");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(pending, "items");
    if (!code && cJSON_IsArray(items)) {
        size_t count = (size_t)cJSON_GetArraySize(items);
        t->pending = calloc(count ? count : 1, sizeof *t->pending);
        if (!t->pending)
            code = CLI_EXIT_IO;
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            if (code)
                break;
            pending_item *p = &t->pending[t->pending_count];
            const char *doc = string_member(it, "doc");
            if (!doc)
                continue;
            p->doc = strdup(doc);
            p->source = dup_or_null(string_member(it, "source"));
            p->url = dup_or_null(string_member(it, "url"));
            p->title = dup_or_null(string_member(it, "title"));
            p->published = dup_or_null(string_member(it, "published"));
            t->pending_count++;
        }
        const cJSON *before = cJSON_GetObjectItemCaseSensitive(pending, "docs_before");
        const cJSON *offset = cJSON_GetObjectItemCaseSensitive(pending, "events_offset");
        t->pending_docs_before = cJSON_IsNumber(before) ? (uint64_t)before->valuedouble : 0;
        t->pending_events_offset = cJSON_IsNumber(offset) ? (long long)offset->valuedouble : -1;
    }
    cJSON_Delete(root);
    if (code)
        cli_error("out of memory");
    return code;
}

/* Writes the state atomically. pending: the batch about to be added (NULL
 * when none). Returns 0 or -1 (reported). */
static int save_state(track *t, const candidate *pending, size_t pending_count,
                      uint64_t docs_before, long long events_offset)
{
    cli_output out;
    if (cli_output_open(&out, t->state_path) != 0)
        return -1;
    FILE *fp = out.fp;
    fputs("{\"format\":\"copydesk-track-state\",\"version\":1,\"feeds\":[", fp);
    for (size_t i = 0; i < t->feed_count; i++) {
        const feed *f = &t->feeds[i];
        fputs(i ? ",\n{\"url\":" : "\n{\"url\":", fp);
        cli_write_json_string(fp, f->url, strlen(f->url));
        if (f->etag) {
            fputs(",\"etag\":", fp);
            cli_write_json_string(fp, f->etag, strlen(f->etag));
        }
        if (f->last_modified) {
            fputs(",\"last_modified\":", fp);
            cli_write_json_string(fp, f->last_modified, strlen(f->last_modified));
        }
        fputs(",\"seen\":[", fp);
        int first = 1;
        for (size_t k = 0; k < f->seen.cap; k++) {
            if (!f->seen.keys[k])
                continue;
            fputs(first ? "[" : ",[", fp);
            first = 0;
            cli_write_json_string(fp, f->seen.keys[k], strlen(f->seen.keys[k]));
            fprintf(fp, ",%" PRId64 "]", f->seen.times[k]);
        }
        fputs("]}", fp);
    }
    fputs("]", fp);
    if (pending) {
        fprintf(fp,
                ",\n\"pending\":{\"docs_before\":%" PRIu64 ",\"events_offset\":%lld,\"items\":[",
                docs_before, events_offset);
        for (size_t i = 0; i < pending_count; i++) {
            const candidate *c = &pending[i];
            const feed *f = &t->feeds[c->feed];
            cd_feed_item it;
            cd_feed_get_item(f->parsed, c->item, &it);
            fputs(i ? ",\n{\"doc\":" : "\n{\"doc\":", fp);
            cli_write_json_string(fp, c->doc_id, strlen(c->doc_id));
            fputs(",\"source\":", fp);
            cli_write_json_string(fp, f->source, strlen(f->source));
            if (it.link.ptr) {
                fputs(",\"url\":", fp);
                cli_write_json_string(fp, it.link.ptr, it.link.len);
            }
            if (it.title.ptr) {
                fputs(",\"title\":", fp);
                cli_write_json_string(fp, it.title.ptr, it.title.len);
            }
            if (it.published.ptr) {
                fputs(",\"published\":", fp);
                cli_write_json_string(fp, it.published.ptr, it.published.len);
            }
            fputs("}", fp);
        }
        fputs("]}", fp);
    }
    fputs("}\n", fp);
    return cli_output_commit(&out);
}

/* --------------------------------------------------------------- events */

/* "published": ISO 8601 UTC when the date parses, else as written, else null. */
static void write_published(FILE *out, const char *s, size_t len)
{
    int64_t when;
    if (!s) {
        fputs("null", out);
    } else if (cd_parse_date((cd_str){s, len}, &when)) {
        char buf[40];
        format_time(when, buf, sizeof buf);
        fprintf(out, "\"%s\"", buf);
    } else {
        cli_write_json_string(out, s, len);
    }
}

static void write_optional(FILE *out, const char *s, size_t len)
{
    if (s)
        cli_write_json_string(out, s, len);
    else
        fputs("null", out);
}

static void write_event(track *t, int copy, const char *story, const char *doc, const char *source,
                        const char *url, size_t url_len, const char *title, size_t title_len,
                        double similarity, const char *published, size_t published_len,
                        int64_t first_seen, size_t copies)
{
    FILE *out = t->events;
    char when[40];
    format_time(first_seen, when, sizeof when);
    fprintf(out, "{\"event\":\"%s\",\"story\":", copy ? "copy" : "new_story");
    cli_write_json_string(out, story, strlen(story));
    fputs(",\"doc\":", out);
    cli_write_json_string(out, doc, strlen(doc));
    fputs(",\"source\":", out);
    write_optional(out, source, source ? strlen(source) : 0);
    fputs(",\"url\":", out);
    write_optional(out, url, url_len);
    fputs(",\"title\":", out);
    write_optional(out, title, title_len);
    fprintf(out, ",\"similarity\":%.4f,\"published\":", similarity);
    write_published(out, published, published_len);
    fprintf(out, ",\"first_seen\":\"%s\",\"copies\":%zu}\n", when, copies);
    if (copy)
        t->events_copy++;
    else
        t->events_new++;
}

/* Flushes the events of a batch to stable storage. Returns 0 or -1. */
static int flush_events(track *t)
{
    if (fflush(t->events) != 0 || ferror(t->events)) {
        cli_error("%s: write failed: %s", t->o.events ? t->o.events : "<stdout>", strerror(errno));
        return -1;
    }
    if (t->o.events && fsync(fileno(t->events)) != 0 && errno != EINVAL) {
        cli_error("%s: fsync failed: %s", t->o.events, strerror(errno));
        return -1;
    }
    return 0;
}

static long long events_size(track *t)
{
    if (!t->o.events)
        return -1;
    struct stat st;
    if (fflush(t->events) != 0 || fstat(fileno(t->events), &st) != 0)
        return -1;
    return (long long)st.st_size;
}

/* ------------------------------------------------------------ recovery */

typedef struct story_doc {
    size_t story, doc;
    int64_t time;
} story_doc;

static int by_story_doc(const void *a, const void *b)
{
    const story_doc *x = a, *y = b;
    if (x->story != y->story)
        return x->story < y->story ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

static int by_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* A batch was named in the state but the run ended before its events were
 * known to be written: rebuild the events of the items the index holds
 * from the index itself and write them again (to --events FILE after
 * cutting the file back to where the batch began, so nothing is doubled).
 * Returns 0 or an exit code. */
static int recover_pending(track *t)
{
    if (!t->pending)
        return 0;
    size_t docs = cd_index_doc_count(t->index);
    size_t *found = malloc((t->pending_count ? t->pending_count : 1) * sizeof *found);
    keyset ids = {0};
    int code = 0;
    if (!found) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    for (size_t i = 0; i < t->pending_count; i++) {
        found[i] = CD_INDEX_NONE;
        if (keyset_put(&ids, t->pending[i].doc, (int64_t)i) != 0) {
            cli_error("out of memory");
            code = CLI_EXIT_IO;
            goto done;
        }
    }
    size_t recovered = 0;
    for (size_t d = (size_t)t->pending_docs_before; d < docs; d++) {
        const char *id = cd_index_doc_id(t->index, d);
        int64_t *slot = id ? keyset_find(&ids, id) : NULL;
        if (slot && found[*slot] == CD_INDEX_NONE) {
            found[*slot] = d;
            recovered++;
        }
    }
    if (recovered > 0) {
        /* story, copies and first_seen of each recovered document as they
         * were right after its add: from the documents of its story up to it */
        size_t *stories = malloc(recovered * sizeof *stories), ns = 0;
        story_doc *members = NULL;
        size_t nm = 0, capm = 0;
        if (!stories) {
            code = CLI_EXIT_IO;
            goto recovered_done;
        }
        for (size_t i = 0; i < t->pending_count; i++) {
            cd_index_doc_info info;
            if (found[i] != CD_INDEX_NONE && cd_index_doc(t->index, found[i], &info) == CD_OK)
                stories[ns++] = info.story;
        }
        qsort(stories, ns, sizeof *stories, by_size);
        for (size_t d = 0; d < docs; d++) {
            cd_index_doc_info info;
            if (cd_index_doc(t->index, d, &info) != CD_OK ||
                !bsearch(&info.story, stories, ns, sizeof *stories, by_size))
                continue;
            if (nm == capm) {
                capm = capm ? capm * 2 : 256;
                story_doc *p = realloc(members, capm * sizeof *p);
                if (!p) {
                    code = CLI_EXIT_IO;
                    goto recovered_done;
                }
                members = p;
            }
            members[nm++] = (story_doc){info.story, d, info.time};
        }
        qsort(members, nm, sizeof *members, by_story_doc);
        if (t->o.events && t->pending_events_offset >= 0 &&
            ftruncate(fileno(t->events), (off_t)t->pending_events_offset) != 0) {
            cli_error("%s: cannot cut back to the last complete batch: %s", t->o.events,
                      strerror(errno));
            code = CLI_EXIT_IO;
            goto recovered_done;
        }
        /* documents in index order, which is the order they were added in */
        size_t *order = malloc(recovered * sizeof *order), no = 0;
        if (!order) {
            code = CLI_EXIT_IO;
            goto recovered_done;
        }
        for (size_t i = 0; i < t->pending_count; i++)
            if (found[i] != CD_INDEX_NONE)
                order[no++] = found[i] * t->pending_count + i; /* doc-major key */
        qsort(order, no, sizeof *order, by_size);
        for (size_t k = 0; k < no; k++) {
            size_t i = order[k] % t->pending_count, d = found[i];
            const pending_item *p = &t->pending[i];
            cd_index_doc_info info;
            if (cd_index_doc(t->index, d, &info) != CD_OK)
                continue;
            size_t copies = 0;
            int64_t first = info.time;
            for (size_t m = 0; m < nm; m++)
                if (members[m].story == info.story && members[m].doc <= d) {
                    copies++;
                    if (members[m].time < first)
                        first = members[m].time;
                }
            const char *story = cd_index_doc_id(t->index, info.story_doc);
            write_event(t, info.story_doc != d, story ? story : p->doc, p->doc, p->source, p->url,
                        p->url ? strlen(p->url) : 0, p->title, p->title ? strlen(p->title) : 0,
                        info.similarity, p->published, p->published ? strlen(p->published) : 0,
                        first, copies);
        }
        free(order);
        if (flush_events(t) != 0)
            code = CLI_EXIT_IO;
        else if (!t->o.quiet)
            cli_error("track: %zu event%s of an interrupted batch written again", no,
                      no == 1 ? "" : "s");
    recovered_done:
        if (code && code != CLI_EXIT_IO)
            code = CLI_EXIT_IO;
        free(stories);
        free(members);
    }
done:
    keyset_free(&ids);
    free(found);
    free_pending(t);
    if (!code && save_state(t, NULL, 0, 0, 0) != 0)
        code = CLI_EXIT_IO;
    return code;
}

/* ---------------------------------------------------------------- round */

static int cancel_hook(void *user)
{
    (void)user;
    return stop_level;
}

static void progress(track *t, int final)
{
    if (!t->o.progress)
        return;
    double now = now_seconds();
    if (!final && now - t->last_progress < 0.25)
        return;
    t->last_progress = now;
    fprintf(stderr, "\rcopydesk: track: feeds %zu/%zu, items %zu, new stories %zu, copies %zu%s",
            t->feeds_done_round, t->feeds_round, t->items_seen, t->events_new, t->events_copy,
            final ? "\n" : "");
    fflush(stderr);
    t->progress_shown = !final;
}

/* Ends the progress line so that a message starts on a line of its own. */
static void progress_break(track *t)
{
    if (t->progress_shown) {
        fputc('\n', stderr);
        t->progress_shown = 0;
    }
}

/* Parses a fetched feed as soon as it arrives (the done hook). */
static void feed_done(void *user, size_t id)
{
    track *t = user;
    feed *f = NULL;
    for (size_t i = 0; i < t->feed_count; i++)
        if (t->feeds[i].listed && t->feeds[i].request == id) {
            f = &t->feeds[i];
            break;
        }
    if (!f)
        return;
    t->feeds_done_round++;
    cd_fetch_result r;
    if (cd_fetcher_result(t->fetcher, id, &r) != CD_OK)
        return;
    if (r.outcome == CD_FETCH_OK) {
        double start = now_seconds();
        char err[512];
        f->base = dup_or_null(r.final_url ? r.final_url : f->url);
        cd_status st =
            cd_feed_parse(r.body, r.body_len, f->base, NULL, &f->parsed, err, sizeof err);
        if (st != CD_OK) {
            f->parse_error = strdup(err);
            f->outcome = FEED_FAILED;
        } else {
            f->outcome = FEED_FETCHED;
            f->new_etag = dup_or_null(r.etag);
            f->new_last_modified = dup_or_null(r.last_modified);
            t->items_seen += cd_feed_item_count(f->parsed);
        }
        t->t_parse += now_seconds() - start;
    } else if (r.outcome == CD_FETCH_NOT_MODIFIED) {
        f->outcome = FEED_NOT_MODIFIED;
        f->new_etag = dup_or_null(r.etag);
        f->new_last_modified = dup_or_null(r.last_modified);
    } else {
        f->outcome = FEED_FAILED;
    }
    progress(t, 0);
}

static int by_candidate(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->dated != y->dated)
        return x->dated ? -1 : 1; /* undated items after dated ones */
    if (x->dated && x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->feed != y->feed)
        return x->feed < y->feed ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

static void clear_round(track *t)
{
    for (size_t i = 0; i < t->feed_count; i++) {
        feed *f = &t->feeds[i];
        cd_feed_free(f->parsed);
        free(f->new_etag);
        free(f->new_last_modified);
        free(f->base);
        free(f->parse_error);
        f->parsed = NULL;
        f->new_etag = f->new_last_modified = f->base = f->parse_error = NULL;
        f->outcome = FEED_IDLE;
    }
    cd_fetcher_reset(t->fetcher);
}

static const char *feed_accept =
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8";

/* Fetches the pages of the candidates with links (--fetch-articles).
 * Returns 0, 1 when a stop cancelled some, or -1 when out of memory. */
static int fetch_articles(track *t, candidate *c, size_t n)
{
    double start = now_seconds();
    int cancelled = 0;
    cd_fetcher_reset(t->fetcher);
    for (size_t i = 0; i < n; i++) {
        cd_feed_item it;
        cd_feed_get_item(t->feeds[c[i].feed].parsed, c[i].item, &it);
        c[i].article_request = (size_t)-1;
        if (!it.link.ptr)
            continue;
        char *url = strndup(it.link.ptr, it.link.len);
        if (!url)
            return -1;
        /* links come from the feeds: by default never to private addresses */
        cd_fetch_request req = {url,  NULL,
                                NULL, "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
                                1,    !t->o.allow_private};
        cd_status st = cd_fetcher_add(t->fetcher, &req, &c[i].article_request);
        free(url);
        if (st != CD_OK)
            return -1;
    }
    cd_fetch_hooks hooks = {cancel_hook, NULL, t};
    if (cd_fetcher_run(t->fetcher, &hooks) != CD_OK)
        cli_error("track: %s", cd_fetcher_errmsg(t->fetcher));
    for (size_t i = 0; i < n; i++) {
        if (c[i].article_request == (size_t)-1)
            continue;
        cd_fetch_result r;
        if (cd_fetcher_result(t->fetcher, c[i].article_request, &r) != CD_OK)
            continue;
        if (r.outcome == CD_FETCH_OK) {
            const char *charset = NULL;
            char cs[64] = "";
            if (r.content_type) {
                const char *p = strstr(r.content_type, "charset=");
                if (p) {
                    p += 8;
                    size_t k = 0;
                    while (*p && *p != ';' && *p != ' ' && *p != '"' && k < sizeof cs - 1)
                        cs[k++] = *p++;
                    cs[k] = '\0';
                    charset = cs;
                }
            }
            size_t len;
            if (cd_article_text(r.body, r.body_len, charset, &c[i].article, &len) != CD_OK)
                return -1;
            if (len == 0) { /* nothing left of the page: keep the feed's text */
                cd_text_free(c[i].article);
                c[i].article = NULL;
                t->articles_failed++;
            } else {
                t->articles_fetched++;
            }
        } else if (r.outcome == CD_FETCH_CANCELLED) {
            cancelled = 1;
        } else {
            if (r.outcome == CD_FETCH_ROBOTS_DENIED)
                t->articles_denied++;
            else
                t->articles_failed++;
            if (t->o.verbose) {
                progress_break(t);
                cd_feed_item it;
                cd_feed_get_item(t->feeds[c[i].feed].parsed, c[i].item, &it);
                cli_error("track: article %.*s: %s", (int)it.link.len, it.link.ptr, r.error);
            }
        }
    }
    t->t_articles += now_seconds() - start;
    return cancelled;
}

/* Updates the state of the feeds fetched this round: validators and keys. */
static int commit_feeds(track *t, int64_t now)
{
    int64_t forget = now - (int64_t)(t->o.forget_days * 86400);
    for (size_t i = 0; i < t->feed_count; i++) {
        feed *f = &t->feeds[i];
        if (f->outcome == FEED_FETCHED || f->outcome == FEED_NOT_MODIFIED) {
            if (f->new_etag || f->new_last_modified || f->outcome == FEED_FETCHED) {
                free(f->etag);
                free(f->last_modified);
                f->etag = f->new_etag;
                f->last_modified = f->new_last_modified;
                f->new_etag = f->new_last_modified = NULL;
            }
        }
        if (f->outcome == FEED_FETCHED) {
            size_t n = cd_feed_item_count(f->parsed);
            for (size_t k = 0; k < n; k++) {
                cd_feed_item it;
                cd_feed_get_item(f->parsed, k, &it);
                char *key = strndup(it.key.ptr, it.key.len);
                if (!key || keyset_put(&f->seen, key, now) != 0) {
                    free(key);
                    return -1;
                }
                free(key);
            }
        }
        /* forget keys not seen for a long time */
        if (t->o.forget_days > 0 && f->seen.count) {
            keyset kept = {0};
            for (size_t k = 0; k < f->seen.cap; k++)
                if (f->seen.keys[k] && f->seen.times[k] >= forget &&
                    keyset_put(&kept, f->seen.keys[k], f->seen.times[k]) != 0) {
                    keyset_free(&kept);
                    return -1;
                }
            keyset_free(&f->seen);
            f->seen = kept;
        }
    }
    return 0;
}

/* One round. Returns 0 or an exit code. */
static int round_once(track *t)
{
    double round_start = now_seconds();
    int64_t now = (int64_t)time(NULL);
    int code = 0;
    candidate *c = NULL;
    size_t n = 0, cap = 0;
    cd_doc *docs = NULL;
    cd_index_result *results = NULL;
    keyset batch_ids = {0};

    /* 1. fetch and parse every feed */
    t->feeds_done_round = 0;
    t->feeds_round = 0;
    for (size_t i = 0; i < t->feed_count; i++) {
        feed *f = &t->feeds[i];
        if (!f->listed)
            continue;
        cd_fetch_request req = {f->url, f->etag, f->last_modified, feed_accept, 0, 0};
        if (cd_fetcher_add(t->fetcher, &req, &f->request) != CD_OK) {
            cli_error("out of memory");
            code = CLI_EXIT_IO;
            goto done;
        }
        t->feeds_round++;
    }
    cd_fetch_hooks hooks = {cancel_hook, feed_done, t};
    if (cd_fetcher_run(t->fetcher, &hooks) != CD_OK)
        cli_error("track: %s", cd_fetcher_errmsg(t->fetcher));
    t->t_fetch += now_seconds() - round_start;

    /* 2. report each feed, in FEEDS order, and collect the new items */
    progress_break(t);
    for (size_t i = 0; i < t->feed_count; i++) {
        feed *f = &t->feeds[i];
        if (!f->listed)
            continue;
        cd_fetch_result r;
        cd_fetcher_result(t->fetcher, f->request, &r);
        if (f->outcome == FEED_NOT_MODIFIED) {
            t->not_modified++;
            continue;
        }
        if (f->outcome != FEED_FETCHED) {
            t->failed++;
            if (r.outcome == CD_FETCH_OK)
                cli_error("track: %s: %s", f->url, f->parse_error ? f->parse_error : "not a feed");
            else
                cli_error("track: %s: %s%s%s", f->url, cd_fetch_outcome_name(r.outcome),
                          r.error && r.error[0] ? ": " : "", r.error ? r.error : "");
            continue;
        }
        t->fetched++;
        cd_feed_info info;
        cd_feed_get_info(f->parsed, &info);
        if (info.warning[0])
            cli_error("track: %s: %s (%zu item%s kept)", f->url, info.warning, info.items,
                      info.items == 1 ? "" : "s");
        if (info.duplicate_items)
            cli_error("track: %s: %zu item%s with an id seen earlier in the feed dropped", f->url,
                      info.duplicate_items, info.duplicate_items == 1 ? "" : "s");
        size_t count = cd_feed_item_count(f->parsed);
        for (size_t k = 0; k < count; k++) {
            cd_feed_item it;
            cd_feed_get_item(f->parsed, k, &it);
            char *key = strndup(it.key.ptr, it.key.len);
            if (!key) {
                cli_error("out of memory");
                code = CLI_EXIT_IO;
                goto done;
            }
            int seen = keyset_find(&f->seen, key) != NULL;
            free(key);
            if (seen)
                continue;
            /* the document id: source and item key, so that two outlets
             * carrying one wire item are two documents of one story */
            size_t idlen = strlen(f->source) + 1 + it.key.len;
            char *id = malloc(idlen + 1);
            if (!id) {
                cli_error("out of memory");
                code = CLI_EXIT_IO;
                goto done;
            }
            snprintf(id, idlen + 1, "%s|%.*s", f->source, (int)it.key.len, it.key.ptr);
            if (keyset_find(&batch_ids, id)) { /* the same item in two feeds of a source */
                free(id);
                t->already_indexed++;
                continue;
            }
            if (n == cap) {
                size_t grown = cap ? cap * 2 : 64;
                candidate *p = realloc(c, grown * sizeof *c);
                if (!p) {
                    free(id);
                    cli_error("out of memory");
                    code = CLI_EXIT_IO;
                    goto done;
                }
                c = p;
                cap = grown;
            }
            if (keyset_put(&batch_ids, id, 0) != 0) {
                free(id);
                cli_error("out of memory");
                code = CLI_EXIT_IO;
                goto done;
            }
            c[n++] =
                (candidate){i, k, id, NULL, (size_t)-1, it.published_time, it.dated, 0, 0, {0}};
        }
    }
    t->items_new += n;

    /* 3. the pages of the new items; a stop before they are all in leaves
     * the round undone (nothing indexed, nothing saved): the next run
     * fetches it again rather than index feed text in place of pages */
    if (t->o.fetch_articles && n > 0) {
        int r = stop_level ? 1 : fetch_articles(t, c, n);
        if (r < 0) {
            cli_error("out of memory");
            code = CLI_EXIT_IO;
            goto done;
        }
        if (r > 0) {
            progress_break(t);
            cli_error("track: stopped before the article pages were all fetched: this "
                      "round's %zu new item%s will be fetched again next time",
                      n, n == 1 ? "" : "s");
            t->items_new -= n;
            goto done;
        }
    }

    /* 4. into the index, in order of publication */
    double index_start = now_seconds();
    if (n > 1)
        qsort(c, n, sizeof *c, by_candidate);
    docs = calloc(n ? n : 1, sizeof *docs);
    results = calloc(n ? n : 1, sizeof *results);
    if (!docs || !results) {
        cli_error("out of memory");
        code = CLI_EXIT_IO;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const feed *f = &t->feeds[c[i].feed];
        cd_feed_item it;
        cd_feed_get_item(f->parsed, c[i].item, &it);
        docs[i].id = (cd_str){c[i].doc_id, strlen(c[i].doc_id)};
        docs[i].text = c[i].article ? (cd_str){c[i].article, strlen(c[i].article)} : it.text;
        docs[i].title = it.title;
        docs[i].date = it.published;
        docs[i].source = (cd_str){f->source, strlen(f->source)};
        docs[i].url = it.link;
    }
    if (n > 0) {
        long long offset = events_size(t);
        if (save_state(t, c, n, cd_index_doc_count(t->index), offset) != 0) {
            code = CLI_EXIT_IO;
            goto done;
        }
        if (getenv("COPYDESK_TRACK_CRASH") && !strcmp(getenv("COPYDESK_TRACK_CRASH"), "before-add"))
            _exit(99); /* fault injection for the restart test */
    }
    size_t pos = 0;
    while (pos < n) {
        size_t added = 0;
        cd_status st = cd_index_add(t->index, docs + pos, n - pos, now, results + pos, &added);
        for (size_t i = pos; i < pos + added; i++) {
            c[i].added = 1;
            c[i].result = results[i];
        }
        pos += added;
        if (st == CD_OK)
            break;
        if (st == CD_ERR_DUPLICATE_ID || st == CD_ERR_INPUT) {
            c[pos].skipped = 1; /* indexed before (an earlier run, another feed) */
            t->already_indexed++;
            pos++;
            continue;
        }
        cli_error("track: %s", cd_index_errmsg(t->index));
        code = CLI_EXIT_IO;
        break;
    }
    if (getenv("COPYDESK_TRACK_CRASH") && !strcmp(getenv("COPYDESK_TRACK_CRASH"), "after-add"))
        _exit(99); /* fault injection for the restart test */

    /* 5. the events, flushed as one batch */
    for (size_t i = 0; i < n; i++) {
        if (!c[i].added)
            continue;
        const feed *f = &t->feeds[c[i].feed];
        cd_feed_item it;
        cd_feed_get_item(f->parsed, c[i].item, &it);
        const cd_index_result *r = &c[i].result;
        const char *story = cd_index_doc_id(t->index, r->story_doc);
        write_event(t, r->copy, story ? story : c[i].doc_id, c[i].doc_id, f->source, it.link.ptr,
                    it.link.len, it.title.ptr, it.title.len, r->similarity, it.published.ptr,
                    it.published.len, r->first_seen, r->copies);
    }
    if (flush_events(t) != 0) {
        code = CLI_EXIT_IO;
        goto done;
    }
    t->t_index += now_seconds() - index_start;

    /* 6. the state: validators and keys of this round, no pending batch */
    if (!code && commit_feeds(t, now) != 0) {
        cli_error("out of memory");
        code = CLI_EXIT_IO;
    }
    if (save_state(t, NULL, 0, 0, 0) != 0 && !code)
        code = CLI_EXIT_IO;
    if (!code && t->o.window_days > 0) {
        size_t stories = 0, evicted = 0;
        if (cd_index_evict(t->index, now - (int64_t)(t->o.window_days * 86400), &stories,
                           &evicted) != CD_OK) {
            cli_error("track: %s", cd_index_errmsg(t->index));
            code = CLI_EXIT_IO;
        }
    }
    t->rounds++;
    progress(t, 0);
done:
    for (size_t i = 0; i < n; i++) {
        free(c[i].doc_id);
        cd_text_free(c[i].article);
    }
    free(c);
    free(docs);
    free(results);
    keyset_free(&batch_ids);
    clear_round(t);
    return code;
}

/* -------------------------------------------------------------- command */

static int open_index(track *t)
{
    cd_index_options io;
    cd_index_options_init(&io);
    io.writable = 1;
    io.threads = t->o.threads;
    char err[600];
    struct stat st;
    cd_status s;
    if (stat(t->o.index, &st) != 0 && errno == ENOENT) {
        /* the persistent index scores by the signature estimate of Jaccard
         * only (cd_index_create's contract) */
        cd_params params = t->o.params;
        params.match = CD_MATCH_JACCARD;
        params.verify = CD_VERIFY_ESTIMATE;
        params.lead_shingles = 0;
        s = cd_index_create(t->o.index, &params, &io, &t->index, err, sizeof err);
        if (s == CD_OK && !t->o.quiet)
            cli_error("track: created the index %s", t->o.index);
    } else {
        s = cd_index_open(t->o.index, &io, &t->index, err, sizeof err);
        if (s == CD_OK && cd_index_warning(t->index)[0])
            cli_error("track: %s", cd_index_warning(t->index));
    }
    if (s != CD_OK) {
        cli_error("%s", err);
        return s == CD_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_IO;
    }
    return 0;
}

static void summary(track *t)
{
    double total = now_seconds() - t->t_started;
    cli_error("track: %zu round%s; feeds: %zu fetched, %zu not modified, %zu failed", t->rounds,
              t->rounds == 1 ? "" : "s", t->fetched, t->not_modified, t->failed);
    cli_error("track: items: %zu seen, %zu new, %zu already indexed", t->items_seen, t->items_new,
              t->already_indexed);
    if (t->fetcher) {
        cd_fetch_stats fs;
        cd_fetcher_get_stats(t->fetcher, &fs);
        cli_error("track: transfers: %zu requests, %zu attempts (%zu retries), %zu robots.txt",
                  fs.requests, fs.attempts, fs.retries, fs.robots_fetched);
    }
    if (t->o.fetch_articles)
        cli_error("track: articles: %zu fetched, %zu disallowed by robots.txt, %zu failed "
                  "(feed text used)",
                  t->articles_fetched, t->articles_denied, t->articles_failed);
    cli_error("track: events: %zu (%zu new stories, %zu copies)", t->events_new + t->events_copy,
              t->events_new, t->events_copy);
    size_t indexed = t->events_new + t->events_copy;
    fprintf(stderr,
            "copydesk: time: fetch %.3f s (parse %.3f s), articles %.3f s, index %.3f s, "
            "total %.3f s; %.0f items/s indexed\n",
            t->t_fetch, t->t_parse, t->t_articles, t->t_index, total,
            total > 0 ? (double)indexed / total : 0.0);
}

static void free_track(track *t)
{
    for (size_t i = 0; i < t->feed_count; i++) {
        feed *f = &t->feeds[i];
        free(f->url);
        free(f->source);
        free(f->etag);
        free(f->last_modified);
        keyset_free(&f->seen);
        cd_feed_free(f->parsed);
        free(f->new_etag);
        free(f->new_last_modified);
        free(f->base);
        free(f->parse_error);
    }
    free(t->feeds);
    free_pending(t);
    cd_fetcher_free(t->fetcher);
    cd_index_free(t->index);
    if (t->events && t->events != stdout)
        fclose(t->events);
}

int cli_track(int argc, char **argv)
{
    track t;
    memset(&t, 0, sizeof t);
    int code = parse_options(&t.o, argc, argv);
    if (code >= 0)
        return code;
    code = 0;
    t.t_started = now_seconds();
    if (t.o.state) {
        snprintf(t.state_path, sizeof t.state_path, "%s", t.o.state);
    } else {
        size_t len = strlen(t.o.index);
        while (len > 1 && t.o.index[len - 1] == '/')
            len--;
        snprintf(t.state_path, sizeof t.state_path, "%.*s.track-state", (int)len, t.o.index);
    }
    t.events = stdout;
    char err[512];
    /* the index first: its writer lock also guards the state file */
    if ((code = load_feeds(&t)) != 0 || (code = open_index(&t)) != 0 ||
        (code = load_state(&t)) != 0)
        goto done;
    if (t.o.events && !(t.events = fopen(t.o.events, "a"))) {
        t.events = NULL;
        cli_error("%s: %s", t.o.events, strerror(errno));
        code = CLI_EXIT_IO;
        goto done;
    }
    if (cd_fetcher_create(&t.o.fetch, &t.fetcher, err, sizeof err) != CD_OK) {
        cli_error("track: %s", err);
        code = CLI_EXIT_USAGE;
        goto done;
    }
    if ((code = recover_pending(&t)) != 0)
        goto done;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    while (stop_level == 0) {
        double start = now_seconds();
        if ((code = round_once(&t)) != 0)
            break;
        if (t.o.once)
            break;
        while (stop_level == 0 && now_seconds() - start < t.o.interval) {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    progress(&t, 1);
    if (stop_level && !t.o.quiet)
        cli_error("track: stopped by a signal after the current round");
    if (!t.o.quiet)
        summary(&t);
done:
    free_track(&t);
    return code;
}
