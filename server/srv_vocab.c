/* srv_vocab.c — the accepted names as JSON; see srv_vocab.h. */
#include "srv_vocab.h"

#include "nn_cnn.h"

cJSON *srv_vocab_layer_types(void) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    nn_layer_type t;
    const char *name;
    for (size_t i = 0; (name = nn_layer_type_alias(i, &t)); i++) {
        const char *canon = nn_layer_type_name(t);
        cJSON *list = cJSON_GetObjectItemCaseSensitive(o, canon);
        if (!list && !(list = cJSON_AddArrayToObject(o, canon))) goto oom;
        cJSON *s = cJSON_CreateString(name);
        if (!s || !cJSON_AddItemToArray(list, s)) {
            cJSON_Delete(s);
            goto oom;
        }
    }
    return o;
oom:
    cJSON_Delete(o);
    return NULL;
}
