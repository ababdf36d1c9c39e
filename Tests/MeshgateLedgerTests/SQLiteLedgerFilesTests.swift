import Foundation
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

/// The SQLite ledger says who spent what: its files are readable by meshgate's user only, whatever
/// the umask (SQLite alone creates them 0644).
@Suite struct SQLiteLedgerFilesTests {
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test func aNewLedgerAndItsWALAre0600() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/ledger.db"
            let ledger = try SQLiteTokenLedger(path: path)
            try await ledger.record(record("mode-1", team: "platform", identity: "agent", total: 100, charges: [], at: 1_795_959_650))
            #expect(ledger.tightenedFiles.isEmpty)
            #expect(Self.mode(path) == 0o600)
            #expect(FileManager.default.fileExists(atPath: path + "-wal"), "WAL mode keeps a -wal file while open")
            for companion in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + companion) {
                #expect(Self.mode(path + companion) == 0o600, "\(companion)")
            }
            try ledger.close()
        }
    }

    @Test func anExisting0644LedgerIsTightenedAtOpen() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/ledger.db"
            // A ledger made by an older meshgate: 0644 database and WAL.
            let old = try SQLiteTokenLedger(path: path)
            try await old.record(record("mode-2", team: "platform", identity: "agent", total: 100, charges: [], at: 1_795_959_650))
            try old.close()
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                #expect(chmod(file, 0o644) == 0)
            }

            let ledger = try SQLiteTokenLedger(path: path)
            #expect(ledger.tightenedFiles.contains(path))
            #expect(Self.mode(path) == 0o600)
            for companion in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + companion) {
                #expect(Self.mode(path + companion) == 0o600, "\(companion)")
            }
            // The data is still there.
            let usage = try await ledger.usageByIdentity(sinceMilliseconds: 0)
            #expect(usage.map(\.used) == [100])
            try ledger.close()
        }
    }
}
