/* srv_endpoint_out.c — response members several endpoints write alike; see srv_endpoints.h. */
#include "srv_endpoints.h"
#include "srv_render.h"

int srv_put_maps(srv_buf *out, const float *x, size_t H, size_t W, size_t C, srv_err *e) {
    srv_buf_putc(out, ',');
    if (srv_render_maps(out, x, H, W, C)) return srv_fail(e, 503, NULL, "out of memory rendering maps");
    return 0;
}

void srv_put_elapsed_end(srv_buf *out, double t0) {
    srv_buf_puts(out, ",\"elapsed_ms\":");
    srv_buf_printf(out, "%.3f", srv_now_ms() - t0);
    srv_buf_putc(out, '}');
}
