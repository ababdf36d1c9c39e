import Foundation
import Logging
import MeshgateCore
@testable import MeshgateDashboard
import MeshgateJSON
import Testing

@Suite struct MCPInventoryTests {
    @Test func aServerIsKeyedByItsURLWithoutQueryAndRemembersWhoUsedItAndWhatWasDone() throws {
        var inventory = MCPInventory()
        inventory.add(Fixture.http(100, action: .block, identity: "agent-1", team: "platform", tool: "read_secrets", protocolVersion: "2025-06-18"))
        inventory.add(Fixture.http(200, path: "/mcp?session=2", action: .allow, identity: "agent-2", team: "platform", tool: "list_issues"))
        inventory.add(Fixture.http(300, action: .block, identity: "agent-1", team: "platform", tool: "read_secrets"))
        inventory.add(Fixture.http(400, host: "not-mcp.example.com", mcpServer: nil))  // not MCP: no entry
        #expect(inventory.servers.count == 1)
        let server = try #require(inventory.servers["https://mcp.example.com/mcp"])
        #expect(server.firstSeen == 100 && server.lastSeen == 300 && server.calls == 3)
        #expect(server.actions == ["block": 2, "allow": 1])
        #expect(server.identities == ["agent-2", "agent-1"], "most recent last")
        #expect(server.teams == ["platform"])
        #expect(server.protocolVersion == "2025-06-18")
        #expect(server.registeredAs == nil)
        #expect(server.tools["read_secrets"] == MCPInventory.Tool(calls: 2, blocked: 2, lastSeen: 300, drift: nil))
        #expect(server.tools["list_issues"]?.blocked == 0)
    }

    @Test func batchesCountEveryToolAndDriftMarksTheRegisteredServersTools() throws {
        var inventory = MCPInventory()
        inventory.add(Fixture.http(100, host: "github.example", mcpServer: .string("github"), tool: "a", tools: ["a", "b"], transport: "sse"))
        inventory.add(Fixture.drift(150, server: "github", tool: "b", change: "changed"))
        inventory.add(Fixture.drift(160, server: "other", tool: "a", change: "removed"))
        let server = try #require(inventory.servers["https://github.example/mcp"])
        #expect(server.registeredAs == "github" && server.transport == "sse")
        #expect(server.tools["a"]?.calls == 1 && server.tools["b"]?.calls == 1)
        #expect(server.tools["b"]?.drift == "changed")
        #expect(server.tools["a"]?.drift == nil, "drift of another registry entry")
        let json = try JSONParser.parse(DashboardJSON.inventory(Array(inventory.servers.values)))
        let first = try #require(json["servers"]?.arrayValue?.first)
        #expect(first["governance"]?.stringValue == "drift")
        #expect(first["url"]?.stringValue == "https://github.example/mcp")
        #expect(first["tools"]?.arrayValue?.map { $0["name"]?.stringValue } == ["a", "b"])
    }

    @Test func peopleAndServersAreBounded() {
        var inventory = MCPInventory()
        for i in 0..<(MCPInventory.maxPeople + 5) { inventory.add(Fixture.http(Int64(i), identity: "agent-\(i)", tool: "t")) }
        #expect(inventory.servers.first?.value.identities.count == MCPInventory.maxPeople)
        #expect(inventory.servers.first?.value.identities.last == "agent-\(MCPInventory.maxPeople + 4)")
        for i in 0..<(MCPInventory.maxServers + 3) { inventory.add(Fixture.http(Int64(1_000 + i), host: "s\(i).example")) }
        #expect(inventory.servers.count == MCPInventory.maxServers)
        #expect(inventory.servers["https://mcp.example.com/mcp"] == nil, "the least recently seen went first")
        #expect(inventory.servers["https://s\(MCPInventory.maxServers + 2).example/mcp"] != nil)
    }
}

@Suite struct SpendHistoryTests {
    static let day: Int64 = 86_400_000

