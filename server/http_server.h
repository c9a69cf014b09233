/* http_server.h — nnlabd's HTTP layer over libmicrohttpd: it only moves bytes.
 *
 * Thread-per-connection mode (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD):
 * every connection has its own thread, so a /conv computing, a training stream waiting for its
 * next line, and a /healthz never wait for each other, and a content-reader callback may block
 * while it waits for the training thread. The connection limit bounds the thread count.
 *
 * Per request: the body is read in chunks into a buffer capped at lim.max_body_bytes (413 as
 * soon as the cap is passed, or before reading at all when Content-Length says so), routed
 * (404 / 405 with Allow), handed to srv_handle_json() or a training thread (http_train.h), and
 * the answer written back; one log line per request goes to stderr and the metrics. */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include "http_config.h"

typedef struct http_server http_server;

/* Bind and start serving. Returns NULL with a message in err on failure. cfg is copied. */
http_server *http_server_start(const http_config *cfg, char *err, size_t errlen);

/* The TCP port actually bound (useful with port 0). */
unsigned http_server_port(const http_server *s);

/* Graceful stop: stop accepting, end every open training stream with an {"type":"error"} line,
 * wait (at most grace_ms) for responses in flight, then stop and free everything. */
void http_server_stop(http_server *s, int grace_ms);

#endif
