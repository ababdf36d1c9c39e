import Meshgate
import Testing

@Suite("Configuration values")
struct ConfigurationValueTests {
    @Test("listen addresses", arguments: [
        ("127.0.0.1:3128", ListenAddress(host: "127.0.0.1", port: 3128)),
        ("[::1]:3128", ListenAddress(host: "::1", port: 3128)),
        (":3128", ListenAddress(host: "::", port: 3128)),
        ("0.0.0.0:1", ListenAddress(host: "0.0.0.0", port: 1)),
        ("proxy.internal:65535", ListenAddress(host: "proxy.internal", port: 65535)),
    ])
    func listenAddress(text: String, expected: ListenAddress) {
        #expect(ListenAddress(text) == expected)
    }

    @Test("malformed listen addresses", arguments: [
        "127.0.0.1", "127.0.0.1:", ":", "127.0.0.1:65536", "127.0.0.1:-1", "::1:3128", "[::1]", "[127.0.0.1]:80",
        "bad host:80", "127.0.0.1:80x",
    ])
    func malformedListenAddress(text: String) {
        #expect(ListenAddress(text) == nil)
    }

    @Test("listen address descriptions round-trip", arguments: ["127.0.0.1:3128", "[::1]:3128", "[::]:3128"])
    func description(text: String) {
        #expect(ListenAddress(text)?.description == text)
    }

    @Test("durations", arguments: [
        ("30s", Duration.seconds(30)), ("5m", .seconds(300)), ("1h", .seconds(3600)), ("1d", .seconds(86_400)),
        ("7d", .seconds(604_800)), ("2w", .seconds(1_209_600)), ("250ms", .milliseconds(250)), ("45", .seconds(45)),
    ])
    func durations(text: String, expected: Duration) throws {
        let c = try MeshgateConfiguration.parse(yaml: "limits:\n  idle_timeout: \(text)\n", path: "m.yaml")
        #expect(c.limits.idleTimeout == expected)
    }

    @Test("malformed durations", arguments: ["1.5h", "-5s", "5 m", "5y", "s", "soon", "99999999999999999999d"])
    func malformedDurations(text: String) {
        #expect(throws: ConfigurationError.self) {
            try MeshgateConfiguration.parse(yaml: "limits:\n  idle_timeout: \"\(text)\"\n", path: "m.yaml")
        }
    }

    @Test("sizes", arguments: [("65536", 65_536), ("64KiB", 65_536), ("1MiB", 1_048_576), ("1_048_576", 1_048_576)])
    func sizes(text: String, expected: Int) throws {
        let c = try MeshgateConfiguration.parse(yaml: "inspection:\n  max_body_bytes: \(text)\n", path: "m.yaml")
        #expect(c.inspection.maxBodyBytes == expected)
    }

    @Test("budget windows", arguments: [
        ("1h", MeshgateConfiguration.AI.Window.fixed(.seconds(3600))), ("30d", .fixed(.seconds(30 * 86_400))), ("month", .month),
    ])
    func windows(text: String, expected: MeshgateConfiguration.AI.Window) throws {
        let c = try MeshgateConfiguration.parse(yaml: """
            identities: [{ name: bot, uid: 1000 }]
            ai:
              budgets: [{ identity: bot, tokens: 1_000, window: \(text), enforce: hard }]
            """, path: "m.yaml")
        #expect(c.ai.budgets == [.init(subject: .identity("bot"), tokens: 1000, window: expected, enforce: .hard)])
    }

    @Test("host patterns are lowercased", arguments: [
        ("*.Apple.COM", "*.apple.com"), ("mcp.*", "mcp.*"), ("Example.com.", "example.com"),
    ])
    func hostPatterns(text: String, expected: String) throws {
        let c = try MeshgateConfiguration.parse(yaml: "tls:\n  do_not_inspect: [\"\(text)\"]\n", path: "m.yaml")
        #expect(c.tls.doNotInspect == [expected])
    }

    @Test("ledgers", arguments: [
        ("sqlite:/var/lib/mg/ledger.db", MeshgateConfiguration.AI.Ledger.sqlite(path: "/var/lib/mg/ledger.db")),
        ("sqlite:db/l.db", .sqlite(path: "/etc/mg/db/l.db")),
        ("postgres://u:p@db:5432/mg", .postgres(url: "postgres://u:p@db:5432/mg")),
    ])
    func ledgers(text: String, expected: MeshgateConfiguration.AI.Ledger) throws {
        let c = try MeshgateConfiguration.parse(yaml: "ai:\n  ledger: \"\(text)\"\n", path: "/etc/mg/meshgate.yaml")
        #expect(c.ai.ledger == expected)
    }
}

@Suite("IPv6 in YAML")
struct IPv6SpellingTests {
    @Test("IPv6 CIDRs need no quotes in block lists, only inside [ ]")
    func blockList() throws {
        let c = try MeshgateConfiguration.parse(yaml: """
            access:
              allow_clients:
                - ::1/128
                - fd00::/8
                - "2001:db8::/32"
            """, path: "m.yaml")
        #expect(c.access.allowClients.map(\.description) == ["::1/128", "fd00::/8", "2001:db8::/32"])
    }
}
