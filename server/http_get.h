/* http_get.h — the GET answers: the page's files (embedded, or from --web-root), GET /healthz
 * (status, version, the limits in force, what is in use now) and GET /metrics (Prometheus). */
#ifndef HTTP_GET_H
#define HTTP_GET_H

#include <microhttpd.h>

#include "http_config.h"
#include "http_guard.h"
#include "http_req.h"

enum MHD_Result http_get_static(const http_config *cfg, struct MHD_Connection *c, http_req *r,
                                const char *url);
/* reserve: the effective connection reserve; open: connections open now. */
enum MHD_Result http_get_healthz(const http_config *cfg, unsigned reserve, unsigned open,
                                 struct MHD_Connection *c, http_req *r);
enum MHD_Result http_get_metrics(struct MHD_Connection *c, http_req *r);

#endif
