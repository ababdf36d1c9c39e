import MeshgateInspection
import Testing

@Suite("Brotli and zstd body decoding")
struct BrotliZstdDecoderTests {
    struct Trip: Sendable, CustomTestStringConvertible {
        /// The Content-Encoding header sent.
        var header: String
        /// What the sender did, in order (the decoder must undo it in reverse).
        var applied: [String]
        var testDescription: String { "\(header) <- \(applied)" }
    }

    static let trips: [Trip] = [
        Trip(header: "br", applied: ["br"]),
        Trip(header: "zstd", applied: ["zstd"]),
        Trip(header: "BR", applied: ["br"]),
        Trip(header: " zstd ,identity", applied: ["zstd"]),
        Trip(header: "gzip, br", applied: ["gzip", "br"]),
        Trip(header: "br, zstd", applied: ["br", "zstd"]),
        Trip(header: "zstd, br", applied: ["zstd", "br"]),
        Trip(header: "br, gzip", applied: ["br", "gzip"]),
        Trip(header: "deflate, zstd, br, gzip", applied: ["deflate", "zstd", "br", "gzip"]),
    ]

    static let original = ZlibFixtures.sampleText(lines: 400)

    /// "gzip, br" as ["gzip", "br"].
    static func codings(_ header: String) -> [String] {
        header.split(separator: ",").map { String($0.filter { $0 != " " }) }
    }

    @Test(arguments: trips)
    func wholeBodyRoundTrips(_ trip: Trip) throws {
        let encoded = try CodingFixtures.encode(Self.original, trip.applied)
        let result = try BodyDecoder.decode(encoded, contentEncoding: trip.header, maxDecodedBytes: 1 << 20)
        #expect(result.truncated == false)
        #expect(result.bytes.count == Self.original.count)
        #expect(result.bytes == Self.original, "decoded bytes differ from the original")
    }

    @Test(arguments: trips, [1, 2, 7, 1000, 65536])
    func dripFedBodyDecodesLikeTheWholeOne(_ trip: Trip, chunkSize: Int) throws {
        let encoded = try CodingFixtures.encode(Self.original, trip.applied)
        let decoder = try BodyDecoder(contentEncoding: trip.header, maxDecodedBytes: 1 << 20)
        var decoded: [UInt8] = []
        for start in stride(from: 0, to: encoded.count, by: chunkSize) {
            decoded += try decoder.decode(Array(encoded[start..<min(start + chunkSize, encoded.count)]))
        }
        try decoder.finish()
        #expect(decoded == Self.original, "decoded bytes differ from the original")
        #expect(decoder.truncated == false)
        #expect(decoder.consumedByteCount == encoded.count)
    }

    @Test func decoderReportsTheCodingsInTheOrderApplied() throws {
        let decoder = try BodyDecoder(contentEncoding: "gzip, identity, br, zstd", maxDecodedBytes: 10)
        #expect(decoder.codings == [.gzip, .br, .zstd])
    }

    @Test(arguments: ["br", "zstd", "br, zstd", "gzip, br"])
    func emptyBodyIsEmpty(header: String) throws {
        let result = try BodyDecoder.decode([UInt8](), contentEncoding: header, maxDecodedBytes: 10)
        #expect(result == BodyDecodingResult(bytes: [], truncated: false))
    }

