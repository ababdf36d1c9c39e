import CZstd

/// One `zstd` layer of a `BodyDecoder` (RFC 8878, through the system libzstd). Output leaves through
/// a fixed window of `BodyDecoder.outputWindowSize` bytes handed to the sink after every call into
/// zstd, so decoding stops as soon as the sink has enough. Concatenated frames (and skippable
/// frames) are all decoded, as `zstd -d` does, so a second frame cannot hide behind a harmless first.
final class ZstdDecoder: BodyDecodingLayer {
    /// RFC 9659 §3: senders of the `zstd` content coding keep the window at 8 MiB or less, and
    /// recipients may refuse more. zstd's own default would let a 10-byte frame header make the
    /// decoder reserve 128 MiB.
    static let maxWindowLog: Int32 = 23

    let coding = BodyContentCoding.zstd
    private(set) var consumed = 0

    /// Made on the first input, so an empty body costs no decoder.
    private var context: OpaquePointer?
    private let window: UnsafeMutablePointer<UInt8>
    /// Whether the last call ended exactly at the end of a frame.
    private var atFrameEnd = false

    init() {
        window = .allocate(capacity: BodyDecoder.outputWindowSize)
    }

    deinit {
        if let context { ZSTD_freeDCtx(context) }
        window.deallocate()
    }

    func decode(
        _ input: UnsafeRawBufferPointer,
        into sink: (UnsafeRawBufferPointer) throws(BodyDecodingError) -> Bool
    ) throws(BodyDecodingError) -> Bool {
        guard !input.isEmpty else { return true }
        let context = try started()
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var outBuffer = ZSTD_outBuffer(dst: window, size: BodyDecoder.outputWindowSize, pos: 0)
            let positionBefore = inBuffer.pos
            let rc = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
            consumed += inBuffer.pos - positionBefore
            // Output before an error is handed on first, as every layer does.
            if outBuffer.pos > 0, try !sink(UnsafeRawBufferPointer(start: window, count: outBuffer.pos)) { return false }
            if ZSTD_isError(rc) != 0 { throw failure(rc) }
            // 0: a frame was completely decoded and flushed; the next input starts a new frame.
            atFrameEnd = rc == 0
            // A full window may leave output buffered inside zstd, so only a partly filled one
            // with all input read means this chunk is done.
            if inBuffer.pos == inBuffer.size, outBuffer.pos < outBuffer.size { return true }
            guard inBuffer.pos > positionBefore || outBuffer.pos > 0 else {
                throw .decoderFailure(coding: coding, code: 0, reason: "no progress")
            }
        }
    }

    func finish() throws(BodyDecodingError) {
        if consumed == 0 { return }
        if !atFrameEnd { throw .unexpectedEnd(coding: coding, offset: consumed) }
    }

    private func started() throws(BodyDecodingError) -> OpaquePointer {
        if let context { return context }
        guard let created = ZSTD_createDCtx() else {
            throw .decoderFailure(coding: coding, code: 0, reason: "could not create a decoder (out of memory)")
        }
        let rc = ZSTD_DCtx_setParameter(created, ZSTD_d_windowLogMax, Self.maxWindowLog)
        if ZSTD_isError(rc) != 0 {
            ZSTD_freeDCtx(created)
            throw failure(rc)
        }
        context = created
        return created
    }

    /// Allocation failures are the library failing; every other error is the data's fault. zstd does
    /// not say how far into a call's input it failed, so the offset is where that call started.
    private func failure(_ rc: Int) -> BodyDecodingError {
        let code = ZSTD_getErrorCode(rc)
        let name = ZSTD_getErrorName(rc).map { String(cString: $0) } ?? "error \(code.rawValue)"
        switch code {
        case ZSTD_error_memory_allocation:
            return .decoderFailure(coding: coding, code: Int(code.rawValue), reason: name)
        case ZSTD_error_frameParameter_windowTooLarge:
            return .windowTooLarge(coding: coding, limit: 1 << Self.maxWindowLog)
        default:
            return .corrupt(coding: coding, offset: consumed, reason: name)
        }
    }
}
