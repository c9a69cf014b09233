/* http_reply.c — queueing answers on libmicrohttpd connections (see http_reply.h). */
#include "http_reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void answered(http_req *r, int status, size_t bytes) {
    r->responded = 1;
    r->status = status;
    r->bytes = bytes;
    http_conn_busy(r->conn);
}

void http_reply_written(http_req *r, int status, size_t bytes) { answered(r, status, bytes); }

static enum MHD_Result queue(struct MHD_Connection *c, http_req *r, int status,
                             struct MHD_Response *resp, size_t len) {
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES) answered(r, status, len);
    return ok;
}

enum MHD_Result http_reply_body(struct MHD_Connection *c, http_req *r, int status,
                                const char *ctype, char *body, size_t len, int retry_after,
                                const char *allow) {
    struct MHD_Response *resp =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    return queue(c, r, status, resp, body ? len : 0);
}

enum MHD_Result http_reply_static(struct MHD_Connection *c, http_req *r, const char *ctype,
                                  const void *data, size_t len) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return queue(c, r, 200, resp, len);
}

enum MHD_Result http_reply_srv(struct MHD_Connection *c, http_req *r, srv_response *sr,
                               const char *allow) {
    char *body = sr->body;
    sr->body = NULL; /* MHD frees it */
    enum MHD_Result ok = http_reply_body(c, r, sr->status, sr->content_type, body, sr->len,
                                         sr->retry_after, allow);
    srv_response_free(sr);
    return ok;
}

enum MHD_Result http_reply_error(struct MHD_Connection *c, http_req *r, int status,
                                 const char *code, const char *field, const char *allow,
                                 const char *fmt, ...) {
    srv_response sr;
    memset(&sr, 0, sizeof sr);
    va_list ap;
    va_start(ap, fmt);
    srv_verror(&sr, status, code, field, fmt, ap);
    va_end(ap);
    if (status == 503 && sr.retry_after <= 0) sr.retry_after = HTTP_RETRY_AFTER_S;
    return http_reply_srv(c, r, &sr, allow);
}

enum MHD_Result http_reply_stream(struct MHD_Connection *c, http_req *r, const char *ctype,
                                  MHD_ContentReaderCallback reader, void *reader_cls) {
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, reader_cls, NULL);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return queue(c, r, 200, resp, 0);
}
