import MeshgateAI
import MeshgateCore
import NIOCore
import Testing
@testable import MeshgateProxy

/// Which LLM answer asked for a tool, per client, within a window.
@Suite struct LLMToolCallMemoryTests {
    @Test func theLatestAnswerOfTheSameClientWithinTheWindowIsFound() {
        let memory = LLMToolCallMemory()
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let alice = LLMToolCallMemory.client(identity: Identity(name: "alice", team: nil), address: "10.0.0.5")
        memory.remember([LLMToolCall(id: "call_1", name: "create_issue"), LLMToolCall(id: "call_2", name: nil)], llmRequestID: "r1", client: alice, now: t0)
        memory.remember([LLMToolCall(id: "call_3", name: "create_issue")], llmRequestID: "r2", client: alice, now: t0 + .seconds(5))
        #expect(memory.find(tool: "create_issue", client: alice, now: t0 + .seconds(6))?.llmRequestID == "r2")
        #expect(memory.find(tool: "create_issue", client: alice, now: t0 + .seconds(6))?.callID == "call_3")
        #expect(memory.find(tool: "delete_repo", client: alice, now: t0 + .seconds(6)) == nil)
        let bob = LLMToolCallMemory.client(identity: Identity(name: "bob", team: nil), address: "10.0.0.5")
        #expect(memory.find(tool: "create_issue", client: bob, now: t0 + .seconds(6)) == nil, "another identity on the same address")
        #expect(memory.find(tool: "create_issue", client: alice, now: t0 + .minutes(31)) == nil, "too late to be its answer")
        let anonymous = LLMToolCallMemory.client(identity: nil, address: "10.0.0.7")
        #expect(anonymous == "ip:10.0.0.7")
    }
}
