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
        var i = 0
        let n = min(prefix.count, maxBytes)
        if n >= 3, prefix[0] == 0xEF, prefix[1] == 0xBB, prefix[2] == 0xBF { i = 3 }
        var eventType = ""
        var data: [UInt8] = []
        var hasData = false
        while true {
            // Find the end of the current line.
            var end = i
            while end < n, prefix[end] != 0x0A, prefix[end] != 0x0D { end += 1 }
            guard end < n else {
                return prefix.count >= maxBytes ? .notHandshake : .incomplete
            }
            let line = prefix[i..<end]
            i = end + 1
            if prefix[end] == 0x0D {
                // CRLF is one line ending; a lone CR at the prefix's end may be half of one.
                if i < n, prefix[i] == 0x0A { i += 1 }
            }
            if line.isEmpty {
                // Dispatch: an event without data is dropped and the next one is the first.
                if hasData {
                    guard eventType == "endpoint" else { return .notHandshake }
                    return .endpoint(String(decoding: data, as: UTF8.self))
                }
                eventType = ""
                continue
            }
            if line.first == UInt8(ascii: ":") { continue }
            let colon = line.firstIndex(of: UInt8(ascii: ":"))
            let name = colon.map { line[line.startIndex..<$0] } ?? line[...]
            var value = colon.map { line[line.index(after: $0)...] } ?? []
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
            switch String(decoding: name, as: UTF8.self) {
            case "event":
                eventType = String(decoding: value, as: UTF8.self)
            case "data":
                if hasData { data.append(0x0A) }
                data.append(contentsOf: value)
                hasData = true
            case "id", "retry":
                break
            default:
                // Unknown fields are ignored by the SSE parser, but a body of non-SSE lines is not
                // an event stream at all; give up on anything that is not `field:` shaped.
                if colon == nil { return .notHandshake }
            }
        }
    }
}
