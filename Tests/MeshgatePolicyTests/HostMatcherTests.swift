import MeshgateCore
@testable import MeshgatePolicy
import Testing

@Suite("HostMatcher")
struct HostMatcherTests {
    @Test("single patterns", arguments: [
        ("example.com", "example.com", true),
        ("example.com", "EXAMPLE.com.", true),
        ("example.com", "www.example.com", false),
        ("*.example.com", "a.example.com", true),
        ("*.example.com", "a.b.c.example.com", true),
        ("*.example.com", "example.com", false),
        ("*.example.com", "badexample.com", false),
        ("*.example.com", "A.Example.COM.", true),
        ("mcp.*", "mcp.stripe.com", true),
        ("mcp.*", "mcp.a.b.c", true),
        ("mcp.*", "MCP.Linear.app", true),
        ("mcp.*", "mcp", false),
        ("mcp.*", "mcp.", false),
        ("mcp.*", "mcpherson.edu", false),
        ("mcp.*", "api.mcp.com", false),
        ("*", "anything.at.all", true),
        ("xn--bcher-kva.example", "XN--BCHER-KVA.example", true),
        ("xn--bcher-kva.example", "bücher.example", false),
        ("10.0.0.1", "10.0.0.1", true),
        ("::1", "[::1]", true),
    ])
    func single(pattern: String, host: String, expected: Bool) throws {
        let matcher = try HostMatcher([pattern])
        #expect(matcher.matches(host) == expected)
        // The same answer as the single-pattern semantics in MeshgateCore.
        #expect(HostPattern(pattern)?.matches(host) == expected)
    }

    @Test("IPv6 literals match in any spelling")
    func ipv6() throws {
        let matcher = try HostMatcher(["2001:db8::1"])
        #expect(matcher.matches("[2001:0DB8:0:0:0:0:0:1]"))
        #expect(!matcher.matches("2001:db8::2"))
    }

    @Test("invalid patterns are refused with a reason", arguments: [
        ("", "empty"),
        ("mcp.*.com", "'*' may only be"),
        ("*.*", "every host with a dot"),
        ("foo*.com", "'*' may only be"),
        ("mcp.example.*", "first label only"),
        ("https://mcp.example.com", "URL"),
        ("mcp.example.com/mcp", "path"),
        ("mcp.example.com:443", "port"),
        ("a..b.com", "empty label"),
        ("exa mple.com", "white space"),
        ("bücher.example", "punycode"),
        ("ex!ample.com", "characters other than"),
    ])
    func invalid(pattern: String, reason: String) {
        #expect {
            _ = try HostMatcher([pattern])
        } throws: { error in
            guard let error = error as? InvalidHostPattern else { return false }
            return error.description.contains(reason) || error.fix.contains(reason)
        }
    }

    @Test("agrees with HostPattern on a random table")
    func randomTable() throws {
        var random = SeededRandom(seed: 0x5eed)
        let labels = ["mcp", "x", "com", "a", "b", "example", "xn--bcher-kva", "mcp-x", "api"]
        func name(_ count: Int) -> String {
            (0..<count).map { _ in labels[random.next(labels.count)] }.joined(separator: ".")
        }
        var patterns: [String] = ["*"]
        for _ in 0..<300 {
            switch random.next(3) {
            case 0: patterns.append(name(1 + random.next(3)))
            case 1: patterns.append("*." + name(1 + random.next(3)))
            default: patterns.append(labels[random.next(labels.count)] + ".*")
            }
        }
        var hosts: [String] = ["mcp.", ".x.com", "a..x.com", "x", "MCP.X.COM.", "", "."]
        for _ in 0..<400 {
            var host = name(1 + random.next(5))
            if random.next(4) == 0 { host = host.uppercased() }
            if random.next(5) == 0 { host += "." }
            hosts.append(host)
        }
        for pattern in patterns {
            let reference = try #require(HostPattern(pattern))
            let matcher = try HostMatcher([pattern])
            for host in hosts {
                #expect(matcher.matches(host) == reference.matches(host), "pattern \(pattern) host \(host)")
            }
        }
        // Many patterns at once behave as "any of them".
        let subset = Array(patterns.dropFirst().prefix(150))
        let combined = try HostMatcher(subset)
        let references = subset.compactMap(HostPattern.init)
        for host in hosts {
            #expect(combined.matches(host) == references.contains { $0.matches(host) }, "host \(host)")
        }
    }

    @Test("10,000 patterns: correct, and lookups stay cheap (time printed, not asserted)")
    func tenThousandPatterns() throws {
        var patterns: [String] = []
        for i in 0..<7_000 { patterns.append("svc\(i).vendor\(i % 97).com") }
        for i in 0..<2_500 { patterns.append("*.tenant\(i).cloud") }
        for i in 0..<500 { patterns.append("mcp\(i).*") }
        let clock = ContinuousClock()
        var matcher: HostMatcher?
        let buildTime = clock.measure { matcher = try? HostMatcher(patterns) }
        let built = try #require(matcher)
        #expect(built.count == 10_000)

        var hosts: [String] = []
        for i in 0..<20_000 {
            switch i % 5 {
            case 0: hosts.append("svc\(i % 7_000).vendor\((i % 7_000) % 97).com")    // exact hit
            case 1: hosts.append("deep.a.b.tenant\(i % 2_500).cloud")               // suffix hit
            case 2: hosts.append("mcp\(i % 500).some.where")                         // first-label hit
            case 3: hosts.append("svc\(i).vendor-other.com")                         // miss
            default: hosts.append("x.y.z.tenant\(i % 2_500)x.cloud")                 // near miss
            }
        }
        var hits = 0
        let lookupTime = clock.measure {
            for host in hosts where built.matches(host) { hits += 1 }
        }
        #expect(hits == 12_000)
        print("HostMatcher: built 10,000 patterns in \(buildTime); \(hosts.count) lookups in \(lookupTime)")

        // Spot-check against the linear reference.
        let references = patterns.compactMap(HostPattern.init)
        for host in hosts.enumerated().filter({ $0.offset % 400 == 0 }).map(\.element) {
            #expect(built.matches(host) == references.contains { $0.matches(host) }, "host \(host)")
        }
    }
}

/// A small deterministic generator (SplitMix64) so the random table is the same on every run.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }
}
