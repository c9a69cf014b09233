/* srv_json.c — strict JSON parsing and typed getters; see srv_json.h. */
#include "srv_json.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int token_eq(const char *s, size_t n, const char *lit) {
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

int srv_check_content_type(const char *ct, srv_err *e) {
    if (!ct) return 0;
    const char *p = ct;
    while (*p == ' ' || *p == '\t') p++;
    const char *end = p;
    while (*end && *end != ';' && *end != ' ' && *end != '\t') end++;
    size_t n = (size_t)(end - p);
    if (n == 0) return 0; /* an empty header is as good as none */
    int ok = token_eq(p, n, "application/json") || token_eq(p, n, "application/x-www-form-urlencoded");
    if (!ok && n > 17 && strncasecmp(p, "application/", 12) == 0 &&
        strncasecmp(end - 5, "+json", 5) == 0)
        ok = 1;
    if (!ok)
        return srv_fail(e, 415, "Content-Type",
                        "Content-Type must be application/json (got '%.60s')", ct);
    /* Parameters: only charset matters, and JSON is UTF-8. */
    const char *q = end;
    while ((q = strchr(q, ';'))) {
        q++;
        while (*q == ' ' || *q == '\t') q++;
        if (strncasecmp(q, "charset=", 8) == 0) {
            const char *v = q + 8;
            if (*v == '"') v++;
            size_t vn = strcspn(v, "\"; \t");
            if (!token_eq(v, vn, "utf-8") && !token_eq(v, vn, "utf8") && !token_eq(v, vn, "us-ascii"))
                return srv_fail(e, 415, "Content-Type", "charset must be utf-8 (got '%.*s')",
                                (int)(vn > 30 ? 30 : vn), v);
        }
    }
    return 0;
}

void srv_path_key(char *out, size_t n, const char *base, const char *key) {
    if (base && *base) snprintf(out, n, "%s.%s", base, key);
    else snprintf(out, n, "%s", key);
}

void srv_path_index(char *out, size_t n, const char *base, size_t i) {
    snprintf(out, n, "%s[%zu]", base ? base : "", i);
}

