@testable import MeshgatePolicy
import Testing

@Suite("PathPattern")
struct PathPatternTests {
    @Test("matching", arguments: [
        ("/mcp", "/mcp", true),
        ("/mcp", "/mcp?session=1", true),
        ("/mcp", "/mcp#x", true),
        ("/mcp", "/mcp/", false),
        ("/mcp", "/MCP", false),
        ("/mcp", "/%6Dcp", true),
        ("/mcp", "/x/../mcp", true),
        ("/mcp", "//mcp", true),
        ("/mcp", "/./mcp", true),
        ("/mcp", "/x/%2e%2e/mcp", true),
        ("/mcp", "/mcpx", false),
        ("/mcp/*", "/mcp/sse", true),
        ("/mcp/*", "/mcp/", true),
        ("/mcp/*", "/mcp", false),
        ("/mcp/*", "/mcp/a/b?c", true),
        ("/mcp*", "/mcpx", true),
        ("/*", "/anything", true),
        ("/a%2Fb", "/a%2fb", true),
        ("/a%2Fb", "/a/b", false),
        ("/sse", "/sse?x=/mcp", true),
    ])
    func matching(pattern: String, path: String, expected: Bool) throws {
        #expect(try PathPattern(pattern).matches(path) == expected)
    }

    @Test("invalid patterns", arguments: [
        ("mcp", "does not start with '/'"),
        ("https://x.com/mcp", "URL"),
        ("/mcp?x=1", "queries"),
        ("/m*p", "last character"),
        ("/mcp/**", "last character"),
        ("/a b", "white space"),
        ("/bad%zz", "percent-escape"),
    ])
    func invalid(pattern: String, reason: String) {
        #expect {
            _ = try PathPattern(pattern)
        } throws: { error in
            (error as? InvalidPathPattern)?.description.contains(reason) ?? false
        }
    }
}

@Suite struct PathNormalisationShortcutTests {
    /// Every path the shortcut passes through unchanged is one the full normaliser would also leave
    /// unchanged, and the shortcut does take the common paths.
    @Test func theShortcutAgreesWithTheFullNormaliser() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["/", "/", ".", ".", "a", "%", "2", "e", "~"]
        var shortcuts = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...10, using: &generator)
            let path = "/" + String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            let full = PathPattern.normaliseStrict(Substring(path), lenient: true) ?? path
            if PathPattern.isAlreadyNormal(Substring(path).utf8) {
                shortcuts += 1
                #expect(full == path, "\(path) is not normal: \(full)")
            }
            #expect(PathPattern.normalise(path) == full, "\(path)")
        }
        #expect(shortcuts > 1_000)
        for common in ["/", "/v1/chat/completions", "/mcp", "/a/b/", "/1k", "/.well-known/x", "/a/...", "/~user"] {
            #expect(PathPattern.isAlreadyNormal(Substring(common).utf8), "\(common)")
        }
    }
}
