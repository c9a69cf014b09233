/* test_http_openapi.c — the served OpenAPI document checked against the real daemon: every path
 * and method in it exists and answers a valid request with a documented status, whose JSON
 * carries the properties the document marks required; a bad request's 4xx is documented too,
 * with the error object's required properties. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_support.h"

static th_server srv;
static cJSON *doc;
static void up(void) {
    th_start(&srv, NULL);
    th_resp r;
    th_expect(&srv, "GET", "/openapi.json", NULL, 200, &r);
    doc = th_json(&r);
    th_resp_free(&r);
}
static void down(void) {
    cJSON_Delete(doc);
    cr_assert_eq(th_stop(&srv), 0);
}
TestSuite(openapi, .init = up, .fini = down, .timeout = 120);

#define IMG3 "[[[0.1],[0.2],[0.3]],[[0.4],[0.5],[0.6]],[[0.7],[0.8],[0.9]]]"

/* A valid request body for each POST path. */
static const char *valid_body(const char *path) {
    /* with the gradients, so their members are checked against the schema too */
    if (strcmp(path, "/conv") == 0) return "{\"input\":" IMG3 ",\"kernel\":\"box\",\"grad_output\":[[[1]]]}";
    if (strcmp(path, "/pool") == 0) return "{\"input\":" IMG3 ",\"function\":\"max\",\"size\":2,\"grad_output\":[[[1]]]}";
    if (strcmp(path, "/mlp") == 0)
        return "{\"input\":[1,2,3],\"hidden_layers\":1,\"hidden_size\":4,\"output_size\":2,"
               "\"seed\":1,\"target\":1}";
    if (strcmp(path, "/cnn") == 0)
        return "{\"input\":" IMG3 ",\"architecture\":[{\"type\":\"conv\",\"filters\":2,\"size\":2,"
               "\"activation\":\"relu\"},{\"type\":\"global_pool\",\"function\":\"average\"},"
               "{\"type\":\"mlp\",\"hidden_layers\":1,\"hidden_size\":3,\"output_size\":2}],"
               "\"seed\":1}";
    if (strcmp(path, "/train/cnn") == 0)
        return "{\"train_samples\":64,\"test_samples\":16,\"epochs\":1,\"stream\":false}";
    if (strcmp(path, "/train/sweep") == 0)
        return "{\"lengths\":[3,5],\"samples\":20,\"test_samples\":5,\"epochs\":1,\"stream\":false}";
    /* Wrong answers, so the check's answer holds a tensor (its mismatch map) for the npy case. */
    if (strcmp(path, "/check/conv") == 0) return "{\"input\":" IMG3 ",\"kernel\":\"box\",\"answer\":[[0]]}";
    if (strcmp(path, "/check/pool") == 0) return "{\"input\":" IMG3 ",\"size\":2,\"answer\":[[0]]}";
    if (strcmp(path, "/check/mlp") == 0)
        return "{\"input\":[1,2,3],\"hidden_layers\":1,\"hidden_size\":4,\"output_size\":2,"
               "\"seed\":1,\"answer\":[1,0]}";
    if (strncmp(path, "/train/", 7) == 0)
        return "{\"samples\":20,\"test_samples\":5,\"epochs\":1,\"stream\":false,\"seed\":1}";
    /* A net with one hidden unit: G gate rows (1, 4, 3). */
#define RUN_BODY(G, WIH, ROWS)                                                                     \
    "{\"weights\":{\"weight_ih\":" WIH ",\"weight_hh\":{\"shape\":[" G ",1],\"data\":" ROWS "},"          \
    "\"bias_ih\":" ROWS ",\"bias_hh\":" ROWS ",\"fc.weight\":[[1.5]],\"fc.bias\":[0.2]},"                    \
    "\"sequence\":[[0.5,1],[0.25,0],[0.125,1]]}"
    if (strcmp(path, "/run/rnn") == 0) return RUN_BODY("1", "[[0.5,-0.25]]", "[0.75]");
    if (strcmp(path, "/run/lstm") == 0)
        return RUN_BODY("4", "[[0.5,-0.25],[0.1,0.2],[0.3,-0.4],[0.6,0.7]]", "[0.75,-0.5,0.25,0.1]");
    if (strcmp(path, "/run/gru") == 0)
        return RUN_BODY("3", "[[0.5,-0.25],[0.1,0.2],[0.3,-0.4]]", "[0.75,-0.5,0.25]");
#undef RUN_BODY
    return NULL;
}

