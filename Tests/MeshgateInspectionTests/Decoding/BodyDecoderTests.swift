import MeshgateInspection
import NIOCore
import Testing

@Suite("Body decoding")
struct BodyDecoderTests {
    struct RoundTrip: Sendable, CustomTestStringConvertible {
        var header: String?
        /// What the sender did, in order (the decoder must undo it in reverse).
        var applied: [ZlibFixtures.Wrapper]
        var testDescription: String { "\(header ?? "nil") <- \(applied.map(\.rawValue))" }
    }

    static let roundTrips: [RoundTrip] = [
        RoundTrip(header: "gzip", applied: [.gzip]),
        RoundTrip(header: "x-gzip", applied: [.gzip]),
        RoundTrip(header: "deflate", applied: [.zlib]),
        RoundTrip(header: "deflate", applied: [.raw]),
        RoundTrip(header: "gzip, identity", applied: [.gzip]),
        RoundTrip(header: "identity", applied: []),
        RoundTrip(header: nil, applied: []),
        RoundTrip(header: "deflate, gzip", applied: [.raw, .gzip]),
        RoundTrip(header: "gzip, gzip", applied: [.gzip, .gzip]),
        // Mislabelled but common: decode what the origin would decode.
        RoundTrip(header: "gzip", applied: [.zlib]),
        RoundTrip(header: "deflate", applied: [.gzip]),
    ]

    static let original = ZlibFixtures.sampleText(lines: 400)

    static func encode(_ bytes: [UInt8], _ wrappers: [ZlibFixtures.Wrapper]) throws -> [UInt8] {
        try wrappers.reduce(bytes) { try ZlibFixtures.compress($0, wrapper: $1) }
    }

    @Test(arguments: roundTrips)
    func wholeBodyRoundTrips(_ trip: RoundTrip) throws {
        let encoded = try Self.encode(Self.original, trip.applied)
        let result = try BodyDecoder.decode(encoded, contentEncoding: trip.header, maxDecodedBytes: 1 << 20)
        let (bytes, truncated) = (result.bytes, result.truncated)
        #expect(truncated == false)
        #expect(bytes.count == Self.original.count)
        #expect(bytes == Self.original, "decoded bytes differ from the original")
    }

    @Test(arguments: roundTrips, [1, 2, 7, 1000, 65536])
    func chunkedBodyRoundTrips(_ trip: RoundTrip, chunkSize: Int) throws {
        let encoded = try Self.encode(Self.original, trip.applied)
        let decoder = try BodyDecoder(contentEncoding: trip.header, maxDecodedBytes: 1 << 20)
        var decoded: [UInt8] = []
        var start = 0
        while start < encoded.count {
            let end = min(start + chunkSize, encoded.count)
            decoded += try decoder.decode(Array(encoded[start..<end]))
            start = end
        }
        try decoder.finish()
        #expect(decoded.count == Self.original.count)
        #expect(decoded == Self.original, "decoded bytes differ from the original")
        #expect(decoder.truncated == false)
        #expect(decoder.consumedByteCount == encoded.count)
    }

    @Test func decodesReadableBytesOfAByteBuffer() throws {
        let encoded = try ZlibFixtures.compress(Array("hello, inspected world".utf8), wrapper: .gzip)
        var buffer = ByteBuffer(bytes: [0xde, 0xad] + encoded)
        buffer.moveReaderIndex(forwardBy: 2)
        let result = try BodyDecoder.decode(buffer, contentEncoding: "gzip", maxDecodedBytes: 100)
        #expect(String(decoding: result.bytes, as: UTF8.self) == "hello, inspected world")
    }

