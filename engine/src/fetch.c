/* fetch.c: the fetch stage: cd_fetcher, many URLs at once over libcurl's
 * multi interface, with our own scheduler on top (per-host limits, retries
 * with backoff, robots.txt waits) so that a transfer's timeout only runs
 * while it actually runs. Only http and https are ever fetched. */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc.h"
#include "fetch.h"
#include "fetch_curl.h"

enum { WAITING = 0, RUNNING, DONE };

/* A scheme://host:port: its running transfers and its robots.txt. */
typedef struct origin {
    char *key;
    unsigned running;
    int robots_state; /* 0 unknown, 1 being fetched, 2 known */
    double robots_time;
    cd__robots *robots;
} origin;

typedef struct xfer {
    size_t id;     /* request id; (size_t)-1 for a robots.txt transfer */
    size_t origin; /* (size_t)-1: not an http(s) URL */
    char *url, *etag_in, *lm_in, *accept, *path; /* path + query, for robots */
    int robots;                                  /* wait for and obey robots.txt */
    int public_only;                             /* refuse private addresses */
    int blocked;                                 /* a connection to a private address was refused */
    char blocked_address[64];
    int state;
    double not_before, first_start, end;
    unsigned attempts;
    size_t max_body;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t body_len, body_cap;
    int too_large;
    long retry_after_ms;
    char errbuf[CURL_ERROR_SIZE];
    /* result */
    cd_fetch_outcome outcome;
    long status;
    char *final_url, *etag, *last_modified, *content_type;
    char error[256];
} xfer;

struct cd_fetcher {
    cd_fetch_options opt;
    char *user_agent, *robots_agent;
    CURLM *multi;
    xfer **xfers;                  /* requests, by id */
    size_t count, cap, first_open; /* xfers[0..first_open) are all done */
    xfer **robots;                 /* robots.txt transfers under way */
    size_t robots_count, robots_cap;
    origin *origins;
    size_t origin_count, origin_cap;
    unsigned running;
    int cancel; /* the level the hooks asked for */
    const cd_fetch_hooks *hooks;
    cd_fetch_stats stats;
    char errmsg[CD_ERRMSG_SIZE];
};

static const char *const outcome_names[] = {
    "ok",
    "not modified",
    "HTTP error",
    "timeout",
    "too large",
    "too many redirects",
    "refused",
    "robots.txt disallows",
    "network error",
    "cancelled",
};

const char *cd_fetch_outcome_name(cd_fetch_outcome outcome)
{
    return (unsigned)outcome < sizeof outcome_names / sizeof *outcome_names ? outcome_names[outcome]
                                                                            : "unknown";
}

void cd_fetch_options_init(cd_fetch_options *o)
{
    o->max_parallel = 16;
    o->max_per_host = 2;
    o->connect_timeout_ms = 10000;
    o->timeout_ms = 30000;
    o->max_body = (size_t)8 << 20;
    o->max_redirects = 5;
    o->retries = 3;
    o->backoff_ms = 1000;
    o->max_backoff_ms = 60000;
    o->user_agent = "copydesk/0.1";
    o->robots_agent = "copydesk";
    o->robots_ttl = 86400;
}

/* ------------------------------------------------------------ libcurl init */

static char *curl_strdup_hook(const char *s)
{
    return cd__strndup(s, strlen(s));
}

static const cd__curl_api *curl; /* set once libcurl is loaded and started */
static char curl_failure[256];   /* or why it could not be */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void init_curl(void)
{
    const cd__curl_api *api = cd__curl_load(curl_failure, sizeof curl_failure);
    if (!api)
        return;
    /* libcurl's own allocations go through the engine's hook too. */
    CURLcode rc = api->global_init_mem(CURL_GLOBAL_DEFAULT, cd__malloc, cd__free, cd__realloc,
                                       curl_strdup_hook, cd__calloc);
    if (rc != CURLE_OK)
        snprintf(curl_failure, sizeof curl_failure, "libcurl: %s", api->easy_strerror(rc));
    else
        curl = api;
}

/* ------------------------------------------------------------------ create */

static char *dup_or_null(const char *s)
{
    return s ? cd__strndup(s, strlen(s)) : NULL;
}

