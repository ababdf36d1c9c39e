import Logging
import MeshgateAI
import MeshgateLedger

/// `ai.ledger` resolved to a backend: what `serve` and `meshgate usage` open.
struct LedgerSource: Sendable {
    enum Backend: Sendable {
        case sqlite(path: String)
        case postgres(PostgresTokenLedger)
    }

    let backend: Backend
    /// The file path, or the URL with its password masked.
    let location: String
    /// Opens the ledger: the SQLite file (created and migrated), or the PostgreSQL schema (migrated;
    /// needs the pool's `run()` going).
    let opener: DeferredTokenLedger.Opener

    /// Reservations made through the ledger belong to `holder` (nil for a reader such as
    /// `meshgate usage`); opening it for a holder gives back what the holder's previous run left.
    /// Throws `PostgresTokenLedger.InvalidURL` for a URL the client cannot use.
    init(_ ledger: MeshgateConfiguration.AI.Ledger, holder: String? = nil, logger: Logger) throws {
        switch ledger {
        case .sqlite(let path):
            backend = .sqlite(path: path)
            location = path
            opener = {
                let ledger = try SQLiteTokenLedger(path: path, holder: holder)
                Self.reportTightened(ledger, logger: logger)
                if holder != nil { _ = try await LedgerMaintenance.start(ledger: ledger, now: AIRuntime.unixNow(), logger: logger) }
                return ledger
            }
        case .postgres(let url):
            let pool = try PostgresTokenLedger(url: url, holder: holder, logger: logger)
            backend = .postgres(pool)
            location = PostgresTokenLedger.masked(url)
            opener = {
                try await pool.migrate()
                if holder != nil { _ = try await LedgerMaintenance.start(ledger: pool, now: AIRuntime.unixNow(), logger: logger) }
                return pool
            }
        }
    }

    /// Logs each ledger file that other users could read until opening the ledger made it 0600.
    static func reportTightened(_ ledger: SQLiteTokenLedger, logger: Logger) {
        for file in ledger.tightenedFiles {
            logger.notice("the token ledger was readable by other users; its mode is now 0600", metadata: ["file": "\(file)"])
        }
    }

    /// `sqlite` or `postgres`, as `LedgerUnavailable` names it.
    var backendName: String {
        switch backend {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// The PostgreSQL client whose pool must be run, if that is the backend.
    var postgres: PostgresTokenLedger? {
        if case .postgres(let pool) = backend { pool } else { nil }
    }
}