    @Test func concatenatedGzipMembersAreAllDecoded() throws {
        // A second member must not be able to hide behind a harmless first one.
        let first = try ZlibFixtures.compress(Array(#"{"note":"harmless"}"#.utf8), wrapper: .gzip)
        let second = try ZlibFixtures.compress(Array(#"{"method":"tools/call"}"#.utf8), wrapper: .gzip)
        let result = try BodyDecoder.decode(first + second, contentEncoding: "gzip", maxDecodedBytes: 1000)
        #expect(String(decoding: result.bytes, as: UTF8.self) == #"{"note":"harmless"}{"method":"tools/call"}"#)
    }

    @Test func emptyBodyWithAnyCodingIsEmpty() throws {
        for header in ["gzip", "deflate", "gzip, deflate", "identity"] {
            let result = try BodyDecoder.decode([UInt8](), contentEncoding: header, maxDecodedBytes: 10)
            #expect(result == BodyDecodingResult(bytes: [], truncated: false), "\(header)")
        }
    }

    // MARK: - The cap

    @Test(arguments: [
        (nil, [], 0), (nil, [], 1), (nil, [], 1000),
        ("gzip", [.gzip], 0), ("gzip", [.gzip], 1), ("gzip", [.gzip], 1000), ("gzip", [.gzip], 16384),
        ("deflate", [.zlib], 12345), ("deflate", [.raw], 30001), ("gzip, gzip", [.gzip, .gzip], 4097),
    ] as [(String?, [ZlibFixtures.Wrapper], Int)])
    func stopsAtTheCapAndSaysSo(header: String?, applied: [ZlibFixtures.Wrapper], cap: Int) throws {
        let encoded = try Self.encode(Self.original, applied)
        let result = try BodyDecoder.decode(encoded, contentEncoding: header, maxDecodedBytes: cap)
        let (bytes, truncated) = (result.bytes, result.truncated)
        #expect(truncated)
        #expect(bytes.count == cap)
        #expect(bytes.elementsEqual(Self.original.prefix(cap)), "decoded bytes differ from the original's prefix")
    }

    @Test(arguments: [nil, "gzip", "deflate"] as [String?])
    func outputExactlyAtTheCapIsNotTruncated(header: String?) throws {
        let encoded = try Self.encode(Self.original, header == nil ? [] : [header == "gzip" ? .gzip : .raw])
        let result = try BodyDecoder.decode(encoded, contentEncoding: header, maxDecodedBytes: Self.original.count)
        let (bytes, truncated) = (result.bytes, result.truncated)
        #expect(truncated == false)
        #expect(bytes.count == Self.original.count)
        #expect(bytes == Self.original, "decoded bytes differ from the original")
    }

    @Test func truncatedDecoderIgnoresTheRestAndFinishesCleanly() throws {
        let encoded = try ZlibFixtures.compress(Self.original, wrapper: .gzip)
        let decoder = try BodyDecoder(contentEncoding: "gzip", maxDecodedBytes: 100)
        let first = try decoder.decode(Array(encoded.prefix(encoded.count / 2)))
        #expect(first.count == 100)
        #expect(decoder.truncated)
        // Garbage after the cap is never read, so it cannot fail the decode either.
        #expect(try decoder.decode([0xff, 0xff, 0xff]).isEmpty)
        try decoder.finish()
    }

    // MARK: - Bombs

    static let tenMiBOfZeros = [UInt8](repeating: 0, count: 10 << 20)

    @Test(arguments: ["gzip", "deflate"])
    func bombStopsAtTheCap(header: String) throws {
        let bomb = try ZlibFixtures.compress(Self.tenMiBOfZeros, wrapper: header == "gzip" ? .gzip : .raw, level: 9)
        #expect(bomb.count < 20_000)  // the point of a bomb: tiny on the wire

        let cap = 64 * 1024
        let decoder = try BodyDecoder(contentEncoding: header, maxDecodedBytes: cap)
        var total = 0
        var largestPiece = 0
        for start in stride(from: 0, to: bomb.count, by: 1024) {
            let piece = try decoder.decode(Array(bomb[start..<min(start + 1024, bomb.count)]))
            total += piece.count
            largestPiece = max(largestPiece, piece.count)
        }
        try decoder.finish()
        #expect(total == cap)
        #expect(largestPiece <= cap)
        #expect(decoder.decodedByteCount == cap)
        #expect(decoder.truncated)
        // Inflating stopped early: only the first few hundred compressed bytes were ever read.
        #expect(decoder.consumedByteCount < 1024)
    }

    @Test func nestedBombStopsAtTheCap() throws {
        let inner = try ZlibFixtures.compress(Self.tenMiBOfZeros, wrapper: .gzip, level: 9)
        let outer = try ZlibFixtures.compress(inner, wrapper: .gzip, level: 9)
        let result = try BodyDecoder.decode(outer, contentEncoding: "gzip, gzip", maxDecodedBytes: 100_000)
        #expect(result.bytes.count == 100_000)
        #expect(result.truncated)
    }

    @Test func gigabyteOfConcatenatedMembersStopsAtTheCap() throws {
        // 100 members of 10 MiB each: about 1 GB once inflated, about 1 MB on the wire.
        let member = try ZlibFixtures.compress(Self.tenMiBOfZeros, wrapper: .gzip, level: 9)
        let decoder = try BodyDecoder(contentEncoding: "gzip", maxDecodedBytes: 1 << 20)
        var total = 0
        for _ in 0..<100 { total += try decoder.decode(member).count }
        #expect(total == 1 << 20)
        #expect(decoder.truncated)
        #expect(decoder.consumedByteCount < 2 * member.count)
    }

    // MARK: - Errors

    @Test func corruptGzipIsReportedWithZlibsReason() throws {
        var encoded = try ZlibFixtures.compress(Self.original, wrapper: .gzip)
        for i in 20..<40 { encoded[i] ^= 0x5a }
        let error = #expect(throws: BodyDecodingError.self) {
            try BodyDecoder.decode(encoded, contentEncoding: "gzip", maxDecodedBytes: 1 << 20)
        }
        guard case .corrupt(let coding, let offset, let reason)? = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))")
            return
        }
        #expect(coding == .gzip)
        #expect(offset >= 20 && offset <= encoded.count)
        #expect(!reason.isEmpty)
    }

