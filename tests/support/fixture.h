/* fixture.h — load the PyTorch reference fixtures (tests/fixtures/NAME.json) in tests.
 *
 * A fixture file is JSON: {"generator": "...", "cases": [ {"name": ..., <key>: value, ...}, ... ]}
 * where tensors are {"shape": [...], "data": [...]} (row-major, float64 values printed with
 * repr(), so nothing is lost). Tests walk the cases with cJSON directly and use the helpers below
 * to pull tensors out as double or float arrays. Caller owns the returned arrays (free()). */
#ifndef NN_TEST_FIXTURE_H
#define NN_TEST_FIXTURE_H

#include <cJSON.h>
#include <stddef.h>

/* Parse a whole fixture file; returns NULL (and prints why) on failure. Free with cJSON_Delete. */
cJSON *fx_load(const char *path);

/* fx_load, or abort naming the file ("run make fixtures"): for tests that need it. */
cJSON *fx_require(const char *path);

/* The first of a fixture's cases (its "cases" array); walk them with c = c->next. */
const cJSON *fx_cases(const cJSON *doc);

/* Tensor `key` of `obj`: returns malloc'd data (n elements) and fills shape (up to 8 dims). */
double *fx_tensor_f64(const cJSON *obj, const char *key, size_t shape[8], size_t *ndim, size_t *n);
float *fx_tensor_f32(const cJSON *obj, const char *key, size_t shape[8], size_t *ndim, size_t *n);

/* Number `key` of `obj` (aborts the test via fprintf+abort if missing). */
double fx_num(const cJSON *obj, const char *key);
/* String `key` of `obj` or NULL. */
const char *fx_str(const cJSON *obj, const char *key);

/* Largest relative error max|a-b| / max(|b|, floor) over n elements, float vs double reference. */
double fx_max_rel_err_f32(const float *got, const double *want, size_t n, double floor);
double fx_max_rel_err_f64(const double *got, const double *want, size_t n, double floor);

/* Requests built from a case, for the endpoint tests (in-process and over HTTP). */
/* req.activation = the case's "activation", with its "negative_slope" for leaky_relu. */
void fx_add_activation(cJSON *req, const cJSON *c);
/* The /conv request of a conv.json case (input, kernels, bias as the API's plain list, stride,
 * padding, activation). Caller owns it (cJSON_Delete). */
cJSON *fx_conv_request(const cJSON *c);

/* A whole file, malloc'd and NUL-terminated (*len, if given, its length without the NUL); NULL
 * if it cannot be read. */
char *fx_read_file(const char *path, size_t *len);

/* Directory of fixtures: $NNLAB_FIXTURES or "tests/fixtures". */
const char *fx_dir(void);

#endif
