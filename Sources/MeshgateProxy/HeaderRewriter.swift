import NIOHTTP1

/// Hop-by-hop header handling for both directions (RFC 9110 §7.6.1), plus `Via` and `Host`.
enum HeaderRewriter {
    /// Whether the request asks to switch protocols (e.g. WebSocket).
    static func upgradeProtocol(_ headers: HTTPHeaders) -> String? {
        let connectionTokens = headers[canonicalForm: "connection"].map { $0.lowercased() }
        guard connectionTokens.contains("upgrade"), let proto = headers.first(name: "upgrade"), !proto.isEmpty else {
            return nil
        }
        return proto
    }

    /// The head sent upstream: origin-form target, hop-by-hop headers removed (framing kept for the
    /// encoder), `Host` set to the origin, `Via` appended, Upgrade kept only when upgrading.
    static func upstreamRequestHead(_ head: HTTPRequestHead, target: ForwardTarget, via: String) -> HTTPRequestHead {
        let upgrade = upgradeProtocol(head.headers)
        var headers = stripped(head.headers)
        headers.replaceOrAdd(name: "Host", value: target.origin.hostHeader(defaultPort: target.defaultPort))
        headers.add(name: "Via", value: "\(head.version.major).\(head.version.minor) \(via)")
        if let upgrade {
            headers.add(name: "Connection", value: "Upgrade")
            headers.add(name: "Upgrade", value: upgrade)
        }
        var out = HTTPRequestHead(version: .http1_1, method: head.method, uri: target.path, headers: headers)
        out.version = .http1_1
        return out
    }

    /// The head sent to the client. The version follows the client's so that NIO frames the body
    /// correctly for it (chunked for 1.1, close-delimited for 1.0).
    static func clientResponseHead(_ head: HTTPResponseHead, clientVersion: HTTPVersion, via: String) -> HTTPResponseHead {
        var headers = stripped(head.headers)
        if head.status == .switchingProtocols {
            headers.add(name: "Connection", value: "Upgrade")
            if let upgrade = head.headers.first(name: "upgrade") { headers.add(name: "Upgrade", value: upgrade) }
        } else {
            // NIO re-frames the body for the client's HTTP version.
            headers.remove(name: "transfer-encoding")
        }
        headers.add(name: "Via", value: "\(head.version.major).\(head.version.minor) \(via)")
        return HTTPResponseHead(version: clientVersion, status: head.status, headers: headers)
    }

    private static func stripped(_ input: HTTPHeaders) -> HTTPHeaders {
        // Tokens named by Connection; "close" and "keep-alive" name no header worth a lookup.
        var named: [String] = []
        for value in input[canonicalForm: "connection"] {
            let token = value.lowercased()
            if token != "close" && token != "keep-alive" && token != "transfer-encoding" && token != "content-length" {
                named.append(token)
            }
        }
        var out = HTTPHeaders()
        out.reserveCapacity(input.count)
        for (name, value) in input {
            if isHopByHop(name) { continue }
            if !named.isEmpty, named.contains(where: { asciiCaseInsensitiveEquals($0, name) }) { continue }
            out.add(name: name, value: value)
        }
        return out
    }

    /// Hop-by-hop check without allocating a lowercased copy of every header name (hot path).
    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: return asciiCaseInsensitiveEquals("te", name)
        case 7: return asciiCaseInsensitiveEquals("trailer", name) || asciiCaseInsensitiveEquals("upgrade", name)
        case 10: return asciiCaseInsensitiveEquals("connection", name) || asciiCaseInsensitiveEquals("keep-alive", name)
        case 16: return asciiCaseInsensitiveEquals("proxy-connection", name)
        case 18: return asciiCaseInsensitiveEquals("proxy-authenticate", name)
        case 19: return asciiCaseInsensitiveEquals("proxy-authorization", name)
        default: return false
        }
    }

    /// `lower` must already be lowercase ASCII.
    static func asciiCaseInsensitiveEquals(_ lower: String, _ other: String) -> Bool {
        guard lower.utf8.count == other.utf8.count else { return false }
        for (a, b) in zip(lower.utf8, other.utf8) where a != b && a != (b | 0x20) {
            return false
        }
        return true
    }
}
