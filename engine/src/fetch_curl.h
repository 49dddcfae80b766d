/* fetch_curl.h: libcurl, loaded (dlopen) by the first fetcher rather than
 * linked: only `track` fetches, and loading libcurl with the thirty-odd
 * libraries it needs cost every command 7 ms at start-up, more than the
 * rest of a small run's start. The calls keep libcurl's own prototypes. */
#ifndef CD_FETCH_CURL_H
#define CD_FETCH_CURL_H

#include <curl/curl.h>
#include <stddef.h>

/* The libcurl functions fetch.c calls, with the prototypes of curl.h. */
typedef struct cd__curl_api {
    __typeof__(curl_global_init_mem) *global_init_mem;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_header) *easy_header;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_perform) *multi_perform;
    __typeof__(curl_multi_poll) *multi_poll;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_strerror) *multi_strerror;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
    __typeof__(curl_url) *url;
    __typeof__(curl_url_set) *url_set;
    __typeof__(curl_url_get) *url_get;
    __typeof__(curl_url_strerror) *url_strerror;
    __typeof__(curl_url_cleanup) *url_cleanup;
    __typeof__(curl_free) *free;
} cd__curl_api;

/* Loads libcurl (libcurl.so.4, else libcurl-gnutls.so.4) and finds every
 * function of cd__curl_api, once per process; thread-safe. Returns the
 * functions, or NULL with why in reason (reason_size bytes) when the
 * library or a function cannot be found. */
const cd__curl_api *cd__curl_load(char *reason, size_t reason_size);

#endif
