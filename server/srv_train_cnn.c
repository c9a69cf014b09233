/* srv_train_cnn.c — POST /train/cnn: validation and admission; see srv_train_cnn.h. The run and
 * its NDJSON lines are in srv_train_cnn_run.c. */
#include "srv_train_cnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn_cnn_net.h"
#include "nn_fashion.h"
#include "nn_rng.h"
#include "srv_arch.h"
#include "srv_base64.h"
#include "srv_budget.h"
#include "srv_dataset.h"
#include "srv_image.h"
#include "srv_json.h"
#include "srv_train_cnn_job.h"

size_t srv_cnn_default_spec(nn_layer_spec specs[SRV_CNN_DEFAULT_LAYERS]) {
    memset(specs, 0, SRV_CNN_DEFAULT_LAYERS * sizeof specs[0]);
    nn_activation relu = {NN_ACT_RELU, 0.01f};
    for (size_t i = 0; i < 4; i += 2) {
        specs[i].type = NN_LAYER_CONV;
        specs[i].filters = i ? 32 : 16;
        specs[i].size_h = specs[i].size_w = 3;
        specs[i].conv = (nn_conv_params){1, 1, 1, 1, relu};
        specs[i].init = NN_INIT_HE_NORMAL;
        specs[i + 1].type = NN_LAYER_POOL;
        specs[i + 1].pool = (nn_pool_params){NN_POOL_MAX, 2, 2, 2, 2};
    }
    specs[4].type = NN_LAYER_MLP;
    nn_mlp_config_uniform(&specs[4].mlp, 0, 1, 128, NN_FASHION_CLASSES, relu);
    specs[4].mlp_init = NN_INIT_HE_NORMAL;
    return SRV_CNN_DEFAULT_LAYERS;
}

void srv_cnn_job_free(srv_cnn_job *j) {
    if (!j) return;
    srv_budget_release(&j->mem);
    nn_cnn_net_free(&j->net);
    if (j->arch) srv_arch_free(j->arch);
    free(j->arch);
    for (int s = 0; s < 2; s++) {
        free(j->own_px[s]);
        free(j->own_lb[s]);
    }
    srv_buf_free(&j->line);
    free(j);
}

int srv_cnn_job_streaming(const srv_cnn_job *j) { return j ? j->stream : 0; }

double srv_cnn_job_estimate_seconds(const srv_cnn_job *j) { return j ? j->est_seconds : 0.0; }

size_t srv_cnn_job_memory_bytes(const srv_cnn_job *j) { return j ? j->mem_bytes : 0; }

/* ---- inline data sets -------------------------------------------------------------------- */

/* One item's image into px [784]: a base64 PNG/JPEG (grey, resized to 28x28 when it is not) or
 * a tensor [28, 28] / [28, 28, 1]. */
static int parse_image(const cJSON *v, const char *path, const srv_limits *lim, float *px,
                       srv_err *e) {
    srv_tensor t = {0}, r = {0};
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring, *why;
        size_t len, pos;
        unsigned char *bytes = srv_base64_decode(s, strlen(s), &len, &why, &pos);
        if (!bytes) {
            if (strcmp(why, "out of memory") == 0) return srv_fail(e, 503, path, "out of memory");
            return srv_fail(e, 400, path, "%s is not valid base64: %s (at character %zu)", path, why, pos);
        }
        int rc = srv_image_decode(bytes, len, 1, lim, path, &t, e);
        free(bytes);
        if (rc) return -1;
        if (t.shape[0] != NN_FASHION_SIDE || t.shape[1] != NN_FASHION_SIDE) {
            rc = srv_image_resize(&t, NN_FASHION_SIDE, NN_FASHION_SIDE, lim, path, &r, e);
            srv_tensor_free(&t);
            if (rc) return -1;
            t = r;
        }
    } else {
        if (srv_tensor_parse(v, path, lim->max_tensor_elems, &t, e)) return -1;
        int ok = (t.ndim == 2 || (t.ndim == 3 && t.shape[2] == 1)) && t.shape[0] == NN_FASHION_SIDE &&
                 t.shape[1] == NN_FASHION_SIDE;
        if (!ok) {
            srv_tensor_free(&t);
            return srv_fail(e, 400, path, "%s must be a tensor [28, 28, 1] (or [28, 28]) or a base64 PNG/JPEG", path);
        }
    }
    memcpy(px, t.data, NN_FASHION_PIXELS * sizeof *px);
    srv_tensor_free(&t);
    return 0;
}

