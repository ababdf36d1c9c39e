import Foundation
import GRDB

/// The dashboard's SQLite file in the state directory (`dashboard.sqlite`, mode 0600): the MCP
/// inventory and the token history, written in batches by ``DashboardFeed`` so that they survive
/// restarts (a `kill -9` loses at most the last flush interval).
public final class DashboardStore: Sendable {
    public static let fileName = "dashboard.sqlite"

    private let queue: DatabaseQueue
    public let path: String

    /// Opens (creating if needed) the store at `path`. Errors name the file and the cause.
    public init(path: String) throws {
        self.path = path
        if path != ":memory:", !FileManager.default.fileExists(atPath: path) {
            // Created private before SQLite opens it: SQLite would make it 0644.
            let fd = open(path, O_WRONLY | O_CREAT, 0o600)
            if fd >= 0 { close(fd) }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        do {
            queue = path == ":memory:" ? try DatabaseQueue(configuration: configuration) : try DatabaseQueue(path: path, configuration: configuration)
            try queue.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS mcp_servers (url TEXT PRIMARY KEY, json TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS spend_days (
                      day INTEGER NOT NULL, team TEXT NOT NULL, identity TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
                      input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, calls INTEGER NOT NULL,
                      PRIMARY KEY (day, team, identity, provider, model));
                    """)
            }
        } catch {
            throw DashboardStoreError(description: "cannot open the dashboard store \(path): \(error)")
        }
    }

    /// What was saved: the inventory's servers and the token history. A row that cannot be read
    /// (written by a newer version) is skipped.
    public func load() throws -> (servers: [MCPInventory.Server], spend: [SpendHistory.Key: SpendHistory.Tokens]) {
        do {
            return try queue.read { db in
                let decoder = JSONDecoder()
                let servers = try String.fetchAll(db, sql: "SELECT json FROM mcp_servers").compactMap {
                    try? decoder.decode(MCPInventory.Server.self, from: Data($0.utf8))
                }
                var spend: [SpendHistory.Key: SpendHistory.Tokens] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM spend_days") {
                    let key = SpendHistory.Key(day: row["day"], team: row["team"], identity: row["identity"], provider: row["provider"], model: row["model"])
                    spend[key] = SpendHistory.Tokens(input: row["input_tokens"], output: row["output_tokens"], calls: row["calls"])
                }
                return (servers, spend)
            }
        } catch {
            throw DashboardStoreError(description: "cannot read the dashboard store \(path): \(error)")
        }
    }

    /// Writes changed servers and token rows in one transaction (nil values are deleted).
    public func save(servers: [(url: String, server: MCPInventory.Server?)], spend: [(key: SpendHistory.Key, tokens: SpendHistory.Tokens?)]) throws {
        guard !servers.isEmpty || !spend.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            try queue.write { db in
                for (url, server) in servers {
                    if let server {
                        let json = String(decoding: try encoder.encode(server), as: UTF8.self)
                        try db.execute(sql: "INSERT INTO mcp_servers (url, json) VALUES (?, ?) ON CONFLICT(url) DO UPDATE SET json = excluded.json",
                                       arguments: [url, json])
                    } else {
                        try db.execute(sql: "DELETE FROM mcp_servers WHERE url = ?", arguments: [url])
                    }
                }
                for (key, tokens) in spend {
                    if let tokens {
                        try db.execute(sql: """
                            INSERT INTO spend_days (day, team, identity, provider, model, input_tokens, output_tokens, calls) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT(day, team, identity, provider, model) DO UPDATE SET
                              input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, calls = excluded.calls
                            """, arguments: [key.day, key.team, key.identity, key.provider, key.model, tokens.input, tokens.output, tokens.calls])
                    } else {
                        try db.execute(sql: "DELETE FROM spend_days WHERE day = ? AND team = ? AND identity = ? AND provider = ? AND model = ?",
                                       arguments: [key.day, key.team, key.identity, key.provider, key.model])
                    }
                }
            }
        } catch {
            throw DashboardStoreError(description: "cannot write the dashboard store \(path): \(error)")
        }
    }
}

/// The dashboard store could not be opened, read or written; names the file.
public struct DashboardStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
