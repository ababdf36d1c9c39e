import Foundation
import Logging
import MeshgateAI
import PostgresNIO

/// The shared ledger (`ai.ledger: postgres://user:pass@host:5432/db`) for fleets of meshgate nodes.
///
/// A reservation is one atomic conditional upsert per budget row
/// (`… SET reserved = reserved + n WHERE used + reserved + n <= limit RETURNING …`), all in one
/// transaction with rows taken in a fixed order, so nodes sharing the database can neither jointly
/// overshoot a cap nor deadlock. Every failure to reach the server, and any operation slower than
/// `operationTimeout`, surfaces as `LedgerUnavailable`.
///
/// Call `run()` in a long-lived task (it drives the connection pool) before using the ledger.
public final class PostgresTokenLedger: TokenLedger, UsageReportSource {
    private let client: PostgresClient
    private let logger: Logger
    private let lifetime: Int64
    private let operationTimeout: Duration
    /// The instance whose reservations these are (its lease is renewed in the ledger); nil: none.
    public let holder: String?

    /// A `postgres://` URL that cannot be used.
    public struct InvalidURL: Error, CustomStringConvertible {
        /// The URL with any password masked.
        public var url: String
        /// A one-line cause.
        public var description: String { "invalid PostgreSQL URL '\(url)'; write postgres://user:pass@host:5432/db" }
    }

    /// Creates a ledger for `url` (`postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`).
    /// Nothing connects until `run()` runs and an operation needs a connection.
    public init(url: String, holder: String? = nil, logger: Logger = Logger(label: "meshgate.ai.ledger"),
                reservationLifetimeSeconds: Int64 = defaultReservationLifetimeSeconds,
                operationTimeout: Duration = .seconds(5)) throws {
        guard let components = URLComponents(string: url),
              components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty, let user = components.user else {
            throw InvalidURL(url: Self.masked(url))
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS = switch sslMode {
        case "disable": .disable
        case "require", "verify-full", "verify-ca": .require(.makeClientConfiguration())
        default: .prefer(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(host: host, port: components.port ?? 5432, username: user,
                                                         password: components.password, database: database.isEmpty ? nil : database,
                                                         tls: tls)
        configuration.options.connectTimeout = .seconds(3)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.holder = holder
        lifetime = reservationLifetimeSeconds
        self.operationTimeout = operationTimeout
    }

    /// `url` with its password replaced by `***`, for logs, errors and `/healthz`.
    public static func masked(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// Drives the connection pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Creates or upgrades the schema. Safe when several nodes start at once (an advisory lock
    /// serialises them). A schema already current is only read, without the lock: a fleet
    /// starting at once (or a test run opening many clients) would otherwise queue behind it.
    public func migrate() async throws {
        if let current = try? await schemaVersion() {
            guard current <= LedgerSchema.latestVersion else { throw LedgerUnavailable(backend: "postgres", reason: "\(LedgerSchema.TooNew(found: current))") }
            if current == LedgerSchema.latestVersion { return }
        }
        try await guarded {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(7305318125)", logger: self.logger)
                try await connection.query(PostgresQuery(unsafeSQL: LedgerSchema.migrationsTable), logger: self.logger)
                let rows = try await connection.query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM meshgate_schema_migrations",
                                                      logger: self.logger)
                var current = 0
                for try await version in rows.decode(Int.self) { current = version }
                guard current <= LedgerSchema.latestVersion else { throw LedgerSchema.TooNew(found: current) }
                for migration in LedgerSchema.migrations where migration.version > current {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                    }
                    let now = Int(Date().timeIntervalSince1970 * 1000)
                    try await connection.query(
                        "INSERT INTO meshgate_schema_migrations (version, name, applied_at_ms) VALUES (\(migration.version), \(migration.name), \(now))",
                        logger: self.logger)
                }
            }
        }
    }

    /// The schema version recorded in the database.
    public func schemaVersion() async throws -> Int {
        try await guarded {
            let rows = try await self.client.query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM meshgate_schema_migrations",
                                                   logger: self.logger)
            var version = 0
            for try await value in rows.decode(Int.self) { version = value }
            return version
        }
    }

    // MARK: - TokenLedger

