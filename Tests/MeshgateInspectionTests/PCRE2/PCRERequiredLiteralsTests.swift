@testable import MeshgateInspection
import Testing

@Suite("PCRE2 required literals")
struct PCRERequiredLiteralsTests {
    private func literals(_ pattern: String, _ options: PCRERegex.Options = []) -> [String]? {
        PCRERequiredLiterals.of(pattern, options: options)?.alternatives.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test(arguments: [
        // The shipped rulesets' patterns.
        (#""method"\s{0,5}:\s{0,5}"tools/call""#, [#""tools/call""#]),
        (#""protocolVersion"\s{0,5}:\s{0,5}"202[4-9]"#, [#""protocolVersion""#]),
        (#"(?s)"method"\s{0,5}:\s{0,5}"initialize".*?"protocolVersion"\s{0,5}:|"protocolVersion"\s{0,5}:.*?"method"\s{0,5}:\s{0,5}"initialize""#,
         [#""protocolVersion""#]),
        (#"\bgithub_pat_[A-Za-z0-9_]{82}\b"#, ["github_pat_"]),
        (#"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"#, ["sk-", "T3BlbkFJ"]),
        (#"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"#, ["PRIVATE KEY-----"]),
        // Quantified characters leave their run, whole UTF-8 characters at a time.
        ("ab?cd", ["cd"]),
        ("abc*", ["ab"]),
        ("abc+def", ["abc"]),
        ("abcé?xy", ["abc"]),
        ("abc{2}de", ["ab"]),
        (#"\.\-x\"q"#, [#".-x"q"#]),
        ("[]ab]cde[[:alpha:]]zz", ["cde"]),
        ("(a(b)c)de|[^)]fg", ["de", "fg"]),
        // Unquantified groups of plain literal choices.
        (#"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"#, ["AKIA", "ASIA", "ABIA", "ACCA"]),
        (#"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b"#, ["ghp", "gho", "ghu", "ghs", "ghr"]),
        ("(?:abc|de)?fg", ["fg"]),
        ("(?=abc)de", ["de"]),
        ("x(abcd|def)x", ["abcd", "def"]),
    ])
    func findsTheLiteralEveryMatchContains(pattern: String, expected: [String]) {
        #expect(literals(pattern) == expected)
    }

    @Test(arguments: [
        "(?i)secret", "a(?i:b)cd", "abc(?-i)", "(?x) a b c", "ab(*ACCEPT)cd", "(?#a]b)cd",
        #"\Qabc\E"#, #"ab\x41cd"#, #"ab\p{L}cd"#, #"(ab)\1cd"#, "ab{x}cd", "x{|yz}", "abc|", "|abc", "[abc]", ".*", "(a|b)", "(?:ab|)", "(?:a|b(c))", "(?:abc|de)+",
    ])
    func bailsOnWhatItDoesNotUnderstand(pattern: String) {
        #expect(literals(pattern) == nil)
    }

    @Test func everyLiteralOfAnAlternativeMustBeThere() throws {
        let initialize = try #require(PCRERequiredLiterals.of(
            #"(?s)"method"\s{0,5}:\s{0,5}"initialize".*?"protocolVersion"\s{0,5}:|"protocolVersion"\s{0,5}:.*?"method"\s{0,5}:\s{0,5}"initialize""#,
            options: []))
        func may(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { initialize.mayMatch($0) } }
        #expect(!may(#"{"protocolVersion": "draft", "messages": []}"#))
        #expect(!may(#"{"method": "tools/list", "protocolVersion": 1}"#))
        #expect(may(#"{"method": "initialize", "params": {"protocolVersion": "2025-06-18"}}"#))
        #expect(may(#""initialize" "method": "protocolVersion":"#))  // all there (the colons too): PCRE2 decides
    }

    @Test func caselessOrExtendedCompileOptionsHaveNone() {
        #expect(literals("abc", .caseInsensitive) == nil)
        #expect(literals("abc", .extended) == nil)
        #expect(literals("abc", .dotMatchesNewlines) == ["abc"])
    }

    /// Random patterns and subjects over a tiny alphabet, so matches and near misses are everywhere:
    /// whenever PCRE2 finds a match, the prefilter must have let the subject through. The same
    /// pattern wrapped in `(?:…){1}` has no literals of its own and is the reference.
    @Test func neverTurnsAwayASubjectPCRE2Matches() throws {
        let pieces = ["a", "b", "c", "-", #"\-"#, "ab", "bca", "[ab]", "[^a]", "[]a]", ".", "(a|b)", "(?:ab)?", "(?=a)", "(?<=b)",
                      "?", "*", "+", "{0,2}", "{2}", "{1,}", "|", "^", "$", #"\b"#, #"\s?"#, "(?s)", "é", "(?:c|ab)+", "(ab|ca)", "(?:bc|a-)", "(?:abc)"]
        var generator = SystemRandomNumberGenerator()
        var turnedAway = 0
        var matched = 0
        var withLiterals = 0
        for _ in 0..<1_500 {
            let pattern = (0..<Int.random(in: 1...7, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            guard let regex = try? PCRERegex(pattern), let reference = try? PCRERegex("(?:\(pattern)){1}") else { continue }
            #expect(reference.literalPrefilter == nil)
            if regex.literalPrefilter != nil { withLiterals += 1 }
            for _ in 0..<20 {
                let subject = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in "abc-é ".randomElement(using: &generator)! })
                let expected = try reference.firstMatch(in: subject)
                #expect(try regex.firstMatch(in: subject) == expected, "pattern \(pattern) subject \(subject)")
                if expected != nil { matched += 1 }
                if let literals = regex.literalPrefilter, !Array(subject.utf8).withUnsafeBytes({ literals.mayMatch($0) }) {
                    turnedAway += 1
                }
            }
        }
        // The test means something only if both outcomes were exercised.
        #expect(withLiterals > 300)
        #expect(turnedAway > 1_000)
        #expect(matched > 1_000)
    }
}
