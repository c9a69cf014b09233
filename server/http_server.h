/* http_server.h — nnlabd's HTTP layer over libmicrohttpd: it only moves bytes.
 *
 * Thread-per-connection mode (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD):
 * every connection has its own thread, so a /conv computing, a training stream waiting for its
 * next line, and a /healthz never wait for each other, and a handler may simply block while it
 * computes or waits for a training thread. The price is that connections are scarce (the
 * connection limit bounds the thread count); the connection guard (http_guard.h) keeps slow or
 * greedy clients from holding them: a total deadline for each request to arrive, a limit per
 * client address, and a reserve of free slots kept by closing the oldest connection that is
 * still waiting for its request.
 *
 * Per request (http_server.c): the head is checked (size, body framing: 431 / 501 / 400 in
 * JSON), the path routed (404 / 405 with Allow, http_route.h), the body read in chunks into a
 * buffer capped at lim.max_body_bytes (413 as soon as the cap is passed, or before reading at
 * all when Content-Length says so) and reserved for in the memory budget, then handed to
 * srv_handle_json() or a training thread (http_train_serve.h) and the answer written back; one
 * log line per request goes to stderr and the metrics (http_metrics.h). */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include "http_config.h"

typedef struct http_server http_server;

/* Bind and start serving. Returns NULL with a message in err on failure. cfg is copied. */
http_server *http_server_start(const http_config *cfg, char *err, size_t errlen);

/* The TCP port actually bound (useful with port 0). */
unsigned http_server_port(const http_server *s);
/* The connection reserve in force (--reserve-connections, capped at a quarter of the limit). */
unsigned http_server_reserve(const http_server *s);

/* Graceful stop: stop accepting, end every open training stream with an {"type":"error"} line,
 * cancel the requests being computed, wait (at most grace_ms) for responses in flight, then
 * stop and free everything. */
void http_server_stop(http_server *s, int grace_ms);

#endif
