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

#endif
