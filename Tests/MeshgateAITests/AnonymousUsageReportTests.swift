import Testing
@testable import MeshgateAI

/// `meshgate usage` and `/admin/usage` count calls made without an identity (issue 18, finding 9).
@Suite struct AnonymousUsageReportTests {
    @Test func callsWithoutAnIdentityAreReportedAsNull() async throws {
        let ledger = InMemoryTokenLedger()
        let now: Int64 = 1_772_366_400  // 2026-03-01T12:00:00Z
        for (id, identity, team) in [("1", nil, nil), ("2", nil, nil), ("3", "agent-1", "platform")] as [(String, String?, String?)] {
            await ledger.record(UsageRecord(id: id, timestampMilliseconds: now * 1000, identity: identity, team: team, provider: "openai",
                                            model: "gpt-4o", usage: TokenUsage(input: 10, output: 12), charges: []))
        }
        let report = try await ledger.report(budgets: [], now: now)
        #expect(report.identities.map(\.identity) == ["agent-1", nil], "\(report)")
        #expect(report.identities.last?.used == 44)
        #expect(report.json.contains(#"{"identity":null,"team":null,"used":44}"#), "\(report.json)")
    }
}
