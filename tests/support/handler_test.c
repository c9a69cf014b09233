/* handler_test.c — calls into the request handlers and checks of their answers; see
 * handler_test.h. */
#include "handler_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static const srv_limits *or_default(const srv_limits *lim, srv_limits *def) {
    if (lim) return lim;
    srv_limits_default(def);
    return def;
}

srv_response ht_post(const srv_limits *lim, const char *ep, const char *ct, const char *body) {
    srv_limits def;
    srv_response r;
    srv_handle_json(or_default(lim, &def), ep, ct, body, strlen(body), NULL, &r);
    return r;
}

cJSON *ht_post_ok(const srv_limits *lim, const char *ep, const char *body) {
    srv_response r = ht_post(lim, ep, "application/json", body);
    cr_assert_eq(r.status, 200, "%s: status %d: %.500s", ep, r.status, r.body);
    cr_assert_str_eq(r.content_type, "application/json");
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_not_null(j, "%s: the answer is not JSON: %.200s", ep, r.body);
    srv_response_free(&r);
    return j;
}

cJSON *ht_post_ok_json(const srv_limits *lim, const char *ep, const cJSON *req) {
    char *body = cJSON_PrintUnformatted(req);
    cr_assert_not_null(body);
    cJSON *j = ht_post_ok(lim, ep, body);
    free(body);
    return j;
}

/* ht_expect_error; `what` names the request in the messages of failed checks. */
static void expect_error(const srv_response *r, int status, const char *field, const char *what) {
    cr_assert_eq(r->status, status, "%.300s: want %d, got %d: %.400s", what, status, r->status,
                 r->body);
    cJSON *j = cJSON_Parse(r->body);
    cr_assert_not_null(j, "%.300s: the error is not JSON: %.200s", what, r->body);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    cr_assert_not_null(e, "%.300s: no error object: %.400s", what, r->body);
    const cJSON *st = cJSON_GetObjectItem(e, "status");
    cr_assert(cJSON_IsNumber(st) && st->valuedouble == status, "%.300s: error.status: %.400s",
              what, r->body);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(e, "code")), "%.300s: error.code: %.400s", what,
              r->body);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(e, "message")), "%.300s: error.message: %.400s",
              what, r->body);
    if (field) {
        const cJSON *f = cJSON_GetObjectItem(e, "field");
        cr_assert(cJSON_IsString(f), "%.300s: no error.field: %.400s", what, r->body);
        cr_assert_str_eq(f->valuestring, field, "%.300s: %.400s", what, r->body);
    }
    cJSON_Delete(j);
}

void ht_expect_error(const srv_response *r, int status, const char *field) {
    expect_error(r, status, field, "request");
}

void ht_post_err(const srv_limits *lim, const char *ep, const char *body, int status,
                 const char *field) {
    srv_response r = ht_post(lim, ep, "application/json", body);
    expect_error(&r, status, field, body);
    srv_response_free(&r);
}

void ht_post_err_json(const srv_limits *lim, const char *ep, const cJSON *req, int status,
                      const char *field) {
    char *body = cJSON_PrintUnformatted(req);
    cr_assert_not_null(body);
    ht_post_err(lim, ep, body, status, field);
    free(body);
}

static srv_train_job *prepare(const srv_limits *lim, const char *model, const char *body,
                              srv_response *err) {
    srv_limits def;
    return srv_train_prepare(or_default(lim, &def), model, "application/json", body,
                             strlen(body), err);
}

srv_train_job *ht_prepare(const srv_limits *lim, const char *model, const char *body) {
    srv_response err;
    srv_train_job *j = prepare(lim, model, body, &err);
    cr_assert_not_null(j, "%s %.300s: %s", model, body, err.body);
    return j;
}

void ht_prepare_err(const srv_limits *lim, const char *model, const char *body, int status,
                    const char *field) {
    srv_response err;
    srv_train_job *j = prepare(lim, model, body, &err);
    cr_assert_null(j, "%s %.300s accepted", model, body);
    expect_error(&err, status, field, body);
    srv_response_free(&err);
}
