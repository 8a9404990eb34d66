// The part of libcurl's stable ABI that the shim uses, declared here so that building updatectl
// needs no libcurl headers: libcurl is opened with dlopen at run time. The numbers are libcurl's
// own (curl/curl.h: CURLOPTTYPE_LONG 0, _OBJECTPOINT 10000, _FUNCTIONPOINT 20000, _OFF_T 30000;
// CURLINFO_STRING 0x100000, CURLINFO_LONG 0x200000), which libcurl keeps unchanged across releases.
#ifndef CCURL_ABI_H
#define CCURL_ABI_H

typedef void CURL;
typedef int CURLcode;

enum {
    CURLE_OK = 0,
    CURLE_UNSUPPORTED_PROTOCOL = 1,
    CURLE_OPERATION_TIMEDOUT = 28,
    CURLE_TOO_MANY_REDIRECTS = 47,
    CURLE_UNKNOWN_OPTION = 48,
};

enum {
    CURLOPT_LOW_SPEED_LIMIT = 19,
    CURLOPT_LOW_SPEED_TIME = 20,
    CURLOPT_FOLLOWLOCATION = 52,
    CURLOPT_MAXREDIRS = 68,
    /// Bitmask forms (libcurl < 7.85.0 has no _STR options).
    CURLOPT_PROTOCOLS = 181,
    CURLOPT_REDIR_PROTOCOLS = 182,
    CURLOPT_NOSIGNAL = 99,
    CURLOPT_TIMEOUT_MS = 155,
    CURLOPT_CONNECTTIMEOUT_MS = 156,
    CURLOPT_WRITEDATA = 10001,
    CURLOPT_URL = 10002,
    CURLOPT_ERRORBUFFER = 10010,
    CURLOPT_USERAGENT = 10018,
    CURLOPT_HTTPHEADER = 10023,
    CURLOPT_HEADERDATA = 10029,
    CURLOPT_CUSTOMREQUEST = 10036,
    CURLOPT_POSTFIELDS = 10015,
    CURLOPT_POSTFIELDSIZE_LARGE = 30120,
    CURLOPT_NOBODY = 44,
    CURLOPT_HEADERFUNCTION = 20079,
    CURLOPT_PROTOCOLS_STR = 10318,
    CURLOPT_REDIR_PROTOCOLS_STR = 10319,
    CURLOPT_WRITEFUNCTION = 20011,
    CURLOPT_SSLCERT = 10025,
    CURLOPT_CAINFO = 10065,
    CURLOPT_SSLKEY = 10087,
    CURLOPT_MAX_RECV_SPEED_LARGE = 30146,
    CURLOPT_PROXY = 10004,
    CURLOPT_NOPROXY = 10177,
};

enum {
    CURLINFO_RESPONSE_CODE = 0x200000 + 2,
    CURLINFO_REDIRECT_COUNT = 0x200000 + 20,
    CURLINFO_EFFECTIVE_URL = 0x100000 + 1,
    CURLINFO_REDIRECT_URL = 0x100000 + 31,
};

#define CURLPROTO_HTTP (1L << 0)
#define CURLPROTO_HTTPS (1L << 1)
#define CURLPROTO_FILE (1L << 10)

#define CURL_GLOBAL_DEFAULT 3L
#define CURL_ERROR_SIZE 256

struct curl_slist;

typedef CURLcode curl_global_init_fn(long flags);
typedef struct curl_slist *curl_slist_append_fn(struct curl_slist *list, const char *line);
typedef void curl_slist_free_all_fn(struct curl_slist *list);
typedef CURL *curl_easy_init_fn(void);
typedef CURLcode curl_easy_setopt_fn(CURL *curl, int option, ...);
typedef CURLcode curl_easy_perform_fn(CURL *curl);
typedef CURLcode curl_easy_getinfo_fn(CURL *curl, int info, ...);
typedef void curl_easy_cleanup_fn(CURL *curl);
typedef const char *curl_easy_strerror_fn(CURLcode code);

#endif
