import MeshgateJSON
import Testing

/// `canonicalText` (no tree, the vector path inspection takes) checked against the tree path's
/// `canonicalize(...).text` and against `ReferenceJSONCanonicalizer` on generated documents,
/// valid and invalid, so that a fast path which mishandles one byte somewhere shows up.
@Suite struct JSONCanonicalTextDifferentialTests {
    /// All three agree: the same text, or nil from all of them.
    private static func expectAgreement(_ document: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8]? {
        let fast = JSONCanonicalizer.canonicalText(document)
        let tree = JSONCanonicalizer.canonicalize(document)?.text
        let reference = ReferenceJSONCanonicalizer.canonicalText(document)
        if fast != reference || tree != reference {
            func show(_ text: [UInt8]?) -> String {
                guard let text else { return "nil" }
                guard let other = reference, text != other else { return "\(text.count) bytes" }
                let common = min(text.count, other.count)
                let firstDifference = (0..<common).first { text[$0] != other[$0] } ?? common
                return "\(text.count) bytes, first differing at \(firstDifference)"
            }
            let shown = document.count <= 200 ? String(decoding: document, as: UTF8.self).debugDescription : "\(document.count) bytes"
            Issue.record(
                "disagreement on \(shown) \(document.prefix(200)): canonicalText \(show(fast)), tree \(show(tree)), reference \(show(reference))",
                sourceLocation: sourceLocation)
        }
        return fast
    }