    @Test(arguments: [
        ("gzip", Array("this is not gzip at all".utf8), "incorrect header check"),
        ("deflate", [UInt8](repeating: 0xff, count: 8), "invalid block type"),
    ])
    func garbageIsCorrupt(header: String, body: [UInt8], reason: String) {
        let error = #expect(throws: BodyDecodingError.self) {
            try BodyDecoder.decode(body, contentEncoding: header, maxDecodedBytes: 1000)
        }
        guard case .corrupt(_, _, let actual)? = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))")
            return
        }
        #expect(actual == reason)
    }

    @Test func corruptErrorDescriptionIsReadable() {
        let error = BodyDecodingError.corrupt(coding: .gzip, offset: 17, reason: "invalid block type")
        #expect(error.description == "corrupt gzip data at byte 17 of the gzip stream: invalid block type")
    }

    @Test(arguments: ZlibFixtures.Wrapper.allCases)
    func cutOffStreamIsUnexpectedEnd(wrapper: ZlibFixtures.Wrapper) throws {
        let encoded = try ZlibFixtures.compress(Self.original, wrapper: wrapper)
        let header = wrapper == .gzip ? "gzip" : "deflate"
        let half = Array(encoded.prefix(encoded.count / 2))
        let error = #expect(throws: BodyDecodingError.self) {
            try BodyDecoder.decode(half, contentEncoding: header, maxDecodedBytes: 1 << 20)
        }
        #expect(error == .unexpectedEnd(coding: wrapper == .gzip ? .gzip : .deflate, offset: half.count))
    }

    @Test func oneByteOfGzipIsUnexpectedEnd() {
        #expect(throws: BodyDecodingError.unexpectedEnd(coding: .gzip, offset: 1)) {
            try BodyDecoder.decode([0x1f], contentEncoding: "gzip", maxDecodedBytes: 10)
        }
    }

    @Test func bytesAfterADeflateStreamAreTrailingData() throws {
        let encoded = try ZlibFixtures.compress(Array("short".utf8), wrapper: .zlib)
        #expect(throws: BodyDecodingError.trailingData(coding: .deflate, offset: encoded.count)) {
            try BodyDecoder.decode(encoded + [1, 2, 3], contentEncoding: "deflate", maxDecodedBytes: 100)
        }
    }

    @Test func errorsAreSticky() throws {
        let decoder = try BodyDecoder(contentEncoding: "deflate", maxDecodedBytes: 100)
        #expect(throws: BodyDecodingError.self) { try decoder.decode([0xff, 0xff, 0xff]) }
        let valid = try ZlibFixtures.compress(Array("fine".utf8), wrapper: .raw)
        #expect(throws: BodyDecodingError.self) { try decoder.decode(valid) }
        #expect(throws: BodyDecodingError.self) { try decoder.finish() }
    }

    @Test func tooManyStackedCodingsAreRefused() {
        #expect(throws: BodyDecodingError.tooManyEncodings(count: 5, limit: 4)) {
            try BodyDecoder(contentEncoding: "gzip, gzip, gzip, identity, gzip, deflate", maxDecodedBytes: 10)
        }
    }
}