cd_status cd_fetcher_create(const cd_fetch_options *options, cd_fetcher **out, char *err,
                            size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!out)
        return CD_ERR_ARG;
    *out = NULL;
    cd_fetch_options o;
    if (options)
        o = *options;
    else
        cd_fetch_options_init(&o);
    const char *bad = NULL;
    if (o.max_parallel == 0)
        bad = "max_parallel must be at least 1";
    else if (o.max_per_host == 0)
        bad = "max_per_host must be at least 1";
    else if (o.connect_timeout_ms <= 0 || o.timeout_ms <= 0)
        bad = "timeouts must be positive";
    else if (o.max_body == 0)
        bad = "max_body must be at least 1";
    else if (o.backoff_ms < 0 || o.max_backoff_ms < 0 || o.robots_ttl < 0)
        bad = "backoff and robots_ttl must not be negative";
    else if (o.max_redirects > 100)
        bad = "max_redirects must be at most 100";
    if (bad) {
        if (err && err_size)
            snprintf(err, err_size, "%s", bad);
        return CD_ERR_ARG;
    }
    pthread_once(&curl_once, init_curl);
    if (!curl) {
        if (err && err_size)
            snprintf(err, err_size, "%s", curl_failure);
        return CD_ERR_IO;
    }
    cd_fetcher *f = cd__calloc(1, sizeof *f);
    if (!f)
        return CD_ERR_NOMEM;
    f->opt = o;
    f->user_agent = dup_or_null(o.user_agent ? o.user_agent : "copydesk/0.1");
    f->robots_agent = dup_or_null(o.robots_agent ? o.robots_agent : "copydesk");
    f->multi = curl->multi_init();
    if (!f->user_agent || !f->robots_agent || !f->multi) {
        cd_fetcher_free(f);
        return CD_ERR_NOMEM;
    }
    f->opt.user_agent = f->user_agent;
    f->opt.robots_agent = f->robots_agent;
    *out = f;
    return CD_OK;
}

static void xfer_free(xfer *x)
{
    if (!x)
        return;
    cd__free(x->url);
    cd__free(x->etag_in);
    cd__free(x->lm_in);
    cd__free(x->accept);
    cd__free(x->path);
    cd__free(x->body);
    cd__free(x->final_url);
    cd__free(x->etag);
    cd__free(x->last_modified);
    cd__free(x->content_type);
    cd__free(x);
}

/* Stops x's transfer (if running) and frees its easy handle. */
static void detach(cd_fetcher *f, xfer *x)
{
    if (x->easy) {
        curl->multi_remove_handle(f->multi, x->easy);
        curl->easy_cleanup(x->easy);
        x->easy = NULL;
    }
    curl->slist_free_all(x->headers);
    x->headers = NULL;
    if (x->state == RUNNING) {
        f->running--;
        if (x->origin != (size_t)-1)
            f->origins[x->origin].running--;
    }
}

void cd_fetcher_reset(cd_fetcher *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++) {
        detach(f, f->xfers[i]);
        xfer_free(f->xfers[i]);
    }
    f->count = 0;
    f->first_open = 0;
}

void cd_fetcher_free(cd_fetcher *f)
{
    if (!f)
        return;
    cd_fetcher_reset(f);
    for (size_t i = 0; i < f->robots_count; i++) {
        detach(f, f->robots[i]);
        xfer_free(f->robots[i]);
    }
    for (size_t i = 0; i < f->origin_count; i++) {
        cd__free(f->origins[i].key);
        cd__robots_free(f->origins[i].robots);
    }
    if (f->multi)
        curl->multi_cleanup(f->multi);
    cd__free(f->xfers);
    cd__free(f->robots);
    cd__free(f->origins);
    cd__free(f->user_agent);
    cd__free(f->robots_agent);
    cd__free(f);
}

/* --------------------------------------------------------------- requests */

/* No CR, LF or NUL: a value that cannot smuggle a header line. */
static int header_safe(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return 0;
    return 1;
}

/* Finds or adds the origin of key. Returns its index or (size_t)-1 (NOMEM). */
static size_t origin_of(cd_fetcher *f, const char *key)
{
    for (size_t i = 0; i < f->origin_count; i++)
        if (strcmp(f->origins[i].key, key) == 0)
            return i;
    if (cd__grow((void **)&f->origins, &f->origin_cap, f->origin_count + 1, sizeof *f->origins))
        return (size_t)-1;
    char *k = cd__strndup(key, strlen(key));
    if (!k)
        return (size_t)-1;
    f->origins[f->origin_count] = (origin){k, 0, 0, 0, NULL};
    return f->origin_count++;
}

