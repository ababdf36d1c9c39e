import CBrotli

/// One `br` layer of a `BodyDecoder` (RFC 7932, through the system libbrotlidec). Output leaves
/// through a fixed window of `BodyDecoder.outputWindowSize` bytes that is handed to the sink after
/// every call into brotli, so decoding stops as soon as the sink has enough. Brotli streams cannot
/// be concatenated, so bytes after the end of the stream are an error, as they are for deflate.
///
/// Windows up to 4 MiB are decoded (lgwin 22, the default of brotli's own encoder and its
/// bindings); larger ones are refused as `windowTooLarge`. libbrotlidec fills its whole ring buffer,
/// as large as the declared window, before it returns any output: with 16 MiB windows a 51-byte
/// bomb cost 16 MiB and about 50 ms of event-loop time whatever the cap; now at most a 4 MiB fill
/// (about 10 ms). The ring buffer grows with the output, so a small body sent with a large window
/// is decoded.
final class BrotliDecoder: BodyDecodingLayer {
    /// The largest window decoded.
    static let maxWindowBytes = 4 << 20
    /// The largest single allocation admitted: the ring buffer of a `maxWindowBytes` window plus
    /// its write-ahead slack (542 bytes); Huffman tables stay far below.
    static let largestAllocation = maxWindowBytes + 64 * 1024

    let coding = BodyContentCoding.br
    private(set) var consumed = 0

    /// Made on the first input, so an empty body costs no decoder.
    private var state: OpaquePointer?
    private let limit: UnsafeMutablePointer<cbrotli_limit>
    private let window: UnsafeMutablePointer<UInt8>
    private var atStreamEnd = false

    init() {
        window = .allocate(capacity: BodyDecoder.outputWindowSize)
        limit = .allocate(capacity: 1)
        limit.initialize(to: cbrotli_limit(largest: Self.largestAllocation, refused: 0))
    }

    deinit {
        // The decoder's allocator reads the limit, so the decoder goes first.
        if let state { BrotliDecoderDestroyInstance(state) }
        limit.deinitialize(count: 1)
        limit.deallocate()
        window.deallocate()
    }

    func decode(
        _ input: UnsafeRawBufferPointer,
        into sink: (UnsafeRawBufferPointer) throws(BodyDecodingError) -> Bool
    ) throws(BodyDecodingError) -> Bool {
        guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self), !input.isEmpty else { return true }
        if atStreamEnd { throw .trailingData(coding: coding, offset: consumed) }
        let state = try started()
        var nextIn: UnsafePointer<UInt8>? = UnsafePointer(base)
        var availableIn = input.count
        while true {
            var nextOut: UnsafeMutablePointer<UInt8>? = window
            var availableOut = BodyDecoder.outputWindowSize
            let availableBefore = availableIn
            let result = BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
            consumed += availableBefore - availableIn
            let produced = BodyDecoder.outputWindowSize - availableOut
            // Output before an error is handed on first, as every layer does.
            if produced > 0, try !sink(UnsafeRawBufferPointer(start: window, count: produced)) { return false }
            switch result {
            case BROTLI_DECODER_RESULT_ERROR:
                throw failure(state)
            case BROTLI_DECODER_RESULT_SUCCESS:
                atStreamEnd = true
                if availableIn > 0 { throw .trailingData(coding: coding, offset: consumed) }
                return true
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                return true
            case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
                // Brotli always fills some of an empty window before asking for another; anything
                // else here would loop forever.
                guard produced > 0 || availableIn < availableBefore else {
                    throw .decoderFailure(coding: coding, code: Int(result.rawValue), reason: "no progress")
                }
            default:
                throw .decoderFailure(coding: coding, code: Int(result.rawValue), reason: "unknown result")
            }
        }
    }

    func finish() throws(BodyDecodingError) {
        if consumed == 0 { return }
        if !atStreamEnd { throw .unexpectedEnd(coding: coding, offset: consumed) }
    }

    private func started() throws(BodyDecodingError) -> OpaquePointer {
        if let state { return state }
        // Large-window brotli (a non-standard extension) stays off.
        guard let created = cbrotli_decoder_create(limit) else {
            throw .decoderFailure(coding: coding, code: 0, reason: "could not create a decoder (out of memory)")
        }
        state = created
        return created
    }

    /// Format errors (codes -1 to -18) are corrupt data; the rest (allocation failures, …) are the
    /// library failing. Brotli names its errors like `PADDING_1`, which reads as "padding 1".
    private func failure(_ state: OpaquePointer) -> BodyDecodingError {
        let code = BrotliDecoderGetErrorCode(state)
        let name = BrotliDecoderErrorString(code).map { String(cString: $0) } ?? "error \(code.rawValue)"
        let reason = name.lowercased().replacingUnderscores().trimmingSpaces()
        if limit.pointee.refused != 0 {
            return .windowTooLarge(coding: coding, limit: Self.maxWindowBytes)
        }
        if code.rawValue < 0, code.rawValue > BROTLI_DECODER_ERROR_DICTIONARY_NOT_SET.rawValue {
            return .corrupt(coding: coding, offset: consumed, reason: reason)
        }
        return .decoderFailure(coding: coding, code: Int(code.rawValue), reason: reason)
    }
}

private extension String {
    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }

    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
