import MeshgateCore
import Testing

@Suite struct AuditRedactorTests {
    static let redactor = AuditRedactor(queryKeys: ["page", "api-version", "débug"])

    @Test(arguments: [
        // Nothing to redact: the same text comes back.
        ("/", "/"),
        ("/v1/models", "/v1/models"),
        ("*", "*"),
        ("http://example.com/a/b", "http://example.com/a/b"),
        ("example.com:443", "example.com:443"),
        ("/path/with@sign", "/path/with@sign"),
        // Query values are redacted, key names stay; allowed keys keep their values.
        ("/search?api_key=sk-123&page=2", "/search?api_key=REDACTED&page=2"),
        ("/?page=1&token=abc&page=3", "/?page=1&token=REDACTED&page=3"),
        ("/chat?api-version=2024-02-01", "/chat?api-version=2024-02-01"),
        ("/?a=&b=&&c", "/?a=&b=&&REDACTED"),
        ("/?", "/?"),
        ("/?page", "/?page"),
        ("/?sk-live-0123456789", "/?REDACTED"),
        ("/?x=a=b=c", "/?x=REDACTED"),
        // A value of an allowed key that holds ';' could be another key's value on some servers.
        ("/?page=1;token=abc", "/?page=REDACTED"),
        // Percent-encoded keys are compared decoded, written as sent.
        ("/?pag%65=2&api%5Fkey=x", "/?pag%65=2&api%5Fkey=REDACTED"),
        ("/?d%C3%A9bug=1", "/?d%C3%A9bug=1"),
        ("/?bad%zz=1&%=2", "/?bad%zz=REDACTED&%=REDACTED"),
        // Non-ASCII keys and values.
        ("/ünïcode?débug=ja&clé=valeur", "/ünïcode?débug=ja&clé=REDACTED"),
        // Fragments are redacted (they can hold tokens).
        ("/cb#access_token=abc", "/cb#REDACTED"),
        ("/cb?page=1#frag", "/cb?page=1#REDACTED"),
        ("/cb#", "/cb#"),
        // User info is removed from absolute-form, scheme-relative and authority-form targets.
        ("http://alice:S3cretPass@example.com/x?page=1", "http://example.com/x?page=1"),
        ("HTTP://alice@example.com:8080/", "HTTP://example.com:8080/"),
        ("http://a:b@c@example.com/", "http://example.com/"),
        ("http://alice:S3cretPass@", "http://"),
        ("http://alice:pa?ss@example.com/x", "http://example.com/x"),
        ("http://alice:pa#ss@example.com/x", "http://example.com/x"),
        ("http://example.com/p@th?mail=a@b", "http://example.com/p@th?mail=REDACTED"),
        ("//alice:pw@example.com/x", "//example.com/x"),
        ("alice:S3cretPass@example.com:443", "example.com:443"),
        ("https://user:pw@portal.example.com/mcp?token=t", "https://portal.example.com/mcp?token=REDACTED"),
    ])
    func requestTargets(target: String, expected: String) {
        #expect(Self.redactor.requestTarget(target) == expected)
    }

    @Test func withNoAllowedKeysEveryValueIsRedacted() {
        #expect(AuditRedactor.standard.requestTarget("/?page=2&api-version=1") == "/?page=REDACTED&api-version=REDACTED")
    }

    @Test(arguments: [
        ("abc", 3, nil),
        ("abcdef", 5, "ab…"),
        ("abcdef", 3, "…"),
        // Never cut inside a UTF-8 sequence: é is 2 bytes, 😀 is 4.
        ("éééé", 6, "é…"),
        ("éééé", 7, "éé…"),
        ("a😀bc😀", 7, "a…"),
        ("a😀bc😀", 8, "a😀…"),
        ("a😀bc😀", 11, nil),
    ] as [(String, Int, String?)])
    func truncation(text: String, maxBytes: Int, expected: String?) {
        let result = AuditRedactor.truncate(text, maxBytes: maxBytes)
        #expect(result == expected)
        if let result { #expect(result.utf8.count <= maxBytes) }
    }

    @Test func eventFieldsAreRedactedAndBoundedAndSaySo() throws {
        let longPath = "/" + String(repeating: "a", count: 48 * 1024) + "?api_key=secret"
        var event = AuditEvent(
            timestampMillis: 0, kind: .http, client: "127.0.0.1:1", identity: nil, action: .allow,
            detections: ["MCP JSON-RPC", "Undecodable body (" + String(repeating: "x", count: 1000) + ")"],
            fields: [
                ("method", .string("GET")),
                ("host", .string("alice@" + String(repeating: "h", count: 300))),
                ("port", .int(80)),
                ("path", .string(longPath)),
                ("mcp_method", .string(String(repeating: "m", count: 5000))),
                ("target", .string("https://bob:pw@portal.example.com/mcp?session=s")),
                ("error", .string("malformed request target 'http://alice:S3cretPass@[::1/'")),
                ("attempts", .strings(Array(repeating: "ok", count: 40))),
            ]
        )
        Self.redactor.apply(to: &event)
        func string(_ name: String) -> String? {
            guard case .string(let s)? = event.fields.first(where: { $0.0 == name })?.1 else { return nil }
            return s
        }
        func strings(_ name: String) -> [String]? {
            guard case .strings(let s)? = event.fields.first(where: { $0.0 == name })?.1 else { return nil }
            return s
        }
        let path = try #require(string("path"))
        #expect(path.utf8.count <= 2048)
        #expect(path.hasSuffix("…"))
        #expect(!path.contains("secret"))
        let host = try #require(string("host"))
        #expect(host.utf8.count <= 255 && !host.contains("alice"))
        #expect(try #require(string("mcp_method")).utf8.count <= 512)
        #expect(string("target") == "https://portal.example.com/mcp?session=REDACTED")
        #expect(string("error") == "malformed request target 'http://[::1/'")
        #expect(strings("attempts")?.count == 33)
        #expect(event.detections.count == 2 && event.detections[1].utf8.count <= 256)
        #expect(strings("truncated") == ["host", "path", "mcp_method", "attempts", "detections"])
        #expect(string("method") == "GET")
    }

    @Test func anEventWithinBoundsIsLeftAlone() {
        var event = AuditEvent(
            timestampMillis: 0, kind: .http, client: nil, identity: nil, action: .allow,
            fields: [("host", .string("example.com")), ("path", .string("/a?page=1")), ("status", .int(200))]
        )
        AuditRedactor(queryKeys: ["page"]).apply(to: &event)
        #expect(event.fields.count == 3)
        if case .string(let path) = event.fields[1].1 { #expect(path == "/a?page=1") }
    }
}
