/* test_http_images.c — hostile images through the real daemon (default limits), issue 13:
 * decoding work is bounded before it is spent (many JPEG scans, PNG deflate-block bombs: 413/415
 * at once, saying why), an image over stb_image's own size cap is 413 with its size, and an image
 * stb_image decodes only partly (a short palette, a progressive JPEG without a DC scan) gives the
 * same answer on every request. The crafted files are tests/data/bad_images (make.py). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_support.h"

static th_server srv;
static void up(void) { th_start(&srv, NULL); }
static void down(void) { cr_assert_eq(th_stop(&srv), 0); }
TestSuite(images, .init = up, .fini = down, .timeout = 180);

#define BAD TH_DATA "/bad_images/"

/* POST /conv with the file as "image" and the given extra members (",\"k\": v" or ""). */
static void post_image(const char *file, const char *extra, th_resp *r) {
    size_t len = 0;
    char *data = th_read_file(file, &len);
    cr_assert_not_null(data, "%s", file);
    char *b64 = th_base64((const unsigned char *)data, len);
    free(data);
    size_t n = strlen(b64) + strlen(extra) + 64;
    char *body = malloc(n);
    snprintf(body, n, "{\"image\":\"%s\"%s}", b64, extra);
    free(b64);
    cr_assert_eq(th_post_json(&srv, "/conv", body, r), 0);
    free(body);
}

/* The answer to `file` is `status` with field "image", within 0.5 s, and its message contains
 * want and want2 (NULL: only want). */
static void refused(const char *file, long status, const char *want, const char *want2) {
    th_resp r;
    post_image(file, ",\"kernel\":\"box\"", &r);
    cr_assert_eq(r.status, status, "%s: %.300s", file, r.body);
    cr_assert_lt(r.seconds, 0.5 * th_slow(), "%s took %.3f s", file, r.seconds);
    cJSON *j = th_json(&r);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "field")), "image");
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
    cr_expect(m && strstr(m, want) && (!want2 || strstr(m, want2)), "%s: %s", file, m ? m : r.body);
    cJSON_Delete(j);
    th_resp_free(&r);
}

Test(images, jpeg_scans_over_the_cap_are_refused_at_once) {
    /* 400 scans over a 2048x2048 frame: ~2.5 s of stb_image before the cap */
    refused(BAD "jpg_progressive_400_scans.jpg", 415, "401 scans", "at most 64");
}

Test(images, jpeg_decoding_work_over_the_budget_is_413) {
    /* the same scan decoded 48 times over a 2304x2304 frame: ~1.3 s of stb_image */
    refused(BAD "jpg_baseline_48_scans.jpg", 413, "flops", "48 scans over a 2304x2304 frame");
}

Test(images, a_png_deflate_block_bomb_is_413) {
    /* 800000 empty fixed-code blocks: ~1.2 s of stb_image */
    refused(BAD "png_fixed_block_bomb.png", 413, "flops", "compressed blocks for a 16x16 image");
}

Test(images, wider_than_stb_can_decode_is_413_with_the_size) {
    refused(BAD "png_16385x1.png", 413, "16385x1", NULL);
    refused(BAD "jpg_16385x8.jpg", 413, "16385x8", NULL);
}

/* The "output" data of a /conv answer (malloc'd copy of the body's numbers as text). */
static char *output_of(const th_resp *r) {
    cJSON *j = th_json(r);
    char *out = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "output"), "data"));
    cJSON_Delete(j);
    return out;
}

Test(images, a_short_palette_decodes_the_same_every_time_with_black_beyond_it) {
    /* 16x16, PLTE of one entry (200, 100, 50), pixel i has index i: only pixel 0 is in the PLTE */
    char *first = NULL;
    for (int k = 0; k < 4; k++) {
        th_resp r;
        post_image(BAD "png_palette_short_plte.png", ",\"kernel\":\"identity\"", &r);
        cr_assert_eq(r.status, 200, "%.300s", r.body);
        char *out = output_of(&r);
        th_resp_free(&r);
        if (!first) {
            first = out;
            continue;
        }
        cr_assert_str_eq(out, first, "request %d decoded differently", k);
        free(out);
    }
    /* the identity preset (3x3, replicated over R, G, B) without padding: output (y, x) is the
     * sum of input (y+1, x+1)'s channels; pixel (0, 0), the only one in the PLTE, is not there */
    cJSON *data = cJSON_Parse(first);
    int n = cJSON_GetArraySize(data), nonzero = 0;
    for (int i = 0; i < n; i++) nonzero += cJSON_GetArrayItem(data, i)->valuedouble != 0;
    cr_expect_eq(n, 14 * 14);
    cr_expect_eq(nonzero, 0, "%d values past the palette are not black", nonzero);
    cJSON_Delete(data);
    free(first);
}

Test(images, partly_decoded_jpegs_give_the_same_answer_every_time) {
    static const char *const files[] = {BAD "jpg_progressive_no_dc.jpg",
                                        BAD "jpg_baseline_one_component_scanned.jpg",
                                        BAD "jpg_restart_ends_scan.jpg"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char *first = NULL;
        for (int k = 0; k < 3; k++) {
            th_resp r;
            post_image(files[f], ",\"kernel\":\"identity\"", &r);
            cr_assert_eq(r.status, 200, "%s: %.300s", files[f], r.body);
            char *out = output_of(&r);
            th_resp_free(&r);
            if (!first) first = out;
            else {
                cr_assert_str_eq(out, first, "%s: request %d decoded differently", files[f], k);
                free(out);
            }
        }
        free(first);
    }
}

Test(images, honest_progressive_interlaced_and_many_block_files_still_decode) {
    static const char *const files[] = {BAD "jpg_progressive_libjpeg_script.jpg",
                                        BAD "png_interlaced_control.png",
                                        BAD "png_palette_control.png",
                                        BAD "png_dynamic_blocks_2000.png"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        th_resp r;
        post_image(files[f], ",\"kernel\":\"box\"", &r);
        cr_expect_eq(r.status, 200, "%s: %.300s", files[f], r.body);
        th_resp_free(&r);
    }
}
