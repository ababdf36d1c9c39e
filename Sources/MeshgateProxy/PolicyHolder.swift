import MeshgatePolicy
import NIOConcurrencyHelpers

/// The compiled policy in force. Reload swaps it in one step: each request takes the snapshot current
/// when its head arrives and finishes on it, so in-flight requests never see half a reload.
public final class PolicyHolder: Sendable {
    private let box: NIOLockedValueBox<PolicyEngine>

    /// Starts with `policy` (``PolicyEngine/empty`` allows everything).
    public init(_ policy: PolicyEngine = .empty) { box = NIOLockedValueBox(policy) }

    /// The policy for a request that starts now.
    public var current: PolicyEngine { box.withLockedValue { $0 } }

    /// Installs a new policy for requests that start from now on.
    public func replace(with policy: PolicyEngine) { box.withLockedValue { $0 = policy } }
}
