import MeshgateDashboard

/// What the dashboard's endpoints read, installed by the server's assembly (which owns the policy,
/// the listeners and the rules-test evaluator) with ``AdminServer/setDashboard(_:)``.
public struct DashboardHooks: Sendable {
    /// Recent decisions, counters, inventory, token history.
    public var feed: DashboardFeed
    /// `GET /admin/api/policy`'s JSON, given the counters (for the rule hit counts).
    public var policy: @Sendable (DecisionRollup) -> String
    /// `POST /admin/api/rules/test`: the request as JSON (`url`, `method`, `headers`, `body`,
    /// `identity`) → the decision JSON, or an error naming what was wrong with the request.
    public var rulesTest: @Sendable ([UInt8]) async -> Result<String, any Error>
    /// The configured listeners as a JSON array, for the Health page.
    public var listeners: String

    public init(feed: DashboardFeed, policy: @escaping @Sendable (DecisionRollup) -> String,
                rulesTest: @escaping @Sendable ([UInt8]) async -> Result<String, any Error>, listeners: String) {
        self.feed = feed
        self.policy = policy
        self.rulesTest = rulesTest
        self.listeners = listeners
    }
}
