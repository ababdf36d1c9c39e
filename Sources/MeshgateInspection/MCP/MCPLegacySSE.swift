/// Recognition of the legacy HTTP+SSE transport (MCP 2024-11-05) from the server's side: the
/// response to `GET /sse` is an event stream whose first event is `event: endpoint`, its data the
/// URL the client must POST its messages to.
public enum MCPLegacySSE {
    /// What the start of a response stream says.
    public enum Handshake: Sendable, Equatable {
        /// The first event is `endpoint`; the associated value is its data (e.g.
        /// `/messages?sessionId=…`).
        case endpoint(String)
        /// The first event is something else, or the prefix is not an event stream.
        case notHandshake
        /// No event is complete yet within the prefix; feed more bytes.
        case incomplete
    }

    /// Reads the first event of an SSE stream from `prefix` (the response body's first bytes).
    /// Lines may end in CRLF, LF or CR; comment lines and a leading BOM are skipped, as in the
    /// HTML event-stream parser. Once `maxBytes` have been seen without a complete event, the
    /// stream counts as not a handshake.
    public static func inspect(streamPrefix prefix: [UInt8], maxBytes: Int = 4096) -> Handshake {
        let n = min(prefix.count, maxBytes)
        let start = n >= 3 && prefix[0] == 0xEF && prefix[1] == 0xBB && prefix[2] == 0xBF ? 3 : 0
        var parser = SSEParser()
        var reader = FirstEventReader()
        if start < n { parser.feed(prefix[start..<n], handler: &reader) }
        return reader.outcome ?? (prefix.count >= maxBytes ? .notHandshake : .incomplete)
    }
}

/// Decides on the first event `SSEParser` dispatches; everything after the decision is ignored.
private struct FirstEventReader: SSEEventHandler {
    var outcome: MCPLegacySSE.Handshake?
    private var eventType = ""
    private var data: [UInt8] = []
    private var hasData = false

    mutating func data(_ bytes: UnsafeRawBufferPointer, firstOfLine: Bool) {
        guard outcome == nil else { return }
        if firstOfLine {
            if hasData { data.append(0x0A) }
            hasData = true
        }
        data.append(contentsOf: bytes)
    }

    mutating func eventName(_ name: String) {
        guard outcome == nil else { return }
        eventType = name
    }

    mutating func dispatch() {
        guard outcome == nil else { return }
        // An event without data is dropped and the next one is the first.
        guard hasData else {
            eventType = ""
            return
        }
        outcome = eventType == "endpoint" ? .endpoint(String(decoding: data, as: UTF8.self)) : .notHandshake
    }

    mutating func unknownField(hasColon: Bool) {
        // Unknown fields are ignored by the SSE parser, but a body of non-SSE lines is not an
        // event stream at all; give up on anything that is not `field:` shaped.
        if outcome == nil && !hasColon { outcome = .notHandshake }
    }
}
