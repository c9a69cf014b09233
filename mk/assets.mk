# The daemon's embedded assets: every file under web/ (except tests, node_modules and dot-files)
# and server/openapi.json is compiled into nnlabd, so the binary is self-contained.
# server/assets/mkassets.c (a host tool) writes $(BUILD)/gen/assets.c. The file list is recorded
# in $(BUILD)/gen/assets.list, rewritten only when it changes, so adding or removing a page file
# regenerates the table too.
WEB_ASSETS := $(shell find web -type f -not -path 'web/tests/*' -not -path 'web/node_modules/*' \
                -not -path '*/.*' -not -name '*.test.*' -not -name '*.spec.*' 2>/dev/null | LC_ALL=C sort)
OPENAPI_DOC := $(wildcard server/openapi.json)
ASSET_ARGS := $(foreach f,$(WEB_ASSETS),$(f:web/%=/%)=$(f)) $(if $(OPENAPI_DOC),/openapi.json=$(OPENAPI_DOC))

$(BUILD)/gen/mkassets: server/assets/mkassets.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -o $@ $<

$(BUILD)/gen/assets.list: FORCE
	@mkdir -p $(dir $@)
	@echo '$(ASSET_ARGS)' | cmp -s - $@ || echo '$(ASSET_ARGS)' > $@

$(BUILD)/gen/assets.c: $(BUILD)/gen/mkassets $(BUILD)/gen/assets.list $(WEB_ASSETS) $(OPENAPI_DOC)
	$(BUILD)/gen/mkassets $@ $(ASSET_ARGS)

$(BUILD)/gen/assets.o: $(BUILD)/gen/assets.c server/http_assets.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(NNLABD): $(BUILD)/gen/assets.o

.PHONY: FORCE
FORCE:

# The PyTorch export's script (server/rnn_export.py) as one C string in the server library:
# srv_rnn_export.c fills in a run's data. Backslashes, quotes and question marks are escaped
# (-std=c11 reads "??" as a trigraph).
$(BUILD)/gen/rnn_export_py.c: server/rnn_export.py mk/assets.mk
	@mkdir -p $(dir $@)
	@{ echo '/* Generated from server/rnn_export.py by mk/assets.mk. */'; \
	  echo '#include "srv_rnn_export.h"'; echo 'const char srv_rnn_export_template[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(BUILD)/gen/rnn_export_py.o: $(BUILD)/gen/rnn_export_py.c server/srv_rnn_export.h
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIBSRV): $(BUILD)/gen/rnn_export_py.o
