/* srv_run.c — POST /run/{rnn,lstm,gru}: a trained recurrent net's inside on one sequence.
 *
 * Request: {"weights": {weight_ih, weight_hh, bias_ih, bias_hh, fc.weight, fc.bias} (a done
 * event's "weights": PyTorch's names and shapes; the hidden size is read from weight_hh
 * [G*H, H]), "sequence": [[value, marker], ...] (or a tensor [T, 2])}.
 * Response: {"model", "hidden_size", "length", "output": the prediction, "hidden" [T, H],
 * "gates": {"i", "f", "g", "o", "cell"} (LSTM: the activated gates and the cell state c_t) or
 * {"r", "z", "n"} (GRU) or {} (Elman), each [T, H]}.
 * The net runs exactly as training evaluates it (nn_rnn_model_forward: the same kernels, so
 * "output" is the prediction a done event reports for the same sequence); the states are its
 * activation cache. Bounded before anything is allocated: T <= max_length, H <= max_hidden, the
 * work within max_work_flops, the model and the answer counted in the memory budget; a cancelled
 * request (client gone) stops inside the pass through time (503). */
#include <stdlib.h>
#include <string.h>

#include "nn_adding.h"
#include "nn_cancel.h"
#include "nn_rnn_model.h"
#include "srv_budget.h"
#include "srv_endpoints.h"
#include "srv_json.h"

static const char *const GATE_NAMES[3][4] = {{NULL}, {"i", "f", "g", "o"}, {"r", "z", "n"}};

/* The six weights into w[p] (malloc'd, PyTorch's layout); *H from weight_hh. */
static int parse_weights(const cJSON *v, nn_rnn_kind kind, const srv_limits *lim, double **w,
                         size_t *H, srv_err *e) {
    if (!cJSON_IsObject(v))
        return srv_fail(e, 400, "weights", "weights must be an object of tensors by PyTorch name (a done event's \"weights\")");
    for (const cJSON *c = v->child; c; c = c->next) {
        int known = 0;
        for (int p = 0; p < NN_RNN_NPARAMS; p++) known |= !strcmp(c->string, nn_rnn_param_name(p));
        char path[96];
        srv_path_key(path, sizeof path, "weights", c->string);
        if (!known)
            return srv_fail(e, 400, path, "unknown weight '%.40s' (weight_ih, weight_hh, bias_ih, bias_hh, fc.weight, fc.bias)", c->string);
    }
    size_t G = nn_rnn_kind_gates(kind);
    static const int order[NN_RNN_NPARAMS] = {NN_RNN_W_HH, NN_RNN_W_IH, NN_RNN_B_IH, NN_RNN_B_HH, NN_RNN_FC_W, NN_RNN_FC_B};
    for (int k = 0; k < NN_RNN_NPARAMS; k++) {
        int p = order[k]; /* weight_hh first: it gives H */
        char path[96];
        srv_path_key(path, sizeof path, "weights", nn_rnn_param_name(p));
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, nn_rnn_param_name(p));
        if (!t) return srv_fail(e, 400, path, "%s is missing", path);
        size_t shape[SRV_TENSOR_MAX_DIMS], nd, n, want[2], wnd;
        if (srv_tensor_parse_f64(t, path, lim->max_tensor_elems, shape, &nd, &n, &w[p], e)) return -1;
        if (p == NN_RNN_W_HH) {
            if (nd != 2 || shape[1] == 0 || shape[0] != G * shape[1])
                return srv_fail(e, 400, path, "%s must be [%zu*H, H] for %s", path, G, nn_rnn_kind_name(kind));
            if (shape[1] > lim->max_hidden)
                return srv_fail(e, 413, path, "the hidden size is %zu; this server's limit is %zu", shape[1], lim->max_hidden);
            *H = shape[1];
        }
        size_t wn = nn_rnn_param_shape(kind, NN_ADDING_FEATURES, *H, p, want, &wnd);
        int ok = n == wn && nd == wnd;
        for (size_t d = 0; ok && d < nd; d++) ok = shape[d] == want[d];
        if (!ok) {
            char ws[64];
            srv_shape_str(ws, sizeof ws, want, wnd);
            return srv_fail(e, 400, path, "%s must have shape %s for %s with hidden size %zu (from weight_hh)", path, ws,
                            nn_rnn_kind_name(kind), *H);
        }
    }
    return 0;
}

/* The sequence [T, 2] into *x (malloc'd). */
static int parse_sequence(const cJSON *v, const srv_limits *lim, double **x, size_t *T, srv_err *e) {
    if (!v) return srv_fail(e, 400, "sequence", "sequence is missing: [[value, marker], ...]");
    size_t shape[SRV_TENSOR_MAX_DIMS], nd, n;
    size_t max = lim->max_length < ((size_t)1 << 40) ? 2 * lim->max_length : lim->max_length;
    if (srv_tensor_parse_f64(v, "sequence", max, shape, &nd, &n, x, e)) return -1;
    if (nd != 2 || shape[1] != 2)
        return srv_fail(e, 400, "sequence", "sequence must be [T, 2]: a value and a marker per step");
    if (shape[0] > lim->max_length)
        return srv_fail(e, 413, "sequence", "sequence has %zu steps; the limit is %zu", shape[0], lim->max_length);
    *T = shape[0];
    return 0;
}

