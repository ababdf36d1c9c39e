import MeshgateCore

/// Runs the `tests:` embedded in rulesets, as `meshgate rules check` and `rules update` do
/// before anything is installed.
public enum RulesetTestRunner {
    /// Which rules a ruleset's tests are evaluated against.
    public enum Scope: Sendable {
        /// Each ruleset's tests see only that ruleset's rules: a file's tests pass or fail the same
        /// whatever other files are installed beside it (the default; what a ruleset publisher
        /// can vouch for).
        case ownRuleset
        /// Every ruleset's tests see the whole merged policy, earlier files first.
        case merged
    }

    /// Evaluates every embedded test and returns the failures (empty when all pass). Bodies
    /// are given to `inspector` as their UTF-8 bytes, so canonicalisation and MCP recognition
    /// apply as they would in the proxy.
    public static func run(
        _ policy: PolicyEngine, inspector: any RequestInspector = RawBodyInspector(), scope: Scope = .ownRuleset
    ) -> [TestFailure] {
        var failures: [TestFailure] = []
        for (index, ruleset) in policy.rulesets.enumerated() where !ruleset.tests.isEmpty {
            let engine = scope == .merged ? policy : policy.restricted(toRuleset: index)
            for (number, test) in ruleset.tests.enumerated() {
                let summary = "\(test.request.method) \(test.request.url)"
                var testRequest = test.request
                if let portal = policy.portal.flatMap(AbsoluteURL.init) {
                    let authority = portal.hostPort.hostHeader(defaultPort: portal.scheme == "https" ? 443 : 80)
                    testRequest.url = testRequest.url.replacingOccurrences(of: HostMatcher.portalPlaceholder, with: authority)
                } else if testRequest.url.contains(HostMatcher.portalPlaceholder) {
                    continue  // a request to the portal, and none is configured
                }
                guard let request = testRequest.policyRequest(inspector: inspector) else {
                    // The parser refuses such URLs, so this only happens for hand-built rulesets.
                    failures.append(TestFailure(location: test.location, ruleset: ruleset.name, number: number + 1,
                                                request: summary, expectedAction: test.expectedAction,
                                                expectedRule: test.expectedRule, verdict: nil))
                    continue
                }
                let verdict = engine.evaluate(request)
                let ruleMatches = test.expectedRule.map { $0 == verdict.rule } ?? true
                // Without a portal a rule that reroutes or redirects to it blocks, as it should.
                let actionMatches = verdict.action == test.expectedAction || verdict.unsetPortalAction == test.expectedAction
                if !actionMatches || !ruleMatches {
                    failures.append(TestFailure(location: test.location, ruleset: ruleset.name, number: number + 1,
                                                request: summary, expectedAction: test.expectedAction,
                                                expectedRule: test.expectedRule, verdict: verdict))
                }
            }
        }
        return failures
    }

    /// The number of embedded tests across `policy`'s rulesets.
    public static func testCount(_ policy: PolicyEngine) -> Int {
        policy.rulesets.reduce(0) { $0 + $1.tests.count }
    }
}

/// An embedded test whose request did not get the expected decision.
public struct TestFailure: Sendable, Hashable, CustomStringConvertible {
    /// Where the test is written.
    public var location: SourceLocation
    /// The ruleset the test belongs to.
    public var ruleset: String
    /// 1-based position among the ruleset's tests.
    public var number: Int
    /// `METHOD URL` of the test request.
    public var request: String
    /// `expect:`.
    public var expectedAction: PolicyAction
    /// `rule:`, when the test pins it.
    public var expectedRule: String?
    /// What the engine decided; nil when the request could not be built.
    public var verdict: Verdict?

    /// `file:line:col: test 3 (POST https://…): expected block by rule 'x', got allow (no rule matched)`.
    public var description: String {
        var text = "\(location): test \(number) (\(request)): expected \(expectedAction.rawValue)"
        if let expectedRule { text += " by rule '\(expectedRule)'" }
        guard let verdict else { return text + ", but the URL is not an absolute http(s) URL" }
        text += ", got \(verdict.action.rawValue)"
        if let rule = verdict.rule {
            text += " by rule '\(rule)'"
            if verdict.ruleset != ruleset, let other = verdict.ruleset { text += " of ruleset '\(other)'" }
        } else {
            text += " (no rule matched)"
        }
        if !verdict.detections.isEmpty { text += " [detections: " + verdict.detections.joined(separator: ", ") + "]" }
        if !verdict.matchErrors.isEmpty { text += " [match errors: " + verdict.matchErrors.map(\.description).joined(separator: "; ") + "]" }
        return text
    }
}
