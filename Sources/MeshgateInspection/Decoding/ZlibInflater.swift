import CZlib

/// One gzip or deflate layer of a `BodyDecoder`. Output leaves through a fixed 16 KiB window that is
/// handed to a sink after every `inflate` call, so no layer ever holds more than that window of
/// decoded bytes, and decoding stops as soon as the sink says it has enough.
final class ZlibInflater: BodyDecodingLayer {
    static let outputWindowSize = BodyDecoder.outputWindowSize

    let coding: BodyContentCoding
    /// Encoded bytes this layer has taken in (including bytes held back for wrapper sniffing).
    private(set) var consumed = 0

    // zlib keeps a back pointer to its z_stream and refuses a moved one, hence a stable allocation.
    private let stream: UnsafeMutablePointer<z_stream>
    private let window: UnsafeMutablePointer<UInt8>
    private var initialized = false
    private var heldBack: [UInt8] = []
    private var atStreamEnd = false
    private var isGzipWrapper = false

    init(coding: BodyContentCoding) {
        self.coding = coding
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        window = .allocate(capacity: Self.outputWindowSize)
    }

    deinit {
        if initialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        window.deallocate()
    }

    /// Decodes `input`, passing output to `sink` piece by piece. Returns false as soon as `sink` does.
    func decode(
        _ input: UnsafeRawBufferPointer,
        into sink: (UnsafeRawBufferPointer) throws(BodyDecodingError) -> Bool
    ) throws(BodyDecodingError) -> Bool {
        guard !input.isEmpty else { return true }
        if initialized { return try run(input, into: sink) }

        // The wrapper (gzip, zlib or none) is chosen from the first two bytes, which may arrive in
        // separate chunks.
        if heldBack.isEmpty, input.count >= 2 {
            try start(first: input[0], second: input[1])
            return try run(input, into: sink)
        }
        heldBack.append(contentsOf: input)
        guard heldBack.count >= 2 else { return true }
        try start(first: heldBack[0], second: heldBack[1])
        let held = heldBack
        heldBack = []
        return try held.withUnsafeBytes { raw in
            Result { () throws(BodyDecodingError) in try run(raw, into: sink) }
        }.get()
    }

    /// Checks that the stream ended where the input did.
    func finish() throws(BodyDecodingError) {
        if !initialized {
            // No bytes at all is an empty body, which servers send with any Content-Encoding.
            if heldBack.isEmpty { return }
            throw .unexpectedEnd(coding: coding, offset: heldBack.count)
        }
        if !atStreamEnd { throw .unexpectedEnd(coding: coding, offset: consumed) }
    }

    private func start(first: UInt8, second: UInt8) throws(BodyDecodingError) {
        let bits = Self.windowBits(coding: coding, first: first, second: second)
        let rc = czlib_inflate_init2(stream, bits)
        guard rc == Z_OK else {
            throw .decoderFailure(coding: coding, code: Int(rc), reason: message(default: "inflateInit2 failed"))
        }
        initialized = true
        isGzipWrapper = bits > 15
    }

    /// zlib window bits for the wrapper the first two bytes announce. Lenient on purpose: the goal is
    /// to see what the origin will see, and origins commonly accept zlib labelled gzip and raw
    /// deflate labelled deflate.
    static func windowBits(coding: BodyContentCoding, first: UInt8, second: UInt8) -> Int32 {
        if first == 0x1f, second == 0x8b { return 15 + 16 }
        let looksLikeZlib = first & 0x0f == 8 && first >> 4 <= 7 && (UInt16(first) << 8 | UInt16(second)) % 31 == 0
        if looksLikeZlib { return 15 }
        return coding == .gzip ? 15 + 16 : -15
    }

    private func run(
        _ input: UnsafeRawBufferPointer,
        into sink: (UnsafeRawBufferPointer) throws(BodyDecodingError) -> Bool
    ) throws(BodyDecodingError) -> Bool {
        guard let base = input.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return true }
        var offset = 0
        while offset < input.count {
            if atStreamEnd {
                // RFC 1952 allows concatenated gzip members and decoders read them all; stopping after
                // the first would let a second member carry what the first one hides.
                guard isGzipWrapper else { throw .trailingData(coding: coding, offset: consumed) }
                inflateReset(stream)
                atStreamEnd = false
            }
            let slice = min(input.count - offset, Int(UInt32.max))
            stream.pointee.next_in = base + offset
            stream.pointee.avail_in = UInt32(slice)
            repeat {
                stream.pointee.next_out = window
                stream.pointee.avail_out = UInt32(Self.outputWindowSize)
                let availableBefore = stream.pointee.avail_in
                let rc = CZlib.inflate(stream, Z_NO_FLUSH)
                let used = Int(availableBefore - stream.pointee.avail_in)
                let produced = Self.outputWindowSize - Int(stream.pointee.avail_out)
                consumed += used
                offset += used
                // Output before an error is handed on first, as every layer does, so whether the cap
                // or the error comes first does not depend on how the body was cut into chunks.
                if produced > 0 {
                    let keepGoing = try sink(UnsafeRawBufferPointer(start: window, count: produced))
                    if !keepGoing { return false }
                }
                switch rc {
                case Z_OK:
                    break
                case Z_STREAM_END:
                    atStreamEnd = true
                case Z_BUF_ERROR:
                    // No progress possible without more input; anything else here would loop forever.
                    guard stream.pointee.avail_in == 0 else {
                        throw .decoderFailure(coding: coding, code: Int(rc), reason: "no progress")
                    }
                case Z_DATA_ERROR:
                    throw .corrupt(coding: coding, offset: consumed, reason: message(default: "invalid data"))
                case Z_NEED_DICT:
                    throw .decoderFailure(coding: coding, code: Int(rc), reason: "the stream needs a preset dictionary")
                case Z_MEM_ERROR:
                    throw .decoderFailure(coding: coding, code: Int(rc), reason: "out of memory")
                default:
                    throw .decoderFailure(coding: coding, code: Int(rc), reason: message(default: "inflate failed"))
                }
            } while !atStreamEnd && (stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0)
        }
        return true
    }

    private func message(default fallback: String) -> String {
        guard let msg = stream.pointee.msg else { return fallback }
        return String(cString: msg)
    }
}
