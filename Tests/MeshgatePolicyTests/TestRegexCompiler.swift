import Foundation
import MeshgatePolicy

/// TEST DOUBLE — stands in for the PCRE2 compiler of `MeshgateInspection` so that the policy
/// tests run without it. Built on NSRegularExpression (ICU syntax, close to PCRE2 for the
/// patterns used here); its errors imitate PCRE2's "message at offset N" shape.
struct TestRegexCompiler: RegexCompiler {
    func compile(_ pattern: String) throws -> any CompiledRegex {
        do {
            return TestRegex(expression: try NSRegularExpression(pattern: pattern))
        } catch {
            throw TestRegexError(message: Self.pcre2LikeMessage(pattern), offset: pattern.utf8.count)
        }
    }

    /// ICU's errors carry no text worth showing; name the commonest slip instead.
    private static func pcre2LikeMessage(_ pattern: String) -> String {
        let open = pattern.filter { $0 == "(" }.count, close = pattern.filter { $0 == ")" }.count
        return open > close ? "missing closing parenthesis" : "syntax error in pattern"
    }
}

/// TEST DOUBLE error, described like PCRE2's compile errors.
struct TestRegexError: Error, CustomStringConvertible {
    let message: String
    let offset: Int
    var description: String { "\(message) at offset \(offset)" }
}

/// TEST DOUBLE regex. NSRegularExpression is immutable after creation and documented as
/// thread-safe, hence the unchecked conformance.
struct TestRegex: CompiledRegex, @unchecked Sendable {
    let expression: NSRegularExpression

    func matches(_ bytes: [UInt8]) throws -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return expression.firstMatch(in: text, range: NSRange(location: 0, length: (text as NSString).length)) != nil
    }

    /// Like PCRE2_NOTEMPTY: only a match of at least one character counts.
    func matchesNonEmpty(_ bytes: [UInt8]) throws -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return expression.matches(in: text, range: NSRange(location: 0, length: (text as NSString).length)).contains { $0.range.length > 0 }
    }
}

/// TEST DOUBLE regex that always gives up, like PCRE2 hitting its match limit.
struct ExhaustedRegex: CompiledRegex {
    struct LimitHit: Error, CustomStringConvertible { var description: String { "match limit exceeded" } }
    func matches(_ bytes: [UInt8]) throws -> Bool { throw LimitHit() }
}

/// TEST DOUBLE compiler: patterns containing `(?#limit)` compile to ``ExhaustedRegex``.
struct LimitingRegexCompiler: RegexCompiler {
    func compile(_ pattern: String) throws -> any CompiledRegex {
        pattern.contains("(?#limit)") ? ExhaustedRegex() : try TestRegexCompiler().compile(pattern)
    }
}

/// TEST DOUBLE inspector: canonical form with `\u002f` and `\/` unescaped, and MCP facts taken
/// from a `"method"` value or an `Mcp-Session-Id` header. Just enough to exercise the engine's
/// use of the facts; the real recognizer lives in `MeshgateInspection`.
struct TestInspector: RequestInspector {
    func facts(for request: PolicyRequest, body: [UInt8]) -> BodyFacts {
        let text = String(decoding: body, as: UTF8.self)
        let canonical = text.replacingOccurrences(of: "\\u002f", with: "/").replacingOccurrences(of: "\\/", with: "/")
        var methods: [String] = []
        var detections: [String] = []
        if let range = canonical.range(of: #""method"\s*:\s*"([^"]+)""#, options: .regularExpression) {
            let match = canonical[range]
            let parts = match.split(separator: "\"")
            if let method = parts.last, ["initialize", "tools/call", "tools/list", "resources/read"].contains(String(method)) {
                methods.append(String(method))
                detections.append("MCP JSON-RPC")
            }
        }
        if request.headers.contains(where: { $0.name.lowercased() == "mcp-session-id" }) {
            detections.append("MCP Header")
        }
        return BodyFacts(raw: body, canonical: Array(canonical.utf8),
                         mcp: MCPFacts(isMCP: !detections.isEmpty, methods: methods, detections: detections))
    }
}
