import MeshgateCore
import Testing

@Suite struct CIDRTests {
    @Test(arguments: [
        ("127.0.0.0/8", [UInt8]([127, 0, 0, 1]), true),
        ("127.0.0.0/8", [128, 0, 0, 1], false),
        ("10.20.0.0/16", [10, 20, 255, 1], true),
        ("10.20.0.0/16", [10, 21, 0, 1], false),
        ("0.0.0.0/0", [8, 8, 8, 8], true),
        ("192.168.1.7", [192, 168, 1, 7], true),
        ("192.168.1.7", [192, 168, 1, 8], false),
        // IPv4-mapped IPv6 is compared as IPv4.
        ("127.0.0.0/8", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1], true),
        ("::1/128", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], true),
        ("::1/128", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], false),
        ("fd00::/8", [0xFD, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], true),
        ("fd00::/8", [127, 0, 0, 1], false),
    ])
    func containment(cidr: String, address: [UInt8], expected: Bool) throws {
        let network = try #require(CIDR(cidr))
        #expect(network.contains(address) == expected)
    }

    @Test(arguments: ["", "10.0.0.0/33", "::/129", "300.1.1.1/8", "1.2.3/24", "1.2.3.4/x", "::g/64", "1:2:3:4:5:6:7:8:9/64", "1::2::3/64"])
    func rejectsMalformed(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test func masksHostBits() throws {
        #expect(try #require(CIDR("10.20.30.40/16")).description == "10.20.0.0/16")
        #expect(try #require(CIDR("2001:db8::1/32")).description == "2001:db8::/32")
    }
}

@Suite struct HostPortTests {
    @Test(arguments: [
        ("example.com:443", "example.com", 443),
        ("EXAMPLE.com.:8443", "example.com", 8443),
        ("[::1]:443", "::1", 443),
        ("127.0.0.1:80", "127.0.0.1", 80),
        ("my_host-1.example:8080", "my_host-1.example", 8080),
        ("[fe80::1%eth0]:443", "fe80::1%eth0", 443),
        ("[::ffff:10.0.0.1]:443", "::ffff:10.0.0.1", 443),
        ("[FE80::A]:443", "fe80::a", 443),
        ("example.com..:00080", "example.com", 80),
        ("already.normal:1", "already.normal", 1),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let hp = try #require(HostPort(authority: text, defaultPort: nil))
        #expect(hp.host == host)
        #expect(hp.port == port)
    }

    @Test(arguments: ["example.com", "example.com:", "example.com:0", "example.com:65536", ":443", "exa mple.com:443", "[::1:443", "a:b:443", "example.com:44x", "exa%mple.com:443", "[not-an-ip]:443", "b\u{FC}cher.example:443",
                       "example.com:123456", "example.com:+80", "example.com:-1", "[::1]x", "[::1]:", "[::1]:443x", "example.com:٣٤",
                       // A zone ID is unreserved characters only (found by scripts/fuzz.sh: it took any byte).
                       "[fe80::1%]:443", "[fe80::1%\u{0}x]:443", "[fe80::1%a b]:443", "[fe80::1%/x@evil.example]:443",
                       "[::1%\t]:80", "[fe80::1%\r\nX-Injected: 1]:80", "1.2.3.4%a\u{7F}:80", "1.2.3.4%eth0:80", "[1.2.3.4%.]:80"])
    func rejects(text: String) {
        #expect(HostPort(authority: text, defaultPort: nil) == nil)
    }

    @Test func zoneIDsKeepTheirCharacters() throws {
        let hp = try #require(HostPort(authority: "[fe80::1%25en0.1_a~b]:443", defaultPort: nil))
        #expect(hp.host == "fe80::1%25en0.1_a~b")
        #expect(IPAddress.parse("fe80::1%eth0") != nil)
        #expect(IPAddress.parse("fe80::1%eth 0") == nil)
        #expect(CIDR("fe80::1%eth0/64") != nil)
        // The trailing dot of a zone is not a name's root dot (stripping it left an empty zone).
        let dotted = try #require(HostPort(authority: "[fe80::1%en0.]:80", defaultPort: nil))
        #expect(dotted.host == "fe80::1%en0.")
        #expect(HostPort(authority: dotted.description, defaultPort: nil) == dotted)
    }

    @Test func defaultPortAndHostHeader() throws {
        let hp = try #require(HostPort(authority: "example.com", defaultPort: 80))
        #expect(hp.port == 80)
        #expect(hp.hostHeader(defaultPort: 80) == "example.com")
        #expect(HostPort(host: "::1", port: 8080).hostHeader(defaultPort: 80) == "[::1]:8080")
    }
}

@Suite struct HostPatternTests {
    @Test(arguments: [
        ("*.apple.com", "www.apple.com", true),
        ("*.apple.com", "a.b.apple.com", true),
        ("*.apple.com", "apple.com", false),
        ("*.apple.com", "evilapple.com", false),
        ("mcp.*", "mcp.stripe.com", true),
        ("mcp.*", "MCP.Linear.App.", true),
        ("mcp.*", "mcpherson.edu", false),
        ("mcp.*", "x.mcp.com", false),
        ("mcp.*", "mcp", false),
        ("example.com", "EXAMPLE.COM.", true),
        ("example.com", "www.example.com", false),
        ("*", "anything.at.all", true),
    ])
    func matching(pattern: String, host: String, expected: Bool) throws {
        #expect(try #require(HostPattern(pattern)).matches(host) == expected)
    }

    @Test(arguments: ["", "a*.com", "*.*.com", "mcp.*.com", "x.*.*", "*x"])
    func rejectsBadPatterns(text: String) {
        #expect(HostPattern(text) == nil)
    }
}
