/* srv_stb_end.h — see srv_stb_begin.h. */
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
