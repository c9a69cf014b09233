/* http_route.c — request routing (see http_route.h). */
#include "http_route.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "http_assets.h"
#include "http_reply.h"

static const struct {
    const char *path, *endpoint;
    http_route_kind kind;
} POST_ROUTES[] = {
    {"/conv", "conv", HTTP_ROUTE_JSON},      {"/pool", "pool", HTTP_ROUTE_JSON},
    {"/mlp", "mlp", HTTP_ROUTE_JSON},        {"/cnn", "cnn", HTTP_ROUTE_JSON},
    {"/train/rnn", "rnn", HTTP_ROUTE_TRAIN}, {"/train/lstm", "lstm", HTTP_ROUTE_TRAIN},
    {"/train/gru", "gru", HTTP_ROUTE_TRAIN}, {"/train/cnn", "cnn", HTTP_ROUTE_TRAIN},
    {"/train/sweep", "sweep", HTTP_ROUTE_TRAIN},
    {"/run/rnn", "run/rnn", HTTP_ROUTE_JSON}, {"/run/lstm", "run/lstm", HTTP_ROUTE_JSON},
    {"/run/gru", "run/gru", HTTP_ROUTE_JSON},
    {"/check/conv", "check/conv", HTTP_ROUTE_JSON}, {"/check/pool", "check/pool", HTTP_ROUTE_JSON},
    {"/check/mlp", "check/mlp", HTTP_ROUTE_JSON},
};

int http_route_safe_path(const char *url) {
    return url[0] == '/' && !strstr(url, "/.") && !strchr(url, '\\');
}

static int web_root_has(const http_config *cfg, const char *url) {
    if (!cfg->web_root[0] || !http_route_safe_path(url)) return 0;
    char p[2048];
    snprintf(p, sizeof p, "%s%s", cfg->web_root, strcmp(url, "/") == 0 ? "/index.html" : url);
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_get_path(const http_config *cfg, const char *url) {
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) return 1;
    if (strcmp(url, "/openapi.json") == 0) return http_asset_find(url) != NULL;
    if (cfg->web_root[0]) return web_root_has(cfg, url);
    return http_asset_find(url) != NULL;
}

enum MHD_Result http_route(const http_config *cfg, struct MHD_Connection *c, http_req *r,
                           const char *url, const char *method) {
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < sizeof POST_ROUTES / sizeof POST_ROUTES[0]; i++)
        if (strcmp(url, POST_ROUTES[i].path) == 0) {
            if (strcmp(method, "POST") != 0)
                return http_reply_error(c, r, 405, "method_not_allowed", "method", "POST",
                                        "%s %s: only POST is allowed", r->method, r->path);
            r->route = POST_ROUTES[i].kind;
            r->endpoint = POST_ROUTES[i].endpoint;
            return MHD_YES;
        }
    if (is_get_path(cfg, url)) {
        if (!is_get)
            return http_reply_error(c, r, 405, "method_not_allowed", "method", "GET, HEAD",
                                    "%s %s: only GET and HEAD are allowed", r->method, r->path);
        r->route = strcmp(url, "/healthz") == 0   ? HTTP_ROUTE_HEALTHZ
                   : strcmp(url, "/metrics") == 0 ? HTTP_ROUTE_METRICS
                                                  : HTTP_ROUTE_STATIC;
        return MHD_YES;
    }
    return http_reply_error(c, r, 404, "not_found", "path", NULL, "no such path: %s", r->path);
}
