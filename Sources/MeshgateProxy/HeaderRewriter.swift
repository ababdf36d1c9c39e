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

    /// Whether NIO's request decoder (llhttp) stops parsing once this request ends: it does for any
    /// `Upgrade` header with an `upgrade` Connection token, whatever the value, expecting the new protocol.
    static func decoderStopsAfter(_ headers: HTTPHeaders) -> Bool {
        headers.contains(name: "upgrade")
            && headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }

    /// The head sent upstream: origin-form target, hop-by-hop headers removed (framing kept for the
    /// encoder), `Host` set to the origin, `Via` appended, Upgrade kept only when upgrading.
    static func upstreamRequestHead(_ head: HTTPRequestHead, target: ForwardTarget, via: String) -> HTTPRequestHead {
        let upgrade = upgradeProtocol(head.headers)
        var headers = stripped(head.headers)
        headers.replaceOrAdd(name: "Host", value: target.origin.hostHeader(defaultPort: target.defaultPort))
        headers.add(name: "Via", value: viaEntry(head.version, via))
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
        let switching = head.status == .switchingProtocols
        // NIO re-frames the body for the client's HTTP version.
        var headers = stripped(head.headers, alsoRemove: switching ? nil : "transfer-encoding")
        if switching {
            headers.add(name: "Connection", value: "Upgrade")
            if let upgrade = head.headers.first(name: "upgrade") { headers.add(name: "Upgrade", value: upgrade) }
        }
        headers.add(name: "Via", value: viaEntry(head.version, via))
        return HTTPResponseHead(version: clientVersion, status: head.status, headers: headers)
    }

    /// `input` without hop-by-hop headers, those its Connection header names, and `alsoRemove`.
    /// Edits a copy in place rather than rebuilding: most messages carry one such header or none.
    private static func stripped(_ input: HTTPHeaders, alsoRemove: String? = nil) -> HTTPHeaders {
        var doomed: [String] = []
        for (name, value) in input {
            if isHopByHop(name) {
                doomed.append(name)
                if asciiCaseInsensitiveEquals("connection", name) { appendNamedTokens(of: value, to: &doomed) }
            } else if let alsoRemove, asciiCaseInsensitiveEquals(alsoRemove, name) {
                doomed.append(name)
            }
        }
        guard !doomed.isEmpty else { return input }
        var out = input
        for name in doomed { out.remove(name: name) }
        return out
    }

    /// The headers a Connection value names. "close" and "keep-alive" (nearly every value) name
    /// none worth a lookup, nor may a client remove framing headers this way.
    private static func appendNamedTokens(of value: String, to names: inout [String]) {
        if asciiCaseInsensitiveEquals("keep-alive", value) || asciiCaseInsensitiveEquals("close", value) { return }
        for part in value.split(separator: ",") {
            let token = part.trimmingSpaces().lowercased()
            if !token.isEmpty && token != "close" && token != "keep-alive" && token != "transfer-encoding" && token != "content-length" {
                names.append(token)
            }
        }
    }

    /// `HTTP/x.y` as a Via entry's protocol version, without formatting the common ones.
    private static func viaEntry(_ version: HTTPVersion, _ via: String) -> String {
        switch (version.major, version.minor) {
        case (1, 1): return "1.1 " + via
        case (1, 0): return "1.0 " + via
        default: return "\(version.major).\(version.minor) \(via)"
        }
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

private extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return s
    }
}
