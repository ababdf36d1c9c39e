import CZlib
import MeshgateInspection
#if canImport(CBrotli)
import CBrotli
#endif
#if canImport(CZstd)
import CZstd
#endif

// Body decoding (Content-Encoding gzip, deflate, br, zstd, identity, stacked). Two kinds of input:
// - arbitrary bytes under a Content-Encoding chosen by the input: decoding never hands out more
//   than the cap, and gives the same bytes, truncation and failure whether the body arrives whole or
//   cut into chunks anywhere (a split-dependent answer would let a sender steer inspection), except
//   that a corrupt tail past the cap may or may not be noticed (see checkSplitInvariance);
// - a payload the harness compresses itself (one or two layers, the reference encoders): decoding
//   gives the payload back, up to the cap, however the compressed body is cut.
@Sendable func fuzzBodyDecoder(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let mode = input.byte()
    let cap = input.pick([0, 1, 7, 100, 4096, 1 << 16, 1 << 20])
    let sizes = (0..<Int(input.choose(4))).map { _ in input.byte() }
    if mode & 1 == 0 {
        let names = ["", "identity"] + BodyContentCoding.allCases.filter { $0 != .identity }.map(\.rawValue) + ["x-gzip", "GZIP", "compress", " gzip ,, identity"]
        var header = input.pick(names)
        if mode & 2 != 0 { header += ", " + input.pick(names) }
        checkSplitInvariance(body: input.rest(), contentEncoding: header, cap: cap, sizes: sizes)
    } else {
        let available = compressors.keys.sorted()
        guard !available.isEmpty else { return }
        var layers = [input.pick(available)]
        if mode & 2 != 0 { layers.append(input.pick(available)) }
        let level = Int(input.choose(10))
        let payload = input.rest()
        var body = payload
        for name in layers {
            guard let compress = compressors[name], let compressed = compress(body, level) else { return }
            body = compressed
        }
        let header = layers.joined(separator: ", ")
        guard let result = checkSplitInvariance(body: body, contentEncoding: header, cap: cap, sizes: sizes) else {
            invariant(false, "\(header) body made by the reference encoder fails to decode (payload \(payload.count) bytes)")
            return
        }
        invariant(result.bytes[...] == payload.prefix(cap), "\(header) round trip changed the payload (\(payload.count) bytes, cap \(cap))")
        invariant(result.truncated == (payload.count > cap), "\(header) truncated=\(result.truncated) for \(payload.count) bytes and cap \(cap)")
    }
}

/// Decodes `body` whole and in chunks and checks both agree; returns the whole decode's result.
@discardableResult
private func checkSplitInvariance(body: [UInt8], contentEncoding: String, cap: Int, sizes: [UInt8]) -> BodyDecodingResult? {
    let whole: Result<BodyDecodingResult, BodyDecodingError> = Result { () throws(BodyDecodingError) in
        try BodyDecoder.decode(body, contentEncoding: contentEncoding, maxDecodedBytes: cap)
    }
    if case .success(let result) = whole {
        invariant(result.bytes.count <= cap, "'\(contentEncoding)' decoded \(result.bytes.count) bytes over the cap \(cap)")
    }

    let pieces = chunks(of: body, sizes: sizes)
    let chunked: Result<BodyDecodingResult, BodyDecodingError> = Result { () throws(BodyDecodingError) in
        let decoder = try BodyDecoder(contentEncoding: contentEncoding, maxDecodedBytes: cap)
        var out: [UInt8] = []
        for piece in pieces {
            out += try decoder.decode(Array(piece))
            invariant(decoder.decodedByteCount == out.count, "decodedByteCount \(decoder.decodedByteCount) ≠ \(out.count) bytes handed out")
            invariant(out.count <= cap, "'\(contentEncoding)' handed out \(out.count) bytes over the cap \(cap)")
            invariant(decoder.consumedByteCount <= body.count, "consumed \(decoder.consumedByteCount) of \(body.count) bytes")
        }
        try decoder.finish()
        return BodyDecodingResult(bytes: out, truncated: decoder.truncated)
    }

    switch (whole, chunked) {
    case (.success(let a), .success(let b)):
        invariant(a.bytes == b.bytes && a.truncated == b.truncated,
                  "'\(contentEncoding)': whole gives \(a.bytes.count) bytes (truncated \(a.truncated)), \(pieces.count) chunks give \(b.bytes.count) (truncated \(b.truncated))")
        return a
    case (.failure, .failure):
        return nil
    // Once the cap is reached the rest of the body is not read, so a corrupt tail beyond the cap
    // fails the decode only if the library read it before handing out the capped prefix, which
    // depends on how much input it had at once (brotli buffers its output). Both answers are safe:
    // the prefix is inspected, or the body counts as undecodable.
    case (.success(let a), .failure(let error)):
        invariant(a.truncated, "'\(contentEncoding)': whole decodes (\(a.bytes.count) bytes), \(pieces.count) chunks fail: \(error)")
    case (.failure(let error), .success(let b)):
        invariant(b.truncated, "'\(contentEncoding)': whole fails (\(error)), \(pieces.count) chunks decode \(b.bytes.count) bytes")
    }
    return nil
}

/// The reference encoders, by Content-Encoding name.
private let compressors: [String: @Sendable ([UInt8], Int) -> [UInt8]?] = {
    var table: [String: @Sendable ([UInt8], Int) -> [UInt8]?] = [
        "gzip": { zlibCompress($0, level: $1, windowBits: 15 + 16) },
        // deflate as the RFC says (zlib-wrapped) and as many senders do it (raw).
        "deflate": { zlibCompress($0, level: $1, windowBits: $1 % 2 == 0 ? 15 : -15) },
    ]
    #if canImport(CBrotli)
    if BodyContentCoding(token: "br") != nil {
        table["br"] = { payload, level in
            var size = BrotliEncoderMaxCompressedSize(payload.count)
            if size == 0 { size = payload.count + 1024 }
            var out = [UInt8](repeating: 0, count: size)
            let ok = payload.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    BrotliEncoderCompress(Int32(level), 10 + Int32(level % 15), BROTLI_MODE_GENERIC, payload.count, src.baseAddress, &size, dst.baseAddress)
                }
            }
            return ok == BROTLI_TRUE ? Array(out.prefix(size)) : nil
        }
    }
    #endif
    #if canImport(CZstd)
    if BodyContentCoding(token: "zstd") != nil {
        table["zstd"] = { payload, level in
            var out = [UInt8](repeating: 0, count: ZSTD_compressBound(payload.count))
            let written = payload.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, Int32(level + 1))
                }
            }
            return ZSTD_isError(written) != 0 ? nil : Array(out.prefix(written))
        }
    }
    #endif
    return table
}()

private func zlibCompress(_ payload: [UInt8], level: Int, windowBits: Int32) -> [UInt8]? {
    var stream = z_stream()
    guard czlib_deflate_init2(&stream, Int32(level), windowBits) == Z_OK else { return nil }
    defer { deflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(payload.count))) + 64)
    let rc: Int32 = payload.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            stream.next_in = src.baseAddress
            stream.avail_in = UInt32(src.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = UInt32(dst.count)
            return deflate(&stream, Z_FINISH)
        }
    }
    guard rc == Z_STREAM_END else { return nil }
    return Array(out.prefix(Int(stream.total_out)))
}
