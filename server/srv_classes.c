/* srv_classes.c — class names and the top classes; see srv_classes.h. */
#include "srv_classes.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn_fashion.h"
#include "srv_json.h"

#define MAX_TOP 1000 /* a "top" list longer than this is no longer an answer to read */

static int parse_names(const cJSON *v, size_t outputs, srv_classes *c, srv_err *e) {
    if (cJSON_IsString(v)) {
        if (strcasecmp(v->valuestring, "fashion-mnist") && strcasecmp(v->valuestring, "fashion_mnist"))
            return srv_fail(e, 400, "classes", "unknown class list '%.40s' (fashion-mnist, or a list of names)",
                            v->valuestring);
        if (outputs != NN_FASHION_CLASSES)
            return srv_fail(e, 400, "classes", "fashion-mnist has %d classes but the net gives %zu values",
                            NN_FASHION_CLASSES, outputs);
        c->names = (const char **)nn_fashion_class_names;
        c->n = NN_FASHION_CLASSES;
        return 0;
    }
    if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) != outputs)
        return srv_fail(e, 400, "classes", "classes must be \"fashion-mnist\" or a list of %zu names (one per output)",
                        outputs);
    c->names = malloc(outputs * sizeof *c->names);
    if (!c->names) return srv_fail(e, 503, "classes", "out of memory");
    c->own = 1;
    size_t i = 0;
    for (const cJSON *s = v->child; s; s = s->next, i++) {
        char p[48];
        srv_path_index(p, sizeof p, "classes", i);
        if (srv_json_string(s, p, &c->names[i], e)) return -1;
    }
    c->n = outputs;
    return 0;
}

int srv_classes_parse(const cJSON *req, size_t outputs, srv_classes *c, srv_err *e) {
    memset(c, 0, sizeof *c);
    const cJSON *names = srv_json_get(req, "classes");
    if (names && parse_names(names, outputs, c, e)) return -1;
    size_t def = names ? (outputs < 3 ? outputs : 3) : 0, hi = outputs < MAX_TOP ? outputs : MAX_TOP;
    long long k;
    if (srv_json_int_opt(req, "top", "", 1, (long long)hi, (long long)def, &k, e)) return -1;
    c->top = (size_t)k;
    return 0;
}

void srv_classes_write_top(srv_buf *out, const srv_classes *c, const float *probs, size_t outputs) {
    if (!c->top) return;
    srv_buf_puts(out, ",\"top\":[");
    /* k passes of selection: k is small (at most MAX_TOP) */
    size_t last = 0;
    for (size_t r = 0; r < c->top; r++) {
        size_t best = outputs;
        for (size_t i = 0; i < outputs; i++) {
            int after_last = r == 0 || probs[i] < probs[last] || (probs[i] == probs[last] && i > last);
            if (after_last && (best == outputs || probs[i] > probs[best])) best = i;
        }
        if (best == outputs) break;
        srv_buf_printf(out, "%s{\"class\":%zu", r ? "," : "", best);
        if (c->n) {
            srv_buf_puts(out, ",\"name\":");
            srv_buf_str(out, c->names[best]);
        }
        srv_buf_puts(out, ",\"p\":");
        srv_buf_float(out, probs[best]);
        srv_buf_putc(out, '}');
        last = best;
    }
    srv_buf_putc(out, ']');
}

void srv_classes_free(srv_classes *c) {
    if (c && c->own) free(c->names);
    if (c) memset(c, 0, sizeof *c);
}
