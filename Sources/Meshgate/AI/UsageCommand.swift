import Foundation
import Logging
import MeshgateAI
import MeshgateLedger

/// `meshgate usage [--team T] [--json]`: token usage per team and identity against their caps,
/// read straight from the configured ledger (no running server needed).
public enum UsageCommand {
    /// The ledger could not be read; names it and the fix.
    public struct LedgerError: Error, CustomStringConvertible {
        /// `sqlite` or `postgres`.
        public var backend: String
        /// The file, or the URL with its password masked.
        public var location: String
        /// What failed.
        public var reason: String

        /// A one-line cause with the fix.
        public var description: String {
            let fix = backend == "sqlite"
                ? "check that ai.ledger's file is readable and writable by this user (run as the user meshgate serve runs as)"
                : "check that the PostgreSQL server in ai.ledger is running and reachable from here, and that its user may log in"
            return "cannot read token usage from the \(backend) ledger \(location): \(reason); \(fix)"
        }
    }

    /// The report for `configuration`'s budgets at `now` (Unix seconds), only `team`'s when given.
    /// A SQLite ledger that does not exist yet reads as empty (nothing has been metered).
    public static func report(configuration: MeshgateConfiguration, team: String?, now: Int64 = AIRuntime.unixNow(),
                              logger: Logger = Logger(label: "meshgate.usage", factory: { _ in SwiftLogNoOpLogHandler() })) async throws -> UsageReport {
        let budgets = configuration.ai.budgets.map(AIRuntime.tokenBudget)
        let source = try LedgerSource(configuration.ai.ledger, logger: logger)
        do {
            switch source.backend {
            case .sqlite(let path):
                let ledger: any TokenLedger = FileManager.default.fileExists(atPath: path) ? try SQLiteTokenLedger(path: path) : InMemoryTokenLedger()
                return try await ledger.report(budgets: budgets, now: now).only(team: team)
            case .postgres(let pool):
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await pool.run() }
                    defer { group.cancelAll() }
                    let ledger = try await source.opener()
                    return try await ledger.report(budgets: budgets, now: now).only(team: team)
                }
            }
        } catch {
            let reason = (error as? LedgerUnavailable)?.reason ?? "\(error)"
            throw LedgerError(backend: source.backendName, location: source.location, reason: reason)
        }
    }

    /// The report as two aligned tables: teams (team, used, limit, remaining, window, resets at),
    /// then identities (identity, team, used, limit, remaining, window, resets at; calls without an
    /// identity as `(anonymous)`). Rows without a budget of their own show `-` for limit and remaining.
    public static func table(_ report: UsageReport) -> String {
        var teamRows = [["TEAM", "USED", "LIMIT", "REMAINING", "WINDOW", "RESETS AT"]]
        for row in report.teams {
            teamRows.append([row.team, String(row.used), row.limit.map(String.init) ?? "-", row.remaining.map(String.init) ?? "-",
                             row.window, resetsAt(row.resetsAt)])
        }
        var identityRows = [["IDENTITY", "TEAM", "USED", "LIMIT", "REMAINING", "WINDOW", "RESETS AT"]]
        for row in report.identities {
            // As in --json: an identity's own budget, when it has one.
            identityRows.append([row.identity ?? "(anonymous)", row.team ?? "-", String(row.used), row.limit.map(String.init) ?? "-",
                                 row.remaining.map(String.init) ?? "-", row.window, resetsAt(row.resetsAt)])
        }
        var out = report.teams.isEmpty ? "no team usage or budgets\n" : align(teamRows)
        out += "\n"
        out += report.identities.isEmpty ? "no identity usage\n" : align(identityRows)
        return out
    }

    private static func resetsAt(_ seconds: Int64) -> String {
        BudgetPeriod(start: seconds, end: seconds).resetsAtText
    }

    /// Left-aligned columns two spaces apart, without trailing blanks.
    private static func align(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var out = ""
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                line += column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }
            out += line + "\n"
        }
        return out
    }
}
