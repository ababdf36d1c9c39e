import Foundation
import MeshgateJSON
import NIOHTTP1

/// A complete admin response; the handler adds `Content-Length` and `Connection: close`.
struct AdminResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []
    /// When set, the body is this stream of chunks (server-sent events) instead of `body`.
    var stream: (any AdminEventSource)?

    init(status: HTTPResponseStatus, contentType: String, body: [UInt8], extraHeaders: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.extraHeaders = extraHeaders
    }

    init(status: HTTPResponseStatus, contentType: String, text: String, extraHeaders: [(String, String)] = []) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8), extraHeaders: extraHeaders)
    }

    /// A JSON body that is already encoded.
    static func json(_ status: HTTPResponseStatus, _ body: String, extraHeaders: [(String, String)] = []) -> AdminResponse {
        AdminResponse(status: status, contentType: "application/json", text: body, extraHeaders: extraHeaders)
    }

    /// `{"error":MESSAGE}`.
    static func error(_ status: HTTPResponseStatus, _ message: String, extraHeaders: [(String, String)] = []) -> AdminResponse {
        json(status, #"{"error":"# + JSONText.quoted(message) + "}", extraHeaders: extraHeaders)
    }
}

/// What the router needs from a request.
struct AdminRequest: Sendable {
    var method: HTTPMethod
    /// The path without the query string.
    var path: String
    /// The raw query string (after `?`), empty when absent.
    var query: String
    var headers: HTTPHeaders
    /// The client's IP address bytes (4 or 16), nil when unknown.
    var clientAddress: [UInt8]?
    /// The client as printed in logs.
    var clientDescription: String
    /// The request body (up to the listener's limit).
    var body: [UInt8] = []

    init(head: HTTPRequestHead, clientAddress: [UInt8]?, clientDescription: String) {
        var target = Substring(head.uri)
        // Absolute-form ("http://host:9090/healthz") is legal for servers to accept (RFC 9112 §3.2.2).
        if let schemeEnd = target.firstRange(of: "://") {
            let afterScheme = target[schemeEnd.upperBound...]
            target = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        if let q = target.firstIndex(of: "?") {
            self.path = String(target[..<q])
            self.query = String(target[target.index(after: q)...])
        } else {
            self.path = String(target)
            self.query = ""
        }
        if let fragment = self.path.firstIndex(of: "#") { self.path = String(self.path[..<fragment]) }
        self.method = head.method
        self.headers = head.headers
        self.clientAddress = clientAddress
        self.clientDescription = clientDescription
    }

    /// The value of query parameter `name`, percent-decoded (`+` is a space), for free text such
    /// as the Live page's filters.
    func decodedQueryValue(_ name: String) -> String? {
        queryValue(name).map(Self.formDecoded)
    }

    /// The value of cookie `name`.
    func cookie(_ name: String) -> String? {
        for header in headers[canonicalForm: "cookie"] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// The value of field `name` in an `application/x-www-form-urlencoded` body.
    func formValue(_ name: String) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if Self.formDecoded(String(parts[0])) == name { return parts.count == 2 ? Self.formDecoded(String(parts[1])) : "" }
        }
        return nil
    }

    static func formDecoded(_ s: String) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// The value of query parameter `name` (first occurrence, no percent-decoding: the admin
    /// parameters are plain words).
    func queryValue(_ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count == 2 ? String(parts[1]) : "" }
        }
        return nil
    }
}

/// The chunks of a streamed response (the Live page's event stream). The handler asks for the next
/// chunk on its event loop every ``pollInterval`` while the client can take more, so the proxy's
/// hot path never waits on a dashboard reader.
protocol AdminEventSource: Sendable {
    /// Bytes to send now (empty: nothing new).
    func nextChunk() -> [UInt8]
}
