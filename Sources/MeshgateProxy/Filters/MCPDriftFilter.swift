import Foundation
import Logging
import MeshgateAudit
import MeshgateCore
import MeshgateInspection
import MeshgateJSON
import MeshgatePolicy
import NIOCore
import NIOHTTP1

/// Watches an MCP server's `tools/list` answers (a JSON body or events of a stream) on the way back:
/// compares a registered server's tools with its pins (an `mcp_drift` audit line per difference,
/// then `on_drift`: log, block or filter), scans every server's tool descriptions for hidden
/// instructions (a detection), and notes `notifications/tools/list_changed`. A JSON answer is held
/// whole (up to `maxHeldBytes`); a stream is cut into events and only the events that carry a tool
/// list are parsed, the rest pass byte for byte.
final class MCPDriftFilter: ExchangeFilter {
    /// A JSON answer larger than this is refused (502): its head is held, so it cannot pass unchecked.
    static let maxHeldBytes = 4 << 20

    private let entry: MCPServerEntry?
    private let policy: PolicyEngine
    private let pages: MCPToolListPages
    /// Where pages of one listing are gathered: the server and the MCP session (or the client).
    private let pagesKey: String
    private let requestHadCursor: Bool
    private let record: (AuditEvent) -> Void
    private let logger: Logger

    private enum Mode {
        case idle
        case whole(head: HTTPResponseHead, body: [UInt8])
        case stream(SSEEventFramer)
    }
    private var mode = Mode.idle

    init(entry: MCPServerEntry?, policy: PolicyEngine, pages: MCPToolListPages, pagesKey: String, requestHadCursor: Bool,
         record: @escaping (AuditEvent) -> Void, logger: Logger) {
        self.entry = entry
        self.policy = policy
        self.pages = pages
        self.pagesKey = pagesKey
        self.requestHadCursor = requestHadCursor
        self.record = record
        self.logger = logger
    }

    /// An MCP exchange whose answer may carry a tool list: a `tools/list` request, or an event stream
    /// from a registered server (a session's stream may carry `list_changed` or a list). A plain JSON
    /// answer to a tool call gets no filter at all: that is most MCP traffic.
    static func applies(to tx: HTTPTransaction, head: HTTPResponseHead) -> Bool {
        guard let mcp = tx.verdict.mcp else { return false }
        if mcp.methods.contains("tools/list") { return true }
        guard mcp.server != nil else { return false }
        return head.headers.first(name: "content-type")?.containsASCIICaseInsensitive("text/event-stream") ?? false
    }

    func responseHead(_ head: inout HTTPResponseHead, exchange tx: HTTPTransaction) -> FilterStatus {
        guard head.status == .ok else { return .continue }
        let contentType = head.headers.first(name: "content-type") ?? ""
        if contentType.containsASCIICaseInsensitive("text/event-stream") {
            mode = .stream(SSEEventFramer(maxEventBytes: Self.maxHeldBytes))
            // A rewritten event changes the length; the client gets the stream chunked instead.
            head.headers.remove(name: "content-length")
            return .continue
        }
        guard contentType.containsASCIICaseInsensitive("json"), tx.verdict.mcp?.methods.contains("tools/list") == true else { return .continue }
        // A compressed answer is decoded and sent on decoded: a server must not escape the check by
        // compressing its tool list.
        mode = .whole(head: head, body: [])
        return .consumed
    }

    func responseBody(_ body: inout ByteBuffer, exchange tx: HTTPTransaction) -> FilterStatus {
        switch mode {
        case .idle:
            return .continue
        case .whole(let head, var held):
            mode = .idle
            held.append(contentsOf: body.readableBytesView)
            guard held.count <= Self.maxHeldBytes else {
                // The head is held, so the answer cannot pass unchecked; a tool list this large is no
                // agent's anyway.
                tx.audit.error = "MCP tools/list answer over \(Self.maxHeldBytes) bytes: not checked against the pins"
                return .respond(.badGateway, message: "meshgate: the MCP server's tools/list answer is larger than \(Self.maxHeldBytes) bytes")
            }
            mode = .whole(head: head, body: held)
            return .consumed
        case .stream(var framer):
            mode = .idle
            let pieces = framer.feed(body.readableBytesView)
            mode = .stream(framer)
            var out = ByteBuffer()
            write(pieces, to: &out, tx)
            body = out
            return .continue
        }
    }

