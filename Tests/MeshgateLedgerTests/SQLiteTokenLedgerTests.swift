import Foundation
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

/// What only the SQLite ledger promises: a versioned file, and settled usage that outlives the process.
@Suite struct SQLiteTokenLedgerTests {
    @Test func sqliteSchemaIsVersionedAndReopens() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/nested/ledger.db"
            let budgets = [TokenBudget(subject: .team("t"), tokens: 100, window: .month)]
            let charges = TokenBudget.charges(budgets, identity: "a", team: "t", at: LedgerTests.now)
            do {
                let ledger = try SQLiteTokenLedger(path: path)
                #expect(try ledger.schemaVersion() == LedgerSchema.latestVersion)
                try await ledger.record(record("r1", team: "t", identity: "a", total: 42, charges: charges, at: LedgerTests.now))
                // No close: the next open must still see the committed row.
            }
            let reopened = try SQLiteTokenLedger(path: path)
            try await reopened.ping()
            #expect(try reopened.schemaVersion() == LedgerSchema.latestVersion)
            #expect(try await reopened.report(budgets: budgets, now: LedgerTests.now).teams.first?.used == 42)
            let journal = try String(contentsOfFile: path + "-wal", encoding: .isoLatin1)
            #expect(!journal.isEmpty)  // WAL mode
        }
    }

    @Test func sqliteUnopenableFileIsUnavailable() {
        #expect(throws: LedgerUnavailable.self) { try SQLiteTokenLedger(path: "/proc/meshgate-cannot-write-here/ledger.db") }
    }

    /// A child process settles usage and is killed with SIGKILL mid-flight; the usage is still there,
    /// and its open reservation is reclaimed once it expires.
    @Test func sqliteSettledUsageSurvivesKill9() async throws {
        let tool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("MeshgateLedgerBench").path
        let toolPath = FileManager.default.isExecutableFile(atPath: tool) ? tool
            : URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/MeshgateLedgerBench").path
        try #require(FileManager.default.isExecutableFile(atPath: toolPath), "build the MeshgateLedgerBench product first (swift build)")
        try await withTemporaryDirectory { dir in
            let database = dir + "/ledger.db", marker = dir + "/settled"
            let child = Process()
            child.executableURL = URL(fileURLWithPath: toolPath)
            child.arguments = ["settle-and-wait", "sqlite:" + database, "25", marker]
            child.standardOutput = FileHandle.nullDevice
            try child.run()
            var waited = 0
            while !FileManager.default.fileExists(atPath: marker), waited < 600, child.isRunning {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(FileManager.default.fileExists(atPath: marker), "the child never reported its settlements")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)

            let ledger = try SQLiteTokenLedger(path: database)
            let budgets = [TokenBudget(subject: .team("durable"), tokens: 1_000_000, window: .month)]
            let now = Int64(Date().timeIntervalSince1970)
            let team = try #require(try await ledger.report(budgets: budgets, now: now).teams.first)
            #expect(team.used == 25 * 100)
            #expect(team.reserved == 700)
            #expect(try await ledger.reclaimAbandoned(now: now + defaultReservationLifetimeSeconds + 1, staleBefore: 0) == 1)
            #expect(try await ledger.report(budgets: budgets, now: now).teams.first?.reserved == 0)
        }
    }
}
