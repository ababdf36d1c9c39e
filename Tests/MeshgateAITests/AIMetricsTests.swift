import MetricsTestKit
import Testing
@testable import MeshgateAI

@Suite struct AIMetricsTests {
    @Test func tokensAreCountedByKind() throws {
        let factory = TestMetrics()
        let metrics = AIMetrics(factory: factory)
        metrics.record(TokenUsage(input: 25, output: 89, cacheRead: 4000, cacheCreation: 300), team: "platform",
                       provider: "anthropic", model: "claude-sonnet-4")
        metrics.record(TokenUsage(input: 5, output: 7, estimated: true), team: "platform", provider: "anthropic", model: "claude-sonnet-4")
        func tokens(_ kind: String) throws -> Int64 {
            try factory.expectCounter(AIMetrics.tokensMetric, [("team", "platform"), ("provider", "anthropic"),
                                                                ("model", "claude-sonnet-4"), ("kind", kind)]).totalValue
        }
        #expect(try tokens("input") == 30)
        #expect(try tokens("output") == 96)
        #expect(try tokens("cache_read") == 4000)
        #expect(try tokens("cache_creation") == 300)
        #expect(try factory.expectCounter(AIMetrics.estimatedMetric, [("provider", "anthropic")]).totalValue == 1)
    }

    @Test func refusalsAndRemaining() throws {
        let factory = TestMetrics()
        let metrics = AIMetrics(factory: factory)
        let charge = TokenBudget(subject: .team("platform"), tokens: 1000, window: .month).charge(at: 0)
        metrics.record(BudgetRefusal(charge: charge, requested: 500, used: 800, reserved: 0))
        let dimensions = [("subject_kind", "team"), ("subject", "platform"), ("window", "month")]
        #expect(try factory.expectCounter(AIMetrics.refusalsMetric, dimensions).totalValue == 1)
        #expect(try factory.expectGauge(AIMetrics.remainingMetric, dimensions).lastValue == 200)
    }
}
