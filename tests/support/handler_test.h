/* handler_test.h — the unit tests' calls into the request handlers without a socket
 * (srv_handle_json, srv_train_prepare) and the checks of their answers: 200 with a JSON body, or
 * the contract's error object with a given status and field. A failed check fails the running
 * Criterion test.
 *
 * Only the unit tests link this file (they link the server library; the HTTP tests must not,
 * so tests/support's other helpers stay independent of the server's code). lim NULL means
 * srv_limits_default() everywhere below. */
#ifndef HANDLER_TEST_H
#define HANDLER_TEST_H

#include <cJSON.h>

#include "srv_api.h"

/* POST body to endpoint ep with Content-Type ct (NULL: none) through srv_handle_json. The
 * response is the caller's (srv_response_free). */
srv_response ht_post(const srv_limits *lim, const char *ep, const char *ct, const char *body);

/* POST body as application/json; 200 with a JSON body expected; the parsed body (caller
 * cJSON_Delete()s it). */
cJSON *ht_post_ok(const srv_limits *lim, const char *ep, const char *body);

/* The same with the body printed from req (req stays the caller's). */
cJSON *ht_post_ok_json(const srv_limits *lim, const char *ep, const cJSON *req);

/* r is the contract's error: HTTP status `status` and {"error": {"status": status, "code",
 * "message", "field"}} whose field is `field` (not checked when field is NULL). */
void ht_expect_error(const srv_response *r, int status, const char *field);

/* POST body as application/json and expect that error. */
void ht_post_err(const srv_limits *lim, const char *ep, const char *body, int status,
                 const char *field);

/* The same with the body printed from req (req stays the caller's). */
void ht_post_err_json(const srv_limits *lim, const char *ep, const cJSON *req, int status,
                      const char *field);

/* srv_train_prepare accepts body (application/json) for model; the job (srv_train_free). */
srv_train_job *ht_prepare(const srv_limits *lim, const char *model, const char *body);

/* srv_train_prepare refuses body for model with that error. */
void ht_prepare_err(const srv_limits *lim, const char *model, const char *body, int status,
                    const char *field);

#endif
