import MeshgateCore

/// Audit events as the proxy, the DNS filter and the AI gateway write them.
enum Fixture {
    static func http(_ ts: Int64 = 1_000, host: String = "mcp.example.com", path: String = "/mcp?x=1", action: PolicyAction = .allow,
                      rule: String? = nil, ruleset: String? = nil, identity: String? = nil, team: String? = nil,
                      mcpServer: AuditValue? = .null, tool: String? = nil, tools: [String] = [], protocolVersion: String? = nil,
                      transport: String = "streamable-http") -> AuditEvent {
        var fields: [(String, AuditValue)] = [
            ("method", .string("POST")), ("scheme", .string("https")), ("host", .string(host)), ("port", .int(443)),
            ("path", .string(path)), ("status", .int(200)),
        ]
        if let mcpServer {
            fields.append(("mcp_method", .string("tools/call")))
            fields.append(("mcp_server", mcpServer))
            if let tool { fields.append(("mcp_tool", .string(tool))) }
            if !tools.isEmpty { fields.append(("mcp_tools", .strings(tools))) }
            fields.append(("mcp_transport", .string(transport)))
            if let protocolVersion { fields.append(("mcp_protocol", .string(protocolVersion))) }
        }
        return AuditEvent(timestampMillis: ts, kind: .http, client: "192.0.2.1:5000",
                          identity: identity.map { Identity(name: $0, team: team) }, action: action, rule: rule, ruleset: ruleset,
                          fields: fields)
    }

    static func dns(_ ts: Int64 = 1_000, name: String = "example.com", action: PolicyAction = .allow) -> AuditEvent {
        AuditEvent(timestampMillis: ts, kind: .dns, client: "192.0.2.1:5353", identity: nil, action: action,
                   fields: [("qname", .string(name)), ("qtype", .string("A"))])
    }

    static func ai(_ ts: Int64, identity: String = "agent-1", team: String = "platform", provider: String = "openai",
                   model: String = "gpt-4o", input: Int64, output: Int64) -> AuditEvent {
        AuditEvent(timestampMillis: ts, kind: .ai, client: "192.0.2.1:6000", identity: Identity(name: identity, team: team), action: .allow,
                   fields: [("host", .string("api.openai.com")), ("provider", .string(provider)), ("model", .string(model)),
                            ("input_tokens", .int(input)), ("output_tokens", .int(output))])
    }

    static func drift(_ ts: Int64, server: String, tool: String, change: String) -> AuditEvent {
        AuditEvent(timestampMillis: ts, kind: .mcpDrift, client: nil, identity: nil, action: .log,
                   fields: [("mcp_server", .string(server)), ("tool", .string(tool)), ("change", .string(change))])
    }
}