static const cJSON *resolve(const cJSON *s) {
    for (int i = 0; i < 16 && s; i++) {
        const char *ref = cJSON_GetStringValue(cJSON_GetObjectItem(s, "$ref"));
        if (!ref) return s;
        cr_assert(strncmp(ref, "#/", 2) == 0, "only local $ref supported: %s", ref);
        const cJSON *cur = doc;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", ref + 2);
        for (char *tok = strtok(buf, "/"); tok && cur; tok = strtok(NULL, "/"))
            cur = cJSON_GetObjectItem(cur, tok);
        cr_assert(cur, "dangling $ref %s", ref);
        s = cur;
    }
    return s;
}

/* 1 when value satisfies the schema's required properties (recursively through properties,
 * items, allOf, oneOf/anyOf); on failure *why says what is missing. */
static int conforms(const cJSON *schema, const cJSON *value, char *why, size_t wl, int depth) {
    schema = resolve(schema);
    if (!schema || depth > 12) return 1;
    if (cJSON_IsNull(value) && cJSON_IsTrue(cJSON_GetObjectItem(schema, "nullable"))) return 1;
    const cJSON *sub;
    cJSON_ArrayForEach(sub, cJSON_GetObjectItem(schema, "allOf"))
        if (!conforms(sub, value, why, wl, depth + 1)) return 0;
    static const char *const alts[] = {"oneOf", "anyOf"};
    for (int a = 0; a < 2; a++) {
        const cJSON *list = cJSON_GetObjectItem(schema, alts[a]);
        if (!list) continue;
        int any = 0;
        cJSON_ArrayForEach(sub, list) any |= conforms(sub, value, why, wl, depth + 1);
        if (!any) return 0;
    }
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(schema, "type"));
    if (type && strcmp(type, "string") == 0 && !cJSON_IsString(value)) {
        snprintf(why, wl, "expected a string");
        return 0;
    }
    if (type && (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0) &&
        !cJSON_IsNumber(value)) {
        snprintf(why, wl, "expected a number");
        return 0;
    }
    if (type && strcmp(type, "integer") == 0 && value->valuedouble != (double)(long long)value->valuedouble) {
        snprintf(why, wl, "expected an integer, got %g", value->valuedouble);
        return 0;
    }
    if (type && strcmp(type, "boolean") == 0 && !cJSON_IsBool(value)) {
        snprintf(why, wl, "expected a boolean");
        return 0;
    }
    const cJSON *en = cJSON_GetObjectItem(schema, "enum"), *e;
    if (en && cJSON_IsString(value)) {
        int in = 0;
        cJSON_ArrayForEach(e, en) in |= cJSON_IsString(e) && strcmp(e->valuestring, value->valuestring) == 0;
        if (!in) {
            snprintf(why, wl, "'%s' is not in the enum", value->valuestring);
            return 0;
        }
    }
    if (type && strcmp(type, "object") == 0 && !cJSON_IsObject(value)) {
        snprintf(why, wl, "expected an object");
        return 0;
    }
    if (type && strcmp(type, "array") == 0 && !cJSON_IsArray(value)) {
        snprintf(why, wl, "expected an array");
        return 0;
    }
    const cJSON *req;
    cJSON_ArrayForEach(req, cJSON_GetObjectItem(schema, "required")) {
        if (!cJSON_IsObject(value) || !cJSON_GetObjectItem(value, req->valuestring)) {
            snprintf(why, wl, "required property '%s' missing", req->valuestring);
            return 0;
        }
    }
    const cJSON *props = cJSON_GetObjectItem(schema, "properties"), *p;
    if (cJSON_IsObject(value))
        cJSON_ArrayForEach(p, props) {
            const cJSON *v = cJSON_GetObjectItem(value, p->string);
            if (v && !conforms(p, v, why, wl, depth + 1)) return 0;
        }
    const cJSON *items = cJSON_GetObjectItem(schema, "items"), *it;
    if (items && cJSON_IsArray(value)) {
        int k = 0;
        cJSON_ArrayForEach(it, value) {
            if (k++ > 50) break;
            if (!conforms(items, it, why, wl, depth + 1)) return 0;
        }
    }
    return 1;
}

