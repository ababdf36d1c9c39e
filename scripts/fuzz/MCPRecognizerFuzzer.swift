import MeshgateInspection
import MeshgateJSON

// The MCP recognizer: JSON-RPC bodies, MCP headers, the legacy SSE handshake, WebSocket
// subprotocols and MCP servers inside LLM requests. It is pure, so handing it the body or the body
// already parsed gives the same finding; a response prefix that decided "handshake or not" keeps
// that answer when more of the stream arrives (the proxy decides on a prefix; TCP decides where
// the prefix ends).
private let headerNames = [
    "Mcp-Session-Id", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name", "Accept", "Content-Type",
    "Sec-WebSocket-Protocol", "Upgrade", "Connection", "mcp-method", "X-Other",
]

@Sendable func fuzzMCPRecognizer(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let mode = input.byte()
    if mode & 1 == 0 {
        let method = input.pick(["POST", "GET", "DELETE", "post", "PUT"])
        let path = String(decoding: input.field(), as: UTF8.self)
        var headers: [(name: String, value: String)] = []
        for _ in 0..<input.choose(5) {
            headers.append((input.pick(headerNames), String(decoding: input.field(), as: UTF8.self)))
        }
        let body = input.rest()
        let request = MCPRequestInfo(method: method, path: path, headers: headers, body: body)
        let finding = MCPRecognizer.recognize(request: request)
        var parsed = request
        parsed.json = try? JSONParser.parse(body)
        let again = MCPRecognizer.recognize(request: parsed)
        invariant(finding == again, "the finding depends on who parsed the body: \(String(describing: finding)) vs \(String(describing: again))")
        if let finding {
            invariant(!finding.detections.isEmpty, "a finding without detections")
            if let method = finding.mcpMethod { invariant(finding.methods.contains(method), "mcpMethod \(method) not in \(finding.methods)") }
        }
        for (_, value) in headers { _ = MCPHeaderValue.decode(value) }
    } else {
        let contentType = input.pick(["text/event-stream", "Text/Event-Stream; charset=utf-8", "application/json"])
        let maxBytes = input.pick([4096, 64, 16])
        let cut = Int(input.byte())
        let stream = input.rest()
        let whole = MCPLegacySSE.inspect(streamPrefix: stream, maxBytes: maxBytes)
        let prefix = Array(stream.prefix(cut))
        let early = MCPLegacySSE.inspect(streamPrefix: prefix, maxBytes: maxBytes)
        if early != .incomplete {
            invariant(early == whole, "a \(prefix.count)-byte prefix says \(early), the \(stream.count)-byte stream \(whole)")
        }
        let response = MCPRecognizer.recognizeResponse(contentType: contentType, streamPrefix: stream)
        if case .endpoint = whole, contentType.lowercased().contains("text/event-stream") {
            invariant(response != nil, "an endpoint handshake in \(contentType) is not recognised")
        }
    }
}
