# Training kernels (issue 14): build flags.
#
# The optimiser's update loop has a run-time length; gcc's -O2 cost model vectorizes only loops
# whose trip count is a known multiple of the vector width, so nn_optim.c is built with -O3
# (-fno-math-errno: sqrtf as the vector instruction, the same correctly rounded result;
# -fno-trapping-math: if-conversion of the weight-decay and momentum choices). Nothing there
# reads errno or traps; the operations, and so the bits, are the same as at -O2 (every fma is
# written out with fmaf, and gcc does not contract the rest in -std=c11).
$(BUILD)/core/nn_optim.o: override CFLAGS += -O3 -fno-trapping-math -fno-math-errno