/* Sets x->origin and x->path from x->url; a URL that is not http(s) gets
 * outcome REFUSED (and x->origin (size_t)-1). Returns 0, or -1 (NOMEM). */
static int classify_url(cd_fetcher *f, xfer *x)
{
    x->origin = (size_t)-1;
    CURLU *u = curl->url();
    if (!u)
        return -1;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    int result = 0;
    CURLUcode rc = curl->url_set(u, CURLUPART_URL, x->url, CURLU_NON_SUPPORT_SCHEME);
    if (rc == CURLUE_OUT_OF_MEMORY) {
        result = -1;
        goto done;
    }
    if (rc != CURLUE_OK) {
        x->outcome = CD_FETCH_REFUSED;
        snprintf(x->error, sizeof x->error, "invalid URL: %s", curl->url_strerror(rc));
        goto done;
    }
    if (curl->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        x->outcome = CD_FETCH_REFUSED;
        snprintf(x->error, sizeof x->error, "only http:// and https:// URLs are fetched%s%s",
                 scheme ? ", not " : "", scheme ? scheme : "");
        goto done;
    }
    if (curl->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        x->outcome = CD_FETCH_REFUSED;
        snprintf(x->error, sizeof x->error, "invalid URL: no host");
        goto done;
    }
    curl->url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl->url_get(u, CURLUPART_PATH, &path, 0);
    curl->url_get(u, CURLUPART_QUERY, &query, 0);
    for (char *p = host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    char key[1024];
    snprintf(key, sizeof key, "%s://%s:%s", scheme, host, port ? port : "");
    size_t o = origin_of(f, key);
    size_t plen = path ? strlen(path) : 0, qlen = query ? strlen(query) : 0;
    x->path = cd__malloc(plen + qlen + 3);
    if (o == (size_t)-1 || !x->path) {
        result = -1;
        goto done;
    }
    snprintf(x->path, plen + qlen + 3, "%s%s%s", plen ? path : "/", query ? "?" : "",
             query ? query : "");
    x->origin = o;
done:
    curl->free(scheme);
    curl->free(host);
    curl->free(port);
    curl->free(path);
    curl->free(query);
    curl->url_cleanup(u);
    return result;
}

static xfer *xfer_new(cd_fetcher *f, const cd_fetch_request *r, size_t id)
{
    xfer *x = cd__calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->id = id;
    x->url = dup_or_null(r->url);
    x->robots = r->robots;
    x->public_only = r->public_only;
    x->max_body = f->opt.max_body;
    if (r->etag && *r->etag && header_safe(r->etag))
        x->etag_in = dup_or_null(r->etag);
    if (r->last_modified && *r->last_modified && header_safe(r->last_modified))
        x->lm_in = dup_or_null(r->last_modified);
    if (r->accept && *r->accept && header_safe(r->accept))
        x->accept = dup_or_null(r->accept);
    if (!x->url || (r->etag && *r->etag && header_safe(r->etag) && !x->etag_in) ||
        (r->last_modified && *r->last_modified && header_safe(r->last_modified) && !x->lm_in) ||
        (r->accept && *r->accept && header_safe(r->accept) && !x->accept) ||
        classify_url(f, x) != 0) {
        xfer_free(x);
        return NULL;
    }
    return x;
}

cd_status cd_fetcher_add(cd_fetcher *f, const cd_fetch_request *request, size_t *id)
{
    if (!f || !request || !request->url) {
        if (f)
            cd__set_error(f->errmsg, "cd_fetcher_add: no URL");
        return CD_ERR_ARG;
    }
    if (cd__grow((void **)&f->xfers, &f->cap, f->count + 1, sizeof *f->xfers) != 0)
        goto nomem;
    xfer *x = xfer_new(f, request, f->count);
    if (!x)
        goto nomem;
    f->xfers[f->count] = x;
    if (id)
        *id = f->count;
    f->count++;
    f->stats.requests++;
    return CD_OK;
nomem:
    cd__set_error(f->errmsg, "out of memory");
    return CD_ERR_NOMEM;
}

size_t cd_fetcher_count(const cd_fetcher *f)
{
    return f ? f->count : 0;
}

/* ---------------------------------------------------------------- transfers */

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    xfer *x = user;
    size_t len = size * n;
    if (len > x->max_body - x->body_len) {
        x->too_large = 1;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (cd__grow((void **)&x->body, &x->body_cap, x->body_len + len + 1, 1) != 0)
        return 0;
    memcpy(x->body + x->body_len, data, len);
    x->body_len += len;
    return len;
}

/* 1 when an address is not a public unicast one: unspecified, loopback,
 * private (RFC 1918, fc00::/7), shared (100.64/10), link-local, multicast,
 * reserved, or such an IPv4 address mapped into IPv6. */
static int private_address(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
               (a >> 22) == (100u << 2 | 1) /* 100.64/10 */ || (a >> 16) == (169u << 8 | 254) ||
               (a >> 20) == (172u << 4 | 1) /* 172.16/12 */ || (a >> 16) == (192u << 8 | 168) ||
               (a >> 28) >= 14 /* multicast, reserved, broadcast */;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        if (memcmp(b, mapped, 12) == 0) {
            struct sockaddr_in v4;
            memset(&v4, 0, sizeof v4);
            v4.sin_family = AF_INET;
            memcpy(&v4.sin_addr, b + 12, 4);
            return private_address((const struct sockaddr *)&v4);
        }
        int zero = 1;
        for (int i = 0; i < 15; i++)
            zero &= b[i] == 0;
        return (zero && (b[15] == 0 || b[15] == 1)) /* :: and ::1 */ ||
               (b[0] & 0xFE) == 0xFC /* fc00::/7 */ || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) ||
               b[0] == 0xFF /* multicast */;
    }
    return 1; /* not IP: never for http */
}

