/* fetch_curl.c: libcurl loaded at run time (see fetch_curl.h). */
#include "fetch_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static cd__curl_api api;
static char load_error[256];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* Finds name in lib and stores it in *slot; records the first failure. */
static void find(void *lib, const char *name, void *slot)
{
    void *fn = dlsym(lib, name);
    if (!fn && !load_error[0])
        snprintf(load_error, sizeof load_error, "libcurl has no %s (too old?)", name);
    *(void **)slot = fn;
}

static void load(void)
{
    const char *names[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !lib; i++)
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error, "cannot load libcurl: %s", dlerror());
        return;
    }
    /* never closed: libcurl stays loaded for the life of the process */
    find(lib, "curl_global_init_mem", &api.global_init_mem);
    find(lib, "curl_easy_init", &api.easy_init);
    find(lib, "curl_easy_setopt", &api.easy_setopt);
    find(lib, "curl_easy_getinfo", &api.easy_getinfo);
    find(lib, "curl_easy_header", &api.easy_header);
    find(lib, "curl_easy_cleanup", &api.easy_cleanup);
    find(lib, "curl_easy_strerror", &api.easy_strerror);
    find(lib, "curl_multi_init", &api.multi_init);
    find(lib, "curl_multi_add_handle", &api.multi_add_handle);
    find(lib, "curl_multi_remove_handle", &api.multi_remove_handle);
    find(lib, "curl_multi_perform", &api.multi_perform);
    find(lib, "curl_multi_poll", &api.multi_poll);
    find(lib, "curl_multi_info_read", &api.multi_info_read);
    find(lib, "curl_multi_strerror", &api.multi_strerror);
    find(lib, "curl_multi_cleanup", &api.multi_cleanup);
    find(lib, "curl_slist_append", &api.slist_append);
    find(lib, "curl_slist_free_all", &api.slist_free_all);
    find(lib, "curl_url", &api.url);
    find(lib, "curl_url_set", &api.url_set);
    find(lib, "curl_url_get", &api.url_get);
    find(lib, "curl_url_strerror", &api.url_strerror);
    find(lib, "curl_url_cleanup", &api.url_cleanup);
    find(lib, "curl_free", &api.free);
}

const cd__curl_api *cd__curl_load(char *reason, size_t reason_size)
{
    pthread_once(&load_once, load);
    if (load_error[0]) {
        if (reason && reason_size)
            snprintf(reason, reason_size, "%s", load_error);
        return NULL;
    }
    return &api;
}
