/* http_route.h — which handler a request goes to: the POST endpoints of the API, the GET paths
 * (/healthz, /metrics, /openapi.json, the page's files), 404 for anything else and 405 (with
 * Allow) for a known path with the wrong method. */
#ifndef HTTP_ROUTE_H
#define HTTP_ROUTE_H

#include <microhttpd.h>

#include "http_config.h"
#include "http_req.h"

/* Set r->route and r->endpoint, or answer 404 / 405 at once (before any body is read). */
enum MHD_Result http_route(const http_config *cfg, struct MHD_Connection *c, http_req *r,
                           const char *url, const char *method);

/* A page-file path that may be mapped onto --web-root: no "..", no hidden files, no '\'. */
int http_route_safe_path(const char *url);

#endif
