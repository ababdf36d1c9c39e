@testable import MeshgateInspection
import Testing

@Suite("PCRE2 pattern probe")
struct PCREPatternProbeTests {
    static let catastrophic = [#"(a+)+$"#, #"^(\w+\s?)*$"#, #"(\d+)*x"#, #"(a|aa)+$"#, #"^(([a-z])+.)+[A-Z]([a-z])+$"#, #"(\s*,\s*)*;"#]

    @Test("nested repeats are flagged", arguments: catastrophic)
    func catastrophicPatternsAreFlagged(pattern: String) throws {
        let findings = PCREPatternProbe().probe(try PCRERegex(pattern), checkEmptyMatch: false)
        let first = try #require(findings.first, "\(pattern) was not flagged")
        #expect(first.isSuperLinear)
    }

    @Test func exponentialPatternsHitTheMatchLimitOnAShortInput() throws {
        let findings = PCREPatternProbe().probe(try PCRERegex("(a+)+$"), checkEmptyMatch: false)
        #expect(findings == [.limitHit(.match, bytes: 1024, input: "'a'×1023 + '!'")])
        #expect(findings.first?.description == "hits the match limit on a 1 KiB input ('a'×1023 + '!')")
    }

    static let linear = [
        #"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"#, #"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b"#, #"\bgithub_pat_[A-Za-z0-9_]{82}\b"#,
        #"\bxox[abposr]-[0-9A-Za-z-]{10,}"#, #"\bsk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,}"#,
        #"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"#, #""method"\s{0,5}:\s{0,5}"tools/call""#,
        #"(?s)\A(?=.*?"method"\s{0,5}:\s{0,5}"initialize").*?"protocolVersion"\s{0,5}:"#, #"(?<![a-z])a++$"#, #"^[a-z]+$"#,
    ]

    @Test("linear patterns are not flagged", arguments: linear)
    func linearPatternsPass(pattern: String) throws {
        let findings = PCREPatternProbe().probe(try PCRERegex(pattern), checkEmptyMatch: true)
        #expect(findings.isEmpty, "\(pattern): \(findings)")
    }

    @Test("a quadratic pattern is flagged by its growth", arguments: [#"(?:\w+\.)+\w+@"#, #"(?:\s|,)*;"#])
    func quadraticPatternsAreFlagged(pattern: String) throws {
        let findings = PCREPatternProbe().probe(try PCRERegex(pattern), checkEmptyMatch: false)
        let first = try #require(findings.first, "\(pattern) was not flagged")
        guard case .slow(let milliseconds, _, let smaller, _) = first else {
            Issue.record("\(pattern): \(first)")
            return
        }
        #expect(milliseconds >= 2 && milliseconds > smaller, "\(first)")
    }

    @Test("empty matches are reported only when asked", arguments: [#"x*"#, #"(secret)?"#, #"^$"#, #"a{0,3}"#])
    func emptyMatch(pattern: String) throws {
        let regex = try PCRERegex(pattern)
        #expect(PCREPatternProbe().probe(regex, checkEmptyMatch: true).contains(.emptyMatch))
        #expect(!PCREPatternProbe().probe(regex, checkEmptyMatch: false).contains(.emptyMatch))
    }

    @Test func inputsComeFromThePatternsCharacters() {
        let inputs = PCREPatternProbe.inputs(for: #"^(\w+\s?)*$"#)
        #expect(inputs.contains { $0.filler == Array("a".utf8) && $0.terminator == Array("!".utf8) })
        #expect(inputs.contains { $0.filler == Array("a ".utf8) })
        let spine = PCREPatternProbe.inputs(for: #""method"\s{0,5}:\s{0,5}"initialize".*?x"#)
        #expect(spine.contains { $0.filler == Array(#""method" : "initialize""#.utf8) }, "\(spine.map { String(decoding: $0.filler, as: UTF8.self) })")
        #expect(PCREPatternProbe.inputs(for: "(a+)+$").first?.describe(size: 1024) == "'a'×1023 + '!'")
    }

    @Test func nonEmptyMatchingSkipsZeroLengthMatches() throws {
        let regex = try PCRERegex("a*")
        #expect(try regex.matchesNonEmpty(in: []) == false)
        #expect(try regex.matchesNonEmpty(in: Array("bbb".utf8)) == false)
        #expect(try regex.matchesNonEmpty(in: Array("bba".utf8)) == true)
        #expect(try regex.matches(in: Array("bbb".utf8)) == true)
        #expect(try PCRERegex("(?=b)").matchesNonEmpty(in: Array("b".utf8)) == false)
    }
}