    @Test func concatenatedZstdFramesAreAllDecoded() throws {
        // A second frame must not be able to hide behind a harmless first one (zstd -d reads them all).
        let first = try CodingFixtures.zstd(Array(#"{"note":"harmless"}"#.utf8))
        let second = try CodingFixtures.zstd(Array(#"{"method":"tools/call"}"#.utf8))
        let result = try BodyDecoder.decode(first + second, contentEncoding: "zstd", maxDecodedBytes: 1000)
        #expect(String(decoding: result.bytes, as: UTF8.self) == #"{"note":"harmless"}{"method":"tools/call"}"#)
    }

    // MARK: - The cap

    @Test(arguments: ["br", "zstd", "gzip, br", "br, zstd"], [0, 1, 1000, 16384, 30001])
    func stopsAtTheCapAndSaysSo(header: String, cap: Int) throws {
        let applied = Self.codings(header)
        let encoded = try CodingFixtures.encode(Self.original, applied)
        let result = try BodyDecoder.decode(encoded, contentEncoding: header, maxDecodedBytes: cap)
        #expect(result.truncated)
        #expect(result.bytes.count == cap)
        #expect(result.bytes.elementsEqual(Self.original.prefix(cap)), "decoded bytes differ from the original's prefix")
    }

    @Test(arguments: ["br", "zstd"])
    func outputExactlyAtTheCapIsNotTruncated(header: String) throws {
        let encoded = try CodingFixtures.encode(Self.original, [header])
        let result = try BodyDecoder.decode(encoded, contentEncoding: header, maxDecodedBytes: Self.original.count)
        #expect(result.truncated == false)
        #expect(result.bytes == Self.original)
    }

    // MARK: - Bombs

    /// 64 MiB of zeros: a few kilobytes once compressed.
    static let zeros = [UInt8](repeating: 0, count: 64 << 20)

    @Test(arguments: ["br", "zstd"])
    func bombStopsAtTheCap(header: String) throws {
        let bomb = header == "br" ? try CodingFixtures.brotli(Self.zeros, quality: 9, window: 22) : try CodingFixtures.zstd(Self.zeros, level: 19)
        #expect(bomb.count < 64 * 1024, "the point of a bomb: tiny on the wire (\(bomb.count) bytes)")

        let cap = 64 * 1024
        let decoder = try BodyDecoder(contentEncoding: header, maxDecodedBytes: cap)
        var total = 0
        var largestPiece = 0
        for start in stride(from: 0, to: bomb.count, by: 16) {
            let piece = try decoder.decode(Array(bomb[start..<min(start + 16, bomb.count)]))
            total += piece.count
            largestPiece = max(largestPiece, piece.count)
        }
        try decoder.finish()
        #expect(total == cap)
        #expect(largestPiece <= cap)
        #expect(decoder.decodedByteCount == cap)
        #expect(decoder.truncated)
        // Decoding stopped early: the rest of the bomb was never read.
        #expect(decoder.consumedByteCount < bomb.count, "read \(decoder.consumedByteCount) of \(bomb.count) bytes")
    }

    @Test func gigabyteOfZstdFramesStopsAtTheCap() throws {
        // 16 frames of 64 MiB each: 1 GiB once decoded, a few tens of kilobytes on the wire.
        let frame = try CodingFixtures.zstd(Self.zeros, level: 19)
        let decoder = try BodyDecoder(contentEncoding: "zstd", maxDecodedBytes: 1 << 20)
        var total = 0
        for _ in 0..<16 { total += try decoder.decode(frame).count }
        #expect(total == 1 << 20)
        #expect(decoder.truncated)
        #expect(decoder.consumedByteCount <= frame.count)
    }

    @Test(arguments: ["gzip, br", "br, zstd", "zstd, br"])
    func nestedBombStopsAtTheCap(header: String) throws {
        let applied = Self.codings(header)
        let bomb = try CodingFixtures.encode(Self.zeros, applied)
        let result = try BodyDecoder.decode(bomb, contentEncoding: header, maxDecodedBytes: 100_000)
        #expect(result.bytes.count == 100_000)
        #expect(result.truncated)
    }

    // MARK: - Errors

    @Test func garbageBrotliIsCorruptWithBrotlisReason() {
        let error = #expect(throws: BodyDecodingError.self) {
            try BodyDecoder.decode(Array("this is not brotli at all, not even close".utf8), contentEncoding: "br", maxDecodedBytes: 1000)
        }
        guard case .corrupt(.br, _, let reason)? = error else {
            Issue.record("expected .corrupt(.br, …), got \(String(describing: error))")
            return
        }
        #expect(!reason.isEmpty && !reason.contains("_"), "\(reason)")
    }

    @Test func garbageZstdIsCorruptWithZstdsReason() {
        let error = #expect(throws: BodyDecodingError.self) {
            try BodyDecoder.decode(Array("this is not zstd".utf8), contentEncoding: "zstd", maxDecodedBytes: 1000)
        }
        #expect(error == .corrupt(coding: .zstd, offset: 0, reason: "not a zstd frame (RFC 8878 or skippable magic number expected)"),
                "\(String(describing: error))")
    }

    @Test(arguments: [1, 2, 3, 8])
    func aLegacyZstdFrameIsRefusedHoweverItArrives(chunkSize: Int) throws {
        // Found by the body fuzzer: libzstd decoded this pre-1.0 frame to an empty body when it came
        // whole and failed when it came a byte at a time, so the verdict depended on TCP's split.
        let legacy: [UInt8] = [0x25, 0xB5, 0x2F, 0xFD, 0x00, 0xD9, 0x41, 0xFD]
        let decoder = try BodyDecoder(contentEncoding: "zstd", maxDecodedBytes: 1000)
        let error = #expect(throws: BodyDecodingError.self) {
            for start in stride(from: 0, to: legacy.count, by: chunkSize) {
                _ = try decoder.decode(Array(legacy[start..<min(legacy.count, start + chunkSize)]))
            }
            try decoder.finish()
        }
        guard case .corrupt(.zstd, 0, _)? = error else {
            Issue.record("expected .corrupt(.zstd, 0, …), got \(String(describing: error))")
            return
        }
    }

