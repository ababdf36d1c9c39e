import MeshgateCore

/// Counters over every decision since the server started: by event and action, hits per rule, and
/// the latest ruleset changes. Pure and bounded (rule ids come from the loaded rulesets, but a
/// long-running server sees many reloads, so the map is capped).
public struct DecisionRollup: Sendable {
    /// A ruleset change as the Policy page shows it.
    public struct RulesetChange: Sendable, Equatable {
        public var timestampMillis: Int64
        public var ruleset: String
        /// update, rollback, reload.
        public var change: String
        public var oldVersion: String?
        public var newVersion: String?
        public var requestedBy: String?
        public var file: String?
    }

    /// The most rule keys counted; hits of further rules go uncounted (and `droppedRuleKeys` says so).
    public static let maxRules = 4096
    /// How many ruleset changes are remembered.
    public static let maxChanges = 20

    public private(set) var total: Int = 0
    /// Policy decisions by event kind and action, in a flat table: this runs once per audit line,
    /// and two string-keyed dictionary updates per line showed up in profiles.
    private var decisions = [Int](repeating: 0, count: Self.kinds.count * Self.actions.count)
    /// Ruleset changes by their action text (update, rollback, reload).
    private var rulesetActions: [String: Int] = [:]
    private static let kinds: [AuditEvent.Kind] = [.http, .dns, .ai, .ruleset, .mcpDrift]
    private static let actions = PolicyAction.allCases

    /// `event` → `action` → count.
    public var byEventAndAction: [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for (k, kind) in Self.kinds.enumerated() {
            for (a, action) in Self.actions.enumerated() where decisions[k * Self.actions.count + a] > 0 {
                out[kind.rawValue, default: [:]][action.rawValue] = decisions[k * Self.actions.count + a]
            }
        }
        for (action, n) in rulesetActions { out[AuditEvent.Kind.ruleset.rawValue, default: [:]][action, default: 0] += n }
        return out
    }
    /// "ruleset/rule" → hits.
    public private(set) var ruleHits: [String: Int] = [:]
    public private(set) var droppedRuleKeys = 0
    /// Newest last.
    public private(set) var changes: [RulesetChange] = []

    public init() {}

    public mutating func add(_ event: AuditEvent) {
        total += 1
        if let text = event.actionText {
            rulesetActions[text, default: 0] += 1
        } else if let k = Self.kinds.firstIndex(of: event.kind), let a = Self.actions.firstIndex(of: event.action) {
            decisions[k * Self.actions.count + a] += 1
        }
        if event.kind == .ruleset {
            changes.append(RulesetChange(
                timestampMillis: event.timestampMillis, ruleset: event.ruleset ?? "", change: event.actionName,
                oldVersion: event.string("old_version"), newVersion: event.string("new_version"),
                requestedBy: event.string("requested_by"), file: event.string("file")))
            if changes.count > Self.maxChanges { changes.removeFirst(changes.count - Self.maxChanges) }
            return
        }
        guard let rule = event.rule else { return }
        let key = (event.ruleset ?? "") + "/" + rule
        if ruleHits[key] != nil || ruleHits.count < Self.maxRules {
            ruleHits[key, default: 0] += 1
        } else {
            droppedRuleKeys += 1
        }
    }

    /// Hits of `rule` in `ruleset`.
    public func hits(ruleset: String, rule: String) -> Int { ruleHits[ruleset + "/" + rule] ?? 0 }
}
