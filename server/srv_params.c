/* srv_params.c — parameters shared by several endpoints: activations, init schemes and the
 * output format. */
#include <strings.h>

#include "srv_endpoints.h"
#include "srv_json.h"

int srv_parse_activation(const cJSON *obj, const char *base, nn_act_kind def, nn_activation *out,
                         srv_err *e) {
    const char *name;
    char p[128];
    srv_path_key(p, sizeof p, base, "activation");
    out->kind = def;
    out->negative_slope = 0.01f;
    if (srv_json_string_opt(obj, "activation", base, NULL, &name, e)) return -1;
    if (name) {
        nn_error ne;
        nn_error_clear(&ne);
        if (nn_act_parse(name, out, &ne) != NN_OK)
            return srv_fail(e, 400, p, "unknown activation '%.40s' (identity, sigmoid, tanh, relu, leaky_relu)", name);
    }
    double slope;
    if (srv_json_num_opt(obj, "negative_slope", base, 0.01, &slope, e)) return -1;
    out->negative_slope = (float)slope;
    return 0;
}

int srv_parse_init(const cJSON *obj, const char *base, nn_init_kind def, nn_init_kind *out,
                   srv_err *e) {
    const char *name;
    *out = def;
    if (srv_json_string_opt(obj, "init", base, NULL, &name, e)) return -1;
    if (!name) return 0;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_init_parse(name, out, &ne) != NN_OK) {
        char p[128];
        srv_path_key(p, sizeof p, base, "init");
        return srv_fail(e, 400, p, "unknown init '%.40s' (he, xavier, uniform, he_normal, numpy_rand, numpy_randn)", name);
    }
    return 0;
}

int srv_take_output_format(cJSON *req, int *npy, srv_err *e) {
    const char *f;
    *npy = 0;
    if (srv_json_string_opt(req, "output_format", "", "json", &f, e)) return -1;
    if (!strcasecmp(f, "npy")) *npy = 1;
    else if (strcasecmp(f, "json"))
        return srv_fail(e, 400, "output_format", "output_format must be \"json\" or \"npy\" (got '%.20s')", f);
    cJSON_DeleteItemFromObjectCaseSensitive(req, "output_format");
    return 0;
}
