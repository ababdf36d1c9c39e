import MeshgateAI
import MeshgateCore
import NIOConcurrencyHelpers
import NIOCore

/// Which LLM answer asked for which tool, per client, so that an MCP `tools/call` that follows can
/// name the LLM call behind it (`llm_request_id`): the thread an investigator follows from an
/// identity through a model's decision to the tool it ran. Bounded; old answers are forgotten.
final class LLMToolCallMemory: Sendable {
    struct Asked: Sendable {
        /// The LLM call's `request_id`.
        let llmRequestID: String
        /// The provider's id of the tool call, when it gave one.
        let callID: String?
        let at: NIODeadline
    }

    /// A tool call this much later than the answer that asked for it is not linked to it.
    static let window = TimeAmount.minutes(30)
    private let asked = NIOLockedValueBox(LRUCache<String, Asked>(capacity: 4096))

    /// Remembers the tools an LLM answer to `client` asked for.
    func remember(_ calls: [LLMToolCall], llmRequestID: String, client: String, now: NIODeadline = .now()) {
        asked.withLockedValue { cache in
            for call in calls {
                guard let name = call.name else { continue }
                _ = cache.set(Self.key(client, name), Asked(llmRequestID: llmRequestID, callID: call.id, at: now))
            }
        }
    }

    /// The latest LLM answer to `client` that asked for `tool`, within the window.
    func find(tool: String, client: String, now: NIODeadline = .now()) -> Asked? {
        asked.withLockedValue { cache in
            guard let found = cache.get(Self.key(client, tool)), now - found.at <= Self.window else { return nil }
            return found
        }
    }

    /// The client is the identity when known, else the address (a laptop's agent and its model calls
    /// share it, whichever connections they use).
    static func client(identity: Identity?, address: String?) -> String {
        identity.map { "id:" + $0.name } ?? "ip:" + (address ?? "-")
    }

    private static func key(_ client: String, _ tool: String) -> String { client + "\u{0}" + tool }
}
