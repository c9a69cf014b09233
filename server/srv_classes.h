/* srv_classes.h — a classifier's answer by class: POST /cnn's "classes" and "top".
 *
 *   "classes": "fashion-mnist" (its 10 names, nn_fashion.h) or a list of one name per output;
 *   "top": k (1 .. outputs; default 3, or the number of outputs if fewer, when "classes" is
 *   given) asks for the k most probable classes:
 *   "top": [{"class": index, "name": "...", "p": softmax probability}, ...]   (most probable
 *   first, ties by index; "name" only when classes are named). */
#ifndef SRV_CLASSES_H
#define SRV_CLASSES_H

#include <cJSON.h>
#include <stddef.h>

#include "srv_buf.h"
#include "srv_err.h"

typedef struct srv_classes {
    size_t top;                /* 0: no "top" in the answer */
    size_t n;                  /* names given (0 or the outputs) */
    const char **names;        /* [n], pointing into the request or static strings */
    int own;                   /* names was malloc'd */
} srv_classes;

/* Read "classes" and "top" of req for a net with `outputs` values (400 naming the field). */
int srv_classes_parse(const cJSON *req, size_t outputs, srv_classes *c, srv_err *e);

/* Append ,"top":[...] from probs [outputs] (nothing when c->top is 0). */
void srv_classes_write_top(srv_buf *out, const srv_classes *c, const float *probs, size_t outputs);

void srv_classes_free(srv_classes *c);

#endif