    @Test func aSkippableFrameBeforeARealOneIsDecodedByteByByte() throws {
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 0x03, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63]
        let body = skippable + (try CodingFixtures.zstd(Array(#"{"method":"tools/call"}"#.utf8)))
        let decoder = try BodyDecoder(contentEncoding: "zstd", maxDecodedBytes: 1000)
        var out: [UInt8] = []
        for byte in body { out += try decoder.decode([byte]) }
        try decoder.finish()
        #expect(String(decoding: out, as: UTF8.self) == #"{"method":"tools/call"}"#)
    }

    @Test(arguments: ["br", "zstd"])
    func flippedBytesAreCorrupt(header: String) throws {
        var encoded = try CodingFixtures.encode(Self.original, [header])
        for i in (encoded.count / 2)..<(encoded.count / 2 + 16) { encoded[i] ^= 0x5a }
        let error = #expect(throws: BodyDecodingError.self) {
            try BodyDecoder.decode(encoded, contentEncoding: header, maxDecodedBytes: 1 << 20)
        }
        guard case .corrupt(let coding, let offset, _)? = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))")
            return
        }
        #expect(coding.rawValue == header)
        #expect(offset <= encoded.count)
    }

    @Test(arguments: ["br", "zstd"])
    func cutOffStreamIsUnexpectedEnd(header: String) throws {
        let encoded = try CodingFixtures.encode(Self.original, [header])
        let half = Array(encoded.prefix(encoded.count / 2))
        #expect(throws: BodyDecodingError.unexpectedEnd(coding: header == "br" ? .br : .zstd, offset: half.count)) {
            try BodyDecoder.decode(half, contentEncoding: header, maxDecodedBytes: 1 << 20)
        }
    }

    @Test func bytesAfterABrotliStreamAreTrailingData() throws {
        let encoded = try CodingFixtures.brotli(Array("short".utf8))
        #expect(throws: BodyDecodingError.trailingData(coding: .br, offset: encoded.count)) {
            try BodyDecoder.decode(encoded + [1, 2, 3], contentEncoding: "br", maxDecodedBytes: 100)
        }
        // Also when the extra bytes come in a chunk of their own.
        let decoder = try BodyDecoder(contentEncoding: "br", maxDecodedBytes: 100)
        #expect(try decoder.decode(encoded) == Array("short".utf8))
        #expect(throws: BodyDecodingError.trailingData(coding: .br, offset: encoded.count)) { try decoder.decode([0]) }
    }

    @Test func zstdFrameWithAWindowOverRFC9659sLimitIsRefused() throws {
        // 9 MiB of text with a 16 MiB window: the frame asks for more than the 8 MiB a recipient owes.
        let text = [UInt8]((0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        let large = try CodingFixtures.zstd(text, level: 1, windowLog: 24)
        #expect(throws: BodyDecodingError.windowTooLarge(coding: .zstd, limit: 8 << 20)) {
            try BodyDecoder.decode(large, contentEncoding: "zstd", maxDecodedBytes: 1 << 20)
        }
        // An 8 MiB window is within the limit.
        let fine = try CodingFixtures.zstd(text, level: 1, windowLog: 23)
        let result = try BodyDecoder.decode(fine, contentEncoding: "zstd", maxDecodedBytes: 1 << 20)
        #expect(result.bytes.elementsEqual(text.prefix(1 << 20)))
    }

    @Test func brotliStreamWithAWindowOver4MiBIsRefused() throws {
        // libbrotlidec fills the whole window before it returns any output: a 16 MiB window made this
        // 51-byte bomb cost 16 MiB and ~50 ms however small the cap.
        let bomb = try CodingFixtures.brotli(Self.zeros, quality: 9, window: 24)
        #expect(bomb.count < 100)
        #expect(throws: BodyDecodingError.windowTooLarge(coding: .br, limit: 4 << 20)) {
            try BodyDecoder.decode(bomb, contentEncoding: "br", maxDecodedBytes: 64 * 1024)
        }
        #expect(BodyDecodingError.windowTooLarge(coding: .br, limit: 4 << 20).description
            == "the br stream needs a window over 4 MiB, the most meshgate decodes")
        // A small body compressed with a large window is fine: the decoder sizes its buffer to the body.
        let small = try CodingFixtures.brotli(Self.original, quality: 11, window: 24)
        #expect(try BodyDecoder.decode(small, contentEncoding: "br", maxDecodedBytes: 1 << 20).bytes == Self.original)
        // So is a large body with the default 4 MiB window.
        let text = [UInt8]((0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        let large = try CodingFixtures.brotli(text, quality: 1, window: 22)
        #expect(try BodyDecoder.decode(large, contentEncoding: "br", maxDecodedBytes: 8 << 20).bytes == text)
    }

    @Test(arguments: ["br", "zstd"])
    func errorsAreSticky(header: String) throws {
        let decoder = try BodyDecoder(contentEncoding: header, maxDecodedBytes: 100)
        #expect(throws: BodyDecodingError.self) { try decoder.decode(Array(repeating: 0xff, count: 32)) }
        let valid = try CodingFixtures.encode(Array("fine".utf8), [header])
        #expect(throws: BodyDecodingError.self) { try decoder.decode(valid) }
        #expect(throws: BodyDecodingError.self) { try decoder.finish() }
    }

    @Test func fiveStackedCodingsAreTooMany() {
        #expect(throws: BodyDecodingError.tooManyEncodings(count: 5, limit: 4)) {
            try BodyDecoder(contentEncoding: "br, zstd, gzip, br, zstd", maxDecodedBytes: 10)
        }
    }

    @Test func decoderFailureNamesTheLibrary() {
        #expect(BodyDecodingError.decoderFailure(coding: .zstd, code: 64, reason: "Allocation error : not enough memory").description
            == "zstd failed while decoding zstd (error 64): Allocation error : not enough memory")
        #expect(BodyDecodingError.decoderFailure(coding: .gzip, code: -4, reason: "out of memory").description
            == "zlib failed while decoding gzip (error -4): out of memory")
    }
}
