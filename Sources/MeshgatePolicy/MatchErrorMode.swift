import MeshgateCore

/// What a pattern that cannot finish matching (a PCRE2 match, depth, heap or JIT-stack limit) means
/// for the rule it belongs to: `inspection.on_match_error`.
///
/// The body was not proven clean, so by default (`block`) such a pattern counts as matching for
/// rules that refuse or divert the request (`block`, `redirect`, `reroute`): the rule decides, and the
/// verdict carries the detection `Match limit: <pattern name>` (`Match limit: header 'NAME'` for a
/// header selector). For `allow` and `log` rules it counts as not matching even then: an exemption
/// that cannot be confirmed must not let a request through, and a log-only rule must not stand in
/// front of the rules after it. With `allow` every such pattern counts as not matching (the old
/// behaviour). Either way the failure is listed in ``Verdict/matchErrors``.
public enum MatchErrorMode: String, Sendable, Hashable, CaseIterable {
    /// Count the pattern as matching for rules that refuse or divert the request (the default).
    case block
    /// Count the pattern as not matching.
    case allow

    /// Whether a failed pattern of a rule whose action is `action` counts as matching.
    func countsAsMatch(for action: PolicyAction) -> Bool {
        switch (self, action) {
        case (.allow, _), (.block, .allow), (.block, .log): return false
        case (.block, .block), (.block, .redirect), (.block, .reroute), (.block, .limit): return true
        }
    }

    /// The detection naming what could not be matched: `Match limit: NAME`.
    static func detection(_ what: String) -> String { "Match limit: " + what }
}