static int cmp_names(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

int srv_json_check_duplicates(const cJSON *j, const char *path, srv_err *e) {
    if (!cJSON_IsObject(j) && !cJSON_IsArray(j)) return 0;
    char sub[128];
    size_t i = 0;
    if (cJSON_IsObject(j)) {
        size_t n = (size_t)cJSON_GetArraySize(j);
        if (n > 1 && n <= 16) {
            for (const cJSON *a = j->child; a; a = a->next)
                for (const cJSON *b = a->next; b; b = b->next)
                    if (strcmp(a->string, b->string) == 0) {
                        srv_path_key(sub, sizeof sub, path, a->string);
                        return srv_fail(e, 400, sub, "duplicate key '%.60s'", a->string);
                    }
        } else if (n > 16) {
            const cJSON **v = malloc(n * sizeof *v);
            if (!v) return srv_fail(e, 503, NULL, "out of memory");
            size_t k = 0;
            for (const cJSON *a = j->child; a; a = a->next) v[k++] = a;
            qsort(v, n, sizeof *v, cmp_names);
            for (k = 1; k < n; k++)
                if (strcmp(v[k - 1]->string, v[k]->string) == 0) {
                    srv_path_key(sub, sizeof sub, path, v[k]->string);
                    srv_fail(e, 400, sub, "duplicate key '%.60s'", v[k]->string);
                    free(v);
                    return -1;
                }
            free(v);
        }
        for (const cJSON *c = j->child; c; c = c->next) {
            if (!c->child) continue;
            srv_path_key(sub, sizeof sub, path, c->string);
            if (srv_json_check_duplicates(c, sub, e)) return -1;
        }
    } else {
        for (const cJSON *c = j->child; c; c = c->next, i++) {
            if (!c->child) continue;
            srv_path_index(sub, sizeof sub, path, i);
            if (srv_json_check_duplicates(c, sub, e)) return -1;
        }
    }
    return 0;
}

/* What cJSON lets through although RFC 8259 does not allow it, found in one pass over the body
 * (which cJSON has parsed, so it is well formed otherwise):
 * - in a string, a raw control character (cJSON takes them) or \u0000 (cJSON turns it into a
 *   NUL that would silently cut the C string: an image's base64 would end there): 400 "body";
 * - a number outside the grammar -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?: cJSON
 *   reads 01, 1., -.5 and 1.e5 with strtod: 400 naming the field that holds it
 *   ("input[0][2]", "architecture[1].size").
 * The scan keeps the path of the value being read: per level of nesting, an array's index or the
 * object key last read (as written in the body, escapes and all). */
#define SCAN_DEPTH 1024 /* cJSON refuses nesting deeper than 1000 */
typedef struct level {
    int array;
    size_t index;
    const char *key;
    size_t key_len;
} level;

typedef struct scan {
    const char *b;
    size_t len;
    level lv[SCAN_DEPTH];
    size_t depth;
} scan;

static void scan_path(const scan *s, char *out, size_t n) {
    char cur[128] = "", next[128];
    for (size_t d = 0; d < s->depth && d < SCAN_DEPTH; d++) {
        const level *l = &s->lv[d];
        if (l->array) {
            srv_path_index(next, sizeof next, cur, l->index);
        } else {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(l->key_len < 60 ? l->key_len : 60), l->key ? l->key : "");
            srv_path_key(next, sizeof next, cur, key);
        }
        memcpy(cur, next, sizeof cur);
    }
    snprintf(out, n, "%s", cur[0] ? cur : "body");
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* End of the number starting at b[i]; *why says what breaks the grammar (NULL if nothing). */
static size_t number_end(const char *b, size_t len, size_t i, const char **why) {
    *why = NULL;
    if (i < len && b[i] == '-') i++;
    if (i < len && b[i] == '0') {
        if (++i < len && is_digit(b[i])) *why = "a leading zero";
    } else if (i < len && is_digit(b[i])) {
        while (i < len && is_digit(b[i])) i++;
    } else {
        *why = "no digit after the sign";
    }
    if (i < len && b[i] == '.') {
        if (!(++i < len && is_digit(b[i])) && !*why) *why = "no digit after the decimal point";
        while (i < len && is_digit(b[i])) i++;
    }
    if (i < len && (b[i] == 'e' || b[i] == 'E')) {
        if (++i < len && (b[i] == '+' || b[i] == '-')) i++;
        if (!(i < len && is_digit(b[i])) && !*why) *why = "no digit in the exponent";
        while (i < len && is_digit(b[i])) i++;
    }
    while (i < len && (is_digit(b[i]) || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] == '+' || b[i] == '-'))
        i++; /* the rest of what strtod would take, for the message */
    return i;
}

/* End of the string whose opening quote is at b[i] (past its closing quote), or 0 with *bad set
 * to the offset of a control character or \u0000 in it. */
static size_t string_end(const char *b, size_t len, size_t i, size_t *bad) {
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == '"') return i + 1;
        if (c < 0x20 || (c == '\\' && i + 5 < len && memcmp(b + i + 1, "u0000", 5) == 0)) {
            *bad = i;
            return 0;
        }
        if (c == '\\') i++; /* the escaped character */
    }
    return len;
}

static level *scan_top(scan *s) {
    return s->depth && s->depth <= SCAN_DEPTH ? &s->lv[s->depth - 1] : NULL;
}

