// Shim for the system brotli library (RFC 7932): the streaming decoder for `Content-Encoding: br`
// bodies, and the encoder, which tests and tools use to make fixtures with the reference
// implementation (both ship in Debian's libbrotli1, so linking the encoder adds no package).
#ifndef MESHGATE_CBROTLI_H
#define MESHGATE_CBROTLI_H

#include <brotli/decode.h>
#include <brotli/encode.h>

#endif
