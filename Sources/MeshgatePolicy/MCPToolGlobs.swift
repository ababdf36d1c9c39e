/// The `mcp_tool:` selector's names and globs: exact names in a set, globs (`*` any run, `?` one
/// character) tried in order. Tool names are case-sensitive, as MCP servers list them.
struct MCPToolGlobs: Sendable {
    private var exact: Set<String> = []
    private var globs: [[UInt8]] = []

    init(_ patterns: [String]) {
        for pattern in patterns {
            if pattern.contains("*") || pattern.contains("?") { globs.append(Array(pattern.utf8)) } else { exact.insert(pattern) }
        }
    }

    /// The first of `tools` that a name or glob matches.
    func firstMatch(in tools: [String]) -> String? {
        tools.first(where: matches)
    }

    func matches(_ tool: String) -> Bool {
        if exact.contains(tool) { return true }
        guard !globs.isEmpty else { return false }
        var tool = tool
        // Native strings are contiguous UTF-8: no copy per check.
        return tool.withUTF8 { name in globs.contains { Self.glob($0, matches: name) } }
    }

    /// Iterative wildcard match with one backtrack point: linear in practice, never exponential.
    static func glob(_ pattern: [UInt8], matches text: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = 0, t = 0
        var star: Int?
        var resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = t
                p += 1
            } else if let s = star {
                p = s + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
