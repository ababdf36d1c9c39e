/// Whether an audit sink is currently writing everything it is given.
public enum AuditHealth: Sendable, Equatable {
    /// Every event so far has been written (or is queued to be).
    case ok
    /// Events were lost; `reason` says why (queue full, write error, …) and `sinceMillis` is when
    /// the failure began, in Unix milliseconds.
    case failing(reason: String, sinceMillis: Int64)

    /// Whether the sink is healthy.
    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    /// The failure reason, nil when healthy.
    public var reason: String? {
        if case .failing(let reason, _) = self { return reason }
        return nil
    }
}