/* Opens the sockets of requests with public_only, refusing private ones. */
static curl_socket_t open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address)
{
    xfer *x = user;
    (void)purpose;
    if (private_address(&address->addr)) {
        x->blocked = 1;
        char text[INET6_ADDRSTRLEN] = "?";
        if (address->family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)&address->addr)->sin_addr, text,
                      sizeof text);
        else if (address->family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&address->addr)->sin6_addr, text,
                      sizeof text);
        snprintf(x->blocked_address, sizeof x->blocked_address, "%s", text);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

/* Checks the connection a request of x is about to be sent on, new or
 * reused (a connection opened for a feed may be reused for an article):
 * aborts when its address is private. */
static int before_request(void *user, char *primary_ip, char *local_ip, int primary_port,
                          int local_port)
{
    xfer *x = user;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (primary_ip && inet_pton(AF_INET, primary_ip, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (primary_ip && inet_pton(AF_INET6, primary_ip, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    if (private_address((const struct sockaddr *)&ss)) {
        x->blocked = 1;
        snprintf(x->blocked_address, sizeof x->blocked_address, "%s",
                 primary_ip ? primary_ip : "?");
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

/* Starts one attempt of x. Returns 0, or -1 when libcurl refused (the
 * request then ends with an error). */
static int start(cd_fetcher *f, xfer *x, double now)
{
    CURL *e = curl->easy_init();
    if (!e) {
        snprintf(x->error, sizeof x->error, "out of memory");
        return -1;
    }
    x->easy = e;
    x->body_len = 0;
    x->too_large = 0;
    x->blocked = 0;
    x->retry_after_ms = 0;
    x->errbuf[0] = '\0';
    char line[1024];
    struct curl_slist *h = NULL, *t;
#define ADD_HEADER(fmt, value)                                                                     \
    do {                                                                                           \
        snprintf(line, sizeof line, fmt, value);                                                   \
        if (!(t = curl->slist_append(h, line)))                                                    \
            goto nomem;                                                                            \
        h = t;                                                                                     \
    } while (0)
    if (x->etag_in)
        ADD_HEADER("If-None-Match: %s", x->etag_in);
    if (x->lm_in)
        ADD_HEADER("If-Modified-Since: %s", x->lm_in);
    if (x->accept)
        ADD_HEADER("Accept: %s", x->accept);
#undef ADD_HEADER
    x->headers = h;
    const cd_fetch_options *o = &f->opt;
    int bad = 0;
    bad |= curl->easy_setopt(e, CURLOPT_URL, x->url) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_MAXREDIRS, (long)o->max_redirects) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    if (x->id != (size_t)-1) /* a robots.txt is read up to the limit, not refused */
        bad |= curl->easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_USERAGENT, f->user_agent) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK;
    bad |= curl->easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
    if (h)
        bad |= curl->easy_setopt(e, CURLOPT_HTTPHEADER, h) != CURLE_OK;
    if (x->public_only) {
        bad |= curl->easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket) != CURLE_OK;
        bad |= curl->easy_setopt(e, CURLOPT_OPENSOCKETDATA, x) != CURLE_OK;
        bad |= curl->easy_setopt(e, CURLOPT_PREREQFUNCTION, before_request) != CURLE_OK;
        bad |= curl->easy_setopt(e, CURLOPT_PREREQDATA, x) != CURLE_OK;
    }
    if (bad || curl->multi_add_handle(f->multi, e) != CURLM_OK) {
        snprintf(x->error, sizeof x->error, "libcurl refused the transfer options");
        curl->easy_cleanup(e);
        x->easy = NULL;
        curl->slist_free_all(x->headers);
        x->headers = NULL;
        return -1;
    }
    x->state = RUNNING;
    x->attempts++;
    if (x->attempts == 1)
        x->first_start = now;
    f->running++;
    f->origins[x->origin].running++;
    f->stats.attempts++;
    return 0;
nomem:
    curl->slist_free_all(h);
    curl->easy_cleanup(e);
    x->easy = NULL;
    snprintf(x->error, sizeof x->error, "out of memory");
    return -1;
}

static void robots_done(cd_fetcher *f, xfer *x, double now);

/* Ends request x with outcome (its message already in x->error, or none). */
static void finish(cd_fetcher *f, xfer *x, cd_fetch_outcome outcome, double now)
{
    detach(f, x);
    x->state = DONE;
    x->outcome = outcome;
    x->end = now;
    if (outcome != CD_FETCH_OK) {
        cd__free(x->body);
        x->body = NULL;
        x->body_len = x->body_cap = 0;
    } else if (!x->body) {
        x->body = cd__malloc(1);
        if (x->body)
            x->body[0] = '\0';
    } else {
        x->body[x->body_len] = '\0';
    }
    if (outcome == CD_FETCH_OK || outcome == CD_FETCH_NOT_MODIFIED)
        x->error[0] = '\0';
    if (x->id == (size_t)-1)
        robots_done(f, x, now);
    else if (f->hooks && f->hooks->done)
        f->hooks->done(f->hooks->user, x->id);
}

static char *copy_header(CURL *e, const char *name)
{
    struct curl_header *h;
    if (curl->easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h->value)
        return NULL;
    return header_safe(h->value) ? cd__strndup(h->value, strlen(h->value)) : NULL;
}

static long backoff(const cd_fetcher *f, const xfer *x)
{
    long ms = f->opt.backoff_ms;
    for (unsigned i = 1; i < x->attempts && ms < f->opt.max_backoff_ms; i++)
        ms = ms > LONG_MAX / 2 ? LONG_MAX : ms * 2;
    if (x->retry_after_ms > ms)
        ms = x->retry_after_ms;
    return ms < f->opt.max_backoff_ms ? ms : f->opt.max_backoff_ms;
}

/* A transfer of x has ended with rc: decide between done and retry. */
static void ended(cd_fetcher *f, xfer *x, CURLcode rc, double now)
{
    CURL *e = x->easy;
    long status = 0;
    curl->easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    x->status = status;
    char *s = NULL;
    cd__free(x->final_url);
    x->final_url = NULL;
    if (curl->easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s)
        x->final_url = cd__strndup(s, strlen(s));
    cd__free(x->content_type);
    x->content_type = NULL;
    s = NULL;
    if (curl->easy_getinfo(e, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
        x->content_type = cd__strndup(s, strlen(s));
    cd__free(x->etag);
    cd__free(x->last_modified);
    x->etag = status ? copy_header(e, "ETag") : NULL;
    x->last_modified = status ? copy_header(e, "Last-Modified") : NULL;
    char *ra = status ? copy_header(e, "Retry-After") : NULL;
    if (ra) {
        char *end;
        long secs = strtol(ra, &end, 10);
        if (end != ra && secs >= 0 && secs < LONG_MAX / 1000)
            x->retry_after_ms = secs * 1000;
        cd__free(ra);
    }
    f->stats.bytes += x->body_len;

    int retry = 0;
    cd_fetch_outcome outcome;
    const char *detail = x->errbuf[0] ? x->errbuf : curl->easy_strerror(rc);
    switch (rc) {
    case CURLE_OK:
        if (status >= 200 && status < 300) {
            outcome = CD_FETCH_OK;
        } else if (status == 304) {
            outcome = CD_FETCH_NOT_MODIFIED;
        } else {
            outcome = CD_FETCH_HTTP_ERROR;
            retry = status == 429 || status >= 500;
            snprintf(x->error, sizeof x->error, "HTTP %ld", status);
        }
        break;
    case CURLE_OPERATION_TIMEDOUT:
        outcome = CD_FETCH_TIMEOUT;
        retry = 1;
        snprintf(x->error, sizeof x->error, "timed out (connect limit %ld ms, total %ld ms)",
                 f->opt.connect_timeout_ms, f->opt.timeout_ms);
        break;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            outcome = CD_FETCH_TOO_LARGE;
            snprintf(x->error, sizeof x->error, "body over %zu bytes", x->max_body);
        } else {
            outcome = CD_FETCH_NETWORK_ERROR;
            snprintf(x->error, sizeof x->error, "out of memory for the body");
        }
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        outcome = CD_FETCH_TOO_MANY_REDIRECTS;
        snprintf(x->error, sizeof x->error, "more than %u redirects", f->opt.max_redirects);
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        outcome = CD_FETCH_REFUSED;
        snprintf(x->error, sizeof x->error,
                 "redirected to a URL that is not http:// or https:// (%.120s)", detail);
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        outcome = CD_FETCH_NETWORK_ERROR;
        retry = 1;
        snprintf(x->error, sizeof x->error, "%.240s", detail);
        break;
    default:
        outcome = CD_FETCH_NETWORK_ERROR;
        snprintf(x->error, sizeof x->error, "%.240s", detail);
        break;
    }
    if (x->blocked) { /* connecting to a private address was refused: final */
        outcome = CD_FETCH_REFUSED;
        retry = 0;
        snprintf(x->error, sizeof x->error,
                 "%s is a loopback, private or link-local address (public addresses only)",
                 x->blocked_address);
    }
    /* A robots.txt over the limit is read as far as it goes (RFC 9309). */
    if (x->id == (size_t)-1 && outcome == CD_FETCH_TOO_LARGE && x->too_large)
        outcome = CD_FETCH_OK;
    if (retry && x->attempts <= f->opt.retries && f->cancel == 0) {
        detach(f, x);
        x->state = WAITING;
        x->not_before = now + (double)backoff(f, x) / 1000.0;
        x->body_len = 0;
        f->stats.retries++;
        return;
    }
    if (retry && x->attempts > 1) {
        size_t n = strlen(x->error);
        snprintf(x->error + n, sizeof x->error - n, " (after %u attempts)", x->attempts);
    }
    finish(f, x, outcome, now);
}

/* ------------------------------------------------------------------ robots */

/* Starts fetching the robots.txt of origin o. Returns 0 or -1 (NOMEM). */
static int want_robots(cd_fetcher *f, size_t o, int public_only)
{
    origin *org = &f->origins[o];
    char url[1100];
    const char *key = org->key;
    /* key is scheme://host:port */
    snprintf(url, sizeof url, "%s/robots.txt", key);
    cd_fetch_request r = {url, NULL, NULL, "text/plain", 0, public_only};
    if (cd__grow((void **)&f->robots, &f->robots_cap, f->robots_count + 1, sizeof *f->robots))
        return -1;
    xfer *x = xfer_new(f, &r, (size_t)-1);
    if (!x)
        return -1;
    x->max_body = CD__ROBOTS_MAX_BYTES < f->opt.max_body ? CD__ROBOTS_MAX_BYTES : f->opt.max_body;
    x->origin = o;
    f->robots[f->robots_count++] = x;
    org->robots_state = 1;
    return 0;
}

/* A robots.txt transfer has ended: keep its rules. */
static void robots_done(cd_fetcher *f, xfer *x, double now)
{
    origin *org = &f->origins[x->origin];
    if (x->outcome == CD_FETCH_CANCELLED) { /* nothing learned: ask again next time */
        org->robots_state = 0;
        return;
    }
    cd__robots *r;
    if (x->outcome == CD_FETCH_OK)
        r = cd__robots_parse(x->body ? x->body : "", x->body_len, f->robots_agent);
    else if ((x->outcome == CD_FETCH_HTTP_ERROR && x->status >= 400 && x->status < 500) ||
             x->outcome == CD_FETCH_TOO_MANY_REDIRECTS || x->outcome == CD_FETCH_REFUSED)
        r = cd__robots_all(1); /* unavailable: everything allowed */
    else
        r = cd__robots_all(0); /* unreachable: nothing allowed (RFC 9309 2.3.1.4) */
    cd__robots_free(org->robots);
    org->robots = r; /* NULL (out of memory) allows, as cd__robots_allowed says */
    org->robots_state = 2;
    org->robots_time = now;
    f->stats.robots_fetched++;
}

/* --------------------------------------------------------------------- run */

/* Starts what may start; returns the earliest time a waiting request may
 * start (or a large value when none waits on time). */
static double schedule(cd_fetcher *f, double now, int *pending, int *failed)
{
    double next = now + 3600;
    *pending = 0;
    /* robots.txt transfers first: requests wait on them */
    for (size_t i = 0; i < f->robots_count; i++) {
        xfer *x = f->robots[i];
        if (x->state == RUNNING) {
            *pending = 1;
        } else if (x->state == WAITING) {
            *pending = 1;
            if (f->cancel) {
                finish(f, x, CD_FETCH_CANCELLED, now);
            } else if (x->not_before > now) {
                if (x->not_before < next)
                    next = x->not_before;
            } else if (f->running < f->opt.max_parallel &&
                       f->origins[x->origin].running < f->opt.max_per_host) {
                if (start(f, x, now) != 0)
                    finish(f, x, CD_FETCH_NETWORK_ERROR, now);
            }
        }
    }
    while (f->first_open < f->count && f->xfers[f->first_open]->state == DONE)
        f->first_open++;
    for (size_t i = f->first_open; i < f->count; i++) {
        xfer *x = f->xfers[i];
        if (x->state == RUNNING)
            *pending = 1;
        if (x->state != WAITING)
            continue;
        *pending = 1;
        if (f->cancel) {
            snprintf(x->error, sizeof x->error, "cancelled");
            finish(f, x, CD_FETCH_CANCELLED, now);
            continue;
        }
        if (x->origin == (size_t)-1) { /* refused at add; its message is set */
            finish(f, x, CD_FETCH_REFUSED, now);
            continue;
        }
        if (x->not_before > now) {
            if (x->not_before < next)
                next = x->not_before;
            continue;
        }
        origin *org = &f->origins[x->origin];
        if (x->robots) {
            if (org->robots_state == 2 && now - org->robots_time > (double)f->opt.robots_ttl)
                org->robots_state = 0;
            if (org->robots_state == 0) {
                if (want_robots(f, x->origin, x->public_only) != 0) {
                    *failed = 1;
                    return now;
                }
                continue;
            }
            if (org->robots_state == 1)
                continue;
            if (!cd__robots_allowed(org->robots, x->path)) {
                f->stats.robots_denied++;
                snprintf(x->error, sizeof x->error, "robots.txt of %s disallows %s", org->key,
                         x->path);
                finish(f, x, CD_FETCH_ROBOTS_DENIED, now);
                continue;
            }
        }
        if (f->running >= f->opt.max_parallel || org->running >= f->opt.max_per_host)
            continue;
        if (start(f, x, now) != 0)
            finish(f, x, CD_FETCH_NETWORK_ERROR, now);
    }
    return next;
}

/* Removes finished robots.txt transfers (their rules are kept). */
static void sweep_robots(cd_fetcher *f)
{
    size_t k = 0;
    for (size_t i = 0; i < f->robots_count; i++) {
        xfer *x = f->robots[i];
        if (x->state == DONE)
            xfer_free(x);
        else
            f->robots[k++] = x;
    }
    f->robots_count = k;
}

cd_status cd_fetcher_run(cd_fetcher *f, const cd_fetch_hooks *hooks)
{
    if (!f)
        return CD_ERR_ARG;
    f->hooks = hooks;
    f->cancel = 0;
    cd_status status = CD_OK;
    for (;;) {
        double now = cd__now();
        if (hooks && hooks->cancel) {
            int c = hooks->cancel(hooks->user);
            if (c > f->cancel)
                f->cancel = c;
        }
        if (f->cancel >= 2) { /* abort what runs */
            for (size_t i = 0; i < f->robots_count; i++)
                if (f->robots[i]->state == RUNNING)
                    finish(f, f->robots[i], CD_FETCH_CANCELLED, now);
            for (size_t i = f->first_open; i < f->count; i++)
                if (f->xfers[i]->state == RUNNING) {
                    snprintf(f->xfers[i]->error, sizeof f->xfers[i]->error, "cancelled");
                    finish(f, f->xfers[i], CD_FETCH_CANCELLED, now);
                }
        }
        int pending = 0, failed = 0;
        double next = schedule(f, now, &pending, &failed);
        sweep_robots(f);
        if (failed) {
            cd__set_error(f->errmsg, "out of memory");
            status = CD_ERR_NOMEM;
            break;
        }
        if (!pending)
            break;
        int still = 0;
        CURLMcode mc = curl->multi_perform(f->multi, &still);
        if (mc != CURLM_OK) {
            cd__set_error(f->errmsg, "libcurl: %s", curl->multi_strerror(mc));
            status = mc == CURLM_OUT_OF_MEMORY ? CD_ERR_NOMEM : CD_ERR_IO;
            break;
        }
        CURLMsg *msg;
        int left;
        int progressed = 0;
        while ((msg = curl->multi_info_read(f->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            xfer *x = NULL;
            curl->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            if (x) {
                ended(f, x, msg->data.result, cd__now());
                progressed = 1;
            }
        }
        if (progressed)
            continue; /* start the next ones at once */
        double wait = next - cd__now();
        int ms = wait <= 0 ? 0 : wait >= 0.1 ? 100 : (int)(wait * 1000) + 1;
        if (f->running == 0 && ms == 0)
            continue;
        mc = curl->multi_poll(f->multi, NULL, 0, ms, NULL);
        if (mc != CURLM_OK) {
            cd__set_error(f->errmsg, "libcurl: %s", curl->multi_strerror(mc));
            status = CD_ERR_IO;
            break;
        }
    }
    if (status != CD_OK) { /* end everything still open */
        double now = cd__now();
        for (size_t i = f->first_open; i < f->count; i++)
            if (f->xfers[i]->state != DONE) {
                snprintf(f->xfers[i]->error, sizeof f->xfers[i]->error, "cancelled: %.200s",
                         f->errmsg);
                finish(f, f->xfers[i], CD_FETCH_CANCELLED, now);
            }
    }
    f->hooks = NULL;
    return status;
}

cd_status cd_fetcher_result(const cd_fetcher *f, size_t id, cd_fetch_result *out)
{
    memset(out, 0, sizeof *out);
    if (!f || id >= f->count)
        return CD_ERR_ARG;
    const xfer *x = f->xfers[id];
    if (x->state != DONE)
        return CD_ERR_STATE;
    out->outcome = x->outcome;
    out->http_status = x->status;
    out->body = x->outcome == CD_FETCH_OK ? x->body : NULL;
    out->body_len = x->outcome == CD_FETCH_OK ? x->body_len : 0;
    out->final_url = x->final_url;
    out->etag = x->etag;
    out->last_modified = x->last_modified;
    out->content_type = x->content_type;
    out->attempts = x->attempts;
    out->seconds = x->attempts ? x->end - x->first_start : 0;
    out->error = x->error;
    return CD_OK;
}

void cd_fetcher_get_stats(const cd_fetcher *f, cd_fetch_stats *out)
{
    *out = f->stats;
}

const char *cd_fetcher_errmsg(const cd_fetcher *f)
{
    return f ? f->errmsg : "";
}
