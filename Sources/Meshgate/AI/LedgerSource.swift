import Logging
import MeshgateAI

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

    /// Throws `PostgresTokenLedger.InvalidURL` for a URL the client cannot use.
    init(_ ledger: MeshgateConfiguration.AI.Ledger, logger: Logger) throws {
        switch ledger {
        case .sqlite(let path):
            backend = .sqlite(path: path)
            location = path
            opener = { try SQLiteTokenLedger(path: path) }
        case .postgres(let url):
            let pool = try PostgresTokenLedger(url: url, logger: logger)
            backend = .postgres(pool)
            location = PostgresTokenLedger.masked(url)
            opener = {
                try await pool.migrate()
                return pool
            }
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
