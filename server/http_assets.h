/* http_assets.h — the page (web/) and server/openapi.json, embedded in the binary.
 *
 * The table is generated at build time by server/assets/mkassets.c into $(BUILD)/gen/assets.c
 * (see mk/assets.mk), so the daemon is one self-contained file. Paths are URL paths
 * ("/index.html", "/openapi.json"). */
#ifndef HTTP_ASSETS_H
#define HTTP_ASSETS_H

#include <stddef.h>

typedef struct http_asset {
    const char *path;                /* URL path, e.g. "/index.html" */
    const unsigned char *data;       /* static, never freed */
    size_t len;
} http_asset;

/* Generated: the table and its length. */
extern const http_asset http_assets[];
extern const size_t http_assets_count;

/* The embedded file at URL path `path` ("/" means "/index.html"), or NULL. */
const http_asset *http_asset_find(const char *path);

/* Content type for a file name, by extension (application/octet-stream when unknown). */
const char *http_content_type(const char *name);

#endif