/* [{"image": ..., "label": k}, ...] into owned pixels and labels, and set s over them. */
static int parse_inline(const cJSON *v, const char *path, const srv_limits *lim, srv_cnn_job *j,
                        int which, srv_err *e) {
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return srv_fail(e, 400, path, "%s must be a non-empty list of {\"image\": ..., \"label\": 0-9}", path);
    size_t n = (size_t)cJSON_GetArraySize(v);
    if (n > lim->max_samples)
        return srv_fail(e, 413, path, "%s has %zu images; the limit is %zu", path, n, lim->max_samples);
    float *px = j->own_px[which] = malloc(n * NN_FASHION_PIXELS * sizeof *px);
    uint8_t *lb = j->own_lb[which] = malloc(n);
    if (!px || !lb) return srv_fail(e, 503, path, "out of memory for %s", path);
    size_t i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        static const char *const keys[] = {"image", "label", NULL};
        char ip[64], fp[80];
        long long label;
        srv_path_index(ip, sizeof ip, path, i);
        if (!cJSON_IsObject(c)) return srv_fail(e, 400, ip, "%s must be {\"image\": ..., \"label\": 0-9}", ip);
        if (srv_json_only_keys(c, ip, keys, e)) return -1;
        srv_path_key(fp, sizeof fp, ip, "image");
        const cJSON *img = srv_json_get(c, "image");
        if (!img) return srv_fail(e, 400, fp, "%s is missing", fp);
        if (parse_image(img, fp, lim, px + i * NN_FASHION_PIXELS, e)) return -1;
        srv_path_key(fp, sizeof fp, ip, "label");
        if (!srv_json_get(c, "label")) return srv_fail(e, 400, fp, "%s is missing", fp);
        if (srv_json_int(srv_json_get(c, "label"), fp, 0, NN_FASHION_CLASSES - 1, &label, e)) return -1;
        lb[i] = (uint8_t)label;
    }
    nn_imageset *s = which ? &j->test : &j->train;
    *s = (nn_imageset){NULL, px, lb, n, NN_FASHION_SIDE, NN_FASHION_SIDE, NN_FASHION_CLASSES};
    return 0;
}

/* The training and test sets: inline lists where given, Fashion-MNIST's otherwise. */
static int pick_sets(const cJSON *req, const srv_limits *lim, srv_cnn_job *j, srv_err *e) {
    const cJSON *ds = srv_json_get(req, "dataset"), *ts = srv_json_get(req, "test_dataset");
    if (ds && parse_inline(ds, "dataset", lim, j, 0, e)) return -1;
    if (ts && parse_inline(ts, "test_dataset", lim, j, 1, e)) return -1;
    if (!ds || !ts) {
        const nn_fashion *fm = srv_dataset_fashion(e);
        if (!fm) return -1;
        if (!ds) j->train = fm->train;
        if (!ts) j->test = fm->test;
    }
    j->train_name = ds ? "inline" : "fashion-mnist";
    j->test_name = ts ? "inline" : "fashion-mnist";
    return 0;
}

/* ---- parameters --------------------------------------------------------------------------- */

static int parse_optimizer(const cJSON *req, srv_cnn_job *j, srv_err *e) {
    const char *name;
    if (srv_json_string_opt(req, "optimizer", "", "adam", &name, e)) return -1;
    int sgd = !strcasecmp(name, "sgd");
    if (!sgd && strcasecmp(name, "adam"))
        return srv_fail(e, 400, "optimizer", "unknown optimizer '%.40s' (adam, sgd)", name);
    if (!sgd && srv_json_get(req, "momentum"))
        return srv_fail(e, 400, "momentum", "momentum applies to \"optimizer\": \"sgd\" only");
    double lr, momentum;
    if (srv_json_num_opt(req, "learning_rate", "", sgd ? 0.01 : 0.001, &lr, e)) return -1;
    if (!(lr > 0) || lr > 10) return srv_fail(e, 400, "learning_rate", "learning_rate must be > 0 and <= 10");
    if (srv_json_num_opt(req, "momentum", "", 0.9, &momentum, e)) return -1;
    if (!(momentum >= 0 && momentum < 1)) return srv_fail(e, 400, "momentum", "momentum must be in [0, 1)");
    if (sgd) nn_optim_sgd(&j->opt, lr, momentum);
    else nn_optim_adam(&j->opt, lr);
    if (srv_json_num_opt(req, "lr_decay", "", SRV_CNN_LR_DECAY, &j->cfg.lr_decay, e)) return -1;
    if (!(j->cfg.lr_decay > 0 && j->cfg.lr_decay <= 1))
        return srv_fail(e, 400, "lr_decay", "lr_decay must be in (0, 1] (1: a constant learning rate)");
    return 0;
}

