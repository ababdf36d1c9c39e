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
    /// Whether the next input byte starts a frame (the body's first, or the one after a frame ended).
    private var atFrameStart = true
    /// The first bytes of the frame that starts here, held until its 4-byte magic number is whole.
    private var magic: [UInt8] = []

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
        var rest = input
        while !rest.isEmpty {
            if atFrameStart {
                // Every frame's magic number is checked before zstd sees the frame: Debian's libzstd
                // also takes pre-1.0 "legacy" frames, but only when their header arrives in one piece,
                // so the same body would decode or fail depending on how TCP split it.
                let take = min(4 - magic.count, rest.count)
                magic += rest.prefix(take)
                consumed += take
                rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
                guard magic.count == 4 else { return true }
                guard Self.isFrameMagic(magic) else {
                    throw .corrupt(coding: coding, offset: consumed - 4, reason: "not a zstd frame (RFC 8878 or skippable magic number expected)")
                }
                let header = magic
                magic = []
                atFrameStart = false
                let fed = try header.withUnsafeBytes { bytes in
                    Result { () throws(BodyDecodingError) in try feed(bytes, context: context, into: sink) }
                }.get()
                guard fed.keepGoing else { return false }
                continue
            }
            let fed = try feed(rest, context: context, into: sink)
            consumed += fed.used
            guard fed.keepGoing else { return false }
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(fed.used))
        }
        return true
    }

    /// Runs `input` through zstd until it is all read or the frame ends (the next byte then starts a
    /// frame whose magic is checked first). Returns how much was read and whether the sink wants more.
    private func feed(
        _ input: UnsafeRawBufferPointer, context: OpaquePointer,
        into sink: (UnsafeRawBufferPointer) throws(BodyDecodingError) -> Bool
    ) throws(BodyDecodingError) -> (used: Int, keepGoing: Bool) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var outBuffer = ZSTD_outBuffer(dst: window, size: BodyDecoder.outputWindowSize, pos: 0)
            let positionBefore = inBuffer.pos
            let rc = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
            // Output before an error is handed on first, as every layer does.
            if outBuffer.pos > 0, try !sink(UnsafeRawBufferPointer(start: window, count: outBuffer.pos)) {
                return (inBuffer.pos, false)
            }
            if ZSTD_isError(rc) != 0 { throw failure(rc) }
            // 0: a frame was completely decoded and flushed.
            if rc == 0 {
                atFrameStart = true
                return (inBuffer.pos, true)
            }
            // A full window may leave output buffered inside zstd, so only a partly filled one
            // with all input read means this chunk is done.
            if inBuffer.pos == inBuffer.size, outBuffer.pos < outBuffer.size { return (inBuffer.pos, true) }
            guard inBuffer.pos > positionBefore || outBuffer.pos > 0 else {
                throw .decoderFailure(coding: coding, code: 0, reason: "no progress")
            }
        }
    }

    /// The RFC 8878 frame magic (0xFD2FB528) or a skippable frame's (0x184D2A50...0x184D2A5F), little-endian.
    static func isFrameMagic(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 4 else { return false }
        if bytes == [0x28, 0xB5, 0x2F, 0xFD] { return true }
        return bytes[0] & 0xF0 == 0x50 && bytes[1] == 0x2A && bytes[2] == 0x4D && bytes[3] == 0x18
    }

    func finish() throws(BodyDecodingError) {
        if consumed == 0 { return }
        if !atFrameStart || !magic.isEmpty { throw .unexpectedEnd(coding: coding, offset: consumed) }
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
