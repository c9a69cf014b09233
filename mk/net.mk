# Pooling / MLP / CNN (issue 2, core/nn_pool, nn_mlp, nn_cnn). The pooling kernels pick AVX-512 at
# run time; this runs the pool and CNN suites a second time on the portable SSE kernels, so both
# paths stay tested on a machine that has AVX-512.
.PHONY: test-net-generic
test-net-generic: $(BUILD)/tests/test_pool $(BUILD)/tests/test_cnn
	@echo "== pool and cnn suites with NNLAB_SIMD=generic"
	@NNLAB_SIMD=generic $(BUILD)/tests/test_pool --jobs 2 --short-filename
	@NNLAB_SIMD=generic $(BUILD)/tests/test_cnn --jobs 2 --short-filename

TEST_TARGETS += test-net-generic