    @Test func tokensAddUpPerDayTeamIdentityProviderAndModel() {
        var history = SpendHistory()
        history.add(Fixture.ai(20_000 * Self.day + 5, input: 10, output: 5))
        history.add(Fixture.ai(20_000 * Self.day + 9, input: 1, output: 1))
        history.add(Fixture.ai(20_001 * Self.day, model: "claude", input: 3, output: 4))
        history.add(Fixture.dns())
        let key = SpendHistory.Key(day: 20_000, team: "platform", identity: "agent-1", provider: "openai", model: "gpt-4o")
        #expect(history.entries[key] == SpendHistory.Tokens(input: 11, output: 6, calls: 2))
        #expect(history.entries.count == 2)
        let json = DashboardJSON.history(history.entries)
        #expect(json["days"]?.arrayValue?.first?["day"]?.stringValue == "2024-10-05", "newest day first (day 20,001)")
        #expect(json["models"]?.arrayValue?.map { $0["model"]?.stringValue } == ["gpt-4o", "claude"], "most tokens first")
    }

    @Test func daysOlderThanTheWindowAreDropped() {
        var history = SpendHistory()
        history.add(Fixture.ai(100 * Self.day, input: 1, output: 1))
        history.add(Fixture.ai((100 + SpendHistory.days) * Self.day, input: 1, output: 1))
        #expect(history.entries.keys.map(\.day) == [100 + SpendHistory.days])
        let dirty = history.takeDirty()
        #expect(dirty.contains { $0.key.day == 100 && $0.tokens == nil }, "the store is told to delete it")
    }
}

@Suite struct DashboardStoreTests {
    @Test func theInventoryAndHistorySurviveAReopenAndTheFileIsPrivate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-dashboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(DashboardStore.fileName).path
        let logger = Logger(label: "test")
        do {
            let feed = DashboardFeed(store: try DashboardStore(path: path), logger: logger)
            feed.observe([Fixture.http(100, action: .block, identity: "agent-1", tool: "read_secrets"),
                          Fixture.ai(200, input: 7, output: 3)][...])
            feed.flush()
            feed.observe([Fixture.http(300, host: "second.example", tool: "x")][...])
            feed.flush()
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let reopened = DashboardFeed(store: try DashboardStore(path: path), logger: logger)
        #expect(Set(reopened.servers.map(\.url)) == ["https://mcp.example.com/mcp", "https://second.example/mcp"])
        #expect(reopened.servers.first { $0.host == "mcp.example.com" }?.tools["read_secrets"]?.blocked == 1)
        #expect(reopened.spend.values.map(\.total) == [10])
        #expect(reopened.latestSequence == 0, "recent decisions are memory only")
    }

    @Test func anUnreadableStoreIsNamed() {
        #expect(throws: DashboardStoreError.self) { try DashboardStore(path: "/proc/meshgate-no/dashboard.sqlite") }
    }
}

@Suite struct DashboardFeedTests {
    @Test func decisionsComeWithTheirSequenceAndTheNextCursor() throws {
        let feed = DashboardFeed(ringCapacity: 3, store: nil, logger: Logger(label: "test"))
        feed.observe((1...5).map { Fixture.dns(Int64($0), name: "n\($0).example") }[...])
        let (events, next) = feed.decisions(after: 0, limit: 10, filter: DecisionFilter())
        #expect(events.map(\.sequence) == [3, 4, 5] && next == 5)
        let json = try JSONParser.parse(DashboardJSON.decisions(events, next: next))
        #expect(json["next"]?.description == "5")
        #expect(json["decisions"]?.arrayValue?.first?["record"]?["qname"]?.stringValue == "n3.example")
        #expect(json["decisions"]?.arrayValue?.first?["seq"]?.description == "3")
        let filtered = feed.decisions(after: 0, limit: 10, filter: DecisionFilter(host: "n4"))
        #expect(filtered.events.map(\.sequence) == [4] && filtered.next == 5, "a filtered reader still moves past what it skipped")
    }
}
