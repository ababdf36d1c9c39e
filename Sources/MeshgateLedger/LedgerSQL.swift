import Foundation

/// The ledger's statements, written once in SQLite's `?N` style and converted for PostgreSQL.
enum LedgerSQL {
    /// Reserves ?7 tokens on one row if it fits under the cap ?6; returns the row, or no row when refused.
    /// One atomic conditional upsert: the condition is re-checked on the locked row, so concurrent
    /// reservations (from any process) cannot jointly pass the cap.
    static let sqliteReserve = """
        INSERT INTO budget_windows (subject_kind, subject, window_label, period_start, period_end, token_limit, used, reserved)
        SELECT ?1, ?2, ?3, ?4, ?5, ?6, 0, ?7 WHERE ?7 <= ?6
        ON CONFLICT (subject_kind, subject, window_label, period_start) DO UPDATE
        SET reserved = budget_windows.reserved + excluded.reserved, token_limit = excluded.token_limit
        WHERE budget_windows.used + budget_windows.reserved + excluded.reserved <= excluded.token_limit
        RETURNING used, reserved
        """

    static let sqliteSelectWindow = """
        SELECT used, reserved FROM budget_windows
        WHERE subject_kind = ?1 AND subject = ?2 AND window_label = ?3 AND period_start = ?4
        """

    static let sqliteInsertEvent = """
        INSERT INTO usage_events (id, ts_ms, identity, team, provider, model, input_tokens, output_tokens,
                                  cache_read_tokens, cache_creation_tokens, estimated)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
        ON CONFLICT (id) DO NOTHING
        """

    /// Adds ?7 used tokens to a row and takes ?8 off its reservations.
    static let sqliteCharge = """
        INSERT INTO budget_windows (subject_kind, subject, window_label, period_start, period_end, token_limit, used, reserved)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)
        ON CONFLICT (subject_kind, subject, window_label, period_start) DO UPDATE
        SET used = budget_windows.used + excluded.used, reserved = MAX(0, budget_windows.reserved - ?8)
        """

    static let sqliteUnreserve = """
        UPDATE budget_windows SET reserved = MAX(0, reserved - ?1)
        WHERE subject_kind = ?2 AND subject = ?3 AND window_label = ?4 AND period_start = ?5
        """

    /// Adds ?6 tokens to a row of a reservation in flight if they fit under the cap ?5.
    static let sqliteGrow = """
        UPDATE budget_windows SET reserved = reserved + ?6, token_limit = ?5
        WHERE subject_kind = ?1 AND subject = ?2 AND window_label = ?3 AND period_start = ?4
          AND used + reserved + ?6 <= ?5
        RETURNING used, reserved
        """

    static let sqliteInsertReservation = "INSERT INTO reservations (id, tokens, charges, expires_at, holder) VALUES (?1, ?2, ?3, ?4, ?5)"

    static let sqliteGrowReservation = "UPDATE reservations SET tokens = tokens + ?2 WHERE id = ?1 RETURNING tokens"

    /// Reservations past their lifetime, and those of holders (other than ?3) whose lease was not
    /// renewed since ?2.
    static let sqliteDeleteAbandoned = """
        DELETE FROM reservations
        WHERE expires_at <= ?1
           OR (holder IS NOT NULL AND holder <> ?3
               AND holder NOT IN (SELECT holder FROM ledger_leases WHERE renewed_at >= ?2))
        RETURNING tokens, charges
        """

    static let sqliteDeleteStaleLeases = "DELETE FROM ledger_leases WHERE renewed_at < ?1 AND holder <> ?2"

    static let sqliteRenewLease = """
        INSERT INTO ledger_leases (holder, renewed_at) VALUES (?1, ?2)
        ON CONFLICT (holder) DO UPDATE SET renewed_at = excluded.renewed_at
        """

    static let sqliteDeleteHeld = "DELETE FROM reservations WHERE holder = ?1 RETURNING tokens, charges"

    static let sqliteUsageByIdentity = """
        SELECT identity, team,
               CAST(SUM(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens) AS BIGINT) AS used
        FROM usage_events WHERE ts_ms >= ?1 GROUP BY identity, team
        """

    /// `sql` in PostgreSQL's dialect: `$N` parameters and `GREATEST` for the scalar max.
    static func postgres(_ sql: String) -> String {
        sql.replacingOccurrences(of: "?", with: "$").replacingOccurrences(of: "MAX(0,", with: "GREATEST(0,")
    }
}