/* Check one answer against the operation's responses. Returns 1 when documented. */
static void check_answer(const char *what, const cJSON *op, const th_resp *r) {
    const cJSON *responses = cJSON_GetObjectItem(op, "responses");
    cr_assert(responses, "%s: no responses documented", what);
    char code[8];
    snprintf(code, sizeof code, "%ld", r->status);
    char range[8] = "4XX";
    range[0] = (char)('0' + r->status / 100);
    const cJSON *resp = cJSON_GetObjectItem(responses, code);
    if (!resp) resp = cJSON_GetObjectItem(responses, range);
    if (!resp) resp = cJSON_GetObjectItem(responses, "default");
    cr_assert(resp, "%s: status %ld is not documented", what, r->status);
    resp = resolve(resp);
    const cJSON *content = cJSON_GetObjectItem(resp, "content");
    if (!content) return;
    /* Compare the JSON media type's schema with the body. */
    const cJSON *media = NULL, *m;
    cJSON_ArrayForEach(m, content) {
        if (strncasecmp(r->content_type, m->string, strlen(m->string)) == 0) media = m;
    }
    cr_assert(media, "%s: Content-Type %s is not documented for %ld", what, r->content_type,
              r->status);
    const cJSON *schema = cJSON_GetObjectItem(media, "schema");
    if (!schema || !strstr(r->content_type, "json") || strstr(r->content_type, "ndjson")) return;
    cJSON *body = th_json(r);
    char why[200] = "";
    cr_assert(conforms(schema, body, why, sizeof why, 0), "%s (%ld): %s; body %.300s", what,
              r->status, why, r->body);
    cJSON_Delete(body);
}

static void expand_path(const char *tmpl, char out[][64], int *n) {
    *n = 0;
    const char *brace = strchr(tmpl, '{');
    if (!brace) {
        snprintf(out[(*n)++], 64, "%s", tmpl);
        return;
    }
    static const char *const models[] = {"rnn", "lstm", "gru"};
    for (int i = 0; i < 3; i++)
        snprintf(out[(*n)++], 64, "%.*s%s", (int)(brace - tmpl), tmpl, models[i]);
}

/* A transfer coding the daemon cannot decode: 501, documented on every operation. */
static void check_unsupported_coding(const char *what, const cJSON *op, const char *method,
                                     const char *path) {
    const char *const te[] = {"Transfer-Encoding: gzip", NULL};
    th_resp r;
    cr_assert_eq(th_request_ex(&srv, method, path, te, NULL, 0, 0, &r), 0);
    cr_assert_eq(r.status, 501, "%s with Transfer-Encoding: gzip -> %ld", what, r.status);
    check_answer(what, op, &r);
    th_resp_free(&r);
}

