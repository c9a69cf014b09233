/* http_config.c — flags and NNLAB_* environment variables (see http_config.h). */
#include "http_config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_fashion.h"

/* OPT_SIZE_OFF: a size, or the word "off" (stored as SIZE_MAX). */
typedef enum { OPT_STR, OPT_UINT, OPT_SIZE, OPT_SIZE_OFF, OPT_DOUBLE } opt_kind;

typedef struct opt {
    const char *flag;  /* without the leading "--" */
    const char *env;
    opt_kind kind;
    size_t offset;     /* into http_config */
    size_t size;       /* buffer size for OPT_STR */
    const char *help;
} opt;

#define OFF(m) offsetof(http_config, m)
static const opt OPTS[] = {
    {"host", "NNLAB_HOST", OPT_STR, OFF(host), sizeof(((http_config *)0)->host),
     "address to listen on"},
    {"port", "NNLAB_PORT", OPT_UINT, OFF(port), 0, "TCP port (0 = any free port, printed)"},
    {"threads", "NNLAB_THREADS", OPT_UINT, OFF(threads), 0,
     "compute threads per request (0 = all cores)"},
    {"max-connections", "NNLAB_MAX_CONNECTIONS", OPT_UINT, OFF(max_connections), 0,
     "concurrent connections (one thread each)"},
    {"max-connections-per-ip", "NNLAB_MAX_CONNECTIONS_PER_IP", OPT_UINT, OFF(max_conns_per_ip), 0,
     "connections per client address (IPv6: per /64; 0 = no limit); beyond: the address's "
     "oldest connection still waiting for its request is closed"},
    {"reserve-connections", "NNLAB_RESERVE_CONNECTIONS", OPT_UINT, OFF(reserve_conns), 0,
     "connections kept free for new clients (at most a quarter of --max-connections): past "
     "the rest, each new one closes the oldest connection still waiting for its request"},
    {"timeout", "NNLAB_TIMEOUT", OPT_UINT, OFF(timeout_s), 0,
     "seconds of inactivity before a connection is closed"},
    {"request-timeout", "NNLAB_REQUEST_TIMEOUT", OPT_UINT, OFF(request_timeout_s), 0,
     "seconds for a whole request (headers and body) to arrive, from the connection's start or "
     "its previous answer; beyond: 408 and close"},
    {"web-root", "NNLAB_WEB_ROOT", OPT_STR, OFF(web_root), sizeof(((http_config *)0)->web_root),
     "serve the page from this directory instead of the embedded copy"},
    {"data-dir", "NNLAB_DATA_DIR", OPT_STR, OFF(data_dir), sizeof(((http_config *)0)->data_dir),
     "directory of the Fashion-MNIST files (apt-get install dataset-fashion-mnist)"},
    {"max-body", "NNLAB_MAX_BODY", OPT_SIZE, OFF(lim.max_body_bytes), 0,
     "request body bytes (larger: 413)"},
    {"max-image-side", "NNLAB_MAX_IMAGE_SIDE", OPT_SIZE, OFF(lim.max_image_side), 0,
     "image width/height in pixels"},
    {"max-tensor-elems", "NNLAB_MAX_TENSOR_ELEMS", OPT_SIZE, OFF(lim.max_tensor_elems), 0,
     "elements of any input or output tensor"},
    {"max-work", "NNLAB_MAX_WORK", OPT_DOUBLE, OFF(lim.max_work_flops), 0,
     "arithmetic budget of one request, flops"},
    {"max-samples", "NNLAB_MAX_SAMPLES", OPT_SIZE, OFF(lim.max_samples), 0,
     "training: samples and test_samples"},
    {"max-epochs", "NNLAB_MAX_EPOCHS", OPT_SIZE, OFF(lim.max_epochs), 0, "training: epochs"},
    {"max-length", "NNLAB_MAX_LENGTH", OPT_SIZE, OFF(lim.max_length), 0,
     "training: sequence length"},
    {"max-hidden", "NNLAB_MAX_HIDDEN", OPT_SIZE, OFF(lim.max_hidden), 0,
     "training: hidden_size"},
    {"max-trainings", "NNLAB_MAX_TRAININGS", OPT_SIZE, OFF(lim.max_trainings), 0,
     "concurrent trainings (beyond: 503 + Retry-After)"},
    {"max-train-seconds", "NNLAB_MAX_TRAIN_SECONDS", OPT_DOUBLE, OFF(lim.max_train_seconds), 0,
     "training: estimated seconds of computing (longer: 413); a run whose CPU time passes "
     "it ends with an error"},
    {"max-memory", "NNLAB_MAX_MEMORY", OPT_SIZE_OFF, OFF(max_memory), 0,
     "bytes requests may hold at once (0 = half the container's memory limit or RAM; "
     "off = no limit); beyond: wait 2 s, then 503 + Retry-After"},
};
#undef OFF
#define NOPTS (sizeof OPTS / sizeof OPTS[0])

static void defaults(http_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", NN_FASHION_DIR);
    cfg->port = 8080;
    cfg->threads = 0;
    cfg->max_connections = 256;
    cfg->max_conns_per_ip = 128;
    cfg->reserve_conns = 16;
    cfg->timeout_s = 60;
    cfg->request_timeout_s = 60;
    srv_limits_default(&cfg->lim);
}

