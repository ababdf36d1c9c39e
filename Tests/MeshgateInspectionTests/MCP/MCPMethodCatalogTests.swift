import MeshgateInspection
import Testing

@Suite struct MCPMethodCatalogTests {
    @Test(arguments: [
        ("initialize", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]),
        ("notifications/initialized", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]),
        ("ping", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]),
        ("logging/setLevel", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]),
        ("resources/subscribe", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]),
        ("notifications/roots/list_changed", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]),
        ("tools/call", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]),
        ("completion/complete", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]),
        ("elicitation/create", ["2025-06-18", "2025-11-25", "2026-07-28"]),
        ("tasks/result", ["2025-11-25"]),
        ("tasks/list", ["2025-11-25"]),
        ("notifications/tasks/status", ["2025-11-25"]),
        ("notifications/elicitation/complete", ["2025-11-25"]),
        ("tasks/get", ["2025-11-25", "2026-07-28"]),
        ("tasks/update", ["2026-07-28"]),
        ("server/discover", ["2026-07-28"]),
        ("subscriptions/listen", ["2026-07-28"]),
        ("notifications/subscriptions/acknowledged", ["2026-07-28"]),
        ("eth_call", []),
        ("textDocument/didOpen", []),
    ])
    func versionsDefining(method: String, versions: [String]) {
        #expect(MCPMethodCatalog.versions(defining: method).map(\.rawValue) == versions)
        #expect(MCPMethodCatalog.isKnown(method) == !versions.isEmpty)
    }

    @Test func everyAmbiguousMethodIsAnMCPMethod() {
        #expect(MCPMethodCatalog.ambiguousMethods.isSubset(of: MCPMethodCatalog.allMethods))
    }

    @Test func versionsAreOrderedByDate() {
        #expect(MCPProtocolVersion.allCases.sorted() == MCPProtocolVersion.allCases)
        #expect(MCPProtocolVersion.v2026_07_28 > .v2025_11_25)
    }
}
