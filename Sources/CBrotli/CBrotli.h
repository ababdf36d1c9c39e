// Shim for the system brotli library (RFC 7932): the streaming decoder for `Content-Encoding: br`
// bodies, and the encoder, which tests and tools use to make fixtures with the reference
// implementation (both ship in Debian's libbrotli1, so linking the encoder adds no package).
#ifndef MESHGATE_CBROTLI_H
#define MESHGATE_CBROTLI_H

#include <stdlib.h>
#include <brotli/decode.h>
#include <brotli/encode.h>

/// A limit on each of a decoder's allocations. The brotli decoder fills its whole ring buffer (as
/// large as the window the stream declares, up to 16 MiB) before it hands out any output, so a
/// 51-byte stream costs 16 MiB and tens of milliseconds however little output is wanted. The ring
/// buffer is by far its largest allocation (Huffman tables stay under 2 MiB), so refusing any single
/// allocation over `largest` refuses windows over that size and nothing else.
typedef struct {
    size_t largest;
    /// Set when an allocation was refused for the limit (rather than by malloc).
    int refused;
} cbrotli_limit;

static inline void *cbrotli_limited_alloc(void *opaque, size_t size) {
    cbrotli_limit *limit = (cbrotli_limit *)opaque;
    if (size > limit->largest) {
        limit->refused = 1;
        return NULL;
    }
    return malloc(size);
}

static inline void cbrotli_limited_free(void *opaque, void *address) {
    (void)opaque;
    free(address);
}

/// A decoder whose allocations are checked against `limit`, which must outlive it.
static inline BrotliDecoderState *cbrotli_decoder_create(cbrotli_limit *limit) {
    return BrotliDecoderCreateInstance(cbrotli_limited_alloc, cbrotli_limited_free, limit);
}

#endif
