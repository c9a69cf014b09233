/* http_reply.h — queue an answer on a libmicrohttpd connection and record it in the request
 * (status, bytes, "responded"; the connection counts as busy from then on, http_guard.h).
 * Each returns MHD_queue_response's result (MHD_NO: libmicrohttpd closes the connection). */
#ifndef HTTP_REPLY_H
#define HTTP_REPLY_H

#include <microhttpd.h>

#include "http_req.h"
#include "srv_api.h"

/* Seconds a 503 "busy" asks the client to wait when the handler did not say. */
#define HTTP_RETRY_AFTER_S 5

/* `body` (malloc'd or NULL; ownership taken) with its headers (Retry-After when > 0, Allow when
 * not NULL). */
enum MHD_Result http_reply_body(struct MHD_Connection *c, http_req *r, int status,
                                const char *ctype, char *body, size_t len, int retry_after,
                                const char *allow);
/* Static bytes that outlive the daemon (embedded page files), with Cache-Control: no-cache. */
enum MHD_Result http_reply_static(struct MHD_Connection *c, http_req *r, const char *ctype,
                                  const void *data, size_t len);
/* A handler's response (its body is taken; *sr is emptied). */
enum MHD_Result http_reply_srv(struct MHD_Connection *c, http_req *r, srv_response *sr,
                               const char *allow);
/* The contract's error object {"error":{status, code, message, field}}, built by srv_verror (the
 * same message limit); 503 gets Retry-After. */
#if defined(__GNUC__)
__attribute__((format(printf, 7, 8)))
#endif
enum MHD_Result http_reply_error(struct MHD_Connection *c, http_req *r, int status,
                                 const char *code, const char *field, const char *allow,
                                 const char *fmt, ...);

/* 200 with a body of unknown length produced by `reader` (chunked; libmicrohttpd calls it on
 * the connection's thread), not cached nor buffered by a proxy (X-Accel-Buffering: no). */
enum MHD_Result http_reply_stream(struct MHD_Connection *c, http_req *r, const char *ctype,
                                  MHD_ContentReaderCallback reader, void *reader_cls);

/* Record that r was answered straight on the socket (http_socket.h), past libmicrohttpd. */
void http_reply_written(http_req *r, int status, size_t bytes);

#endif
