import Foundation
import MeshgateCore
import MeshgateInspection
import MeshgateJSON
import MeshgatePolicy

/// `meshgate mcp pin` and `meshgate mcp diff`: the registry entry for a live server, and what changed
/// on it since its tools were pinned.
public enum MCPCommands {
    /// The `mcp_servers:` entry pinning every tool `listing` holds, as YAML to paste into a ruleset
    /// (and sign). Each tool's first description line follows as a comment, so a reviewer sees what
    /// is being approved.
    public static func pinEntry(url: String, name: String, listing: MCPToolLister.Listing) -> String {
        var lines = [
            "# \(listing.tools.count) tool\(listing.tools.count == 1 ? "" : "s") listed by \(url) (MCP \(listing.protocolVersion)) on \(RFC3339.timestamp(millis: Int64(Date().timeIntervalSince1970 * 1000))).",
            "# Paste under mcp_servers: in a ruleset; rules select it with mcp_server: \(name).",
            "mcp_servers:",
            "  - name: \(name)",
            "    urls: [\(yamlString(url))]",
            "    on_drift: block",
            "    tools:",
        ]
        for tool in listing.tools {
            guard let toolName = tool["name"]?.stringValue, let digest = MCPToolDigest.digest(of: tool) else { continue }
            let summary = (tool["description"]?.stringValue ?? "").split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            let comment = summary.isEmpty ? "" : "   # " + String(summary.prefix(80))
            lines.append("      - { name: \(yamlString(toolName)), digest: \"\(digest)\" }\(comment)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A registry name from the URL's host (`mcp.linear.app` → `linear`).
    public static func defaultName(for url: String) -> String {
        let host = URLComponents(string: url)?.host?.lowercased() ?? "server"
        // An address names nothing.
        if host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) { return "server" }
        let labels = host.split(separator: ".").filter { !["mcp", "api", "www"].contains($0) }
        let name = labels.count >= 2 ? labels[labels.count - 2] : labels.first ?? "server"
        let cleaned = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        return cleaned.isEmpty ? "server" : cleaned
    }

    /// What `mcp diff` found.
    public struct Diff: Sendable {
        public var entry: MCPServerEntry
        public var drifts: [MCPToolDrift]
        public var toolCount: Int
        /// The listed tools by name, for showing a changed tool's new description.
        public var listed: [String: JSONValue]
    }

    /// The registry entry serving `url` in `policy`, with pins to compare against.
    public static func entry(serving url: String, policy: PolicyEngine) throws -> MCPServerEntry {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), let host = parsed.host else {
            throw RulesCommands.UsageError(message: "'\(url)' is not an absolute http(s) URL")
        }
        var path = parsed.percentEncodedPath.isEmpty ? "/" : parsed.percentEncodedPath
        if let query = parsed.percentEncodedQuery { path += "?" + query }
        guard let entry = policy.mcpServer(servingScheme: scheme, host: host, port: parsed.port ?? (scheme == "https" ? 443 : 80), path: path) else {
            let known = policy.mcpServers.map { "\($0.name) (\($0.urls.joined(separator: ", ")))" }
            throw RulesCommands.UsageError(message: "no mcp_servers entry in the configured rulesets serves \(url)"
                + (known.isEmpty ? "; register it with the entry `meshgate mcp pin \(url)` prints" : "; registered: " + known.joined(separator: "; ")))
        }
        guard entry.tools != nil else {
            throw RulesCommands.UsageError(message: "the entry '\(entry.name)' (\(entry.location)) pins no tools, so nothing can differ; add the tools: that `meshgate mcp pin \(url)` prints")
        }
        return entry
    }

    /// Compares `listing` with the pins of `entry`.
    public static func diff(entry: MCPServerEntry, listing: MCPToolLister.Listing) -> Diff {
        let check = MCPDriftCheck(entry: entry)
        let page = check.check(tools: listing.tools)
        var listed: [String: JSONValue] = [:]
        for tool in listing.tools { if let name = tool["name"]?.stringValue { listed[name] = tool } }
        return Diff(entry: entry, drifts: page.drifts + check.removed(listed: page.listed), toolCount: listing.tools.count, listed: listed)
    }

    /// The diff for people: one block per changed tool, then a summary line.
    public static func text(_ diff: Diff) -> String {
        var out = ""
        for drift in diff.drifts {
            switch drift.change {
            case .changed:
                out += "changed  \(drift.tool)\n  pinned  \(drift.oldDigest ?? "-")\n  now     \(drift.newDigest ?? "-")\n"
                if let description = diff.listed[drift.tool]?["description"]?.stringValue {
                    out += "  description now: \(String(description.prefix(400)).replacingOccurrences(of: "\n", with: "\n                   "))\n"
                }
            case .added:
                out += "added    \(drift.tool)  \(drift.newDigest ?? "-")\n"
            case .removed:
                out += "removed  \(drift.tool)  (pinned \(drift.oldDigest ?? "-"))\n"
            }
        }
        if diff.drifts.isEmpty {
            out += "no change: the \(diff.toolCount) tools match the pins of '\(diff.entry.name)' (\(diff.entry.location))\n"
        } else {
            out += "\(diff.drifts.count) change\(diff.drifts.count == 1 ? "" : "s") against the pins of '\(diff.entry.name)' (\(diff.entry.location)); "
                + "on_drift: \(diff.entry.onDrift.rawValue) applies on the wire. Review the tools, then re-pin with meshgate mcp pin\n"
        }
        return out
    }

    static func yamlString(_ s: String) -> String {
        let plain = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "_-./".contains($0) } && !s.first!.isNumber
        return plain ? s : MCPToolLister.jsonString(s)
    }
}

extension MCPCommands {
    /// The policy `serve` would run with `configuration` (its rulesets, installed updates included).
    public static func policy(configuration: MeshgateConfiguration) throws -> PolicyEngine {
        let store = RulesetStore(stateDirectory: configuration.stateDirectory)
        return try PolicyEngine(rulesets: store.effectiveRulesets(configured: configuration.rulesets),
                                regexCompiler: PCRE2RegexCompiler(), portal: configuration.portal?.absoluteString,
                                onMatchError: configuration.inspection.onMatchError.mode)
    }

    /// A lister with the configuration's upstream trust (`tls.upstream_ca`).
    public static func lister(configuration: MeshgateConfiguration, headers: [String]) throws -> MCPToolLister {
        var trust: String?
        if case .bundle(let path) = configuration.tls.upstreamCA { trust = path }
        var parsed: [(name: String, value: String)] = []
        for header in headers {
            guard let colon = header.firstIndex(of: ":"), colon != header.startIndex else {
                throw RulesCommands.UsageError(message: "--header '\(header)' is not 'Name: value'")
            }
            parsed.append((String(header[..<colon]).trimmingCharacters(in: .whitespaces),
                           String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
        return MCPToolLister(trustBundle: trust, headers: parsed)
    }
}
