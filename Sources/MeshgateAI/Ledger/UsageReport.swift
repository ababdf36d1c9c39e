import MeshgateCore
import MeshgateJSON

/// Token usage per team and identity against their caps: what `meshgate usage` and `GET /admin/usage` show.
///
/// A budgeted team gets one row per budget, counting the budget's current window. A team with usage
/// but no budget gets a row for the current calendar month with `limit`/`remaining` null. An identity
/// counts in the window of its own budget, else its team's first budget, else the calendar month.
/// `remaining` is what new requests can still reserve: `limit − used − in flight`, never negative.
public struct UsageReport: Sendable, Hashable {
    /// One team's standing in one window.
    public struct Team: Sendable, Hashable {
        /// The team.
        public var team: String
        /// Tokens settled in the window (input + output).
        public var used: Int
        /// The cap; nil for a team without a budget.
        public var limit: Int?
        /// Tokens held by requests in flight.
        public var reserved: Int
        /// Tokens still free; nil without a budget.
        public var remaining: Int?
        /// The window label (`1d`, `month`, …).
        public var window: String
        /// When the window resets, Unix seconds.
        public var resetsAt: Int64
    }

    /// One identity's usage.
    public struct Identity: Sendable, Hashable {
        /// The identity; nil for calls made with no identity (anonymous clients of the explicit
        /// or transparent proxy), counted together per team in the calendar month.
        public var identity: String?
        /// Its team, when known.
        public var team: String?
        /// Tokens used in its window.
        public var used: Int
        /// Its own cap, when it has an identity budget.
        public var limit: Int?
        /// Tokens still free under its own cap.
        public var remaining: Int?
        /// The window counted.
        public var window: String
        /// When that window resets, Unix seconds.
        public var resetsAt: Int64
    }

    /// Teams, in budget order then by name.
    public var teams: [Team]
    /// Identities, by name, then anonymous usage.
    public var identities: [Identity]

    /// Creates a report.
    public init(teams: [Team], identities: [Identity]) {
        self.teams = teams
        self.identities = identities
    }

    /// The contract's `usage --json` shape: `{"teams": [{"team", "used", "limit", "remaining",
    /// "window", "resets_at"}], "identities": [{"identity", "team", "used"}]}` (identities with their
    /// own budget also carry `limit`, `remaining`, `window`, `resets_at`; anonymous usage has
    /// `"identity": null`).
    public var json: String {
        var out = #"{"teams":["#
        for (i, team) in teams.enumerated() {
            if i > 0 { out += "," }
            out += #"{"team":"# + Self.quote(team.team) + #","used":\#(team.used),"limit":"# + Self.number(team.limit)
            out += #","remaining":"# + Self.number(team.remaining) + #","window":"# + Self.quote(team.window)
            out += #","resets_at":"# + Self.quote(CivilDate.rfc3339(team.resetsAt)) + "}"
        }
        out += #"],"identities":["#
        for (i, identity) in identities.enumerated() {
            if i > 0 { out += "," }
            out += #"{"identity":"# + (identity.identity.map(Self.quote) ?? "null") + #","team":"# + (identity.team.map(Self.quote) ?? "null")
            out += #","used":\#(identity.used)"#
            if let limit = identity.limit {
                out += #","limit":\#(limit),"remaining":"# + Self.number(identity.remaining)
                out += #","window":"# + Self.quote(identity.window) + #","resets_at":"# + Self.quote(CivilDate.rfc3339(identity.resetsAt))
            }
            out += "}"
        }
        return out + "]}"
    }

    private static func number(_ value: Int?) -> String { value.map(String.init) ?? "null" }