static int strict_scan(scan *s, srv_err *e) {
    const char *b = s->b;
    size_t len = s->len, i = 0;
    s->depth = 0;
    while (i < len) {
        char c = b[i];
        if (c == '-' || is_digit(c)) {
            const char *why;
            size_t end = number_end(b, len, i, &why);
            if (why) {
                char path[128];
                scan_path(s, path, sizeof path);
                return srv_fail(e, 400, path, "%s: %.*s is not a JSON number (%s)", path,
                                (int)(end - i > 24 ? 24 : end - i), b + i, why);
            }
            i = end;
        } else if (c == '"') {
            size_t bad = 0, end = string_end(b, len, i, &bad);
            if (!end)
                return srv_fail(e, 400, "body", "a string holds a control character or \\u0000 at "
                                "byte %zu (JSON needs control characters escaped; NUL is not allowed)", bad);
            size_t j = end;
            while (j < len && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r')) j++;
            level *top = scan_top(s);
            if (top && !top->array && j < len && b[j] == ':') {
                top->key = b + i + 1;
                top->key_len = end - i - 2;
            }
            i = end;
        } else {
            if (c == ',') {
                level *top = scan_top(s);
                if (top && top->array) top->index++;
            } else if (c == '{' || c == '[') {
                if (s->depth < SCAN_DEPTH) s->lv[s->depth] = (level){c == '[', 0, NULL, 0};
                s->depth++;
            } else if ((c == '}' || c == ']') && s->depth) {
                s->depth--;
            }
            i++;
        }
    }
    return 0;
}

int srv_json_check_strict(const char *body, size_t len, srv_err *e) {
    scan *sc = malloc(sizeof *sc);
    if (!sc) return srv_fail(e, 503, NULL, "out of memory");
    sc->b = body;
    sc->len = len;
    int rc = strict_scan(sc, e);
    free(sc);
    return rc;
}

cJSON *srv_json_parse(const char *body, size_t len, srv_err *e) {
    if (!body || len == 0) {
        srv_fail(e, 400, "body", "the request body is empty (expected a JSON object)");
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!j) {
        size_t off = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
        srv_fail(e, 400, "body", "malformed JSON near byte %zu", off);
        return NULL;
    }
    size_t off = (size_t)(end - body);
    while (off < len && (body[off] == ' ' || body[off] == '\t' || body[off] == '\n' || body[off] == '\r'))
        off++;
    if (off < len) {
        srv_fail(e, 400, "body", "unexpected data after the JSON value at byte %zu", off);
        cJSON_Delete(j);
        return NULL;
    }
    if (srv_json_check_strict(body, len, e)) {
        cJSON_Delete(j);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        srv_fail(e, 400, "body", "the request body must be a JSON object");
        cJSON_Delete(j);
        return NULL;
    }
    if (srv_json_check_duplicates(j, "", e)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int key_listed(const char *const *list, const char *key) {
    for (const char *const *a = list; a && *a; a++)
        if (strcmp(*a, key) == 0) return 1;
    return 0;
}

static void list_keys(char *out, size_t n, const char *const *allowed, const char *const *extra) {
    size_t used = 0;
    out[0] = '\0';
    const char *const *lists[2] = {allowed, extra};
    for (int l = 0; l < 2; l++)
        for (const char *const *a = lists[l]; a && *a && used < n - 40; a++) {
            int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", *a);
            if (w > 0) used += (size_t)w;
        }
}

int srv_json_only_keys_plus(const cJSON *obj, const char *base, const char *const *allowed,
                            const char *const *extra, srv_err *e) {
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (key_listed(allowed, c->string) || key_listed(extra, c->string)) continue;
        char p[128];
        srv_path_key(p, sizeof p, base, c->string);
        char list[300];
        list_keys(list, sizeof list, allowed, extra);
        return srv_fail(e, 400, p, "unknown field '%.40s' (expected one of: %s)", c->string, list);
    }
    return 0;
}

int srv_json_only_keys(const cJSON *obj, const char *base, const char *const *allowed, srv_err *e) {
    return srv_json_only_keys_plus(obj, base, allowed, NULL, e);
}

const cJSON *srv_json_get(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNull(v) ? NULL : v;
}

int srv_json_int(const cJSON *v, const char *path, long long lo, long long hi, long long *out,
                 srv_err *e) {
    if (!cJSON_IsNumber(v)) return srv_fail(e, 400, path, "%s must be an integer", path);
    double d = v->valuedouble;
    if (!isfinite(d)) return srv_fail(e, 400, path, "%s must be a finite integer", path);
    if (d != floor(d)) return srv_fail(e, 400, path, "%s must be an integer (got %g)", path, d);
    /* hi >= 2^53 means "no upper bound" (every integer a double holds): do not print it. */
    if (d < (double)lo && hi >= (1LL << 53))
        return srv_fail(e, 400, path, "%s must be at least %lld (got %.17g)", path, lo, d);
    if (d < (double)lo || d > (double)hi)
        return srv_fail(e, 400, path, "%s must be between %lld and %lld (got %.17g)", path, lo, hi, d);
    *out = (long long)d;
    return 0;
}

int srv_json_num(const cJSON *v, const char *path, double *out, srv_err *e) {
    if (!cJSON_IsNumber(v)) return srv_fail(e, 400, path, "%s must be a number", path);
    if (!isfinite(v->valuedouble)) return srv_fail(e, 400, path, "%s must be finite", path);
    *out = v->valuedouble;
    return 0;
}

int srv_json_bool(const cJSON *v, const char *path, int *out, srv_err *e) {
    if (!cJSON_IsBool(v)) return srv_fail(e, 400, path, "%s must be true or false", path);
    *out = cJSON_IsTrue(v);
    return 0;
}

int srv_json_string(const cJSON *v, const char *path, const char **out, srv_err *e) {
    if (!cJSON_IsString(v) || !v->valuestring) return srv_fail(e, 400, path, "%s must be a string", path);
    *out = v->valuestring;
    return 0;
}

int srv_json_int_opt(const cJSON *obj, const char *key, const char *base, long long lo,
                     long long hi, long long def, long long *out, srv_err *e) {
    const cJSON *v = srv_json_get(obj, key);
    if (!v) { *out = def; return 0; }
    char p[128];
    srv_path_key(p, sizeof p, base, key);
    return srv_json_int(v, p, lo, hi, out, e);
}

int srv_json_num_opt(const cJSON *obj, const char *key, const char *base, double def,
                     double *out, srv_err *e) {
    const cJSON *v = srv_json_get(obj, key);
    if (!v) { *out = def; return 0; }
    char p[128];
    srv_path_key(p, sizeof p, base, key);
    return srv_json_num(v, p, out, e);
}

int srv_json_bool_opt(const cJSON *obj, const char *key, const char *base, int def, int *out,
                      srv_err *e) {
    const cJSON *v = srv_json_get(obj, key);
    if (!v) { *out = def; return 0; }
    char p[128];
    srv_path_key(p, sizeof p, base, key);
    return srv_json_bool(v, p, out, e);
}

int srv_json_string_opt(const cJSON *obj, const char *key, const char *base, const char *def,
                        const char **out, srv_err *e) {
    const cJSON *v = srv_json_get(obj, key);
    if (!v) { *out = def; return 0; }
    char p[128];
    srv_path_key(p, sizeof p, base, key);
    return srv_json_string(v, p, out, e);
}

int srv_json_pair_opt(const cJSON *obj, const char *key, const char *base, long long lo,
                      long long hi, long long def, long long out[2], srv_err *e) {
    const cJSON *v = srv_json_get(obj, key);
    if (!v) { out[0] = out[1] = def; return 0; }
    char p[128], q[140];
    srv_path_key(p, sizeof p, base, key);
    if (cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) != 2)
            return srv_fail(e, 400, p, "%s must be an integer or a pair [h, w]", p);
        for (int i = 0; i < 2; i++) {
            srv_path_index(q, sizeof q, p, (size_t)i);
            if (srv_json_int(cJSON_GetArrayItem(v, i), q, lo, hi, &out[i], e)) return -1;
        }
        return 0;
    }
    if (!cJSON_IsNumber(v)) return srv_fail(e, 400, p, "%s must be an integer or a pair [h, w]", p);
    if (srv_json_int(v, p, lo, hi, &out[0], e)) return -1;
    out[1] = out[0];
    return 0;
}

int srv_json_seed_opt(const cJSON *obj, const char *key, const char *base, unsigned long long def,
                      unsigned long long *out, srv_err *e) {
    long long s;
    if (srv_json_int_opt(obj, key, base, 0, (1LL << 53) - 1, (long long)def, &s, e)) return -1;
    *out = (unsigned long long)s;
    return 0;
}