    /// Events that carry a tool list (or `list_changed`) are judged, and rewritten when the action
    /// says so; everything else goes out as it came.
    private func write(_ pieces: [SSEEventFramer.Piece], to out: inout ByteBuffer, _ tx: HTTPTransaction) {
        for piece in pieces {
            switch piece {
            case .passed(let bytes):
                out.writeBytes(bytes)
            case .event(let event):
                if let data = SSEEventFramer.data(of: event), let changed = process(data, tx) {
                    out.writeBytes(SSEEventFramer.replacingData(of: event, with: changed))
                } else {
                    out.writeBytes(event)
                }
            }
        }
    }

    func responseEnd(_ tail: inout ResponseTail, exchange tx: HTTPTransaction) -> FilterStatus {
        switch mode {
        case .idle:
            return .continue
        case .stream(var framer):
            mode = .idle
            if let rest = framer.finish() {
                var out = ByteBuffer()
                write([rest], to: &out, tx)
                tail.append(out)
            }
            return .continue
        case .whole(var head, var held):
            mode = .idle
            let codings = head.headers[canonicalForm: "content-encoding"].map(String.init)
            if !codings.isEmpty, !codings.allSatisfy({ $0.lowercased() == "identity" }) {
                let decoded: BodyDecodingResult
                do {
                    decoded = try BodyDecoder.decode(held, contentEncoding: codings.joined(separator: ", "), maxDecodedBytes: Self.maxHeldBytes)
                } catch {
                    tx.audit.error = "MCP tools/list answer could not be decoded (\(codings.joined(separator: ", "))): \(error); not checked against the pins"
                    return .respond(.badGateway, message: "meshgate: the MCP server's tools/list answer could not be decoded to be checked")
                }
                guard !decoded.truncated else {
                    tx.audit.error = "MCP tools/list answer decodes to over \(Self.maxHeldBytes) bytes: not checked against the pins"
                    return .respond(.badGateway, message: "meshgate: the MCP server's tools/list answer is larger than \(Self.maxHeldBytes) bytes")
                }
                held = decoded.bytes
                head.headers.remove(name: "content-encoding")
            }
            let out = process(held, tx) ?? held
            head.headers.remove(name: "transfer-encoding")
            head.headers.replaceOrAdd(name: "Content-Length", value: String(out.count))
            tail.head = head
            tail.append(ByteBuffer(bytes: out))
            return .continue
        }
    }

    var passesBodyThrough: Bool {
        if case .idle = mode { return true }
        return false
    }

    // MARK: Messages

    /// The rewritten JSON-RPC text when something in it changes; nil when it passes as it is.
    private func process(_ bytes: [UInt8], _ tx: HTTPTransaction) -> [UInt8]? {
        guard ByteSearch.containsAny(bytes, Self.markers),
              let value = try? JSONParser.parse(bytes, limits: JSONLimits(maxBytes: Self.maxHeldBytes)) else { return nil }
        switch value {
        case .array(let messages):
            var changed = false
            let out = messages.map { message in
                if let replaced = processMessage(message, tx) { changed = true; return replaced }
                return message
            }
            return changed ? JSONValue.array(out).jsonText : nil
        case .object:
            return processMessage(value, tx)?.jsonText
        default:
            return nil
        }
    }

