import NIOCore

/// Undoes a body's Content-Encoding (gzip, x-gzip, deflate with raw-deflate fallback, br, zstd,
/// identity, stacked as in "gzip, br") chunk by chunk, stopping at `maxDecodedBytes`.
///
/// Decoding is streamed through every layer (`BodyDecodingLayer`) in 16 KiB windows, so a gzip,
/// brotli or zstd bomb costs at most the cap plus a few windows of output (and the decompressor's
/// own history window) and stops being decoded once the cap is reached; the remaining input is then
/// ignored and `truncated` is true. Not thread-safe: one decoder per body.
public final class BodyDecoder {
    /// Most stacked codings (identity not counted) decoded before giving up with `tooManyEncodings`.
    public static let maxLayers = 4

    /// The codings in the order the sender applied them (identity removed).
    public let codings: [BodyContentCoding]
    /// Decoded bytes beyond this are not produced.
    public let maxDecodedBytes: Int
    /// Decoded bytes handed out so far (never more than `maxDecodedBytes`).
    public private(set) var decodedByteCount = 0
    /// Encoded bytes taken in so far; once truncated, further input is not read.
    public private(set) var consumedByteCount = 0
    /// Whether the output reached `maxDecodedBytes` with more still to come.
    public private(set) var truncated = false

    private let layers: [any BodyDecodingLayer]
    private var failure: BodyDecodingError?

    /// A decoder for a Content-Encoding header value (nil or empty: identity).
    public convenience init(contentEncoding: String?, maxDecodedBytes: Int) throws(BodyDecodingError) {
        try self.init(codings: BodyContentCoding.parse(contentEncoding ?? ""), maxDecodedBytes: maxDecodedBytes)
    }

    /// A decoder for codings listed in the order the sender applied them.
    public init(codings: [BodyContentCoding], maxDecodedBytes: Int) throws(BodyDecodingError) {
        let effective = codings.filter { $0 != .identity }
        guard effective.count <= Self.maxLayers else {
            throw .tooManyEncodings(count: effective.count, limit: Self.maxLayers)
        }
        self.codings = effective
        self.maxDecodedBytes = max(0, maxDecodedBytes)
        self.layers = effective.reversed().compactMap { $0.makeDecodingLayer() }
    }

    /// Decodes the next chunk of the body and returns the decoded bytes it yields (possibly none).
    /// After an error every call throws that error again.
    public func decode(_ chunk: UnsafeRawBufferPointer) throws(BodyDecodingError) -> [UInt8] {
        if let failure { throw failure }
        guard !truncated, !chunk.isEmpty else { return [] }
        var output: [UInt8] = []
        do {
            if let outer = layers.first {
                let before = outer.consumed
                defer { consumedByteCount += outer.consumed - before }
                _ = try push(chunk, layer: 0, into: &output)
            } else {
                let before = decodedByteCount
                _ = deliver(chunk, into: &output)
                consumedByteCount += decodedByteCount - before
            }
        } catch {
            failure = error
            throw error
        }
        return output
    }

    /// Decodes the next chunk of the body.
    public func decode(_ chunk: [UInt8]) throws(BodyDecodingError) -> [UInt8] {
        try chunk.withUnsafeBytes { raw in
            Result { () throws(BodyDecodingError) in try decode(raw) }
        }.get()
    }

    /// Decodes the readable bytes of `chunk` (the buffer's reader index is not moved).
    public func decode(_ chunk: ByteBuffer) throws(BodyDecodingError) -> [UInt8] {
        try chunk.withUnsafeReadableBytes { raw in
            Result { () throws(BodyDecodingError) in try decode(raw) }
        }.get()
    }

    /// Call at the end of the body: throws `unexpectedEnd` when a compressed stream was cut off.
    /// A truncated decode never throws here, since the rest of the input was deliberately not read.
    public func finish() throws(BodyDecodingError) {
        if let failure { throw failure }
        guard !truncated else { return }
        do {
            for layer in layers { try layer.finish() }
        } catch {
            failure = error
            throw error
        }
    }

    /// Decodes a whole body at once.
    public static func decode(
        _ body: [UInt8],
        contentEncoding: String?,
        maxDecodedBytes: Int
    ) throws(BodyDecodingError) -> BodyDecodingResult {
        try decodeWhole(contentEncoding: contentEncoding, maxDecodedBytes: maxDecodedBytes) { (decoder: BodyDecoder) throws(BodyDecodingError) -> [UInt8] in try decoder.decode(body) }
    }

    /// Decodes a whole body held in a `ByteBuffer` (its readable bytes).
    public static func decode(
        _ body: ByteBuffer,
        contentEncoding: String?,
        maxDecodedBytes: Int
    ) throws(BodyDecodingError) -> BodyDecodingResult {
        try decodeWhole(contentEncoding: contentEncoding, maxDecodedBytes: maxDecodedBytes) { (decoder: BodyDecoder) throws(BodyDecodingError) -> [UInt8] in try decoder.decode(body) }
    }

    private static func decodeWhole(
        contentEncoding: String?,
        maxDecodedBytes: Int,
        _ feed: (BodyDecoder) throws(BodyDecodingError) -> [UInt8]
    ) throws(BodyDecodingError) -> BodyDecodingResult {
        let decoder = try BodyDecoder(contentEncoding: contentEncoding, maxDecodedBytes: maxDecodedBytes)
        let bytes = try feed(decoder)
        try decoder.finish()
        return BodyDecodingResult(bytes: bytes, truncated: decoder.truncated)
    }

    private func push(
        _ bytes: UnsafeRawBufferPointer,
        layer index: Int,
        into output: inout [UInt8]
    ) throws(BodyDecodingError) -> Bool {
        guard index < layers.count else { return deliver(bytes, into: &output) }
        return try layers[index].decode(bytes) { (produced) throws(BodyDecodingError) -> Bool in
            try push(produced, layer: index + 1, into: &output)
        }
    }

    /// Appends up to the cap; false once the cap cut something off.
    private func deliver(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Bool {
        let room = maxDecodedBytes - decodedByteCount
        if bytes.count <= room {
            output.append(contentsOf: bytes)
            decodedByteCount += bytes.count
            return true
        }
        output.append(contentsOf: bytes.prefix(room))
        decodedByteCount += room
        truncated = true
        return false
    }
}
