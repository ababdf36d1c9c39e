import MeshgateCore
import NIOHTTP1
import Testing

@testable import MeshgateProxy

@Suite struct ProxyRequestClassifierTests {
    static let config = ProxyConfiguration(connectPorts: [443, 8443], ownAddresses: [HostPort(host: "127.0.0.1", port: 3128)])

    static func classify(_ method: HTTPMethod, _ uri: String, mode: ProxyRequestMode = .explicit, config: ProxyConfiguration = config) -> ProxyRequestKind {
        ProxyRequestClassifier.classify(HTTPRequestHead(version: .http1_1, method: method, uri: uri), mode: mode, configuration: config)
    }

    @Test(arguments: [
        ("http://example.com/a?b=1", "example.com", 80, "/a?b=1"),
        ("http://Example.COM:8080", "example.com", 8080, "/"),
        ("http://example.com?q", "example.com", 80, "/?q"),
        ("http://user:pw@example.com/x#frag", "example.com", 80, "/x"),
        ("http://[::1]:9000/p", "::1", 9000, "/p"),
    ])
    func absoluteFormIsForwarded(uri: String, host: String, port: Int, path: String) {
        let expected = ForwardTarget(scheme: "http", origin: HostPort(host: host, port: port), path: path)
        #expect(Self.classify(.GET, uri) == .forward(expected))
    }

    @Test(arguments: [
        ("https://example.com/", HTTPResponseStatus.badRequest),
        ("ftp://example.com/file", .badRequest),
        ("/just/a/path", .badRequest),
        ("http:///nohost", .badRequest),
        ("http://exa mple.com/", .badRequest),
        ("http://127.0.0.1:3128/", .badRequest),   // our own listener: never a loop
        ("http://localhost:3128/", .badRequest),
    ])
    func badTargetsAreRejected(uri: String, status: HTTPResponseStatus) {
        guard case .reject(let got, let message) = Self.classify(.GET, uri) else {
            Issue.record("expected a rejection for \(uri)")
            return
        }
        #expect(got == status)
        #expect(!message.isEmpty)
    }

    /// The byte parser used for ASCII targets must agree with the Character parser it shortcuts.
    @Test(arguments: [
        "http://example.com/a?b=1", "HTTP://Example.COM:8080", "http://example.com?q", "http://user:pw@example.com/x#frag",
        "http://[::1]:9000/p", "http:///nohost", "://x/", "h+t.t-p://a/b", "ht_tp://a/", "http:/one/slash", "http://a@/p",
        "http://h#frag", "http://h/#", "http://a:b@c@d/p?q#r", "x://", "http://host", "no-scheme-here", "",
    ])
    func asciiTargetParserAgreesWithCharacterParser(uri: String) {
        #expect(AbsoluteURL(ascii: uri) == AbsoluteURL(characters: uri))
    }

    @Test func nonASCIITargetsStillParse() {
        #expect(AbsoluteURL("http://b\u{FC}cher.example/\u{E9}") == AbsoluteURL(characters: "http://b\u{FC}cher.example/\u{E9}"))
        #expect(AbsoluteURL("http://b\u{FC}cher.example/\u{E9}")?.pathAndQuery == "/\u{E9}")
    }

    // Found by scripts/fuzz.sh: the general parser split per Character, and a grapheme cluster can
    // take a delimiter in ("\u{600}/" and "\u{600}#" are single Characters).
    @Test func delimitersInsideGraphemeClusters() {
        let url = AbsoluteURL("http://h.example\u{600}/x")
        #expect(url?.authority == "h.example\u{600}")
        #expect(url?.pathAndQuery == "/x")
        #expect(AbsoluteURL("http://h.example/x\u{600}#frag")?.pathAndQuery == "/x\u{600}")
        #expect(AbsoluteURL("http://u\u{600}@h.example/")?.authority == "h.example")
    }

    @Test func connectToAllowedPort() {
        #expect(Self.classify(.CONNECT, "example.com:443") == .connect(HostPort(host: "example.com", port: 443)))
        #expect(Self.classify(.CONNECT, "[2001:db8::1]:8443") == .connect(HostPort(host: "2001:db8::1", port: 8443)))
    }

    @Test(arguments: ["example.com:22", "example.com:25", "example.com:80"])
    func connectToOtherPortsIsForbidden(uri: String) {
        guard case .reject(let status, let message) = Self.classify(.CONNECT, uri) else {
            Issue.record("expected 403")
            return
        }
        #expect(status == .forbidden)
        #expect(message.contains("access.connect_ports"))
    }

    @Test(arguments: ["example.com", "example.com:", "", "http://example.com:443"])
    func malformedConnectIs400(uri: String) {
        guard case .reject(let status, _) = Self.classify(.CONNECT, uri) else {
            Issue.record("expected 400")
            return
        }
        #expect(status == .badRequest)
    }

