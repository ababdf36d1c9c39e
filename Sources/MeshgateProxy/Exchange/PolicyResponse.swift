import MeshgateJSON
import NIOCore
import NIOHTTP1

/// The JSON-RPC shape of a request body, as far as a block response needs it.
enum JSONRPCShape: Equatable {
    /// One request; `id` is its raw JSON text (`1`, `"abc"`), nil for a notification; `tool` is a
    /// `tools/call`'s `params.name`.
    case single(id: String?, tool: String?)
    /// A batch: its requests (notifications have no id and get no answer).
    case batch([JSONRPCCall])
}

/// One request of a JSON-RPC batch: its raw id text and, for a `tools/call`, the tool it calls.
struct JSONRPCCall: Equatable {
    var id: String
    var tool: String?
}

/// Responses for policy decisions, shaped for the client that will read them (contract: "What a client sees").
enum PolicyResponse {
    /// 403 for `block`: a JSON-RPC error (or an array of them for a batch) for JSON-RPC requests, an HTML
    /// page for browsers, otherwise `{"error":{"code":"blocked","rule":…,"portal":…}}`.
    static func block(rule: String?, portal: String?, jsonRPC: JSONRPCShape?, accept: String?) -> LocalResponse {
        let ruleText = rule ?? "meshgate policy"
        let portalText = portal.map { "; use the approved MCP portal: \($0)" } ?? ""
        var headers = decisionHeaders(rule: rule, action: "block")
        var body = ""
        if let jsonRPC {
            headers.add(name: "Content-Type", value: "application/json")
            // A refused tool call names the tool, so the agent (and the person reading its transcript)
            // knows which call to drop rather than retrying the whole session.
            func error(_ id: String, tool: String?) -> String {
                let toolText = tool.map { ": tool '\($0)' is not allowed" } ?? ""
                let message = jsonString("Blocked by meshgate rule \(ruleText)\(toolText)\(portalText)")
                let toolField = tool.map { #","tool":\#(jsonString($0))"# } ?? ""
                return #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32001,"message":\#(message),"data":{"rule":\#(rule.map(jsonString) ?? "null"),"portal":\#(portal.map(jsonString) ?? "null")\#(toolField)}}}"#
            }
            switch jsonRPC {
            case .single(let id, let tool):
                body = error(id ?? "null", tool: tool)
            case .batch(let calls):
                body = "[" + calls.map { error($0.id, tool: $0.tool) }.joined(separator: ",") + "]"
            }
        } else if let accept, accept.lowercased().contains("text/html") {
            headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
            let portalLink = portal.map { #"<p>Use the approved MCP portal: <a href="\#(html($0))">\#(html($0))</a></p>"# } ?? ""
            body = ("""
                <!doctype html><html><head><meta charset="utf-8"><title>Blocked by meshgate</title></head>
                <body><h1>Blocked by meshgate</h1><p>This request was blocked by rule <code>\(html(ruleText))</code>.</p>\(portalLink)
                <p>If you need access, ask your platform or security team.</p></body></html>
                """)
        } else {
            headers.add(name: "Content-Type", value: "application/json")
            body = #"{"error":{"code":"blocked","rule":\#(rule.map(jsonString) ?? "null"),"portal":\#(portal.map(jsonString) ?? "null")}}"#
        }
        return LocalResponse(status: .forbidden, headers: headers, body: body)
    }

    /// 307 for `redirect`: method and body are kept by clients that follow it.
    static func redirect(rule: String?, location: String) -> LocalResponse {
        var headers = decisionHeaders(rule: rule, action: "redirect")
        headers.add(name: "Location", value: location)
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        return LocalResponse(status: .temporaryRedirect, headers: headers, body: "meshgate: redirected to \(location) by rule \(rule ?? "-")\n")
    }

    /// `X-Meshgate-Rule` / `X-Meshgate-Action`, carried by every decided response.
    static func decisionHeaders(rule: String?, action: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let rule { headers.add(name: "X-Meshgate-Rule", value: rule) }
        headers.add(name: "X-Meshgate-Action", value: action)
        return headers
    }

    static func jsonString(_ s: String) -> String {
        var out: [UInt8] = []
        JSONText.appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func html(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
