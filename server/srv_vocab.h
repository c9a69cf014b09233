/* srv_vocab.h — the names the API accepts, as JSON for clients (GET /healthz), built from the
 * parsers' own tables so that a client (the web page) never keeps a copy that can drift. */
#ifndef SRV_VOCAB_H
#define SRV_VOCAB_H

#include <cJSON.h>

/* {"conv": ["conv", "convolution"], "pool": [...], "global_pool": [...], "mlp": [...]}: every
 * layer type of /cnn's "architecture" with each spelling the parser accepts (case-insensitive;
 * the canonical name first). Returns a new object owned by the caller, or NULL out of memory. */
cJSON *srv_vocab_layer_types(void);

#endif