    @Test func uriTooLongIs414() {
        let uri = "http://example.com/" + String(repeating: "a", count: 9000)
        guard case .reject(let status, _) = Self.classify(.GET, uri) else {
            Issue.record("expected 414")
            return
        }
        #expect(status == .uriTooLong)
    }

    @Test func interceptedRequestsStayInTheirTunnel() {
        let mode = ProxyRequestMode.intercepted(authority: HostPort(host: "api.example.com", port: 443), serverName: "api.example.com")
        let expected = ForwardTarget(scheme: "https", origin: HostPort(host: "api.example.com", port: 443), path: "/v1?x=1", serverName: "api.example.com")
        #expect(Self.classify(.POST, "/v1?x=1", mode: mode) == .forward(expected))
        #expect(Self.classify(.POST, "https://api.example.com/v1?x=1", mode: mode) == .forward(expected))
        guard case .reject(let status, _) = Self.classify(.GET, "https://evil.example.net/", mode: mode) else {
            Issue.record("a request naming another host must not escape the tunnel")
            return
        }
        #expect(status == .badRequest)
    }
}

@Suite struct HeaderRewriterTests {
    @Test func upstreamHeadDropsHopByHopAndAddsViaAndHost() {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "wrong.example")
        headers.add(name: "Connection", value: "keep-alive, X-Secret-Hop")
        headers.add(name: "Proxy-Connection", value: "keep-alive")
        headers.add(name: "Keep-Alive", value: "timeout=5")
        headers.add(name: "Proxy-Authorization", value: "Basic c2VjcmV0")
        headers.add(name: "X-Secret-Hop", value: "1")
        headers.add(name: "TE", value: "trailers")
        headers.add(name: "Upgrade", value: "h2c")
        headers.add(name: "Content-Length", value: "5")
        headers.add(name: "Accept", value: "*/*")
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "http://example.com:8080/x", headers: headers)
        let target = ForwardTarget(scheme: "http", origin: HostPort(host: "example.com", port: 8080), path: "/x")
        let out = HeaderRewriter.upstreamRequestHead(head, target: target, via: "meshgate")
        #expect(out.uri == "/x")
        #expect(out.headers["Host"] == ["example.com:8080"])
        #expect(out.headers["Via"] == ["1.1 meshgate"])
        #expect(out.headers["Content-Length"] == ["5"])
        #expect(out.headers["Accept"] == ["*/*"])
        for gone in ["Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "X-Secret-Hop", "TE", "Upgrade"] {
            #expect(!out.headers.contains(name: gone), "\(gone) must not be forwarded")
        }
    }

    @Test func connectionTokensAreTrimmedFoldedAndCannotRemoveFraming() {
        var headers = HTTPHeaders()
        headers.add(name: "CONNECTION", value: " Close ,\tX-Other-Hop , content-length")
        headers.add(name: "x-other-hop", value: "1")
        headers.add(name: "Content-Length", value: "0")
        headers.add(name: "B", value: "2")
        headers.add(name: "A", value: "1")
        let head = HTTPRequestHead(version: .http1_0, method: .GET, uri: "http://example.com/", headers: headers)
        let target = ForwardTarget(scheme: "http", origin: HostPort(host: "example.com", port: 80), path: "/")
        let out = HeaderRewriter.upstreamRequestHead(head, target: target, via: "meshgate")
        #expect(!out.headers.contains(name: "X-Other-Hop"))
        #expect(!out.headers.contains(name: "Connection"))
        #expect(out.headers["Content-Length"] == ["0"])
        #expect(out.headers["Via"] == ["1.0 meshgate"])
        // What is not hop-by-hop keeps its order.
        #expect(out.headers.map(\.name) == ["Content-Length", "B", "A", "Host", "Via"])
    }

    @Test func websocketUpgradeIsKept() {
        var headers = HTTPHeaders()
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/chat", headers: headers)
        let target = ForwardTarget(scheme: "https", origin: HostPort(host: "ws.example.com", port: 443), path: "/chat")
        let out = HeaderRewriter.upstreamRequestHead(head, target: target, via: "meshgate")
        #expect(out.headers["Upgrade"] == ["websocket"])
        #expect(out.headers["Connection"] == ["Upgrade"])
        #expect(out.headers["Host"] == ["ws.example.com"])
        #expect(out.headers["Sec-WebSocket-Key"] == ["dGhlIHNhbXBsZSBub25jZQ=="])
    }

    @Test func responseHeadFollowsClientVersionAndDropsFraming() {
        var headers = HTTPHeaders()
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Connection", value: "keep-alive")
        headers.add(name: "Content-Type", value: "text/event-stream")
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
        let out = HeaderRewriter.clientResponseHead(head, clientVersion: .http1_0, via: "meshgate")
        #expect(out.version == .http1_0)
        #expect(!out.headers.contains(name: "Transfer-Encoding"))
        #expect(!out.headers.contains(name: "Connection"))
        #expect(out.headers["Content-Type"] == ["text/event-stream"])
        #expect(out.headers["Via"] == ["1.1 meshgate"])
    }
}