    package static func quote(_ text: String) -> String {
        var out: [UInt8] = []
        JSONText.appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// The two queries a report needs, implemented by each ledger backend.
package protocol UsageReportSource: Sendable {
    /// Settled and reserved tokens of each charge's row (rows never written are absent).
    func windowTotals(_ charges: [BudgetCharge]) async throws -> [BudgetCharge: BudgetTotals]
    /// Tokens per identity and team recorded at or after `sinceMilliseconds`.
    func usageByIdentity(sinceMilliseconds: Int64) async throws -> [(identity: String?, team: String?, used: Int)]
}

extension UsageReportSource {
    /// Builds the report for `budgets` at `now` (Unix seconds).
    package func buildReport(budgets: [TokenBudget], now: Int64) async throws -> UsageReport {
        let charges = budgets.map { $0.charge(at: now) }
        let totals = try await windowTotals(charges)
        var teams: [UsageReport.Team] = []
        var budgetedTeams: Set<String> = []
        for (budget, charge) in zip(budgets, charges) {
            guard case .team(let name) = budget.subject else { continue }
            budgetedTeams.insert(name)
            let row = totals[charge] ?? BudgetTotals()
            teams.append(UsageReport.Team(team: name, used: row.used, limit: charge.limit, reserved: row.reserved,
                                          remaining: BudgetArithmetic.free(limit: charge.limit, row),
                                          window: charge.window, resetsAt: charge.period.end))
        }

        // Identities and unbudgeted teams: one grouped query per distinct window start.
        let month = BudgetWindow.month.period(containing: now)
        var starts: Set<Int64> = [month.start]
        for charge in charges { starts.insert(charge.period.start) }
        var byStart: [Int64: [(identity: String?, team: String?, used: Int)]] = [:]
        for start in starts { byStart[start] = try await usageByIdentity(sinceMilliseconds: start * 1000) }

        var unbudgeted: [String: Int] = [:]
        for row in byStart[month.start] ?? [] {
            if let team = row.team, !budgetedTeams.contains(team) { unbudgeted[team, default: 0] += row.used }
        }
        for (team, used) in unbudgeted.sorted(by: { $0.key < $1.key }) {
            teams.append(UsageReport.Team(team: team, used: used, limit: nil, reserved: 0, remaining: nil,
                                          window: BudgetWindow.month.label, resetsAt: month.end))
        }

        var teamOf: [String: String] = [:]
        var names: Set<String> = []
        for rows in byStart.values {
            for row in rows {
                guard let identity = row.identity else { continue }
                names.insert(identity)
                if let team = row.team { teamOf[identity] = team }
            }
        }
        for budget in budgets { if case .identity(let name) = budget.subject { names.insert(name) } }

        var identities: [UsageReport.Identity] = []
        for name in names.sorted() {
            let own = zip(budgets, charges).first { $0.0.subject == .identity(name) }?.1
            let team = teamOf[name]
            let teamCharge = team.flatMap { t in zip(budgets, charges).first { $0.0.subject == .team(t) }?.1 }
            let period = own?.period ?? teamCharge?.period ?? month
            let window = own?.window ?? teamCharge?.window ?? BudgetWindow.month.label
            let used = (byStart[period.start] ?? []).filter { $0.identity == name }.reduce(0) { $0 + $1.used }
            var entry = UsageReport.Identity(identity: name, team: team, used: used, limit: nil, remaining: nil,
                                             window: window, resetsAt: period.end)
            if let own {
                let row = totals[own] ?? BudgetTotals()
                entry.used = row.used
                entry.limit = own.limit
                entry.remaining = BudgetArithmetic.free(limit: own.limit, row)
            }
            identities.append(entry)
        }
        // Calls with no identity (anonymous proxy clients) have no budget: the calendar month.
        var anonymous: [String?: Int] = [:]
        for row in byStart[month.start] ?? [] where row.identity == nil { anonymous[row.team, default: 0] += row.used }
        for (team, used) in anonymous.sorted(by: { ($0.key ?? "") < ($1.key ?? "") }) {
            identities.append(UsageReport.Identity(identity: nil, team: team, used: used, limit: nil, remaining: nil,
                                                   window: BudgetWindow.month.label, resetsAt: month.end))
        }
        return UsageReport(teams: teams, identities: identities)
    }
}
