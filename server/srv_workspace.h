/* srv_workspace.h — a request's convolution scratch, counted in the memory budget.
 *
 * The scratch a convolution needs (nn_conv_workspace_size) follows from the request's
 * parameters — a wide stride or padding can ask for gigabytes — so it is reserved for the
 * current request through the budget (srv_budget.h) before it is allocated: 413 when it alone
 * exceeds the whole budget, 503 when there is no room now. It lives in a per-thread
 * nn_workspace so that a connection's next request reuses its pages, but only up to
 * SRV_WORKSPACE_KEEP bytes: srv_handle_json frees a larger one when its request ends, so a
 * workspace that grew for one huge request is not held by an idle keep-alive connection
 * (max connections times SRV_WORKSPACE_KEEP bounds what idle threads keep). */
#ifndef SRV_WORKSPACE_H
#define SRV_WORKSPACE_H

#include <stddef.h>

#include "nn_conv.h"
#include "srv_err.h"

/* Kept between requests (the everyday /conv needs well under 1 MiB). */
#define SRV_WORKSPACE_KEEP ((size_t)1 << 20)

/* This thread's scratch holding at least `bytes`, reserved for the current request first (a
 * request that asks several times reserves the largest once). NULL with the error in e (413 /
 * 503 naming `field`). */
nn_workspace *srv_workspace_get(size_t bytes, const char *field, srv_err *e);

/* End of a request: its scratch reservation is over; free this thread's scratch if it holds
 * more than SRV_WORKSPACE_KEEP. */
void srv_workspace_trim(void);

/* Bytes this thread's scratch holds now (for tests). */
size_t srv_workspace_held(void);

#endif
