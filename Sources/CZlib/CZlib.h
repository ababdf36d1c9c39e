// Shim for zlib. inflateInit2/deflateInit2 are macros that pass ZLIB_VERSION and
// sizeof(z_stream), which Swift cannot call, so they are wrapped as plain functions.
#ifndef MESHGATE_CZLIB_H
#define MESHGATE_CZLIB_H

#define ZLIB_CONST
#include <zlib.h>

/// inflateInit2: 15 + 16 for gzip, 15 for zlib (RFC 1950), -15 for raw deflate (RFC 1951).
static inline int czlib_inflate_init2(z_streamp stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

/// deflateInit2 with the default memory level and strategy (used by tests and tools to make fixtures).
static inline int czlib_deflate_init2(z_streamp stream, int level, int window_bits) {
    return deflateInit2(stream, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
}

#endif
