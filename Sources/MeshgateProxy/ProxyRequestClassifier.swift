import MeshgateCore
import NIOCore
import NIOHTTP1

/// Where a forwarded request goes.
public struct ForwardTarget: Sendable, Hashable {
    /// `http` or `https`.
    public var scheme: String
    /// The origin's host and port.
    public var origin: HostPort
    /// The origin-form request target (path and query) sent upstream.
    public var path: String
    /// The name sent as TLS SNI (https only): the client's SNI when it gave one, else the origin host.
    public var serverName: String?
    /// For transparent connections: the address the client dialled, connected to instead of looking
    /// the host up, so a client cannot steer meshgate elsewhere by naming another host.
    public var pinnedAddress: SocketAddress?
    /// Whether the operator chose this destination (an `ai` provider, a reroute target from a
    /// ruleset) rather than a client: only client-chosen destinations pass the ``DestinationGuard``.
    public var configured: Bool

    /// Creates a target.
    public init(scheme: String, origin: HostPort, path: String, serverName: String? = nil, pinnedAddress: SocketAddress? = nil,
                configured: Bool = false) {
        self.scheme = scheme
        self.origin = origin
        self.path = path
        self.serverName = serverName
        self.pinnedAddress = pinnedAddress
        self.configured = configured
    }

    /// The scheme's default port.
    public var defaultPort: Int { scheme == "https" ? 443 : 80 }
}

/// What a request head asks the proxy to do. Pure: decides from the head and configuration alone.
public enum ProxyRequestKind: Sendable, Equatable {
    /// Forward to an origin.
    case forward(ForwardTarget)
    /// Open a tunnel (`CONNECT host:port`).
    case connect(HostPort)
    /// Answer locally with an error status and a one-line reason.
    case reject(HTTPResponseStatus, String)
}

/// The context a request head arrives in.
public enum ProxyRequestMode: Sendable, Equatable {
    /// The explicit listener: absolute-form requests and CONNECT.
    case explicit
    /// Inside an intercepted TLS tunnel to `authority`: origin-form requests. `pinned` is the
    /// address a transparent client dialled (nil for CONNECT, where the authority is looked up).
    case intercepted(authority: HostPort, serverName: String?, pinned: SocketAddress? = nil)
    /// A redirected plain-HTTP connection to `destination`: origin-form requests named by `Host`
    /// (or `fallbackHost`, the DNS filter's name for the address, or the address itself).
    case transparentHTTP(destination: SocketAddress, fallbackHost: String)
    /// The `ai` listener: origin-form OpenAI/Anthropic API requests, routed by their `model`.
    case aiGateway
}

/// Classifies request heads (the proxy's request-target rules from RFC 9110/9112 plus the contract's).
public enum ProxyRequestClassifier {
    /// Decides what `head` asks for.
    public static func classify(
        _ head: HTTPRequestHead,
        mode: ProxyRequestMode,
        configuration: ProxyConfiguration,
        isOwnAddress: ((HostPort) -> Bool)? = nil
    ) -> ProxyRequestKind {
        let isOwn = isOwnAddress ?? configuration.isOwnAddress
        if head.uri.utf8.count > configuration.maxURLBytes {
            return .reject(.uriTooLong, "request target is \(head.uri.utf8.count) bytes; the limit is \(configuration.maxURLBytes) (limits.max_url_bytes)")
        }
        if let refusal = refuseTransferCodings(head) { return refusal }
        switch mode {
        case .explicit:
            return classifyExplicit(head, configuration: configuration, isOwnAddress: isOwn)
        case .intercepted(let authority, let serverName, let pinned):
            var kind = classifyIntercepted(head, authority: authority, serverName: serverName)
            if case .forward(var target) = kind, let pinned {
                target.pinnedAddress = pinned
                kind = .forward(target)
            }
            return kind
        case .transparentHTTP(let destination, let fallbackHost):
            return classifyTransparentHTTP(head, destination: destination, fallbackHost: fallbackHost)
        case .aiGateway:
            // Routed by the body's `model` (AIGatewayHandler, LLMRequestFilter), not by the request target.
            return .reject(.notFound, "no route for \(quoted(head.uri)) on the ai listener")
        }
    }

