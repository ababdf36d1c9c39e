import MeshgateJSON

/// What the recognizer looks at in one HTTP request.
public struct MCPRequestInfo: Sendable {
    /// The HTTP method (`GET`, `POST`, ...).
    public var method: String
    /// The request target's path, with its query string if any (`/messages?sessionId=abc`).
    public var path: String
    /// The request headers in arrival order; names compare case-insensitively.
    public var headers: [(name: String, value: String)]
    /// The body after transfer- and content-decoding, when it was read.
    public var body: [UInt8]?
    /// The body already parsed (e.g. from `JSONCanonicalizer`); when nil and `body` is set, the
    /// recognizer parses `body` itself with `JSONLimits.default`.
    public var json: JSONValue?

    /// Creates a request description.
    public init(
        method: String,
        path: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        json: JSONValue? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.json = json
    }

    /// Every value of header `name` (case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        headers.compactMap { MCPRequestInfo.namesEqual($0.name, name) ? $0.value : nil }
    }

    /// ASCII case-insensitive comparison of header names, without allocating.
    static func namesEqual(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) { x, y in asciiLower(x) == asciiLower(y) }
    }

    static func asciiLower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}