/* A count in [1, max] (default def): 400 outside, naming the set's size. */
static int parse_count(const cJSON *req, const char *key, size_t def, size_t max, const char *what,
                       size_t *out, srv_err *e) {
    long long v;
    if (srv_json_int_opt(req, key, "", 1, 1LL << 53, (long long)def, &v, e)) return -1;
    if ((unsigned long long)v > max)
        return srv_fail(e, 400, key, "%s is %lld; %s has %zu", key, v, what, max);
    *out = (size_t)v;
    return 0;
}

static int parse_sizes(const cJSON *req, const srv_limits *lim, srv_cnn_job *j, srv_err *e) {
    nn_cnn_train_config *c = &j->cfg;
    long long v;
    if (srv_json_int_opt(req, "epochs", "", 1, 1LL << 53, SRV_CNN_EPOCHS, &v, e)) return -1;
    if ((unsigned long long)v > lim->max_epochs)
        return srv_fail(e, 413, "epochs", "epochs is %lld; this server's limit is %zu", v, lim->max_epochs);
    c->epochs = (size_t)v;
    const char *tw = j->train.images ? "the Fashion-MNIST training set" : "dataset";
    const char *sw = j->test.images ? "the Fashion-MNIST test set" : "test_dataset";
    if (parse_count(req, "train_samples", j->train.count, j->train.count, tw, &c->train_samples, e)) return -1;
    if (parse_count(req, "test_samples", j->test.count, j->test.count, sw, &c->test_samples, e)) return -1;
    if (parse_count(req, "batch_size", 32 < c->train_samples ? 32 : c->train_samples, c->train_samples,
                    "the training set (train_samples)", &c->batch_size, e))
        return -1;
    if (srv_json_int_opt(req, "report_every", "", 1, 1LL << 53, 50, &v, e)) return -1;
    j->report_every = (size_t)v;
    unsigned long long seed;
    if (srv_json_seed_opt(req, "seed", "", 1, &seed, e)) return -1;
    /* two streams from one seed: the weights', then the shuffle's */
    nn_rng root;
    nn_rng_seed(&root, seed);
    j->seed = seed;
    j->init_seed = nn_rng_u64(&root);
    c->seed = nn_rng_u64(&root);
    if (srv_json_bool_opt(req, "shuffle", "", 1, &c->shuffle, e)) return -1;
    if (srv_json_bool_opt(req, "stream", "", 1, &j->stream, e)) return -1;
    return 0;
}

/* "architecture" or "init" (complete weights), else the default net. */
static int parse_layers(const cJSON *req, const srv_limits *lim, srv_cnn_job *j, srv_err *e) {
    const cJSON *arch = srv_json_get(req, "architecture"), *init = srv_json_get(req, "init");
    if (arch && init)
        return srv_fail(e, 400, "init", "init holds the layers with their weights: give it or architecture, not both");
    j->arch = calloc(1, sizeof *j->arch);
    if (!j->arch) return srv_fail(e, 503, NULL, "out of memory");
    if (!arch && !init) {
        j->arch->n = srv_cnn_default_spec(j->arch->specs);
        return 0;
    }
    const char *path = init ? "init" : "architecture";
    if (srv_arch_parse(init ? init : arch, path, lim, &srv_arch_defaults_train, j->arch, e)) return -1;
    if (init && !srv_arch_has_weights(j->arch))
        return srv_fail(e, 400, "init", "init must give every conv layer its \"kernels\" and every mlp layer its \"weights\" (the form of a done event's \"weights\")");
    j->given_init = init != NULL;
    return 0;
}

