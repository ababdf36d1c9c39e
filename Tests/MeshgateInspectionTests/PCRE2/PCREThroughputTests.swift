import MeshgateInspection
import Testing

/// Prints scanning throughput; asserts only that the scan found what it should (no timing assertions).
/// Run in a debug build this still measures libpcre2's optimised JIT code; only the thin Swift layer is
/// unoptimised.
@Suite("PCRE2 throughput (printed, not asserted)")
struct PCREThroughputTests {
    static func body64KiB() -> [UInt8] {
        // A realistic worst case: lots of JSON strings (many '"' candidates) and the method at the end,
        // so every pattern walks the whole body.
        var body = #"{"jsonrpc":"2.0","id":42,"params":{"name":"search","arguments":{"items":["#
        var i = 0
        while body.utf8.count < 64 * 1024 - 200 {
            body += #"{"key":"k\#(i)","value":"some value text \#(i)","flag":true},"#
            i += 1
        }
        body += #"{}]}},"method":"tools/call"}"#
        return Array(body.utf8)
    }

    @Test(arguments: [true, false])
    func scanning64KiBJSONWithTheMCPProfile(jit: Bool) throws {
        let profile = PCRERegexSetTests.mcpProfile.map {
            PCRENamedPattern(name: $0.name, regex: jit ? $0.regex : "(*NO_JIT)" + $0.regex)
        }
        let set = try PCRERegexSet(profile)
        #expect(set.members.allSatisfy { $0.regex.isJITCompiled == jit })
        let bytes = Self.body64KiB()

        let iterations = jit ? 300 : 30
        let clock = ContinuousClock()
        var hits = 0
        let elapsed = try clock.measure {
            for _ in 0..<iterations {
                hits += try set.matchingNames(in: bytes).count
            }
        }
        #expect(hits == iterations)

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let megabytes = Double(bytes.count * iterations) / 1_048_576
        print(
            "PCRE2 throughput (\(jit ? "JIT" : "interpreter"), debug build): \(bytes.count)-byte JSON body,"
                + " \(set.members.count) MCP patterns: \(Int(megabytes / seconds)) MiB/s of body,"
                + " \(Int(seconds / Double(iterations) * 1e6)) µs per body"
        )
    }
}