    /// RFC 9112 §6.1: a server that receives a transfer coding it does not understand answers 501, as
    /// Squid and Envoy do. meshgate forwards request bodies with `chunked` framing only: re-framed for
    /// the origin, a `gzip, chunked` body would arrive stripped of its gzip coding, and it would be
    /// inspected still compressed. Content codings belong in Content-Encoding, which is decoded.
    static func refuseTransferCodings(_ head: HTTPRequestHead) -> ProxyRequestKind? {
        let values = head.headers["transfer-encoding"]
        guard !values.isEmpty else { return nil }
        var codings: [String] = []
        for value in values {
            for token in value.split(separator: ",") {
                let coding = token.filter { $0 != " " && $0 != "\t" }.lowercased()
                if !coding.isEmpty { codings.append(coding) }
            }
        }
        if codings == ["chunked"] { return nil }
        let named = codings.joined(separator: ", ")
        return .reject(.notImplemented, "Transfer-Encoding '\(named.prefix(100))' is not supported: request bodies are forwarded with chunked framing only (send a compressed body with Content-Encoding)")
    }

    private static func classifyExplicit(_ head: HTTPRequestHead, configuration: ProxyConfiguration, isOwnAddress: (HostPort) -> Bool) -> ProxyRequestKind {
        if head.method == .CONNECT {
            guard let target = HostPort(authority: head.uri, defaultPort: nil) else {
                return .reject(.badRequest, "CONNECT needs host:port, got '\(quoted(head.uri))'")
            }
            guard configuration.connectPorts.contains(target.port) else {
                let allowed = configuration.connectPorts.sorted().map(String.init).joined(separator: ", ")
                return .reject(.forbidden, "CONNECT to port \(target.port) is not allowed (access.connect_ports: \(allowed))")
            }
            if isOwnAddress(target) {
                return .reject(.badRequest, "CONNECT to meshgate's own listener \(target) would loop")
            }
            return .connect(target)
        }
        guard let url = AbsoluteURL(head.uri) else {
            if head.uri.hasPrefix("/") {
                return .reject(.badRequest, "this is a proxy: send absolute-form requests (http://host/path) or CONNECT; the admin listener serves /proxy.pac and /ca.pem")
            }
            return .reject(.badRequest, "malformed request target '\(quoted(head.uri))'")
        }
        guard url.scheme == "http" else {
            return .reject(.badRequest, "absolute-form requests must use http, not '\(url.scheme)'; use CONNECT for https")
        }
        guard let origin = HostPort(authority: url.authority, defaultPort: 80) else {
            return .reject(.badRequest, "malformed host in request target '\(url.authority.prefix(200))'")
        }
        if isOwnAddress(origin) {
            return .reject(.badRequest, "request to meshgate's own listener \(origin) would loop")
        }
        return .forward(ForwardTarget(scheme: "http", origin: origin, path: url.pathAndQuery))
    }

    private static func classifyIntercepted(_ head: HTTPRequestHead, authority: HostPort, serverName: String?) -> ProxyRequestKind {
        if head.method == .CONNECT {
            return .reject(.badRequest, "CONNECT inside a tunnel is not supported")
        }
        if head.uri.hasPrefix("/") {
            return .forward(ForwardTarget(scheme: "https", origin: authority, path: head.uri, serverName: serverName ?? tlsName(authority)))
        }
        if head.uri == "*" && head.method == .OPTIONS {
            return .forward(ForwardTarget(scheme: "https", origin: authority, path: "*", serverName: serverName ?? tlsName(authority)))
        }
        // Absolute form inside a tunnel is legal HTTP; it must not escape the tunnel's authority.
        guard let url = AbsoluteURL(head.uri), url.scheme == "https",
              let origin = HostPort(authority: url.authority, defaultPort: 443), origin == authority else {
            return .reject(.badRequest, "request target '\(quoted(head.uri))' does not belong to the tunnel to \(authority)")
        }
        return .forward(ForwardTarget(scheme: "https", origin: authority, path: url.pathAndQuery, serverName: serverName ?? tlsName(authority)))
    }

