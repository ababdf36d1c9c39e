import Foundation
import NIOCore
import Testing
@testable import MeshgateAI

@Suite struct ProviderErrorTests {
    static let refusal = BudgetRefusal(
        charge: TokenBudget(subject: .team("platform"), tokens: 1000, window: .fixed(seconds: 86_400)).charge(at: 1_795_959_650),
        requested: 300, used: 900, reserved: 0)

    @Test func openAIShape() throws {
        let body = ProviderError.rateLimitBody(format: .openai, message: ProviderError.message(for: Self.refusal))
        let error = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["error"] as? [String: Any])
        #expect(error["code"] as? String == "rate_limit_exceeded")
        #expect((error["message"] as? String)?.contains("resets at 2026-11-30T00:00:00Z") == true)
        #expect((error["message"] as? String)?.contains("100 left") == true)
    }

    @Test func anthropicShape() throws {
        let body = ProviderError.rateLimitBody(format: .anthropic, message: "over \"cap\"")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(json["type"] as? String == "error")
        #expect((json["error"] as? [String: Any])?["type"] as? String == "rate_limit_error")
        #expect((json["error"] as? [String: Any])?["message"] as? String == "over \"cap\"")
    }

    /// The cut event parses as an error event with the meter's own SSE reader.
    @Test(arguments: LLMFormat.allCases)
    func streamCutEventIsAnErrorEvent(format: LLMFormat) {
        var meter = UsageMeter(format: format, streaming: true)
        var events: [StreamUsageEvent] = []
        meter.consume(ByteBuffer(string: ProviderError.rateLimitEvent(format: format, message: "cap"))) { events.append($0) }
        #expect(events.count == 1)
        #expect(events.first?.isError == true)
    }
}
