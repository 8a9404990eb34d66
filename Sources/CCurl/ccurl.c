#include "ccurl.h"

#include "curl_abi.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// libcurl's functions, found with dlsym; the updatectl binary does not link libcurl.
static curl_global_init_fn *p_global_init;
static curl_easy_init_fn *p_easy_init;
static curl_easy_setopt_fn *p_easy_setopt;
static curl_easy_perform_fn *p_easy_perform;
static curl_easy_getinfo_fn *p_easy_getinfo;
static curl_easy_cleanup_fn *p_easy_cleanup;
static curl_easy_strerror_fn *p_easy_strerror;
static curl_slist_append_fn *p_slist_append;
static curl_slist_free_all_fn *p_slist_free_all;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];
static int loaded;

static void load(void) {
    const char *names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so", "libcurl.4.dylib", NULL};
    void *handle = NULL;
    for (int i = 0; names[i] && !handle; i++) handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(load_error, sizeof load_error, "libcurl is not installed (%s); install libcurl4", dlerror());
        return;
    }
#define SYM(var, name)                                                                  \
    var = (__typeof__(var))dlsym(handle, name);                                         \
    if (!var) {                                                                         \
        snprintf(load_error, sizeof load_error, "libcurl lacks %s", name);              \
        return;                                                                         \
    }
    SYM(p_global_init, "curl_global_init")
    SYM(p_easy_init, "curl_easy_init")
    SYM(p_easy_setopt, "curl_easy_setopt")
    SYM(p_easy_perform, "curl_easy_perform")
    SYM(p_easy_getinfo, "curl_easy_getinfo")
    SYM(p_easy_cleanup, "curl_easy_cleanup")
    SYM(p_easy_strerror, "curl_easy_strerror")
    SYM(p_slist_append, "curl_slist_append")
    SYM(p_slist_free_all, "curl_slist_free_all")
#undef SYM
    if (p_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed");
        return;
    }
    loaded = 1;
}

int ccurl_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (!loaded && error && error_size) snprintf(error, error_size, "%s", load_error);
    return loaded;
}

typedef struct {
    const ccurl_request *request;
    int aborted;
} transfer;

static size_t write_cb(char *data, size_t size, size_t count, void *user) {
    transfer *t = user;
    size_t total = size * count;
    if (!t->request->on_data(data, total, t->request->context)) {
        t->aborted = 1;
        return 0;
    }
    return total;
}

static size_t header_cb(char *data, size_t size, size_t count, void *user) {
    transfer *t = user;
    size_t total = size * count;
    if (t->request->on_header && !t->request->on_header(data, total, t->request->context)) return 0;
    return total;
}

/// "http,https,file" as libcurl's CURLPROTO_* bitmask.
static long protocol_mask(const char *list) {
    long mask = 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t length = end ? (size_t)(end - p) : strlen(p);
        if (length == 4 && strncmp(p, "http", 4) == 0) mask |= CURLPROTO_HTTP;
        if (length == 5 && strncmp(p, "https", 5) == 0) mask |= CURLPROTO_HTTPS;
        if (length == 4 && strncmp(p, "file", 4) == 0) mask |= CURLPROTO_FILE;
        if (!end) break;
        p = end + 1;
    }
    return mask;
}