    private static let markers = [Array(#""tools""#.utf8), Array("notifications/tools/list_changed".utf8)]

    private func processMessage(_ message: JSONValue, _ tx: HTTPTransaction) -> JSONValue? {
        if message["method"]?.stringValue == "notifications/tools/list_changed" {
            note("MCP tools/list_changed", tx)
            logger.info("an MCP server says its tool list changed", metadata: ["mcp_server": "\(entry?.name ?? "-")", "host": "\(tx.route.host)"])
            return nil
        }
        guard let result = message["result"], let tools = result["tools"]?.arrayValue else { return nil }
        scanDescriptions(tools, tx)
        guard let entry, entry.tools != nil else { return nil }
        let check = MCPDriftCheck(entry: entry)
        let page = check.check(tools: tools)
        let lastPage: Bool = switch result["nextCursor"] {
        case nil, .null?: true
        default: false
        }
        var drifts = page.drifts
        if !requestHadCursor, lastPage {
            drifts += check.removed(listed: page.listed)
        } else if let listed = pages.add(page.listed, key: pagesKey, last: lastPage) {
            drifts += check.removed(listed: listed)
        }
        guard !drifts.isEmpty else { return nil }
        for drift in drifts { recordDrift(drift, entry: entry, tx) }
        note("MCP drift", tx)
        switch entry.onDrift {
        case .log:
            return nil
        case .block:
            tx.verdict.action = .block
            tx.audit.error = "tools/list answer of MCP server '\(entry.name)' blocked: its tools differ from the pins (on_drift: block)"
            return Self.driftError(id: message["id"] ?? .null, server: entry.name, drifts: drifts)
        case .filter:
            guard page.keptTools.count != tools.count else { return nil }
            return message.replacing("result", with: result.replacing("tools", with: .array(page.keptTools)))
        }
    }

    private func note(_ detection: String, _ tx: HTTPTransaction) {
        if !tx.verdict.detections.contains(detection) { tx.verdict.detections.append(detection) }
    }

    /// Hidden instructions in a tool's description are a detection whoever runs the server.
    private func scanDescriptions(_ tools: [JSONValue], _ tx: HTTPTransaction) {
        guard policy.scansToolDescriptions else { return }
        for tool in tools {
            guard let description = tool["description"]?.stringValue else { continue }
            for name in policy.toolDescriptionFindings(Array(description.utf8)) {
                note("Tool poisoning: \(name) in '\(tool["name"]?.stringValue ?? "?")'", tx)
            }
        }
    }

    private func recordDrift(_ drift: MCPToolDrift, entry: MCPServerEntry, _ tx: HTTPTransaction) {
        logger.warning("MCP tool drift", metadata: [
            "mcp_server": "\(entry.name)", "tool": "\(drift.tool)", "change": "\(drift.change.rawValue)",
            "on_drift": "\(entry.onDrift.rawValue)",
        ])
        var event = AuditEvent(
            timestampMillis: Int64(Date().timeIntervalSince1970 * 1000), kind: .mcpDrift, client: nil, identity: nil, action: .log,
            fields: [
                ("mcp_server", .string(entry.name)), ("tool", .string(drift.tool)), ("change", .string(drift.change.rawValue)),
                ("old_digest", .optional(drift.oldDigest)), ("new_digest", .optional(drift.newDigest)),
                ("host", .string(tx.route.host)), ("path", .string(tx.route.path)),
            ],
            requestID: tx.request.trace.spanID, traceparent: tx.request.trace.traceparent
        )
        event.actionText = entry.onDrift.rawValue
        record(event)
    }

    /// The JSON-RPC error an agent gets instead of a drifted list under `on_drift: block`.
    static func driftError(id: JSONValue, server: String, drifts: [MCPToolDrift]) -> JSONValue {
        let summary = drifts.prefix(5).map { "\($0.tool) \($0.change.rawValue)" }.joined(separator: ", ") + (drifts.count > 5 ? ", …" : "")
        let message = "meshgate: the tools of MCP server '\(server)' differ from the pinned ones (\(summary)); "
            + "refused by on_drift: block until the registry is updated (meshgate mcp diff)"
        let details: [JSONValue] = drifts.map { drift in
            .object([("tool", .string(drift.tool)), ("change", .string(drift.change.rawValue)),
                     ("old_digest", drift.oldDigest.map(JSONValue.string) ?? .null),
                     ("new_digest", drift.newDigest.map(JSONValue.string) ?? .null)])
        }
        return .object([
            ("jsonrpc", .string("2.0")), ("id", id),
            ("error", .object([
                ("code", .number("-32001")), ("message", .string(message)),
                ("data", .object([("mcp_server", .string(server)), ("drift", .array(details))])),
            ])),
        ])
    }
}

extension JSONValue {
    /// The object with `key`'s (last) value replaced by `value`, document order kept.
    func replacing(_ key: String, with value: JSONValue) -> JSONValue {
        guard case .object(var members) = self, let index = members.lastIndex(where: { $0.key == key }) else { return self }
        members[index].value = value
        return .object(members)
    }
}
