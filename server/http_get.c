/* http_get.c — the GET answers (see http_get.h). */
#include "http_get.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_assets.h"
#include "http_metrics.h"
#include "http_reply.h"
#include "http_train.h"
#include "srv_budget.h"
#include "srv_dataset.h"
#include "srv_vocab.h"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n >= 0 && n <= (64L << 20) && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    if (buf) *len = (size_t)n;
    return buf;
}

enum MHD_Result http_get_static(const http_config *cfg, struct MHD_Connection *c, http_req *r,
                                const char *url) {
    const char *name = strcmp(url, "/") == 0 ? "/index.html" : url;
    if (cfg->web_root[0] && strcmp(url, "/openapi.json") != 0) {
        char p[2048];
        snprintf(p, sizeof p, "%s%s", cfg->web_root, name);
        size_t len = 0;
        char *data = read_file(p, &len);
        if (!data)
            return http_reply_error(c, r, 404, "not_found", "path", NULL, "cannot read %s",
                                    r->path);
        return http_reply_body(c, r, 200, http_content_type(name), data, len, 0, NULL);
    }
    const http_asset *a = http_asset_find(url);
    if (!a)
        return http_reply_error(c, r, 404, "not_found", "path", NULL, "no such path: %s", r->path);
    return http_reply_static(c, r, http_content_type(name), a->data, a->len);
}

static void add_limits(cJSON *lim, const http_config *cfg, unsigned reserve) {
    const srv_limits *l = &cfg->lim;
    cJSON_AddNumberToObject(lim, "max_body_bytes", (double)l->max_body_bytes);
    cJSON_AddNumberToObject(lim, "max_image_side", (double)l->max_image_side);
    cJSON_AddNumberToObject(lim, "max_tensor_elems", (double)l->max_tensor_elems);
    cJSON_AddNumberToObject(lim, "max_work_flops", l->max_work_flops);
    cJSON_AddNumberToObject(lim, "max_samples", (double)l->max_samples);
    cJSON_AddNumberToObject(lim, "max_epochs", (double)l->max_epochs);
    cJSON_AddNumberToObject(lim, "max_length", (double)l->max_length);
    cJSON_AddNumberToObject(lim, "max_hidden", (double)l->max_hidden);
    cJSON_AddNumberToObject(lim, "max_trainings", (double)l->max_trainings);
    cJSON_AddNumberToObject(lim, "max_train_seconds", l->max_train_seconds);
    cJSON_AddNumberToObject(lim, "max_connections", (double)cfg->max_connections);
    cJSON_AddNumberToObject(lim, "max_connections_per_ip", (double)cfg->max_conns_per_ip);
    cJSON_AddNumberToObject(lim, "reserve_connections", (double)reserve);
    cJSON_AddNumberToObject(lim, "timeout_s", (double)cfg->timeout_s);
    cJSON_AddNumberToObject(lim, "request_timeout_s", (double)cfg->request_timeout_s);
    cJSON_AddNumberToObject(lim, "max_header_bytes", (double)HTTP_MAX_HEADER_BYTES);
    cJSON_AddNumberToObject(lim, "max_memory_bytes", (double)srv_budget_total());
}

enum MHD_Result http_get_healthz(const http_config *cfg, unsigned reserve, unsigned open,
                                 struct MHD_Connection *c, http_req *r) {
    cJSON *o = cJSON_CreateObject(), *lim = cJSON_CreateObject();
    if (o && lim) {
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddStringToObject(o, "version", NNLABD_VERSION);
        add_limits(lim, cfg, reserve);
        cJSON_AddItemToObject(o, "limits", lim);
        lim = NULL;
        cJSON *types = srv_vocab_layer_types();
        if (types) cJSON_AddItemToObject(o, "layer_types", types);
        cJSON_AddNumberToObject(o, "active_trainings", (double)http_train_active());
        cJSON_AddNumberToObject(o, "memory_reserved_bytes", (double)srv_budget_used());
        srv_dataset_health(o);
        cJSON_AddNumberToObject(o, "open_connections", (double)open);
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    cJSON_Delete(lim);
    if (!text) return http_reply_error(c, r, 503, "busy", NULL, NULL, "out of memory");
    /* cJSON allocates with malloc by default, so MHD may free() it. */
    return http_reply_body(c, r, 200, "application/json", text, strlen(text), 0, NULL);
}

enum MHD_Result http_get_metrics(struct MHD_Connection *c, http_req *r) {
    size_t len = 0;
    char *text = http_metrics_render(&len);
    if (!text) return http_reply_error(c, r, 503, "busy", NULL, NULL, "out of memory");
    return http_reply_body(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, 0,
                           NULL);
}
