# Recurrent nets (issue 3): the 5-seed table of the assignment's experiment, and build flags.
#
# The recurrent kernels' loops have run-time lengths of a few elements (hidden 6, 24 gate rows):
# gcc's -O2 cost model vectorizes only loops whose trip count is a known multiple of the vector
# width, so these two files are built with -O3; -fno-trapping-math lets it if-convert the clamps
# of the branch-free exp (nn_rnn_math.h), -fno-math-errno lets Adam use the sqrt instruction
# in vector form (same correctly rounded result). Nothing here reads errno or traps.
$(BUILD)/core/nn_rnn_fast.o $(BUILD)/core/nn_adam.o: override CFLAGS += -O3 -fno-trapping-math -fno-math-errno

RNN_TABLE := $(BUILD)/bench/rnn_table
$(RNN_TABLE): bench/rnn_table.c $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBNN) -lm

.PHONY: rnn-table
# The README's table: Elman / LSTM / GRU, seeds 1-5, the assignment's settings.
rnn-table: $(RNN_TABLE)
	@$(RNN_TABLE)