    /// Every byte value at every offset of the first three vectors of a string, with the input
    /// ending at several distances after it (so the 16-byte, 8-byte and single-byte paths each
    /// meet it), including right at lane 15/16 and 7/8 boundaries.
    @Test func everyByteAtEveryOffsetOfALongString() {
        var accepted = 0, rejected = 0
        for byte in UInt8.min...UInt8.max {
            for offset in 0..<34 {
                for tail in [0, 5, 13, 24] {
                    var document = Array(#"[""#.utf8)
                    document += [UInt8](repeating: UInt8(ascii: "a"), count: offset)
                    document.append(byte)
                    document += [UInt8](repeating: UInt8(ascii: "x"), count: tail)
                    document += Array(#""]"#.utf8)
                    if Self.expectAgreement(document) == nil { rejected += 1 } else { accepted += 1 }
                }
            }
        }
        // Control characters, `\` (before `x` or the closing quote, never a valid escape) and `"`
        // (which ends the string early) are rejected; everything else is kept or repaired.
        #expect(rejected == (32 + 2) * 34 * 4)
        #expect(accepted == (256 - 34) * 34 * 4)
    }

    /// Escapes and multi-byte sequences straddling each lane boundary of the first vectors.
    @Test func sequencesStraddlingLaneBoundaries() {
        let sequences: [[UInt8]] = [
            Array(#"\n"#.utf8), Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\/"#.utf8),
            Array(#"\u00e9"#.utf8), Array(#"\ud83d\ude00"#.utf8), Array(#"\ud800"#.utf8),
            Array(#"\ud800\u0041"#.utf8), Array(#"\u0022\u005c"#.utf8),
            Array("é".utf8), Array("€".utf8), Array("😀".utf8),
            [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xFF, 0xFE],
            Array(#"\x"#.utf8), Array(#"\u12G4"#.utf8), [0x7F], [0x1F],
        ]
        for sequence in sequences {
            for offset in 0..<34 {
                for tail in [0, 3, 17] {
                    var document = Array(#"{"k":""#.utf8)
                    document += [UInt8](repeating: UInt8(ascii: "x"), count: offset)
                    document += sequence
                    document += [UInt8](repeating: UInt8(ascii: "y"), count: tail)
                    document += Array(#""}"#.utf8)
                    _ = Self.expectAgreement(document)
                }
            }
        }
    }

    @Test(arguments: 0..<8)
    func generatedDocumentsAgree(seed: UInt64) {
        var generator = DocumentGenerator(seed: seed)
        var accepted = 0, rejected = 0
        for _ in 0..<400 {
            let document = generator.document()
            if Self.expectAgreement(document) == nil { rejected += 1 } else { accepted += 1 }
        }
        // Both kinds are really exercised.
        #expect(accepted > 100)
        #expect(rejected > 40)
    }

    @Test func largeDocumentOfLongStringsAgrees() {
        var generator = DocumentGenerator(seed: 99)
        var document = Array(#"{"messages": ["#.utf8)
        for index in 0..<300 {
            if index > 0 { document += Array(", ".utf8) }
            document += Array(#"{"role": "user", "content": "#.utf8) + generator.string(valid: true, long: true) + [UInt8(ascii: "}")]
        }
        document += Array("]}\n".utf8)
        let length = Self.expectAgreement(document)?.count ?? 0
        #expect(length > 10_000)
    }
}

/// Random JSON built from pieces that each exercise a path of the scanner, with a third of the
/// documents then broken in one of the ways a truncated or hostile body is.
private struct DocumentGenerator {
    /// SplitMix64, so every run sees the same documents.
    private var state: UInt64

    init(seed: UInt64) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
    }

    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    private mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    private static let stringPieces: [[UInt8]] = [
        Array(#"\n"#.utf8), Array(#"\t"#.utf8), Array(#"\r\b\f"#.utf8), Array(#"\""#.utf8), Array(#"\\"#.utf8),
        Array(#"\/"#.utf8), Array(#"\u00e9"#.utf8), Array(#"\u00E9"#.utf8), Array(#"\u0022"#.utf8), Array(#"\u005C"#.utf8),
        Array(#"\u0000"#.utf8), Array(#"\ud83d\ude00"#.utf8), Array(#"\uD83D\uDE00"#.utf8), Array(#"\ud800"#.utf8),
        Array(#"\udc00"#.utf8), Array(#"\ud800\u0041"#.utf8), Array(#"\ud800\ud800\udc00"#.utf8),
        Array("é".utf8), Array("€".utf8), Array("😀".utf8), Array("日本語".utf8), [0x7F],
        [0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xC0, 0x80], [0xF0, 0x9F, 0x98],
        Array(#" {\"method\":\"tools/call\"} "#.utf8),
    ]

    /// Pieces that make a string invalid.
    private static let badPieces: [[UInt8]] = [
        [0x00], [0x01], [0x0A], [0x1F], Array(#"\x"#.utf8), Array(#"\u12G4"#.utf8), Array(#"\U0041"#.utf8),
        Array(#"\ud800\u12"#.utf8), Array(#"\'"#.utf8),
    ]

    private static let whitespace: [[UInt8]] = [[], [], [], [0x20], [0x0A], [0x0D, 0x0A], [0x09, 0x20, 0x20, 0x20], Array("\n    ".utf8)]

    private static let scalars: [[UInt8]] = [
        "true", "false", "null", "0", "-0", "1", "-12.5e+3", "6.02E23", "123456789012345678901234567890", "0.000001",
    ].map { Array($0.utf8) }

    mutating func string(valid: Bool, long: Bool = false) -> [UInt8] {
        var text: [UInt8] = [UInt8(ascii: "\"")]
        for _ in 0..<below(long ? 20 : 8) {
            if below(3) == 0 {
                // Plain runs of every length, so specials land at every lane of a vector.
                let letter = UInt8(ascii: "a") + UInt8(below(26))
                text += [UInt8](repeating: letter, count: below(long ? 60 : 35))
            } else {
                text += pick(Self.stringPieces)
            }
        }
        if !valid { text.insert(contentsOf: pick(Self.badPieces), at: 1 + below(text.count)) }
        text.append(UInt8(ascii: "\""))
        return text
    }

    private mutating func space() -> [UInt8] { pick(Self.whitespace) }

    private mutating func value(depth: Int, valid: Bool) -> [UInt8] {
        // Only some strings carry the flaw, so an invalid document is mostly valid.
        let flawed = !valid && below(4) == 0
        switch below(depth > 3 ? 3 : 6) {
        case 0: return pick(Self.scalars)
        case 1, 2: return string(valid: !flawed)
        case 3:
            var array: [UInt8] = [UInt8(ascii: "[")] + space()
            for index in 0..<below(5) {
                if index > 0 { array += space() + [UInt8(ascii: ",")] + space() }
                array += value(depth: depth + 1, valid: valid)
            }
            return array + space() + [UInt8(ascii: "]")]
        default:
            var object: [UInt8] = [UInt8(ascii: "{")] + space()
            for index in 0..<below(5) {
                if index > 0 { object += space() + [UInt8(ascii: ",")] + space() }
                object += string(valid: !flawed) + space() + [UInt8(ascii: ":")] + space()
                object += value(depth: depth + 1, valid: valid)
            }
            return object + space() + [UInt8(ascii: "}")]
        }
    }

    mutating func document() -> [UInt8] {
        let valid = below(3) != 0
        // Always a container at the top, so there is something to break.
        var document = space() + [UInt8(ascii: below(2) == 0 ? "[" : "{")]
        let isObject = document.last == UInt8(ascii: "{")
        for index in 0..<(1 + below(4)) {
            if index > 0 { document += [UInt8(ascii: ",")] + space() }
            if isObject { document += string(valid: true) + [UInt8(ascii: ":")] + space() }
            document += value(depth: 1, valid: valid)
        }
        document += [UInt8(ascii: isObject ? "}" : "]")] + space()
        guard !valid else { return document }
        switch below(4) {
        case 0:
            // Truncated anywhere, often inside a string.
            document.removeLast(1 + below(document.count))
        case 1:
            // One byte changed to anything.
            document[below(document.count)] = UInt8(truncatingIfNeeded: next())
        default:
            break
        }
        return document
    }
}
