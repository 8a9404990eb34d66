#ifndef CCURL_H
#define CCURL_H

#include <stddef.h>
#include <stdint.h>

/// Receives body bytes; returns nonzero to go on, 0 to abort the transfer.
typedef int (*ccurl_data_fn)(const char *data, size_t size, void *context);

/// Receives one response header line (with its line end); returns nonzero to go on.
typedef int (*ccurl_header_fn)(const char *data, size_t size, void *context);

/// One request (http, https or file), as updatectl needs it: a GET by default.
typedef struct ccurl_request {
    const char *url;
    /// "HEAD" (no body), "POST", "PUT", "DELETE"…; NULL for GET.
    const char *method;
    /// Request header lines ("Accept: …"), `header_count` of them.
    const char *const *headers;
    int header_count;
    /// A request body (POST, PUT) of `body_size` bytes; NULL for none.
    const char *body;
    size_t body_size;
    long connect_timeout_ms;
    /// Whole-transfer deadline; 0 for none.
    long timeout_ms;
    /// Abort when slower than `low_speed_bytes` per second for `low_speed_seconds`; 0 for never.
    long low_speed_bytes;
    long low_speed_seconds;
    long max_redirects;
    /// Comma-separated schemes allowed for the URL and for redirects ("http,https,file", "https").
    const char *protocols;
    const char *redirect_protocols;
    const char *user_agent;
    /// PEM files, or NULL: the certificate authorities that sign the server's certificate
    /// (instead of the system's), and a client certificate with its key.
    const char *ca_file;
    const char *cert_file;
    const char *key_file;
    /// Set the scheme allow-lists with the old bitmask options even when the string options
    /// exist (tests exercise the path a libcurl older than 7.85.0 takes).
    int legacy_protocol_options;
    /// Bytes per second the body may arrive at, at most; 0 for no cap.
    long long max_recv_speed;
    /// The proxy ("http://host:port"), "" for none whatever the environment says, or NULL for
    /// libcurl's default (the http_proxy, https_proxy and no_proxy environment variables).
    const char *proxy;
    /// Hosts reached without the proxy (libcurl's comma list); NULL for the environment's.
    const char *no_proxy;
    ccurl_data_fn on_data;
    /// Optional: every response header line, of every response (redirects included).
    ccurl_header_fn on_header;
    void *context;
} ccurl_request;

typedef struct ccurl_result {
    /// libcurl's CURLcode; 0 is success.
    int code;
    /// The HTTP status; 0 for file URLs.
    long status;
    /// Redirects followed.
    long redirects;
    /// Whether the transfer stopped because `on_data` returned 0.
    int aborted_by_callback;
    /// Whether the code means the deadline or the low-speed limit.
    int timed_out;
    /// Whether the code means too many redirects.
    int too_many_redirects;
    /// Whether the code means a scheme that was not allowed (a redirect from https to http).
    int protocol_refused;
    /// libcurl refused an option (named in `error`): nothing was fetched.
    int option_refused;
    char error[512];
    /// The URL that answered (after the redirects followed), and the absolute URL a 3xx answer
    /// points to when redirects are not followed (empty for none). A longer URL sets `url_too_long`
    /// (4096 bytes: Swift does not import a longer C array).
    char effective_url[4096];
    char redirect_url[4096];
    int url_too_long;
} ccurl_result;

/// Loads libcurl on first use (it is not linked, so commands that never fetch do not pay for it).
/// Returns 1 when it is available; otherwise 0 with a reason in `error`.
int ccurl_load(char *error, size_t error_size);

/// Performs the request. Returns `result->code`.
int ccurl_get(const ccurl_request *request, ccurl_result *result);

#endif
