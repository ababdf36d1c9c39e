import Foundation
import GRDB
import MeshgateAI

/// The embedded ledger (`ai.ledger: sqlite:PATH`), on GRDB.
///
/// WAL journal with `synchronous=NORMAL`: a committed settlement survives the process being killed
/// (`kill -9`), though not necessarily a power cut; a caller is answered only after its write
/// committed. Writes are group-committed: concurrent operations share one `BEGIN IMMEDIATE`
/// transaction, each in its own savepoint (``SQLiteWriteBatcher``), so several processes sharing
/// the file stay consistent too (they wait up to 5 s for the write lock). Reservation rows are real rows: one left by a crashed process is reclaimed when
/// it expires.
public final class SQLiteTokenLedger: TokenLedger, UsageReportSource {
    private let pool: DatabasePool
    /// Checkpoints the write-ahead log beside the writer (nil for an in-memory database).
    let checkpointer: SQLiteCheckpointer?
    /// Every write goes through it: concurrent operations share one transaction (group commit).
    let batcher: SQLiteWriteBatcher
    private let lifetime: Int64
    /// The instance whose reservations these are (its lease is renewed in the ledger); nil: none.
    public let holder: String?
    /// The database file.
    public let path: String
    /// Files of this ledger that group or others could read and that opening it made private
    /// (mode 0600); the caller logs them. Empty for a ledger created by this version.
    public let tightenedFiles: [String]

