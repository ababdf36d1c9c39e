import MeshgateAI
import NIOConcurrencyHelpers

/// The ledger's tables, shared by SQLite and PostgreSQL (the DDL uses types both accept).
///
/// Each migration runs once, in order, in its own transaction, and is recorded in
/// `meshgate_schema_migrations`; a database newer than this build is refused rather than misread.
enum LedgerSchema {
    /// One schema change.
    struct Migration {
        var version: Int
        var name: String
        var statements: [String]
    }

    static let migrationsTable = """
        CREATE TABLE IF NOT EXISTS meshgate_schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at_ms BIGINT NOT NULL
        )
        """

    static let migrations: [Migration] = [
        Migration(version: 1, name: "budget windows, reservations, usage events", statements: [
            """
            CREATE TABLE budget_windows (
                subject_kind TEXT NOT NULL,
                subject TEXT NOT NULL,
                window_label TEXT NOT NULL,
                period_start BIGINT NOT NULL,
                period_end BIGINT NOT NULL,
                token_limit BIGINT NOT NULL,
                used BIGINT NOT NULL DEFAULT 0,
                reserved BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (subject_kind, subject, window_label, period_start)
            )
            """,
            """
            CREATE TABLE reservations (
                id TEXT PRIMARY KEY,
                tokens BIGINT NOT NULL,
                charges TEXT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX reservations_expires_at ON reservations (expires_at)",
            """
            CREATE TABLE usage_events (
                id TEXT PRIMARY KEY,
                ts_ms BIGINT NOT NULL,
                identity TEXT,
                team TEXT,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                input_tokens BIGINT NOT NULL,
                output_tokens BIGINT NOT NULL,
                cache_read_tokens BIGINT NOT NULL,
                cache_creation_tokens BIGINT NOT NULL,
                estimated BIGINT NOT NULL
            )
            """,
            "CREATE INDEX usage_events_ts ON usage_events (ts_ms)",
        ]),
        // Rows written before this have no holder; they are reclaimed when they expire, as before.
        Migration(version: 2, name: "reservation holders and their leases", statements: [
            "ALTER TABLE reservations ADD COLUMN holder TEXT",
            "CREATE INDEX reservations_holder ON reservations (holder)",
            """
            CREATE TABLE ledger_leases (
                holder TEXT PRIMARY KEY,
                renewed_at BIGINT NOT NULL
            )
            """,
        ]),
        // Reservations are only the calls in flight, a few hundred rows: the reclaim every lease
        // heartbeat scans them cheaply, while two indexes made every reservation and settlement
        // write two more pages.
        Migration(version: 3, name: "reservations without secondary indexes", statements: [
            "DROP INDEX IF EXISTS reservations_expires_at",
            "DROP INDEX IF EXISTS reservations_holder",
        ]),
    ]

    /// The newest schema version this build knows.
    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The charges of a reservation as stored in `reservations.charges` (see `LedgerJSON`). Every
    /// call of a team in one window has the same charges, so their encoding is kept (it showed in
    /// the profile of budgeted calls when Foundation wrote it); the cache is emptied when it holds 1,024.
    static func encode(_ charges: [BudgetCharge]) -> String {
        if let cached = encoded.withLockedValue({ $0[charges] }) { return cached }
        let text = LedgerJSON.text(charges)
        encoded.withLockedValue { cache in
            if cache.count >= 1024 { cache.removeAll(keepingCapacity: true) }
            cache[charges] = text
        }
        return text
    }

    private static let encoded = NIOLockedValueBox([[BudgetCharge]: String]())

    /// Charges read back from `reservations.charges`; empty when unreadable.
    static func decode(_ text: String) -> [BudgetCharge] {
        LedgerJSON.charges(text) ?? []
    }

    /// A database whose schema is newer than this build.
    struct TooNew: Error, CustomStringConvertible {
        var found: Int
        var description: String {
            "ledger schema version \(found) is newer than this meshgate understands (\(LedgerSchema.latestVersion)); upgrade meshgate"
        }
    }
}
