import MeshgateInspection
import MeshgateJSON
import Testing

@Suite struct JSONPlainLiteralTests {
    @Test(arguments: [
        (#"{"a": "b", "c": [1, true]}"#, true),
        (#"{"text": "line\none\ttab \"quoted\" back\\slash"}"#, true),
        (#"{"m": "tools\u002fcall"}"#, false),
        (#"{"m": "tools\/call"}"#, false),
        (#"{"m": "bell\b"}"#, false),
        (#"{"m": "x"}\"#, false),
        ("\u{FEFF}{\"a\": 1}", true),
    ])
    func knowsWhenCanonicalisationCannotSpellANewLiteral(body: String, expected: Bool) {
        #expect(JSONCanonicalizer.addsNoPlainLiteral(to: Array(body.utf8)) == expected)
    }

    @Test func utf16BodiesAreNeverAssumedSafe() {
        let utf16 = Array(#"{"a":"b"}"#.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(!JSONCanonicalizer.addsNoPlainLiteral(to: utf16))
    }

    @Test(arguments: [(#""tools/call""#, true), ("github_pat_", true), ("sk-", true), ("PRIVATE KEY-----", true), ("a\tb", false), ("a\nb", false), (#""a":"b""#, false),
                      (#"a\b"#, false), ("é", false), ("", false)])
    func plainLiterals(literal: String, plain: Bool) {
        #expect(JSONCanonicalizer.isPlainLiteral(Array(literal.utf8)) == plain)
    }

    /// The claim the proxy relies on to skip canonicalisation: when `addsNoPlainLiteral` holds,
    /// every plain literal found in the canonical text is also in the raw body. Checked on random
    /// documents against every plain substring of their canonical text.
    @Test func everyPlainSubstringOfTheCanonicalTextIsInTheRawBody() {
        var generator = SystemRandomNumberGenerator()
        let fragments = ["a", "tools", "/", "call", "\"", " ", "é", "-", "_", #"\n"#, #"\t"#, #"\r"#, #"\""#, #"\\"#, "x\u{80}y",
                         // Escapes that can spell a literal; bodies with them must be refused.
                         #"\u0074"#, #"\/"#, #"\u003a"#]
        func string() -> String {
            "\"" + (0..<Int.random(in: 0...6, using: &generator)).map { _ in
                let piece = fragments.randomElement(using: &generator)!
                return piece == "\"" ? #"\""# : piece
            }.joined() + "\""
        }
        func space() -> String { ["", " ", "\n  ", "\t"].randomElement(using: &generator)! }
        func value(_ depth: Int) -> String {
            switch depth > 2 ? Int.random(in: 0...2, using: &generator) : Int.random(in: 0...4, using: &generator) {
            case 0: return string()
            case 1: return ["1", "-2.5e3", "true", "null"].randomElement(using: &generator)!
            case 2: return string()
            case 3: return "[" + space() + (0..<Int.random(in: 0...3, using: &generator)).map { _ in value(depth + 1) }.joined(separator: space() + "," + space()) + "]"
            default:
                return "{" + space() + (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                    string() + space() + ":" + space() + value(depth + 1)
                }.joined(separator: "," + space()) + space() + "}"
            }
        }
        var checked = 0
        for _ in 0..<400 {
            let raw = Array((space() + value(0) + space()).utf8)
            guard JSONCanonicalizer.addsNoPlainLiteral(to: raw), let canonical = JSONCanonicalizer.canonicalText(raw) else { continue }
            for start in canonical.indices {
                for end in (start + 1)...min(canonical.count, start + 12) {
                    let literal = Array(canonical[start..<end])
                    guard JSONCanonicalizer.isPlainLiteral(literal) else { break }
                    #expect(ByteSearch.contains(raw, literal), "\(String(decoding: literal, as: UTF8.self)) in \(String(decoding: raw, as: UTF8.self))")
                    checked += 1
                }
            }
        }
        #expect(checked > 1_000)
    }
}
