/* test_http_strict.c — the right status and words through the real daemon (issue 13, part 8):
 * numbers outside JSON's grammar (01, 1., -.5, 1.e5: cJSON alone takes them) are 400 naming the
 * field that holds them, on every endpoint; a training whose loss is not finite from the start
 * names the given initial weights ("init"), not the learning rate. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_support.h"

static th_server srv;
static void up(void) { th_start(&srv, NULL); }
static void down(void) { cr_assert_eq(th_stop(&srv), 0); }
TestSuite(strict, .init = up, .fini = down, .timeout = 120);

#define IMG3 "[[[0.1],[0.2],[0.3]],[[0.4],[0.5],[0.6]],[[0.7],[0.8],[0.9]]]"

/* POST body to path: the status and the error's field must be as given. */
static void expect_error(const char *path, const char *body, long status, const char *field) {
    th_resp r;
    cr_assert_eq(th_post_json(&srv, path, body, &r), 0);
    cr_assert_eq(r.status, status, "%s %s: %.300s", path, body, r.body);
    cJSON *j = th_json(&r);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(e, "field"));
    cr_assert(f && strcmp(f, field) == 0, "%s %s: field %s: %.300s", path, body, f ? f : "(none)", r.body);
    cJSON_Delete(j);
    th_resp_free(&r);
}

Test(strict, numbers_outside_the_json_grammar_are_400_naming_the_field) {
    expect_error("/conv", "{\"input\":" IMG3 ",\"kernel\":\"box\",\"stride\":01}", 400, "stride");
    expect_error("/conv", "{\"input\":[[[0.1],[0.2]],[[0.3],[1.]]],\"kernel\":\"box\"}", 400, "input[1][1][0]");
    expect_error("/pool", "{\"input\":" IMG3 ",\"function\":\"max\",\"size\":-.5}", 400, "size");
    expect_error("/mlp", "{\"input\":[1,2],\"hidden_layers\":1,\"hidden_size\":3,\"output_size\":2,"
                         "\"seed\":1.e5}", 400, "seed");
    expect_error("/cnn", "{\"input\":" IMG3 ",\"architecture\":[{\"type\":\"conv\",\"filters\":02,"
                         "\"size\":2}]}", 400, "architecture[0].filters");
    expect_error("/train/rnn", "{\"learning_rate\":1.,\"stream\":false}", 400, "learning_rate");
    /* the same values written as JSON allows are fine */
    th_resp r;
    cr_assert_eq(th_post_json(&srv, "/conv", "{\"input\":" IMG3 ",\"kernel\":\"box\",\"stride\":1}", &r), 0);
    cr_expect_eq(r.status, 200, "%.300s", r.body);
    th_resp_free(&r);
}

Test(strict, a_loss_not_finite_before_any_update_blames_init) {
    const char *body = "{\"hidden_size\":2,\"samples\":8,\"test_samples\":4,\"epochs\":2,"
                       "\"batch_size\":4,\"seed\":1,\"stream\":false,"
                       "\"init\":{\"fc.weight\":[[1e300,1e300]]}}";
    expect_error("/train/rnn", body, 400, "init");
}
