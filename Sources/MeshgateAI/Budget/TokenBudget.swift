import MeshgateCore

/// Who a token budget caps.
public enum BudgetSubject: Sendable, Hashable, Comparable {
    /// Every identity of a team together.
    case team(String)
    /// One identity.
    case identity(String)

    /// `team` or `identity`, as stored in the ledger.
    public var kind: String {
        switch self {
        case .team: "team"
        case .identity: "identity"
        }
    }

    /// The team's or identity's name.
    public var name: String {
        switch self {
        case .team(let name), .identity(let name): name
        }
    }

    /// The subject stored as `kind` + `name`, or nil for an unknown kind.
    public init?(kind: String, name: String) {
        switch kind {
        case "team": self = .team(name)
        case "identity": self = .identity(name)
        default: return nil
        }
    }
}

/// A token cap (`ai.budgets[]`), as the ledger sees it.
public struct TokenBudget: Sendable, Hashable {
    /// Who is capped.
    public var subject: BudgetSubject
    /// Input plus output tokens allowed per window.
    public var tokens: Int
    /// When the cap resets.
    public var window: BudgetWindow
    /// Whether a stream that crosses the cap is cut (`hard`) or only new requests are refused (`soft`).
    public var hardEnforcement: Bool

    /// Creates a budget.
    public init(subject: BudgetSubject, tokens: Int, window: BudgetWindow, hardEnforcement: Bool = false) {
        self.subject = subject
        self.tokens = tokens
        self.window = window
        self.hardEnforcement = hardEnforcement
    }

    /// Whether this budget caps requests of `identity` in `team`.
    public func applies(identity: String?, team: String?) -> Bool {
        switch subject {
        case .team(let name): team == name
        case .identity(let name): identity == name
        }
    }

    /// The ledger charge for this budget at `now` (Unix seconds).
    public func charge(at now: Int64) -> BudgetCharge {
        BudgetCharge(subject: subject, window: window.label, period: window.period(containing: now), limit: tokens)
    }

    /// The charges for every budget in `budgets` that applies to `identity` / `team` at `now`,
    /// in a fixed order (so concurrent reservations lock ledger rows in the same order).
    public static func charges(_ budgets: [TokenBudget], identity: String?, team: String?, at now: Int64) -> [BudgetCharge] {
        budgets.lazy.filter { $0.applies(identity: identity, team: team) }.map { $0.charge(at: now) }.sorted()
    }
}

/// One ledger row a request is charged against: a subject's usage in one window.
public struct BudgetCharge: Sendable, Hashable, Comparable {
    /// Who is charged.
    public var subject: BudgetSubject
    /// The window's label (`1d`, `month`, …), so a 1h and a 1d budget of one team stay apart.
    public var window: String
    /// The current window.
    public var period: BudgetPeriod
    /// The cap for this window.
    public var limit: Int

    /// Creates a charge.
    public init(subject: BudgetSubject, window: String, period: BudgetPeriod, limit: Int) {
        self.subject = subject
        self.window = window
        self.period = period
        self.limit = limit
    }

    /// Orders by subject, window and period start (the ledger row key).
    public static func < (lhs: BudgetCharge, rhs: BudgetCharge) -> Bool {
        (lhs.subject.kind, lhs.subject.name, lhs.window, lhs.period.start)
            < (rhs.subject.kind, rhs.subject.name, rhs.window, rhs.period.start)
    }
}

extension TokenBudget {
    /// The charges for a request from `identity` (nil for an unidentified client) at `now`.
    public static func charges(_ budgets: [TokenBudget], for identity: Identity?, at now: Int64) -> [BudgetCharge] {
        charges(budgets, identity: identity?.name, team: identity?.team, at: now)
    }
}