Test(openapi, every_documented_operation_answers_as_documented) {
    cr_assert(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "openapi")));
    const cJSON *paths = cJSON_GetObjectItem(doc, "paths"), *p;
    cr_assert(cJSON_IsObject(paths));
    int ops = 0;
    static const char *const want[] = {"/conv", "/pool", "/mlp", "/cnn", "/healthz", "/metrics",
                                       "/openapi.json", "/", "/check/conv", "/check/pool",
                                       "/check/mlp"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert(cJSON_GetObjectItem(paths, want[i]), "path %s not documented", want[i]);
    cJSON_ArrayForEach(p, paths) {
        char concrete[3][64];
        int nc = 0;
        expand_path(p->string, concrete, &nc);
        const cJSON *op;
        cJSON_ArrayForEach(op, p) {
            const char *method = op->string;
            if (strcasecmp(method, "get") != 0 && strcasecmp(method, "post") != 0) continue;
            for (int k = 0; k < nc; k++) {
                char what[300];
                snprintf(what, sizeof what, "%s %s", method, concrete[k]);
                th_resp r;
                if (strcasecmp(method, "get") == 0) {
                    cr_assert_eq(th_request(&srv, "GET", concrete[k], NULL, NULL, 0, &r), 0);
                    cr_assert_eq(r.status, 200, "%s -> %ld", what, r.status);
                    check_answer(what, op, &r);
                    th_resp_free(&r);
                    check_unsupported_coding(what, op, "GET", concrete[k]);
                } else {
                    const char *body = valid_body(concrete[k]);
                    cr_assert(body, "%s: no test body for this documented path", what);
                    cr_assert_eq(th_post_json(&srv, concrete[k], body, &r), 0);
                    cr_assert_eq(r.status, 200, "%s -> %ld: %.300s", what, r.status, r.body);
                    check_answer(what, op, &r);
                    int has_tensors = strstr(r.body, "\"shape\":") != NULL;
                    th_resp_free(&r);
                    /* The same with "output_format": "npy": the .npy tensors are documented. */
                    char npy_body[1024];
                    snprintf(npy_body, sizeof npy_body, "{\"output_format\":\"npy\",%s", body + 1);
                    cr_assert_eq(th_post_json(&srv, concrete[k], npy_body, &r), 0);
                    cr_assert_eq(r.status, 200, "%s (npy) -> %ld: %.300s", what, r.status, r.body);
                    cr_assert(!has_tensors || strstr(r.body, "\"npy\":\""),
                              "%s: no .npy tensor in %.200s", what, r.body);
                    check_answer(what, op, &r);
                    th_resp_free(&r);
                    /* Errors: each status and its error object are documented. */
                    th_expect(&srv, "POST", concrete[k], "{", 400, &r);
                    check_answer(what, op, &r);
                    th_resp_free(&r);
                    cr_assert_eq(th_request(&srv, "POST", concrete[k], "text/plain", "x", 1, &r), 0);
                    cr_assert_eq(r.status, 415);
                    check_answer(what, op, &r);
                    th_resp_free(&r);
                    th_expect(&srv, "GET", concrete[k], NULL, 405, &r);
                    check_answer(what, op, &r);
                    th_resp_free(&r);
                    check_unsupported_coding(what, op, "POST", concrete[k]);
                }
                ops++;
            }
        }
    }
    fprintf(stderr, "openapi: %d operations checked against real answers\n", ops);
    cr_assert_geq(ops, 8, "only %d operations documented", ops);
}

Test(openapi, training_stream_is_documented_as_ndjson) {
    const cJSON *paths = cJSON_GetObjectItem(doc, "paths"), *p;
    int found = 0;
    cJSON_ArrayForEach(p, paths) {
        if (strncmp(p->string, "/train", 6) != 0) continue;
        const cJSON *ok = resolve(cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(p, "post"), "responses"), "200"));
        cr_assert(ok, "%s: 200 documented", p->string);
        cr_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(ok, "content"), "application/x-ndjson"),
                  "%s: 200 has application/x-ndjson", p->string);
        found++;
    }
    cr_assert_gt(found, 0, "training documented");
}

/* A missing data set's 503 is documented on /train/cnn, its code in the enum. */
Test(openapi, missing_dataset_answer_is_documented) {
    th_server bare;
    const char *const args[] = {"--data-dir", "/nonexistent/fashion", NULL};
    th_start(&bare, args);
    th_resp r;
    cr_assert_eq(th_post_json(&bare, "/train/cnn", "{\"epochs\": 1}", &r), 0);
    cr_assert_eq(r.status, 503, "%s", r.body);
    cr_assert(strstr(r.body, "dataset_unavailable"), "%s", r.body);
    const cJSON *op = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "paths"),
                                                              "/train/cnn"), "post");
    check_answer("POST /train/cnn without its data set", op, &r);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&bare), 0);
}

/* The checker itself rejects what it should (so the test above is not vacuous). */
Test(openapi, checker_rejects_a_nonconforming_body) {
    const cJSON *err = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
                                                                "components"), "schemas"), "Error");
    cr_assert(err, "components.schemas.Error");
    cJSON *bad = cJSON_Parse("{\"error\": {\"status\": 400}}");
    cJSON *good = cJSON_Parse("{\"error\": {\"status\": 400, \"code\": \"invalid_argument\", "
                              "\"message\": \"m\"}}");
    char why[200] = "";
    cr_assert_not(conforms(err, bad, why, sizeof why, 0));
    cr_assert(strstr(why, "required"), "%s", why);
    cr_assert(conforms(err, good, why, sizeof why, 0), "%s", why);
    cJSON_Delete(bad);
    cJSON_Delete(good);
}
