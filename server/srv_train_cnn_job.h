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

/* The estimate of a run's computing time, in CPU-seconds (seconds with a core to itself, as
 * --max-train-seconds counts them): forward and backward work (flops; pooling at the batched
 * kernels' counts, nn_cnn_net_plan), plus the optimiser step, which
 * is memory-bound (parameters, gradients and Adam's two moments are streamed through once a
 * step: counted as SRV_CNN_OPTIM_FLOPS per parameter), at SRV_CNN_FLOPS_PER_CPU_SECOND. The
 * default run (1.61e12 by this count: 32 s) took 22-33 CPU-seconds on the reference VM, idle to busy. */
#define SRV_CNN_FLOPS_PER_CPU_SECOND 5e10
#define SRV_CNN_OPTIM_FLOPS 50.0

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
    double work_image[2];        /* forward, backward of one image (nn_cnn_net_plan) */
    double est_seconds;          /* CPU-seconds of computing (see above) */
    double max_seconds;          /* --max-train-seconds, enforced on the run thread's CPU time */
    size_t mem_bytes;            /* reserved in mem */
    srv_account mem;

    /* the run */
    nn_cnn_net net;
    srv_emit_fn emit;
    void *ctx;
    const atomic_int *cancel;
    int stopped;                 /* the client or the server asked to stop */
    size_t last_step;
    size_t over_time_epoch;      /* nonzero: the run passed max_seconds in this epoch */
    double t0, last_line_ms;
    double cpu0, cpu_checked_ms; /* the run thread's CPU clock at the start; last look at it */
    double loss_sum;             /* since the last progress line: summed batch losses x images */
    size_t correct_sum, images_sum;
    srv_buf line;
};

#endif
