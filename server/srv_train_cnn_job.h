/* srv_train_cnn_job.h — internal: the /train/cnn job shared by srv_train_cnn.c (validation,
 * admission) and srv_train_cnn_run.c (the run and its lines). */
#ifndef SRV_TRAIN_CNN_JOB_H
#define SRV_TRAIN_CNN_JOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "nn_cnn_net.h"
#include "nn_cnn_train.h"
#include "srv_api.h"
#include "srv_arch.h"
#include "srv_budget.h"
#include "srv_buf.h"
#include "srv_train_cnn.h"

/* Training speed of the reference machine with both of its cores, for the start event's
 * estimated_seconds: flops (forward and backward) per second of wall time. The default run
 * (1.4 TFLOP) used 29 CPU-seconds on the busy reference VM, ~48 GFLOP per CPU-second; both
 * cores, less the serial stretches between kernels, give about 80. */
#define SRV_CNN_FLOPS_PER_SECOND 8e10

struct srv_cnn_job {
    srv_arch *arch;              /* the layers (and given weights) */
    int given_init;              /* the layers came as "init" */
    nn_optim opt;
    nn_cnn_train_config cfg;     /* train / test point at the two sets below */
    nn_imageset train, test;     /* Fashion-MNIST's (shared, read-only) or the inline ones */
    const char *train_name, *test_name; /* "fashion-mnist" | "inline" */
    float *own_px[2];            /* inline images [n, 784] (train, test) */
    uint8_t *own_lb[2];          /* inline labels */
    int stream;
    size_t report_every;
    uint64_t seed;               /* the request's; init_seed and cfg.seed are drawn from it */
    uint64_t init_seed;
    size_t num_params;
    size_t net_bytes;            /* the net's allocation and scratch */
    double flops_image;          /* forward + backward of one image */
    double est_seconds;
    size_t mem_bytes;            /* reserved in mem */
    srv_account mem;

    /* the run */
    nn_cnn_net net;
    srv_emit_fn emit;
    void *ctx;
    const atomic_int *cancel;
    int stopped;                 /* the client or the server asked to stop */
    size_t last_step;
    double t0, last_line_ms;
    double loss_sum;             /* since the last progress line: summed batch losses x images */
    size_t correct_sum, images_sum;
    srv_buf line;
};

#endif
