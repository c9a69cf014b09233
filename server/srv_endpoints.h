/* srv_endpoints.h — the JSON endpoints behind srv_handle_json, and helpers they share.
 *
 * Each endpoint gets the parsed, duplicate-free request object and writes the complete JSON
 * response body into `out`, or returns -1 with the error in *e. They never see HTTP. */
#ifndef SRV_ENDPOINTS_H
#define SRV_ENDPOINTS_H

#include <cJSON.h>

#include "nn_act.h"
#include "nn_conv.h"
#include "nn_init.h"
#include "srv_api.h"
#include "srv_buf.h"
#include "srv_clock.h"
#include "srv_err.h"
#include "srv_tensor.h"

int srv_conv(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);
int srv_pool(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);
int srv_mlp(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);
int srv_cnn(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);
/* POST /run/{rnn,lstm,gru} (srv_run.c). */
int srv_run_rnn(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);
int srv_run_lstm(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);
int srv_run_gru(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);

/* "activation" (default def) and "negative_slope" (default 0.01) of obj; base is obj's path. */
int srv_parse_activation(const cJSON *obj, const char *base, nn_act_kind def, nn_activation *out,
                         srv_err *e);
/* "init" of obj (default def). */
int srv_parse_init(const cJSON *obj, const char *base, nn_init_kind def, nn_init_kind *out,
                   srv_err *e);

/* "output_format" of a request: "json" (the default) or "npy" (every tensor of the response as
 * {"shape", "dtype", "npy"}: srv_buf.h), into *npy. The member is then removed from req, so the
 * endpoints' own key checks need not list it. */
int srv_take_output_format(cJSON *req, int *npy, srv_err *e);

/* MLP weights given as [{"weight": tensor [in, out], "bias": [out]}, ...] at `path` for L linear
 * layers: W[l], B[l] filled (B[l].data NULL when a bias is omitted). When `in` is non-NULL the
 * shapes are checked against in[l] x out[l]; otherwise only out[l] is checked. On failure
 * everything is freed. */
int srv_parse_mlp_weights(const cJSON *v, const char *path, size_t L, const size_t *in,
                          const size_t *out, size_t max_elems, srv_tensor *W, srv_tensor *B,
                          srv_err *e);

/* ,"maps":[...] of x [H, W, C] as PNG images (srv_render.h); a 503 when out of memory. */
int srv_put_maps(srv_buf *out, const float *x, size_t H, size_t W, size_t C, srv_err *e);
/* ,"elapsed_ms":<milliseconds since t0 (srv_now_ms), 3 decimals>} : the last member of an
 * endpoint's response object, and the object's end. */
void srv_put_elapsed_end(srv_buf *out, double t0);

/* A 400 naming `field` if any of x[0..n) is not finite (a result overflowed float32). */
int srv_check_finite(const float *x, size_t n, const char *field, srv_err *e);

#endif