/* Parse `text` into the option's slot. Integers must be plain decimal digits. */
static int set_value(http_config *cfg, const opt *o, const char *text, char *err, size_t errlen) {
    char *slot = (char *)cfg + o->offset;
    if (o->kind == OPT_STR) {
        if (strlen(text) >= o->size) {
            snprintf(err, errlen, "--%s: value too long", o->flag);
            return -1;
        }
        memcpy(slot, text, strlen(text) + 1);
        return 0;
    }
    if (o->kind == OPT_DOUBLE) {
        char *end = NULL;
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end != '\0' || errno != 0 || !isfinite(v) || v <= 0) {
            snprintf(err, errlen, "--%s: expected a positive number, got '%s'", o->flag, text);
            return -1;
        }
        memcpy(slot, &v, sizeof v);
        return 0;
    }
    if (o->kind == OPT_SIZE_OFF && strcmp(text, "off") == 0) {
        size_t off = SIZE_MAX;
        memcpy(slot, &off, sizeof off);
        return 0;
    }
    if (text[0] < '0' || text[0] > '9') {
        snprintf(err, errlen, "--%s: expected a non-negative integer, got '%s'", o->flag, text);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    uintmax_t v = strtoumax(text, &end, 10);
    uintmax_t max = o->kind == OPT_UINT ? UINT32_MAX : SIZE_MAX;
    if (*end != '\0' || errno != 0 || v > max) {
        snprintf(err, errlen, "--%s: expected a non-negative integer, got '%s'", o->flag, text);
        return -1;
    }
    if (o->kind == OPT_UINT) {
        unsigned u = (unsigned)v;
        memcpy(slot, &u, sizeof u);
    } else {
        size_t s = (size_t)v;
        memcpy(slot, &s, sizeof s);
    }
    return 0;
}

static void format_value(const http_config *cfg, const opt *o, char *buf, size_t len) {
    const char *slot = (const char *)cfg + o->offset;
    switch (o->kind) {
    case OPT_STR: snprintf(buf, len, "%s", *slot ? slot : "(embedded)"); break;
    case OPT_UINT: { unsigned u; memcpy(&u, slot, sizeof u); snprintf(buf, len, "%u", u); break; }
    case OPT_SIZE:
    case OPT_SIZE_OFF: {
        size_t s;
        memcpy(&s, slot, sizeof s);
        if (o->kind == OPT_SIZE_OFF && s == SIZE_MAX) snprintf(buf, len, "off");
        else snprintf(buf, len, "%zu", s);
        break;
    }
    case OPT_DOUBLE: { double d; memcpy(&d, slot, sizeof d); snprintf(buf, len, "%.6g", d); break; }
    }
}

void http_config_usage(FILE *out) {
    http_config def;
    defaults(&def);
    fprintf(out,
            "nnlabd %s — the nnlab HTTP/JSON daemon\n\n"
            "usage: nnlabd [--flag value | --flag=value]...\n\n"
            "Each flag may also be set by its environment variable (the flag wins).\n\n",
            NNLABD_VERSION);
    fprintf(out, "  %-25s %-29s %-9s %s\n", "flag", "variable", "default", "meaning");
    for (size_t i = 0; i < NOPTS; i++) {
        char v[64], f[40];
        format_value(&def, &OPTS[i], v, sizeof v);
        snprintf(f, sizeof f, "--%s", OPTS[i].flag);
        fprintf(out, "  %-25s %-29s %-9s %s\n", f, OPTS[i].env, v, OPTS[i].help);
    }
    fprintf(out, "  %-25s %-29s %-9s %s\n", "--help", "", "", "print this text");
    fprintf(out, "  %-25s %-29s %-9s %s\n", "--version", "", "", "print the version");
}

static const opt *find_flag(const char *name, size_t len) {
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(OPTS[i].flag) == len && memcmp(OPTS[i].flag, name, len) == 0) return &OPTS[i];
    return NULL;
}

int http_config_load(http_config *cfg, int argc, char **argv, FILE *out, char *err, size_t errlen) {
    defaults(cfg);
    for (size_t i = 0; i < NOPTS; i++) {
        const char *e = getenv(OPTS[i].env);
        if (e && *e) {
            char sub[200];
            if (set_value(cfg, &OPTS[i], e, sub, sizeof sub) != 0) {
                snprintf(err, errlen, "%s: %s", OPTS[i].env, sub);
                return -1;
            }
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            http_config_usage(out);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            fprintf(out, "nnlabd %s\n", NNLABD_VERSION);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
            return -1;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const opt *o = find_flag(name, nlen);
        if (!o) {
            snprintf(err, errlen, "unknown flag '%s' (see --help)", a);
            return -1;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", o->flag);
                return -1;
            }
            val = argv[++i];
        }
        if (set_value(cfg, o, val, err, errlen) != 0) return -1;
    }
    if (cfg->port > 65535) {
        snprintf(err, errlen, "--port must be <= 65535");
        return -1;
    }
    if (cfg->max_connections == 0 || cfg->timeout_s == 0 || cfg->request_timeout_s == 0 ||
        cfg->lim.max_body_bytes == 0 || cfg->lim.max_trainings == 0) {
        snprintf(err, errlen, "--max-connections, --timeout, --request-timeout, --max-body and "
                              "--max-trainings must be >= 1");
        return -1;
    }
    return 0;
}
