/* srv_config.h — nnlabd's run-time configuration: command-line flags and NNLAB_* variables.
 *
 * Every setting has a default, may be set by an environment variable, and is overridden by its
 * flag (flag > environment > default). `nnlabd --help` prints the table below with defaults. */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "srv_api.h"

#ifndef NNLABD_VERSION
#define NNLABD_VERSION "0.1.0"

/* --max-memory off: the memory budget is switched off. */
#define SRV_MAX_MEMORY_OFF SIZE_MAX
#endif

typedef struct srv_config {
    char host[256];          /* address to bind (numeric or a name), default 127.0.0.1 */
    unsigned port;           /* TCP port; 0 picks a free one (printed on stdout) */
    unsigned threads;        /* compute threads per request (0 = all cores) */
    unsigned max_connections;
    unsigned timeout_s;      /* inactivity timeout of a connection, seconds */
    char web_root[1024];     /* "" = serve the embedded web/ files; else serve from this dir */
    char data_dir[1024];     /* Fashion-MNIST's files (default NN_FASHION_DIR) */
    size_t max_memory;       /* bytes JSON requests may hold at once (srv_budget.h); 0 = auto,
                                SRV_MAX_MEMORY_OFF ("off") = no limit */
    srv_limits lim;
} srv_config;

/* Defaults, then NNLAB_* environment variables, then argv. Returns 0 on success, 1 when --help
 * or --version was handled (text written to out), -1 on a bad flag/value (message in err). */
int srv_config_load(srv_config *cfg, int argc, char **argv, FILE *out, char *err, size_t errlen);

/* Write the --help text (flags, variables, defaults) to out. */
void srv_config_usage(FILE *out);

#endif