    public func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) async throws -> ReservationOutcome {
        let tokens = BudgetArithmetic.reservation(for: tokens)
        guard !charges.isEmpty else {
            return .reserved(LedgerReservation(id: LedgerIDs.make(), tokens: tokens, charges: [], remaining: nil, resetsAt: nil))
        }
        let id = LedgerIDs.make()
        let expires = now + lifetime
        do {
            let reservation = try await guarded {
                try await self.client.withTransaction(logger: self.logger) { connection -> LedgerReservation in
                    try await Self.skipCommitFlush(on: connection, logger: self.logger)
                    var taken: [BudgetArithmetic.Row] = []
                    for charge in charges {
                        taken.append((charge, try await Self.take(tokens, on: charge, with: Self.reserveSQL, on: connection, logger: self.logger)))
                    }
                    try await connection.query(
                        "INSERT INTO reservations (id, tokens, charges, expires_at, holder) VALUES (\(id), \(tokens), \(LedgerSchema.encode(charges)), \(Int(expires)), \(self.holder))",
                        logger: self.logger)
                    return LedgerReservation(id: id, tokens: tokens, taken: taken)
                }
            }
            return .reserved(reservation)
        } catch let refusal as BudgetRefusal {
            return .refused(refusal)
        }
    }

    public func settle(_ reservation: LedgerReservation, usage: UsageRecord) async throws {
        try await apply(usage.settling(reservation), releasing: reservation)
    }

    public func release(_ reservation: LedgerReservation) async throws {
        guard !reservation.charges.isEmpty else { return }
        try await guarded {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await Self.skipCommitFlush(on: connection, logger: self.logger)
                let rows = try await connection.query("DELETE FROM reservations WHERE id = \(reservation.id) RETURNING tokens",
                                                      logger: self.logger)
                // What is held now: a stream may have grown its reservation since it was made.
                var held: Int?
                for try await tokens in rows.decode(Int.self) { held = tokens }
                if let held { try await Self.decrement(reservation.charges, by: held, on: connection, logger: self.logger) }
            }
        }
    }

    public func record(_ usage: UsageRecord) async throws {
        try await apply(usage, releasing: nil)
    }

    public func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) async throws -> ReservationOutcome {
        guard tokens > 0, !reservation.charges.isEmpty else { return .reserved(reservation) }
        do {
            return .reserved(try await guarded {
                try await self.client.withTransaction(logger: self.logger) { connection -> LedgerReservation in
                    try await Self.skipCommitFlush(on: connection, logger: self.logger)
                    var binds = PostgresBindings()
                    binds.append(reservation.id)
                    binds.append(tokens)
                    let held = try await connection.query(PostgresQuery(unsafeSQL: Self.growReservationSQL, binds: binds), logger: self.logger)
                    var total: Int?
                    for try await value in held.decode(Int.self) { total = value }
                    guard let total else { throw BudgetRefusal.gone(reservation, requested: tokens) }
                    // Rows in the reservation's order, which is every reservation's: no deadlock with a reserve.
                    var taken: [BudgetArithmetic.Row] = []
                    for charge in reservation.charges {
                        taken.append((charge, try await Self.take(tokens, on: charge, with: Self.growSQL, on: connection, logger: self.logger)))
                    }
                    return reservation.grown(to: total, taken: taken)
                }
            })
        } catch let refusal as BudgetRefusal {
            return .refused(refusal)
        }
    }

    public func reclaimAbandoned(now: Int64, staleBefore: Int64) async throws -> Int {
        let own = holder ?? ""
        return try await guarded {
            try await self.client.withTransaction(logger: self.logger) { connection -> Int in
                var binds = PostgresBindings()
                binds.append(Int(now))
                binds.append(Int(staleBefore))
                binds.append(own)
                let abandoned = try await Self.giveBack(PostgresQuery(unsafeSQL: Self.deleteAbandonedSQL, binds: binds),
                                                        on: connection, logger: self.logger)
                var leaseBinds = PostgresBindings()
                leaseBinds.append(Int(staleBefore))
                leaseBinds.append(own)
                try await connection.query(PostgresQuery(unsafeSQL: Self.deleteStaleLeasesSQL, binds: leaseBinds), logger: self.logger)
                return abandoned
            }
        }
    }

    public func renewLease(now: Int64) async throws {
        guard let holder else { return }
        var bindings = PostgresBindings()
        bindings.append(holder)
        bindings.append(Int(now))
        let binds = bindings
        _ = try await guarded {
            try await self.client.query(PostgresQuery(unsafeSQL: Self.renewLeaseSQL, binds: binds), logger: self.logger)
        }
    }

    public func releaseHeld() async throws -> Int {
        guard let holder else { return 0 }
        return try await guarded {
            try await self.client.withTransaction(logger: self.logger) { connection -> Int in
                try await Self.giveBack("DELETE FROM reservations WHERE holder = \(holder) RETURNING tokens, charges",
                                        on: connection, logger: self.logger)
            }
        }
    }

    public func ping() async throws {
        _ = try await guarded { try await self.client.query("SELECT 1", logger: self.logger) }
    }

    public func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport {
        try await buildReport(budgets: budgets, now: now)
    }

    // MARK: - UsageReportSource

    package func windowTotals(_ charges: [BudgetCharge]) async throws -> [BudgetCharge: BudgetTotals] {
        try await guarded {
            try await self.client.withConnection { connection in
                var out: [BudgetCharge: BudgetTotals] = [:]
                for charge in charges {
                    if let row = try await Self.window(charge, on: connection, logger: self.logger) { out[charge] = row }
                }
                return out
            }
        }
    }

    package func usageByIdentity(sinceMilliseconds: Int64) async throws -> [(identity: String?, team: String?, used: Int)] {
        try await guarded {
            var binds = PostgresBindings()
            binds.append(Int(sinceMilliseconds))
            let rows = try await self.client.query(
                PostgresQuery(unsafeSQL: LedgerSQL.postgres(LedgerSQL.sqliteUsageByIdentity), binds: binds), logger: self.logger)
            var out: [(identity: String?, team: String?, used: Int)] = []
            for try await (identity, team, used) in rows.decode((String?, String?, Int).self) { out.append((identity, team, used)) }
            return out
        }
    }

    // MARK: - Statements

    private static let reserveSQL = LedgerSQL.postgres(LedgerSQL.sqliteReserve)
    private static let selectWindowSQL = LedgerSQL.postgres(LedgerSQL.sqliteSelectWindow)
    private static let insertEventSQL = LedgerSQL.postgres(LedgerSQL.sqliteInsertEvent)
    private static let chargeSQL = LedgerSQL.postgres(LedgerSQL.sqliteCharge)
    private static let unreserveSQL = LedgerSQL.postgres(LedgerSQL.sqliteUnreserve)
    private static let growSQL = LedgerSQL.postgres(LedgerSQL.sqliteGrow)
    private static let growReservationSQL = LedgerSQL.postgres(LedgerSQL.sqliteGrowReservation)
    private static let deleteAbandonedSQL = LedgerSQL.postgres(LedgerSQL.sqliteDeleteAbandoned)
    private static let deleteStaleLeasesSQL = LedgerSQL.postgres(LedgerSQL.sqliteDeleteStaleLeases)
    private static let renewLeaseSQL = LedgerSQL.postgres(LedgerSQL.sqliteRenewLease)

    private func apply(_ usage: UsageRecord, releasing reservation: LedgerReservation?) async throws {
        try await guarded {
            try await self.client.withTransaction(logger: self.logger) { connection in
                var binds = PostgresBindings()
                binds.append(usage.id)
                binds.append(Int(usage.timestampMilliseconds))
                binds.append(usage.identity)
                binds.append(usage.team)
                binds.append(usage.provider)
                binds.append(usage.model)
                binds.append(usage.usage.input)
                binds.append(usage.usage.output)
                binds.append(usage.usage.cacheRead)
                binds.append(usage.usage.cacheCreation)
                binds.append(usage.usage.estimated ? 1 : 0)
                let inserted = try await connection.query(
                    PostgresQuery(unsafeSQL: Self.insertEventSQL + " RETURNING id", binds: binds), logger: self.logger)
                var isNew = false
                for try await _ in inserted.decode(String.self) { isNew = true }
                guard isNew else { return }  // already recorded
                var released = 0
                if let reservation, !reservation.charges.isEmpty {
                    let rows = try await connection.query("DELETE FROM reservations WHERE id = \(reservation.id) RETURNING tokens",
                                                          logger: self.logger)
                    for try await tokens in rows.decode(Int.self) { released = tokens }
                }
                for charge in usage.charges {
                    var binds = PostgresBindings()
                    Self.bindKey(charge, into: &binds, withPeriodEnd: true)
                    binds.append(charge.limit)
                    binds.append(usage.usage.total)
                    binds.append(released)
                    try await connection.query(PostgresQuery(unsafeSQL: Self.chargeSQL, binds: binds), logger: self.logger)
                }
            }
        }
    }

    /// Reservations are holds, not usage: losing the last few to a server crash only frees budget
    /// early, so their commits need not wait for the WAL flush (settlements still do). This halves
    /// the fsyncs per request.
    private static func skipCommitFlush(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SET LOCAL synchronous_commit TO OFF", logger: logger)
    }

    private static func bindKey(_ charge: BudgetCharge, into binds: inout PostgresBindings, withPeriodEnd: Bool) {
        binds.append(charge.subject.kind)
        binds.append(charge.subject.name)
        binds.append(charge.window)
        binds.append(Int(charge.period.start))
        if withPeriodEnd { binds.append(Int(charge.period.end)) }
    }

    private static func window(_ charge: BudgetCharge, on connection: PostgresConnection,
                               logger: Logger) async throws -> BudgetTotals? {
        var binds = PostgresBindings()
        bindKey(charge, into: &binds, withPeriodEnd: false)
        let rows = try await connection.query(PostgresQuery(unsafeSQL: selectWindowSQL, binds: binds), logger: logger)
        var out: BudgetTotals?
        for try await (used, reserved) in rows.decode((Int, Int).self) { out = BudgetTotals(used: used, reserved: reserved) }
        return out
    }

    /// Adds `tokens` to `charge`'s row with `sql` (a conditional reserve or grow, binding the row's
    /// key, its limit and the tokens) and returns the row's totals after it, or throws the refusal.
    private static func take(_ tokens: Int, on charge: BudgetCharge, with sql: String, on connection: PostgresConnection,
                             logger: Logger) async throws -> BudgetTotals {
        var binds = PostgresBindings()
        bindKey(charge, into: &binds, withPeriodEnd: sql == reserveSQL)
        binds.append(charge.limit)
        binds.append(tokens)
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        var row: (Int, Int)?
        for try await values in rows.decode((Int, Int).self) { row = values }
        guard let (used, reserved) = row else {
            let current = try await window(charge, on: connection, logger: logger)
            throw BudgetRefusal(charge: charge, requested: tokens, totals: current ?? BudgetTotals())
        }
        return BudgetTotals(used: used, reserved: reserved)
    }

    /// Runs `query` (deleting reservations, returning their tokens and charges) and takes what they
    /// held off their rows; returns how many it deleted.
    private static func giveBack(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query(query, logger: logger)
        var deleted: [(Int, String)] = []
        for try await row in rows.decode((Int, String).self) { deleted.append(row) }
        for (tokens, charges) in deleted {
            try await decrement(LedgerSchema.decode(charges), by: tokens, on: connection, logger: logger)
        }
        return deleted.count
    }

    private static func decrement(_ charges: [BudgetCharge], by tokens: Int, on connection: PostgresConnection,
                                  logger: Logger) async throws {
        for charge in charges {
            var binds = PostgresBindings()
            binds.append(tokens)
            bindKey(charge, into: &binds, withPeriodEnd: false)
            try await connection.query(PostgresQuery(unsafeSQL: unreserveSQL, binds: binds), logger: logger)
        }
    }

    /// Runs `body` with a deadline, turning every failure except a refusal into `LedgerUnavailable`.
    private func guarded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = operationTimeout
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw LedgerUnavailable(backend: "postgres", reason: "no answer within \(timeout)")
                }
                return value
            }
        } catch let error as LedgerUnavailable {
            throw error
        } catch let refusal as BudgetRefusal {
            throw refusal
        } catch let error as PostgresTransactionError {
            if let refusal = error.closureError as? BudgetRefusal { throw refusal }
            throw LedgerUnavailable(backend: "postgres", reason: String(reflecting: error))
        } catch {
            throw LedgerUnavailable(backend: "postgres", reason: String(reflecting: error))
        }
    }
}
