/* srv_clock.h — the monotonic clock the handlers time themselves with ("elapsed_ms"), and the
 * calling thread's CPU clock a training's time limit is checked against. */
#ifndef SRV_CLOCK_H
#define SRV_CLOCK_H

#include <time.h>

/* Milliseconds since an arbitrary origin (CLOCK_MONOTONIC: immune to clock changes). */
static inline double srv_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Seconds of CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID: a system call). */
static inline double srv_thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Whether a run's own CPU time (since cpu0, a srv_thread_cpu_s() reading) passed max_seconds
 * (<= 0: no limit). The limit counts seconds of computing, as the estimate does, so a loaded
 * machine does not stop a run the estimate admitted, but a wrong estimate does. The CPU clock is
 * a system call: looked at only when 100 ms of wall time passed since *checked_ms, which this
 * updates. */
static inline int srv_cpu_over(double max_seconds, double cpu0, double *checked_ms) {
    double now = srv_now_ms();
    if (max_seconds <= 0 || now - *checked_ms < 100.0) return 0;
    *checked_ms = now;
    return srv_thread_cpu_s() - cpu0 > max_seconds;
}

#endif
