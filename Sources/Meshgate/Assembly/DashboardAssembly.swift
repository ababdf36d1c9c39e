import Foundation
import Logging
import MeshgateAdmin
import MeshgateDashboard
import MeshgateJSON
import MeshgatePolicy
import MeshgateProxy

/// The dashboard's data and endpoints: a feed that the audit sink hands every batch to (only when
/// the admin listener is on, since nothing else reads it), its store in the state directory, and
/// the hooks the admin listener's `/admin/api/` reads.
enum DashboardAssembly {
    /// The feed, or nil when there is no admin listener. A store that cannot be opened is logged
    /// and the dashboard runs from memory alone.
    static func feed(configuration: MeshgateConfiguration, logger: Logger) -> DashboardFeed? {
        guard configuration.listeners.admin != nil else { return nil }
        let path = (configuration.stateDirectory as NSString).appendingPathComponent(DashboardStore.fileName)
        var store: DashboardStore?
        do {
            store = try DashboardStore(path: path)
        } catch {
            logger.warning("the dashboard's inventory will not survive a restart", metadata: ["error": "\(error)"])
        }
        return DashboardFeed(store: store, logger: logger)
    }

    static func hooks(feed: DashboardFeed, configuration: MeshgateConfiguration, policy: PolicyHolder) -> DashboardHooks {
        DashboardHooks(
            feed: feed,
            policy: { rollup in policyJSON(policy.current, rollup: rollup) },
            rulesTest: { body in
                do {
                    return .success(try RulesCommands.test(try testRequest(body), configuration: configuration, running: policy.current))
                } catch {
                    return .failure(error)
                }
            },
            listeners: listenersJSON(configuration)
        )
    }

    /// The rulesets in force with each rule's hits since start, the registry, and the latest changes.
    static func policyJSON(_ engine: PolicyEngine, rollup: DecisionRollup) -> String {
        let rulesets = engine.rulesets.map { ruleset -> JSONValue in
            .object([
                ("name", .string(ruleset.name)), ("version", .string(ruleset.version)), ("file", .string(ruleset.file)),
                ("rules", .array(ruleset.rules.map { rule in
                    .object([
                        ("id", .string(rule.id)), ("action", .string(rule.action.rawValue)),
                        ("description", rule.description.map(JSONValue.string) ?? .null),
                        ("line", rule.location.line.map { .number(String($0)) } ?? .null),
                        ("hits", .number(String(rollup.hits(ruleset: ruleset.name, rule: rule.id)))),
                    ])
                })),
                ("mcp_servers", .array(ruleset.mcpServers.map { .string($0.name) })),
            ])
        }
        return JSONValue.object([
            ("rulesets", .array(rulesets)),
            ("rule_count", .number(String(engine.ruleCount))),
            ("portal", engine.portal.map(JSONValue.string) ?? .null),
            ("changes", DashboardJSON.changes(rollup)),
        ]).description
    }

    /// `{"url":…,"method":…,"headers":{"Name":"value"} or ["Name: value"],"body":…,"identity":…}`.
    static func testRequest(_ body: [UInt8]) throws -> RulesCommands.TestRequest {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw RulesCommands.UsageError(message: "the request must be a JSON object with url, method, headers and body: \(error)")
        }
        guard let url = value["url"]?.stringValue, !url.isEmpty else {
            throw RulesCommands.UsageError(message: "url is required (an absolute http or https URL)")
        }
        var headers: [(name: String, value: String)] = []
        if let members = value["headers"]?.objectMembers {
            for (name, v) in members { headers.append((name, v.stringValue ?? v.description)) }
        } else if let lines = value["headers"]?.arrayValue {
            for line in lines.compactMap(\.stringValue) {
                guard let parsed = RulesCommands.headerLine(line) else {
                    throw RulesCommands.UsageError(message: "a header must look like 'Name: value', got '\(line)'")
                }
                headers.append(parsed)
            }
        }
        let method = value["method"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "GET"
        let text = value["body"]?.stringValue
        let identity = value["identity"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return RulesCommands.TestRequest(url: url, method: method, headers: headers, body: text.flatMap { $0.isEmpty ? nil : Array($0.utf8) },
                                         identity: identity)
    }

    static func listenersJSON(_ configuration: MeshgateConfiguration) -> String {
        let l = configuration.listeners
        let all: [(String, ListenAddress?)] = [("explicit", l.explicit), ("transparent", l.transparent), ("dns", l.dns), ("ai", l.ai), ("admin", l.admin)]
        return JSONValue.array(all.compactMap { name, address in
            address.map { .object([("name", .string(name)), ("address", .string("\($0.host.contains(":") ? "[\($0.host)]" : $0.host):\($0.port)"))]) }
        }).description
    }
}