/* Work and memory, before the model is allocated: the forward costs ~2*G*H*(I + H) per step;
 * the model holds ~(4 * params + (5 + G) * T * H) doubles, the answer (2 + G) * T * H values. */
static int check_budget(nn_rnn_kind kind, size_t T, size_t H, const srv_limits *lim, srv_err *e) {
    double G = (double)nn_rnn_kind_gates(kind), flops = 2.0 * G * (double)H * (double)(NN_ADDING_FEATURES + H) * (double)T;
    if (flops > lim->max_work_flops)
        return srv_fail(e, 413, "sequence", "running %zu steps would need %.3g flops; the limit is %.3g", T, flops, lim->max_work_flops);
    size_t g = nn_rnn_kind_gates(kind), th = srv_budget_mul(T, H);
    size_t params = srv_budget_mul(g * H, H + NN_ADDING_FEATURES + 2) + 2 * H;
    size_t model = srv_budget_mul(srv_budget_add(srv_budget_mul(4, params), srv_budget_mul(5 + g, th)), sizeof(double));
    size_t answer = srv_budget_mul(srv_budget_mul(2 + g, th), SRV_BUDGET_PER_ELEMENT);
    return srv_budget_need(srv_budget_add(model, answer), "sequence", e);
}

/* "gates": {name: [T, H], ...} from the model's gate cache [T, G*H] (and the LSTM's cell). */
static int put_gates(srv_buf *out, const nn_rnn_model *m, size_t T, srv_err *e) {
    size_t H = m->hidden, G = m->gates, shape[2] = {T, H};
    double *col = malloc(T * H * sizeof *col);
    if (!col) return srv_fail(e, 503, NULL, "out of memory for the gates");
    srv_buf_puts(out, ",\"gates\":{");
    for (size_t k = 0; G > 1 && k < G; k++) {
        for (size_t t = 0; t < T; t++) memcpy(col + t * H, m->gate + t * G * H + k * H, H * sizeof *col);
        srv_buf_printf(out, "%s\"%s\":", k ? "," : "", GATE_NAMES[m->kind][k]);
        srv_buf_tensor_f64(out, col, shape, 2);
    }
    if (m->kind == NN_RNN_LSTM) {
        srv_buf_puts(out, ",\"cell\":");
        srv_buf_tensor_f64(out, m->c, shape, 2);
    }
    srv_buf_putc(out, '}');
    free(col);
    return 0;
}

static int run(nn_rnn_kind kind, const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    static const char *const keys[] = {"weights", "sequence", NULL};
    if (srv_json_only_keys(req, "", keys, e)) return -1;
    double *w[NN_RNN_NPARAMS] = {NULL}, *x = NULL;
    size_t H = 0, T = 0;
    nn_rnn_model m;
    memset(&m, 0, sizeof m);
    const cJSON *wv = srv_json_get(req, "weights");
    int rc = wv ? parse_weights(wv, kind, lim, w, &H, e)
                : srv_fail(e, 400, "weights", "weights is missing: a done event's \"weights\"");
    if (rc == 0) rc = parse_sequence(srv_json_get(req, "sequence"), lim, &x, &T, e);
    if (rc == 0) rc = check_budget(kind, T, H, lim, e);
    nn_error ne;
    nn_error_clear(&ne);
    if (rc == 0 && nn_rnn_model_init(&m, kind, NN_ADDING_FEATURES, H, T, &ne) != NN_OK) rc = srv_fail_nn(e, &ne, NULL);
    double y = 0.0;
    if (rc == 0) {
        for (int p = 0; p < NN_RNN_NPARAMS; p++) nn_rnn_model_set_param(&m, p, w[p]);
        y = nn_rnn_model_forward(&m, x, T);
        if (nn_cancelled()) rc = srv_fail_cancelled(e); /* the kernel stopped part way */
    }
    if (rc == 0) {
        size_t shape[2] = {T, H};
        srv_buf_puts(out, "{\"model\":");
        srv_buf_str(out, nn_rnn_kind_name(kind));
        srv_buf_printf(out, ",\"hidden_size\":%zu,\"length\":%zu,\"output\":", H, T);
        srv_buf_double(out, y);
        srv_buf_puts(out, ",\"hidden\":");
        srv_buf_tensor_f64(out, m.h, shape, 2);
        rc = put_gates(out, &m, T, e);
        srv_buf_putc(out, '}');
    }
    nn_rnn_model_free(&m);
    for (int p = 0; p < NN_RNN_NPARAMS; p++) free(w[p]);
    free(x);
    return rc;
}

int srv_run_rnn(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    return run(NN_RNN_ELMAN, lim, req, out, e);
}

int srv_run_lstm(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    return run(NN_RNN_LSTM, lim, req, out, e);
}

int srv_run_gru(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    return run(NN_RNN_GRU, lim, req, out, e);
}