    private static func classifyTransparentHTTP(_ head: HTTPRequestHead, destination: SocketAddress, fallbackHost: String) -> ProxyRequestKind {
        if head.method == .CONNECT {
            return .reject(.badRequest, "CONNECT on a redirected connection is not supported")
        }
        let port = destination.port ?? 80
        var path = head.uri
        var host = head.headers.first(name: "host").flatMap { HostPort(authority: $0, defaultPort: port)?.host } ?? fallbackHost
        if !head.uri.hasPrefix("/") && head.uri != "*" {
            guard let url = AbsoluteURL(head.uri), url.scheme == "http", let origin = HostPort(authority: url.authority, defaultPort: port) else {
                return .reject(.badRequest, "malformed request target '\(quoted(head.uri))'")
            }
            host = origin.host
            path = url.pathAndQuery
        }
        // The port is the one dialled; a Host header naming another port does not move the connection.
        return .forward(ForwardTarget(scheme: "http", origin: HostPort(host: host, port: port), path: path, pinnedAddress: destination))
    }

    private static func tlsName(_ authority: HostPort) -> String? {
        authority.isIPLiteral ? nil : authority.host
    }
}

/// The parts of an absolute-form request target (`scheme://authority/path?query`).
struct AbsoluteURL: Equatable {
    var scheme: String
    var authority: String
    var pathAndQuery: String

    init?(_ text: String) {
        // Request targets are ASCII (RFC 9112 §3.2); byte scanning is then the same as the
        // Character scanning below, and several times cheaper on the per-request path.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            self.init(ascii: text)
        } else {
            self.init(characters: text)
        }
    }

    /// The parser for an all-ASCII target, on UTF-8 bytes.
    init?(ascii text: String) {
        let bytes = text.utf8
        var sepStart: String.Index?
        var i = bytes.startIndex
        while i != bytes.endIndex {
            if bytes[i] == UInt8(ascii: ":") {
                let j = bytes.index(after: i)
                if j != bytes.endIndex, bytes[j] == UInt8(ascii: "/") {
                    let k = bytes.index(after: j)
                    if k != bytes.endIndex, bytes[k] == UInt8(ascii: "/") {
                        sepStart = i
                        break
                    }
                }
            }
            i = bytes.index(after: i)
        }
        guard let sepStart, sepStart != bytes.startIndex else { return nil }
        let scheme = bytes[..<sepStart]
        guard scheme.allSatisfy({ Self.isSchemeByte($0) }) else { return nil }
        let restStart = bytes.index(sepStart, offsetBy: 3)
        let rest = bytes[restStart...]
        let authEnd = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? rest.endIndex
        var authorityStart = restStart
        if let at = bytes[restStart..<authEnd].lastIndex(of: UInt8(ascii: "@")) { authorityStart = bytes.index(after: at) }
        guard authorityStart != authEnd else { return nil }
        var tailEnd = bytes.endIndex
        if let hash = bytes[authEnd...].firstIndex(of: UInt8(ascii: "#")) { tailEnd = hash }
        let schemeText = String(text[..<sepStart])
        self.scheme = scheme.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? schemeText.lowercased() : schemeText
        self.authority = String(text[authorityStart..<authEnd])
        if authEnd == tailEnd {
            pathAndQuery = "/"
        } else if bytes[authEnd] == UInt8(ascii: "?") {
            pathAndQuery = "/" + text[authEnd..<tailEnd]
        } else {
            pathAndQuery = String(text[authEnd..<tailEnd])
        }
    }

    private static func isSchemeByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
            || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }

    /// The general parser (a target with non-ASCII text). Delimiters are found per Unicode scalar: a
    /// Character can take one in ("\u{600}/" is a single grapheme), which moved the authority's end.
    init?(characters text: String) {
        guard let sep = text.unicodeScalars.firstRange(of: "://".unicodeScalars) else { return nil }
        let scheme = text[..<sep.lowerBound]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else {
            return nil
        }
        let rest = text[sep.upperBound...]
        let authEnd = rest.unicodeScalars.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authEnd]
        // Credentials in the URL are not forwarded (RFC 9110 §4.2.4 deprecates them).
        if let at = authority.unicodeScalars.lastIndex(of: "@") { authority = authority[authority.unicodeScalars.index(after: at)...] }
        guard !authority.isEmpty else { return nil }
        var tail = rest[authEnd...]
        if let hash = tail.unicodeScalars.firstIndex(of: "#") { tail = tail[..<hash] }
        self.scheme = scheme.lowercased()
        self.authority = String(authority)
        if tail.isEmpty {
            pathAndQuery = "/"
        } else if tail.unicodeScalars.first == "?" {
            pathAndQuery = "/" + tail
        } else {
            pathAndQuery = String(tail)
        }
    }
}
