import Logging
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

/// What only the PostgreSQL ledger promises: an unreachable server is an unavailable ledger, and
/// its URL and migrations are checked.
@Suite struct PostgresTokenLedgerTests {
    @Test func postgresUnreachableIsLedgerUnavailable() async throws {
        // A port nothing listens on.
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let ledger = try PostgresTokenLedger(url: "postgres://nobody:pw@127.0.0.1:1/none?sslmode=disable", logger: quiet,
                                             operationTimeout: .seconds(2))
        await withDiscardingTaskGroup { group in
            group.addTask { await ledger.run() }
            await #expect(throws: LedgerUnavailable.self) {
                try await ledger.reserve(1, charges: TokenBudget.charges([TokenBudget(subject: .team("t"), tokens: 5, window: .month)],
                                                                          identity: nil, team: "t", at: LedgerTests.now), now: LedgerTests.now)
            }
            await #expect(throws: LedgerUnavailable.self) { try await ledger.ping() }
            group.cancelAll()
        }
    }

    @Test(.enabled(if: postgresTestURL != nil, "MESHGATE_TEST_POSTGRES_URL is not set (run scripts/postgres-test-db.sh)"))
    func postgresMigrationsAreVersionedAndIdempotent() async throws {
        try await withPostgresLedger { ledger in
            try await ledger.migrate()
            #expect(try await ledger.schemaVersion() == LedgerSchema.latestVersion)
            try await ledger.ping()
        }
    }

    @Test func invalidPostgresURLsAreRejected() {
        #expect(throws: PostgresTokenLedger.InvalidURL.self) { try PostgresTokenLedger(url: "postgres:///nohost") }
        let error = #expect(throws: PostgresTokenLedger.InvalidURL.self) { try PostgresTokenLedger(url: "mysql://u:secret@h/db") }
        #expect(error?.description.contains("secret") == false)
    }
}
