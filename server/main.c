/* main.c — nnlabd: the nnlab HTTP/JSON daemon.
 *
 * Reads the configuration (flags > NNLAB_* variables > defaults, see --help), starts the HTTP
 * layer (http_server.h), prints the address it listens on to stdout ("listening on
 * http://HOST:PORT", the port resolved when --port 0), then waits for SIGTERM / SIGINT and
 * stops gracefully: no new connections, open training streams end with an error line, exit 0. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server.h"
#include "nn_parallel.h"
#include "srv_budget.h"
#include "http_config.h"
#include "srv_dataset.h"

int main(int argc, char **argv) {
    /* Block the stop signals before any thread exists (the compute pool's, MHD's: they all
     * inherit this mask) and take them synchronously below with sigwait. A thread created
     * earlier would still accept SIGTERM and die of its default action. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    http_config cfg;
    char err[512] = "";
    int rc = http_config_load(&cfg, argc, argv, stdout, err, sizeof err);
    if (rc > 0) return 0;
    if (rc < 0) {
        fprintf(stderr, "nnlabd: %s\n", err);
        return 2;
    }
    nn_parallel_set_threads(cfg.threads);
    srv_dataset_set_dir(cfg.data_dir);
    srv_budget_init(cfg.max_memory == HTTP_MAX_MEMORY_OFF ? 0 /* unlimited */
                    : cfg.max_memory                   ? cfg.max_memory
                                                       : srv_budget_auto());

    http_server *srv = http_server_start(&cfg, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "nnlabd: %s\n", err);
        return 1;
    }
    const char *host = cfg.host;
    int v6 = strchr(host, ':') != NULL;
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "",
           http_server_port(srv));
    fflush(stdout);
    char mem[48] = "no memory limit";
    if (srv_budget_total() > 0)
        snprintf(mem, sizeof mem, "%.0f MB for requests", (double)srv_budget_total() / 1e6);
    char per_ip[32] = "any";
    if (cfg.max_conns_per_ip) snprintf(per_ip, sizeof per_ip, "%u", cfg.max_conns_per_ip);
    fprintf(stderr,
            "nnlabd %s: listening on %s:%u (max %u connections, %s per address, %u kept free; "
            "requests must arrive within %u s; %zu trainings; %s)\n",
            NNLABD_VERSION, host, http_server_port(srv), cfg.max_connections, per_ip,
            http_server_reserve(srv), cfg.request_timeout_s, cfg.lim.max_trainings, mem);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    fprintf(stderr, "nnlabd: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_stop(srv, 5000);
    fprintf(stderr, "nnlabd: stopped\n");
    return 0;
}