int ccurl_get(const ccurl_request *request, ccurl_result *result) {
    memset(result, 0, sizeof *result);
    if (!ccurl_load(result->error, sizeof result->error)) {
        result->code = -1;
        return -1;
    }
    CURL *curl = p_easy_init();
    if (!curl) {
        result->code = -1;
        snprintf(result->error, sizeof result->error, "curl_easy_init failed");
        return -1;
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    transfer t = {request, 0};
    struct curl_slist *headers = NULL;
    // Every option is checked: a libcurl that refuses one (too old, built without a feature)
    // fails the request closed instead of fetching with a safeguard silently missing.
#define SETOPT(option, value)                                                                       \
    do {                                                                                           \
        CURLcode set = p_easy_setopt(curl, option, value);                                         \
        if (set != CURLE_OK) {                                                                     \
            result->code = set;                                                                    \
            result->option_refused = 1;                                                            \
            snprintf(result->error, sizeof result->error, "libcurl refused the option %s (%s)",   \
                     #option, p_easy_strerror(set));                                               \
            if (headers) p_slist_free_all(headers);                                                \
            p_easy_cleanup(curl);                                                                  \
            return set;                                                                            \
        }                                                                                          \
    } while (0)
    SETOPT(CURLOPT_URL, request->url);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, &t);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, request->connect_timeout_ms);
    if (request->timeout_ms > 0) SETOPT(CURLOPT_TIMEOUT_MS, request->timeout_ms);
    if (request->low_speed_seconds > 0) {
        SETOPT(CURLOPT_LOW_SPEED_LIMIT, request->low_speed_bytes);
        SETOPT(CURLOPT_LOW_SPEED_TIME, request->low_speed_seconds);
    }
    SETOPT(CURLOPT_FOLLOWLOCATION, request->max_redirects > 0 ? 1L : 0L);
    SETOPT(CURLOPT_MAXREDIRS, request->max_redirects);
    // The scheme allow-lists: the string options (libcurl >= 7.85.0), else the bitmask ones.
    int legacy = request->legacy_protocol_options;
    if (!legacy && request->protocols) {
        CURLcode set = p_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, request->protocols);
        if (set == CURLE_UNKNOWN_OPTION) legacy = 1;
        else if (set != CURLE_OK) SETOPT(CURLOPT_PROTOCOLS_STR, request->protocols);
    }
    if (!legacy && request->redirect_protocols) SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, request->redirect_protocols);
    if (legacy) {
        if (request->protocols) SETOPT(CURLOPT_PROTOCOLS, protocol_mask(request->protocols));
        if (request->redirect_protocols) SETOPT(CURLOPT_REDIR_PROTOCOLS, protocol_mask(request->redirect_protocols));
    }
    if (request->user_agent) SETOPT(CURLOPT_USERAGENT, request->user_agent);
    if (request->ca_file) SETOPT(CURLOPT_CAINFO, request->ca_file);
    if (request->cert_file) SETOPT(CURLOPT_SSLCERT, request->cert_file);
    if (request->key_file) SETOPT(CURLOPT_SSLKEY, request->key_file);
    if (request->max_recv_speed > 0) SETOPT(CURLOPT_MAX_RECV_SPEED_LARGE, request->max_recv_speed);
    if (request->proxy) SETOPT(CURLOPT_PROXY, request->proxy);
    if (request->no_proxy) SETOPT(CURLOPT_NOPROXY, request->no_proxy);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, &t);
    for (int i = 0; i < request->header_count; i++) {
        struct curl_slist *longer = p_slist_append(headers, request->headers[i]);
        if (!longer) {
            result->code = -1;
            snprintf(result->error, sizeof result->error, "curl_slist_append failed");
            if (headers) p_slist_free_all(headers);
            p_easy_cleanup(curl);
            return -1;
        }
        headers = longer;
    }
    if (headers) SETOPT(CURLOPT_HTTPHEADER, headers);
    if (request->method && strcmp(request->method, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else if (request->method) {
        SETOPT(CURLOPT_CUSTOMREQUEST, request->method);
    }
    if (request->body) {
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (long long)request->body_size);
        SETOPT(CURLOPT_POSTFIELDS, request->body);
    }
#undef SETOPT
    CURLcode code = p_easy_perform(curl);
    long status = 0, redirects = 0;
    p_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    p_easy_getinfo(curl, CURLINFO_REDIRECT_COUNT, &redirects);
    result->code = (int)code;
    result->status = status;
    result->redirects = redirects;
    result->aborted_by_callback = t.aborted;
    result->timed_out = code == CURLE_OPERATION_TIMEDOUT;
    result->too_many_redirects = code == CURLE_TOO_MANY_REDIRECTS;
    result->protocol_refused = code == CURLE_UNSUPPORTED_PROTOCOL;
    const char *effective = NULL, *location = NULL;
    p_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
    p_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location);
    if (effective && strlen(effective) >= sizeof result->effective_url) result->url_too_long = 1;
    else if (effective) snprintf(result->effective_url, sizeof result->effective_url, "%s", effective);
    if (location && strlen(location) >= sizeof result->redirect_url) result->url_too_long = 1;
    else if (location) snprintf(result->redirect_url, sizeof result->redirect_url, "%s", location);
    if (code != CURLE_OK) {
        snprintf(result->error, sizeof result->error, "%s", errbuf[0] ? errbuf : p_easy_strerror(code));
    }
    if (headers) p_slist_free_all(headers);
    p_easy_cleanup(curl);
    return (int)code;
}
