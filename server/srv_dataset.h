/* srv_dataset.h — the data sets nnlabd trains on, loaded once, on first use, and shared.
 *
 * Fashion-MNIST (core/nn_fashion.h) is read from --data-dir / NNLAB_DATA_DIR (default
 * NN_FASHION_DIR, where Debian's dataset-fashion-mnist puts it) the first time a request needs
 * it: one allocation of 55 MB of bytes, reserved once in the memory budget (srv_budget.h) and
 * kept for the life of the process; every training reads the same bytes (never a copy per
 * run). Concurrent first requests wait for one load. A load that fails (files missing or
 * broken, no room in the budget) is not remembered as loaded: the next request tries again,
 * so installing the package fixes a running daemon. Thread-safe. */
#ifndef SRV_DATASET_H
#define SRV_DATASET_H

#include <cJSON.h>

#include "nn_fashion.h"
#include "srv_err.h"

/* The directory to read from (NULL or "" = NN_FASHION_DIR). Call before serving. */
void srv_dataset_set_dir(const char *dir);
const char *srv_dataset_dir(void);

/* The error code of a data set that is not there: 503 without Retry-After (waiting does not
 * install a package), so a client reports it instead of retrying. */
#define SRV_DATASET_UNAVAILABLE "dataset_unavailable"

/* Fashion-MNIST, loaded on the first call. NULL with e filled when it cannot be had: 503
 * SRV_DATASET_UNAVAILABLE, field "dataset", a message that names the file and its problem and how to install the data
 * (apt-get install dataset-fashion-mnist, or --data-dir), or 503 "busy" when the memory budget
 * has no room for it now. */
const nn_fashion *srv_dataset_fashion(srv_err *e);

/* Add "datasets": {"fashion-mnist": {...}} to a /healthz object: {"available": true,
 * "loaded": bool, "train": 60000, "test": 10000, "classes": 10, "dir": ...} when the files
 * are there (checked by their headers: cheap) or loaded, else {"available": false,
 * "reason": ..., "install": "apt-get install dataset-fashion-mnist", "dir": ...}. */
void srv_dataset_health(cJSON *healthz);

/* For tests: forget a loaded set and its budget (no request may be using it). */
void srv_dataset_reset(void);

#endif
