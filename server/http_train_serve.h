/* http_train_serve.h — POST /train/{rnn,lstm,gru} over HTTP: a training slot, the run on its own
 * thread (http_train.h), and its answer.
 *
 * Streamed ("stream": true, the default): an NDJSON response whose lines are written as the run
 * emits them. Not streamed: the connection's thread waits for the run and answers with the done
 * object (or the error object).
 *
 * While the run goes on, the connection's thread watches its client every 100 ms
 * (http_socket.h): a client that is gone cancels the run at once. After the client's FIN — a
 * close, or a half-close by a client that still waits for its answer — a byte is written that
 * the client must accept anyway, so a closed socket answers it with a reset and the run is
 * cancelled, while a half-closed one gets its whole answer:
 *   - streamed: a space before the next line (JSON allows leading whitespace), every 100 ms;
 *   - not streamed: the answer is started at once, "200 OK" with Connection: close and no
 *     length (the body ends with the connection), then a space every 100 ms, then the JSON. The
 *     status line is sent before the outcome is known, so a run that ends in an error gives a
 *     half-closed client 200 with the error object ({"error": {"status": ...}}) as its body.
 * So a client that closes is noticed within ~0.2 s plus a round trip, and a client that
 * half-closes, then closes, too. */
#ifndef HTTP_TRAIN_SERVE_H
#define HTTP_TRAIN_SERVE_H

#include <microhttpd.h>

#include "http_req.h"
#include "srv_api.h"

/* Answer r (its body read, ctype its Content-Type or NULL); timeout_s is the connection's
 * inactivity timeout, switched off while a non-streamed run is awaited. */
enum MHD_Result http_train_serve(const srv_limits *lim, unsigned timeout_s,
                                 struct MHD_Connection *c, http_req *r, const char *ctype);

/* The final line of every open stream when the server stops. */
extern const char HTTP_TRAIN_SHUTDOWN_LINE[];

#endif