    /// Opens (creating if needed, mode 0600) the ledger at `path` and brings its schema up to date;
    /// reservations made through it belong to `holder`. Throws `LedgerUnavailable` when the file
    /// cannot be opened or migrated.
    public init(path: String, holder: String? = nil, reservationLifetimeSeconds: Int64 = defaultReservationLifetimeSeconds) throws {
        self.path = path
        self.holder = holder
        lifetime = reservationLifetimeSeconds
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(SQLiteCheckpointer.backstopPages)")
        }
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            // Before SQLite opens it: SQLite would create it 0644, and its -wal and -shm files
            // copy the database file's mode.
            tightenedFiles = path == ":memory:" ? [] : SQLiteLedgerFiles.secure(path: path)
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.writeWithoutTransaction { db in try Self.migrate(db) }
            let checkpointer = path == ":memory:" ? nil : try SQLiteCheckpointer(path: path)
            self.checkpointer = checkpointer
            var committed: (@Sendable () -> Void)?
            if let checkpointer { committed = { checkpointer.committed() } }
            batcher = SQLiteWriteBatcher(writer: pool, committed: committed)
        } catch {
            throw LedgerUnavailable(backend: "sqlite", reason: "\(path): \(error)")
        }
    }

    /// The schema version recorded in the file.
    public func schemaVersion() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT MAX(version) FROM meshgate_schema_migrations") ?? 0 }
    }

    /// Closes the database; later calls fail with `LedgerUnavailable`.
    public func close() throws {
        try checkpointer?.close()
        try pool.close()
    }

    private static func migrate(_ db: Database) throws {
        try db.execute(sql: LedgerSchema.migrationsTable)
        let current = try Int.fetchOne(db, sql: "SELECT MAX(version) FROM meshgate_schema_migrations") ?? 0
        guard current <= LedgerSchema.latestVersion else { throw LedgerSchema.TooNew(found: current) }
        for migration in LedgerSchema.migrations where migration.version > current {
            try db.inTransaction(.immediate) {
                for statement in migration.statements { try db.execute(sql: statement) }
                try db.execute(sql: "INSERT INTO meshgate_schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)",
                               arguments: [migration.version, migration.name, Int64(Date().timeIntervalSince1970 * 1000)])
                return .commit
            }
        }
    }

    /// Writes through the batcher, within the deadline of the ledger call this task is making
    /// (``LedgerDeadline/current``); a result committed after it goes to `late`.
    private func write<T: Sendable>(savepoint: Bool = true, late: (@Sendable (T) -> Void)? = nil,
                                    _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            // One transaction per batch of concurrent writes, one savepoint per operation
            // (SQLiteWriteBatcher): a refusal rolls back only its own rows.
            return try await batcher.write(within: LedgerDeadline.current, savepoint: savepoint, late: late, body)
        } catch let error as LedgerUnavailable {
            throw error
        } catch let refusal as BudgetRefusal {
            throw refusal
        } catch {
            throw LedgerUnavailable(backend: "sqlite", reason: "\(path): \(error)")
        }
    }

    /// Its writes wait in the batcher's queue, where the caller's deadline is kept.
    public var keepsDeadlines: Bool { true }

    // MARK: - TokenLedger

    public func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) async throws -> ReservationOutcome {
        let tokens = BudgetArithmetic.reservation(for: tokens)
        let id = LedgerIDs.make()
        guard !charges.isEmpty else {
            return .reserved(LedgerReservation(id: id, tokens: tokens, charges: [], remaining: nil, resetsAt: nil))
        }
        let lifetime = lifetime, holder = holder
        do {
            // Granted after the caller stopped waiting: nobody will settle it, so it goes back now.
            let giveBack: @Sendable (LedgerReservation) -> Void = { [self] late in
                Task { try? await LedgerDeadline.$current.withValue(nil) { try await release(late) } }
            }
            // One charge is refused before anything is written; more need a savepoint, so that a
            // refusal rolls back the rows already reserved.
            let outcome = try await write(savepoint: charges.count > 1, late: { if case .reserved(let late) = $0 { giveBack(late) } }) { db -> ReservationOutcome in
                var taken: [BudgetArithmetic.Row] = []
                for charge in charges {
                    let statement = try db.cachedStatement(sql: LedgerSQL.sqliteReserve)
                    let row = try Row.fetchOne(statement, arguments: [
                        charge.subject.kind, charge.subject.name, charge.window, charge.period.start, charge.period.end,
                        charge.limit, tokens,
                    ])
                    guard let row else {
                        let refusal = try Self.refusal(charge, requested: tokens, in: db)
                        if charges.count > 1 { throw refusal }  // rolls back this reservation's rows
                        return .refused(refusal)
                    }
                    taken.append((charge, BudgetTotals(row)))
                }
                try db.cachedStatement(sql: LedgerSQL.sqliteInsertReservation)
                    .execute(arguments: [id, tokens, LedgerSchema.encode(charges), now + lifetime, holder])
                return .reserved(LedgerReservation(id: id, tokens: tokens, taken: taken))
            }
            return outcome
        } catch let refusal as BudgetRefusal {
            return .refused(refusal)
        }
    }

    public func settle(_ reservation: LedgerReservation, usage: UsageRecord) async throws {
        let settled = usage.settling(reservation)
        _ = try await write(savepoint: false) { db in try Self.apply(settled, releasing: reservation, in: db) }
    }

    public func release(_ reservation: LedgerReservation) async throws {
        guard !reservation.charges.isEmpty else { return }
        _ = try await write(savepoint: false) { db in try Self.unreserve(reservation.id, in: db) }
    }

    public func record(_ usage: UsageRecord) async throws {
        _ = try await write(savepoint: false) { db in try Self.apply(usage, releasing: nil, in: db) }
    }

    public func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) async throws -> ReservationOutcome {
        guard tokens > 0, !reservation.charges.isEmpty else { return .reserved(reservation) }
        do {
            return .reserved(try await write { db in
                guard let held = try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.sqliteGrowReservation),
                                                  arguments: [reservation.id, tokens]) else {
                    throw BudgetRefusal.gone(reservation, requested: tokens)
                }
                var taken: [BudgetArithmetic.Row] = []
                for charge in reservation.charges {
                    let row = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.sqliteGrow), arguments: [
                        charge.subject.kind, charge.subject.name, charge.window, charge.period.start, charge.limit, tokens,
                    ])
                    guard let row else { throw try Self.refusal(charge, requested: tokens, in: db) }
                    taken.append((charge, BudgetTotals(row)))
                }
                return reservation.grown(to: held, taken: taken)
            })
        } catch let refusal as BudgetRefusal {
            return .refused(refusal)
        }
    }

    public func reclaimAbandoned(now: Int64, staleBefore: Int64) async throws -> Int {
        let own = holder ?? ""
        return try await write { db in
            let count = try Self.giveBack(LedgerSQL.sqliteDeleteAbandoned, arguments: [now, staleBefore, own], in: db)
            try db.execute(sql: LedgerSQL.sqliteDeleteStaleLeases, arguments: [staleBefore, own])
            return count
        }
    }

    public func renewLease(now: Int64) async throws {
        guard let holder else { return }
        _ = try await write { db in try db.cachedStatement(sql: LedgerSQL.sqliteRenewLease).execute(arguments: [holder, now]) }
    }

    public func releaseHeld() async throws -> Int {
        guard let holder else { return 0 }
        return try await write { db in try Self.giveBack(LedgerSQL.sqliteDeleteHeld, arguments: [holder], in: db) }
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport {
        try await buildReport(budgets: budgets, now: now)
    }

    // MARK: - UsageReportSource

    package func windowTotals(_ charges: [BudgetCharge]) async throws -> [BudgetCharge: BudgetTotals] {
        let rows: [(BudgetCharge, BudgetTotals)] = try await read { db in
            try charges.compactMap { charge in
                let row = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.sqliteSelectWindow), arguments: [
                    charge.subject.kind, charge.subject.name, charge.window, charge.period.start,
                ])
                return row.map { (charge, BudgetTotals($0)) }
            }
        }
        var out: [BudgetCharge: BudgetTotals] = [:]
        for (charge, totals) in rows { out[charge] = totals }
        return out
    }

    package func usageByIdentity(sinceMilliseconds: Int64) async throws -> [(identity: String?, team: String?, used: Int)] {
        let rows: [IdentityRow] = try await read { db in
            try Row.fetchAll(db, sql: LedgerSQL.sqliteUsageByIdentity, arguments: [sinceMilliseconds]).map {
                IdentityRow(identity: $0["identity"], team: $0["team"], used: $0["used"])
            }
        }
        return rows.map { ($0.identity, $0.team, $0.used) }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw LedgerUnavailable(backend: "sqlite", reason: "\(path): \(error)")
        }
    }

    // MARK: - Statements

    /// Records `usage` once (by id), moving its tokens from reserved to used on each charge.
    private static func apply(_ usage: UsageRecord, releasing reservation: LedgerReservation?, in db: Database) throws -> Bool {
        let insert = try db.cachedStatement(sql: LedgerSQL.sqliteInsertEvent)
        try insert.execute(arguments: [
            usage.id, usage.timestampMilliseconds, usage.identity, usage.team, usage.provider, usage.model,
            usage.usage.input, usage.usage.output, usage.usage.cacheRead, usage.usage.cacheCreation, usage.usage.estimated ? 1 : 0,
        ])
        guard db.changesCount == 1 else { return false }  // already recorded
        var released = 0
        if let reservation {
            // What is held now: a stream may have grown its reservation since it was made.
            released = try Int.fetchOne(db.cachedStatement(sql: "DELETE FROM reservations WHERE id = ? RETURNING tokens"),
                                        arguments: [reservation.id]) ?? 0
        }
        for charge in usage.charges {
            try db.cachedStatement(sql: LedgerSQL.sqliteCharge).execute(arguments: [
                charge.subject.kind, charge.subject.name, charge.window, charge.period.start, charge.period.end,
                charge.limit, usage.usage.total, released,
            ])
        }
        return true
    }

    /// Why `charge`'s row cannot take `requested` more tokens.
    private static func refusal(_ charge: BudgetCharge, requested: Int, in db: Database) throws -> BudgetRefusal {
        let current = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.sqliteSelectWindow), arguments: [
            charge.subject.kind, charge.subject.name, charge.window, charge.period.start,
        ])
        return BudgetRefusal(charge: charge, requested: requested, totals: current.map(BudgetTotals.init) ?? BudgetTotals())
    }

    /// Runs `sql` (deleting reservations, returning their tokens and charges) and takes what they
    /// held off their rows; returns how many it deleted.
    private static func giveBack(_ sql: String, arguments: StatementArguments, in db: Database) throws -> Int {
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        for row in rows {
            try decrement(charges: LedgerSchema.decode(row["charges"]), by: row["tokens"], in: db)
        }
        return rows.count
    }

    private static func unreserve(_ id: String, in db: Database) throws -> Bool {
        let row = try Row.fetchOne(db.cachedStatement(sql: "DELETE FROM reservations WHERE id = ? RETURNING tokens, charges"),
                                   arguments: [id])
        guard let row else { return false }
        try decrement(charges: LedgerSchema.decode(row["charges"]), by: row["tokens"], in: db)
        return true
    }

    private static func decrement(charges: [BudgetCharge], by tokens: Int, in db: Database) throws {
        for charge in charges {
            try db.cachedStatement(sql: LedgerSQL.sqliteUnreserve).execute(arguments: [
                tokens, charge.subject.kind, charge.subject.name, charge.window, charge.period.start,
            ])
        }
    }
}

extension BudgetTotals {
    /// A `budget_windows` row's `used` and `reserved` columns.
    fileprivate init(_ row: Row) {
        self.init(used: row["used"], reserved: row["reserved"])
    }
}

private struct IdentityRow: Sendable {
    var identity: String?
    var team: String?
    var used: Int
}
