// Shim for the system zstd library (RFC 8878): the streaming decoder for `Content-Encoding: zstd`
// bodies (with its error codes, to tell corrupt data from an allocation failure), and the one-shot
// encoder that tests use to make fixtures.
#ifndef MESHGATE_CZSTD_H
#define MESHGATE_CZSTD_H

#include <zstd.h>
#include <zstd_errors.h>

#endif
