import MeshgateCore

extension PolicyEngine {
    /// The detection an audit line carries for a body whose Content-Encoding could not be undone.
    public static let undecodableBodyDetection = "Undecodable body"

    /// The verdict for a request whose body a rule needs but whose Content-Encoding meshgate cannot
    /// undo (an unknown coding, too many layers, corrupt data), under `inspection.undecodable: block`:
    /// `block` under the rule that needs the body (the first rule whose head selectors hold, the one
    /// ``requiresBody(for:)`` asks about), with the detection `Undecodable body`. Nil when no rule
    /// needs this request's body, so the request is decided from its head as usual.
    ///
    /// Inspecting such a body as sent would let any coding the gateway does not know carry what the
    /// rules look for past them, while the origin may well decode it.
    public func undecodableBodyVerdict(for request: PolicyRequest) -> Verdict? {
        guard needsBody else { return nil }
        var state = EvaluationState(request)
        for rule in rules where headHolds(rule, &state) {
            guard rule.needsBody else { return nil }
            return Verdict(action: .block, rule: rule.id, ruleset: rule.rulesetName,
                           detections: [Self.undecodableBodyDetection], matchErrors: state.errors)
        }
        return nil
    }
}