/* The net's size and cost for this batch, and the work bounds. */
static int plan(srv_cnn_job *j, const srv_limits *lim, srv_err *e) {
    const nn_cnn_train_config *c = &j->cfg;
    size_t classes;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_cnn_net_plan(j->arch->specs, j->arch->n, NN_FASHION_SIDE, NN_FASHION_SIDE, 1, c->batch_size,
                        &j->opt, &j->net_bytes, j->work_image, &classes, &ne) != NN_OK)
        return srv_fail_nn(e, &ne, NULL);
    if (classes != NN_FASHION_CLASSES)
        return srv_fail(e, 400, j->given_init ? "init" : "architecture",
                        "the last layer gives %zu values per image; Fashion-MNIST has %d classes", classes,
                        NN_FASHION_CLASSES);
    nn_cnn_info info;
    if (nn_cnn_validate(j->arch->specs, j->arch->n, NN_FASHION_SIDE, NN_FASHION_SIDE, 1, &info, &ne) != NN_OK)
        return srv_fail_nn(e, &ne, NULL);
    j->num_params = info.num_params;
    if (info.num_params > lim->max_tensor_elems)
        return srv_fail(e, 413, "architecture", "this network has %zu parameters; the limit is %zu", info.num_params,
                        lim->max_tensor_elems);
    double fwd = j->work_image[0], image = fwd + j->work_image[1], step = (double)c->batch_size * image;
    if (step > lim->max_work_flops)
        return srv_fail(e, 413, "batch_size", "one training step would need %.3g flops; the limit is %.3g", step,
                        lim->max_work_flops);
    double steps = (double)c->epochs * (double)((c->train_samples + c->batch_size - 1) / c->batch_size);
    double total = (double)c->epochs * ((double)c->train_samples * image + (double)c->test_samples * fwd) +
                   steps * (double)info.num_params * SRV_CNN_OPTIM_FLOPS;
    j->est_seconds = total / SRV_CNN_FLOPS_PER_CPU_SECOND;
    j->max_seconds = lim->max_train_seconds;
    if (j->est_seconds > lim->max_train_seconds)
        return srv_fail(e, 413, "epochs",
                        "this run is estimated at %.*f s of computing (%zu epochs of %zu images); the limit is %g s "
                        "(--max-train-seconds): ask for fewer epochs or train_samples, or a smaller net",
                        j->est_seconds < 10 ? 1 : 0, j->est_seconds, c->epochs, c->train_samples,
                        lim->max_train_seconds);
    return 0;
}

/* The run's memory, held for the job's lifetime: the net, the inline images, the result, the
 * permutation and the done line (weights and examples as text). */
static int reserve(srv_cnn_job *j, srv_err *e) {
    size_t bytes = j->net_bytes;
    for (int s = 0; s < 2; s++)
        if (j->own_px[s])
            bytes = srv_budget_add(bytes, srv_budget_mul((s ? j->test : j->train).count,
                                                         NN_FASHION_PIXELS * sizeof(float) + 1));
    bytes = srv_budget_add(bytes, srv_budget_mul(j->cfg.train_samples, sizeof(size_t)));
    bytes = srv_budget_add(bytes, srv_budget_mul(j->num_params, SRV_BUDGET_PER_ELEMENT));
    bytes = srv_budget_add(bytes, srv_budget_mul(NN_CNN_EXAMPLES * NN_FASHION_PIXELS, SRV_BUDGET_PER_ELEMENT));
    bytes = srv_budget_add(bytes, srv_budget_mul(j->cfg.epochs, 64));
    j->mem_bytes = bytes;
    if (srv_budget_reserve(&j->mem, bytes, SRV_BUDGET_WAIT_MS) == 0) return 0;
    return srv_fail(e, 503, "batch_size",
                    "the server's memory is taken by other requests (this training needs %.0f MB); retry later",
                    (double)bytes / 1e6);
}

srv_cnn_job *srv_cnn_job_prepare(const srv_limits *lim, const cJSON *req, int npy, srv_err *e) {
    static const char *const keys[] = {"architecture", "init", "epochs", "batch_size", "optimizer",
                                       "learning_rate", "momentum", "lr_decay", "train_samples", "test_samples",
                                       "shuffle", "seed", "report_every", "stream", "dataset",
                                       "test_dataset", NULL};
    if (srv_json_only_keys(req, "", keys, e)) return NULL;
    srv_cnn_job *j = calloc(1, sizeof *j);
    if (!j) {
        srv_fail(e, 503, NULL, "out of memory");
        return NULL;
    }
    if (parse_layers(req, lim, j, e) || parse_optimizer(req, j, e) || pick_sets(req, lim, j, e) ||
        parse_sizes(req, lim, j, e) || plan(j, lim, e) || reserve(j, e)) {
        srv_cnn_job_free(j);
        return NULL;
    }
    j->cfg.train = &j->train;
    j->cfg.test = &j->test;
    j->line.npy = npy;
    return j;
}
