import Foundation
import MeshgatePolicy

extension MeshgateConfiguration {
    static let topLevelKeys = ["state_dir", "listeners", "access", "tls", "limits", "portal", "rulesets",
                               "ruleset_updates", "inspection", "audit", "identities", "dns", "ai", "transparent"]

    /// Section keys written at the top level by mistake, mapped to a hint naming the section they belong in.
    static let misplacedKeys: [String: String] = {
        let sections: [(String, [String])] = [
            ("listeners", Listeners.keys), ("access", Access.keys), ("tls", TLSSettings.keys),
            ("limits", Limits.keys), ("ruleset_updates", RulesetUpdates.keys), ("inspection", Inspection.keys),
            ("audit", Audit.keys), ("identities", Identity.keys), ("dns", DNS.keys), ("ai", AI.keys),
        ]
        var homes: [String: String] = [:]
        var ambiguous: Set<String> = []
        for (section, keys) in sections {
            for key in keys where !topLevelKeys.contains(key) {
                if homes[key] != nil { ambiguous.insert(key) }
                homes[key] = section
            }
        }
        for key in ambiguous { homes[key] = nil }
        return Dictionary(uniqueKeysWithValues: homes.map { key, section in (key, "'\(key)' belongs under '\(section):'") })
    }()

    static func decode(_ root: YAMLNode?, source: YAMLSource) throws(ConfigurationError) -> MeshgateConfiguration {
        guard let root, !root.isNull else {
            return embeddedDefaults(baseDirectory: source.baseDirectory)
        }
        let top = try root.mapping(keys: topLevelKeys, misplaced: misplacedKeys)
        let state = try top["state_dir"]?.path() ?? source.resolve("state")
        let identities = try Identity.list(node: top["identities"])
        var configuration = MeshgateConfiguration(
            sourcePath: nil,
            stateDirectory: state,
            listeners: try Listeners(node: top["listeners"]),
            access: try Access(node: top["access"]),
            tls: try TLSSettings(node: top["tls"], stateDirectory: state),
            limits: try Limits(node: top["limits"]),
            portal: try top["portal"]?.httpURL(),
            // No key: the shipped rulesets (built in); `rulesets: []`: no policy.
            rulesets: try top["rulesets"]?.list().map { (item) throws(ConfigurationError) in
                let text = try item.string(expected: "a ruleset file, or builtin:NAME")
                return RulesetSource.isBuiltin(text) ? text : try item.path()
            } ?? RulesetSource.shipped,
            rulesetUpdates: try top["ruleset_updates"].map { (node) throws(ConfigurationError) in try RulesetUpdates(node: node) },
            inspection: try Inspection(node: top["inspection"]),
            audit: try Audit(node: top["audit"], stateDirectory: state),
            identities: identities,
            dns: try DNS(node: top["dns"]),
            ai: try AI(node: top["ai"], stateDirectory: state, identities: identities)
        )
        configuration.transparent = try Transparent(node: top["transparent"])
        try configuration.validate(top)
        return configuration
    }

    /// Rules that span sections.
    private func validate(_ top: YAMLMapping) throws(ConfigurationError) {
        let listenerNodes = top["listeners"]
        func location(_ key: String) -> YAMLNode {
            listenerNodes?.peek(key) ?? listenerNodes ?? top.owner
        }

        // The contract's security rule: a proxy reachable from the network must say who may use it.
        let allowClientsGiven = top["access"]?.peek("allow_clients") != nil
        if !allowClientsGiven, identities.isEmpty {
            for key in ["explicit", "transparent", "ai"] {
                guard let address = listeners.enabled.first(where: { $0.key == key })?.address,
                      !address.isLoopback else { continue }
                throw location(key).error(
                    "binds \(address), which other machines can reach, but neither access.allow_clients nor any identities say who may use it",
                    fix: "list the client networks under access.allow_clients (e.g. [10.0.0.0/8]), configure identities, or bind 127.0.0.1"
                )
            }
        }

        if access.requireIdentity, !identities.contains(where: { $0.tokenSHA256 != nil }) {
            let node = top["access"]?.peek("require_identity") ?? top.owner
            throw node.error("require_identity is true but no identity has a token_sha256, so every explicit client would get 407",
                             fix: "add identities with token_sha256, or set require_identity: false")
        }

        if let address = listeners.dns, dns.upstreams.isEmpty {
            throw location("dns").error("the DNS listener (\(address)) is on but dns.upstreams is empty",
                                        fix: "add e.g. dns: { upstreams: [1.1.1.1:53] }")
        }
    }
}
