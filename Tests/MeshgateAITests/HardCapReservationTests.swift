import MeshgateCore
import NIOCore
import Testing
@testable import MeshgateAI

/// What a hard-capped call reserves and how the provider is told to stop there (issue 18, finding 4):
/// input at two bytes a token, and an output cap written into a request that set none.
@Suite struct HardCapReservationTests {
    static let hard = [TokenBudget(subject: .team("t"), tokens: 10_000, window: .month, hardEnforcement: true)]
    static let member = Identity(name: "a", team: "t")

    @Test func aHardCapReservesInputAtTwoBytesATokenAndASoftOneAtFour() {
        let facts = LLMRequestFacts(model: "m", maxOutputTokens: 50, textBytes: 400)
        let soft = ReservationRequest(facts: facts, endpoint: .chatCompletions, defaultOutputTokens: 4096)
        let hard = ReservationRequest(facts: facts, endpoint: .chatCompletions, defaultOutputTokens: 4096, hardCap: true)
        #expect(soft.inputTokens == 100 && hard.inputTokens == 200)
        #expect(soft.tokens == 150 && hard.tokens == 250)
    }

    @Test(arguments: [(LLMEndpoint.chatCompletions, "max_completion_tokens"), (.responses, "max_output_tokens"),
                      (.completions, "max_tokens"), (.messages, "max_tokens")])
    func anOutputCapIsWrittenInTheMemberTheEndpointReads(endpoint: LLMEndpoint, member: String) throws {
        let body = ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        let edit = try #require(LLMRequestFacts.outputCapEdit(body: body, endpoint: endpoint, tokens: 321))
        #expect(String(buffer: edit.applied(to: body)) == #"{"model":"m","messages":[{"role":"user","content":"hi"}],"# + "\"\(member)\":321}")
    }

    @Test func aRequestWithItsOwnCapOrThatIsNoObjectIsLeftAlone() {
        let capped = ByteBuffer(string: #"{"model":"m","max_tokens":5,"messages":[]}"#)
        #expect(LLMRequestFacts.outputCapEdit(body: capped, endpoint: .chatCompletions, tokens: 9) == nil)
        #expect(LLMRequestFacts.outputCapEdit(body: ByteBuffer(string: #"{"model":"m""#), endpoint: .chatCompletions, tokens: 9) == nil)
        #expect(LLMRequestFacts.outputCapEdit(body: ByteBuffer(string: "[1]"), endpoint: .chatCompletions, tokens: 9) == nil)
        #expect(LLMRequestFacts.outputCapEdit(body: ByteBuffer(string: #"{"input":"x"}"#), endpoint: .embeddings, tokens: 9) == nil)
    }

    @Test func theInjectedCapIsTheOutputPartOfAHardCappedReservation() async throws {
        // Not a test of the deadline: a loaded runner must not turn this in-memory call into an outage.
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: Self.hard, ledger: InMemoryTokenLedger(), spool: nil, failOpen: false,
                                ledgerTimeout: .seconds(60))
        let facts = LLMRequestFacts(model: "m", textBytes: 40)  // 20 input tokens at two bytes each, no max_tokens
        let admission = await gateway.admit(facts: facts, endpoint: .chatCompletions, identity: Self.member)
        guard case .admitted(let reservation?) = admission else {
            Issue.record("not admitted: \(admission)"); return
        }
        #expect(reservation.tokens == 20 + 4096)
        #expect(gateway.injectedOutputCap(facts: facts, endpoint: .chatCompletions, identity: Self.member, reservation: reservation) == 4096)
        let asked = LLMRequestFacts(model: "m", maxOutputTokens: 10, textBytes: 40)
        #expect(gateway.injectedOutputCap(facts: asked, endpoint: .chatCompletions, identity: Self.member, reservation: reservation) == nil)
        let soft = AIGateway(recognizer: LLMCallRecognizer(), budgets: [TokenBudget(subject: .team("t"), tokens: 10_000, window: .month)],
                             ledger: InMemoryTokenLedger(), spool: nil, failOpen: false)
        #expect(soft.injectedOutputCap(facts: facts, endpoint: .chatCompletions, identity: Self.member, reservation: reservation) == nil)
    }
}
