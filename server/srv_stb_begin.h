/* srv_stb_begin.h / srv_stb_end.h — bracket the #include of a Debian stb header compiled in one
 * of our files (srv_stb_image.h and .c, srv_render.c): stb is not written for our warning set.
 * No include guard: meant to be included around exactly one stb header per file. */
#if defined(__GNUC__)
/* Static stb: the functions we do not call would warn at the end of the file, after the pop. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wvla"
#endif
