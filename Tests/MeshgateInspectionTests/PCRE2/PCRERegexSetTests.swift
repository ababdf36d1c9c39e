import MeshgateInspection
import NIOCore
import Testing

@Suite("PCRE2 pattern sets (DLP profiles)")
struct PCRERegexSetTests {
    /// The `mcp-jsonrpc` profile from CONTRACT.md's example ruleset, verbatim.
    static let mcpProfile = [
        PCRENamedPattern(name: "MCP Initialize", regex: #""method"\s{0,5}:\s{0,5}"initialize""#),
        PCRENamedPattern(name: "MCP Tools Call", regex: #""method"\s{0,5}:\s{0,5}"tools/call""#),
        PCRENamedPattern(name: "MCP Resources Read", regex: #""method"\s{0,5}:\s{0,5}"resources/read""#),
        PCRENamedPattern(name: "MCP Protocol Version", regex: #""protocolVersion"\s{0,5}:\s{0,5}"202[4-9]"#),
    ]

    @Test(arguments: [
        (
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"claude","version":"1"}}}"#,
            ["MCP Initialize", "MCP Protocol Version"]
        ),
        (
            #"{"jsonrpc": "2.0", "id": 7, "method" :  "tools/call", "params": {"name": "get_weather", "arguments": {"city": "Oslo"}}}"#,
            ["MCP Tools Call"]
        ),
        (
            #"{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}"#,
            ["MCP Resources Read"]
        ),
        (
            // A batch: every method in it is reported.
            #"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}},{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{}}]"#,
            ["MCP Tools Call", "MCP Resources Read"]
        ),
        (
            "{\"protocolVersion\":\n\t\"2024-11-05\"}",
            ["MCP Protocol Version"]
        ),
        (#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, []),
        (#"{"method"      :"tools/call"}"#, []),  // six spaces: beyond \s{0,5}
        (#"{"protocolVersion":"2023-01-01"}"#, []),
        (#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#, []),
    ])
    func mcpProfileMatchesItsPayloads(body: String, expected: [String]) throws {
        let set = try PCRERegexSet(Self.mcpProfile)
        let result = set.scan(body)
        #expect(result.matchedNames == expected)
        #expect(result.isComplete)
        #expect(result.hasMatch == !expected.isEmpty)
        #expect(try set.matchingNames(in: ByteBuffer(string: body)) == expected)
        #expect(try set.matchingNames(in: Array(body.utf8)) == expected)
    }

    @Test func stopAtFirstMatchReportsOnlyTheFirst() throws {
        let set = try PCRERegexSet(Self.mcpProfile)
        let body = #"{"method":"initialize","params":{"protocolVersion":"2025-03-26"}}"#
        #expect(set.scan(body, stopAtFirstMatch: true).matchedNames == ["MCP Initialize"])
    }

    @Test func oneRunawayPatternDoesNotHideTheOthers() throws {
        let set = try PCRERegexSet([
            PCRENamedPattern(name: "runaway", regex: "(a+)+$"),
            PCRENamedPattern(name: "Tools Call", regex: "tools/call"),
        ])
        let body = "tools/call " + String(repeating: "a", count: 30_000) + "!"
        let result = set.scan(body)
        #expect(result.matchedNames == ["Tools Call"])
        #expect(result.failures.map(\.name) == ["runaway"])
        #expect(result.failures.first?.error.isLimitExceeded == true)
        #expect(result.isComplete == false)
        #expect(throws: PCREMatchError.self) { try set.matchingNames(in: Array(body.utf8)) }
    }

    @Test func membersKeepTheirOrderAndNames() throws {
        let set = try PCRERegexSet(Self.mcpProfile)
        #expect(set.names == Self.mcpProfile.map(\.name))
        #expect(set.members.allSatisfy { $0.regex.isJITCompiled })
    }
}
