/* check_body.h — request bodies shared by the unit and HTTP tests of /check. */
#ifndef NN_TEST_CHECK_BODY_H
#define NN_TEST_CHECK_BODY_H

/* A /check/conv body (malloc'd): a 64x64x3 input, 16 filters of 3x3, and an answer of zeros
 * shaped [62, 62, 16, 3], the shape of the "channels not summed" mistake, so checking it
 * replays that mistake: 6.2 MB of memory budget in all (the reference 1.2 MB of it, its replay
 * tensor 3.7 MB, its temporaries 1.3 MB). */
char *tcb_channels_check(void);

#endif
