/* http_config.h — nnlabd's run-time configuration: command-line flags and NNLAB_* variables.
 *
 * Every setting has a default, may be set by an environment variable, and is overridden by its
 * flag (flag > environment > default). `nnlabd --help` prints the table below with defaults. */
#ifndef HTTP_CONFIG_H
#define HTTP_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "srv_api.h"

#ifndef NNLABD_VERSION
#define NNLABD_VERSION "0.1.0"
#endif

/* --max-memory off: the memory budget is switched off. */
#define HTTP_MAX_MEMORY_OFF SIZE_MAX

/* A request head (request line and headers) over this many bytes gets 431 with the JSON error.
 * libmicrohttpd keeps the head in a per-connection buffer of HTTP_CONNECTION_MEMORY bytes (its
 * MHD_OPTION_CONNECTION_MEMORY_LIMIT); a head that does not even fit there is answered by the
 * library itself (431, or 414 for the request line), with its own HTML body. */
#define HTTP_MAX_HEADER_BYTES ((size_t)32 << 10)
#define HTTP_CONNECTION_MEMORY ((size_t)64 << 10)

typedef struct http_config {
    char host[256];          /* address to bind (numeric or a name), default 127.0.0.1 */
    unsigned port;           /* TCP port; 0 picks a free one (printed on stdout) */
    unsigned threads;        /* compute threads per request (0 = all cores) */
    unsigned max_connections;
    unsigned max_conns_per_ip;   /* per client address (IPv6: /64); 0 = no limit (http_guard.h) */
    unsigned reserve_conns;      /* kept free for new clients; at most max_connections / 4 */
    unsigned timeout_s;          /* inactivity timeout of a connection, seconds */
    unsigned request_timeout_s;  /* total time for a request (headers and body) to arrive */
    char web_root[1024];     /* "" = serve the embedded web/ files; else serve from this dir */
    char data_dir[1024];     /* Fashion-MNIST's files (default NN_FASHION_DIR) */
    size_t max_memory;       /* bytes JSON requests may hold at once (srv_budget.h); 0 = auto,
                                HTTP_MAX_MEMORY_OFF ("off") = no limit */
    srv_limits lim;
} http_config;

/* Defaults, then NNLAB_* environment variables, then argv. Returns 0 on success, 1 when --help
 * or --version was handled (text written to out), -1 on a bad flag/value (message in err). */
int http_config_load(http_config *cfg, int argc, char **argv, FILE *out, char *err, size_t errlen);

/* Write the --help text (flags, variables, defaults) to out. */
void http_config_usage(FILE *out);

#endif
