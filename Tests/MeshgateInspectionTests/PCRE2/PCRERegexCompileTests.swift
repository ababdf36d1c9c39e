import MeshgateInspection
import Testing

@Suite("PCRE2 compilation")
struct PCRERegexCompileTests {
    @Test(arguments: [
        ("(abc", 4, "missing closing parenthesis"),
        ("abc)", 3, "unmatched closing parenthesis"),
        ("a{2,1}", 5, "numbers out of order in {} quantifier"),
        ("[a", 2, "missing terminating ] for character class"),
        ("[z-a]", 3, "range out of order in character class"),
        ("x**", 2, "quantifier does not follow a repeatable item"),
        (#"\C"#, 2, #"using \C is disabled by the application"#),
        (#""method"\s{0,5}:\s{0,5}"tools/call"("#, 36, "missing closing parenthesis"),
    ])
    func compileErrorsNameTheOffsetAndPCRE2sMessage(pattern: String, offset: Int, message: String) {
        let error = #expect(throws: PCRECompileError.self) { try PCRERegex(pattern) }
        #expect(error?.pattern == pattern)
        #expect(error?.offset == offset)
        #expect(error?.message == message)
        #expect(error?.description == "invalid regex at offset \(offset): \(message)")
    }

    @Test func compileErrorInASetNamesThePattern() {
        let error = #expect(throws: PCRECompileError.self) {
            try PCRERegexSet([
                PCRENamedPattern(name: "fine", regex: "ok"),
                PCRENamedPattern(name: "MCP Tools Call", regex: #""method"\s{0,5}:(\s{0,5}"tools/call""#),
            ])
        }
        #expect(error?.patternName == "MCP Tools Call")
        #expect(error?.description == #"pattern "MCP Tools Call": invalid regex at offset 36: missing closing parenthesis"#)
    }

    @Test(arguments: [
        #""method"\s{0,5}:\s{0,5}"initialize""#,
        #"[A-Za-z0-9+/]{40}"#,
        #"(?i)bearer\s+[a-z0-9._-]{20,}"#,
        #"\bAKIA[0-9A-Z]{16}\b"#,
    ])
    func compilesWithJIT(pattern: String) throws {
        let regex = try PCRERegex(pattern)
        #expect(regex.isJITCompiled)
        #expect(regex.jitUnavailableReason == nil)
    }

    @Test func fallsBackToTheInterpreterAndSaysWhy() throws {
        // (*NO_JIT) is PCRE2's in-pattern switch; it stands in for a libpcre2 without JIT.
        let regex = try PCRERegex("(*NO_JIT)tools/call")
        #expect(regex.isJITCompiled == false)
        #expect(regex.jitUnavailableReason != nil)
        #expect(try regex.matches(in: #"{"method":"tools/call"}"#))
    }

    @Test(arguments: [
        (PCRERegex.Options.caseInsensitive, "TOOLS/CALL", "tools/call", true),
        ([], "TOOLS/CALL", "tools/call", false),
        (.dotMatchesNewlines, "a\nb", "a.b", true),
        ([], "a\nb", "a.b", false),
        (.multiline, "x\nfoo", "^foo", true),
        ([], "x\nfoo", "^foo", false),
        (.extended, "tools/call", "tools / call  # spaces ignored", true),
        // PCRE2_UCP is off by default: \w is ASCII-only unless asked for.
        ([], "é", #"^\w$"#, false),
        (.unicodeProperties, "é", #"^\w$"#, true),
    ] as [(PCRERegex.Options, String, String, Bool)])
    func optionsChangeWhatMatches(options: PCRERegex.Options, subject: String, pattern: String, expected: Bool) throws {
        let regex = try PCRERegex(pattern, options: options)
        #expect(try regex.matches(in: subject) == expected)
    }
}
