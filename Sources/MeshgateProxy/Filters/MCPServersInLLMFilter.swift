import Logging
import MeshgateAI
import MeshgateCore
import MeshgateInspection
import MeshgatePolicy
import NIOCore
import NIOHTTP1

/// Carries out what the policy decided about the MCP servers and connectors an allowed LLM call
/// names (``PolicyEngine/decide(_:isLLMCall:connectors:)``): a refused one refuses the whole call in
/// the provider's error shape, naming the rule; swapped ones are replaced by their target in the
/// body, so the provider connects to the portal; stripped connectors are taken out of the body.
final class MCPServersInLLMFilter: ExchangeFilter {
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func requestBody(exchange tx: HTTPTransaction) -> FilterStatus {
        guard let decision = tx.verdict.decision, !decision.servers.isEmpty else { return .continue }
        if let refused = decision.servers.first(where: { $0.outcome == .refuse }) {
            let what = refused.isConnector ? "the MCP connector '\(refused.name)'" : "the MCP server \(refused.name)"
            let rule = refused.verdict.rule ?? "-"
            var message = "meshgate: this call asks the provider to use \(what), which rule '\(rule)' does not allow"
            if refused.isConnector, refused.verdict.action == .reroute || refused.verdict.action == .redirect {
                message += " (a connector has no URL to send to the portal; inspection.mcp_connectors: strip removes it instead)"
            }
            logger.info("refused an LLM call naming an MCP server the policy refuses", metadata: [
                "server": "\(ProxyRequestClassifier.quoted(refused.name))", "rule_id": "\(rule)",
            ])
            return refuseLLMCall(tx, message: message)
        }
        let swaps = decision.servers.compactMap { server -> (from: String, to: String)? in
            if case .swap(let target) = server.outcome { (server.name, target) } else { nil }
        }
        if let first = swaps.first { tx.verdict.redirectTarget = first.to }
        // Written with escapes the plain text does not match: never let the shadow server through.
        if !swaps.isEmpty, let refusal = settle(swapServerURLs(tx, swaps), tx,
                                                unrewritable: "an MCP server URL to swap for the portal is written in a form meshgate cannot rewrite; the call is refused") {
            return refusal
        }
        let stripped = Set(decision.servers.filter { $0.outcome == .strip }.map(\.name))
        if !stripped.isEmpty, let refusal = settle(stripConnectors(tx, stripped), tx,
                                                   unrewritable: "an MCP connector to remove is in a body meshgate cannot rewrite (encoded or not a JSON object); the call is refused") {
            return refusal
        }
        return .continue
    }

    /// What an edit of the body means for the call: nil when it goes on.
    private func settle(_ outcome: EditOutcome, _ tx: HTTPTransaction, unrewritable reason: String) -> FilterStatus? {
        switch outcome {
        case .swapped:
            return nil
        case .answered(let refusal):
            return .reply(refusal, close: false)
        case .notFound:
            tx.verdict.action = .block
            tx.audit.error = reason
            return refuseLLMCall(tx, message: "meshgate: " + reason)
        }
    }

    /// A 403 in the provider's error shape (so the agent's SDK raises its usual permission error),
    /// or meshgate's own block response when the request is not a recognised LLM call.
    private func refuseLLMCall(_ tx: HTTPTransaction, message: String) -> FilterStatus {
        tx.verdict.action = .block
        let close = RequestShape.hasBody(tx.head) && !tx.progress.requestEnded
        guard let call = tx.llm.call else {
            return .reply(PolicyResponse.block(rule: tx.verdict.rule, portal: tx.verdict.policy?.portal, jsonRPC: nil, accept: tx.head.headers.first(name: "accept")),
                          close: close)
        }
        tx.audit.error = tx.audit.error ?? message
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("X-Meshgate-Action", PolicyAction.block.rawValue)])
        if let rule = tx.verdict.rule { headers.add(name: "X-Meshgate-Rule", value: rule) }
        let body = ProviderError.body(format: tx.llm.attempts?.callerFormat ?? call.format, status: 403, message: message)
        return .reply(LocalResponse(status: .forbidden, headers: headers, body: body + "\n"), close: close)
    }

    /// Takes the connectors' tools out of the held body (and the `ai` listener's copy). `.notFound`
    /// when the body cannot be rewritten: it is content-encoded, or not a JSON object.
    private func stripConnectors(_ tx: HTTPTransaction, _ connectors: Set<String>) -> EditOutcome {
        guard !tx.head.headers.contains(name: "content-encoding"),
              let held = tx.heldBody.map({ Array($0.readableBytesView) }),
              let edited = MCPRecognizer.removingConnectors(connectors, from: held) else { return .notFound }
        tx.replaceHeldBody(ByteBuffer(bytes: edited))
        if var attempts = tx.llm.attempts {
            attempts.body = MCPRecognizer.removingConnectors(connectors, from: attempts.body) ?? attempts.body
            tx.llm.attempts = attempts
            if let refusal = AIAttemptPlan.prepare(tx) { return .answered(refusal) }
        }
        return .swapped
    }

    /// Replaces each server URL, as a JSON string, in the held body (and in the `ai` listener's copy
    /// that fallbacks translate from).
    private enum EditOutcome { case swapped, notFound, answered(LocalResponse) }

    private func swapServerURLs(_ tx: HTTPTransaction, _ swaps: [(from: String, to: String)]) -> EditOutcome {
        var body = tx.heldBody.map { Array($0.readableBytesView) } ?? []
        for (from, to) in swaps {
            let replaced = Self.replacing(Array(UsageReport.quote(from).utf8), with: Array(UsageReport.quote(to).utf8), in: body)
            guard replaced != body else { return .notFound }
            body = replaced
        }
        tx.replaceHeldBody(ByteBuffer(bytes: body))
        if var attempts = tx.llm.attempts {
            var original = attempts.body
            for (from, to) in swaps {
                original = Self.replacing(Array(UsageReport.quote(from).utf8), with: Array(UsageReport.quote(to).utf8), in: original)
            }
            attempts.body = original
            tx.llm.attempts = attempts
            // Re-derives the forwarded body from the swapped copy (translated as needed).
            if let refusal = AIAttemptPlan.prepare(tx) { return .answered(refusal) }
        }
        return .swapped
    }

    static func replacing(_ needle: [UInt8], with replacement: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        guard !needle.isEmpty, haystack.count >= needle.count else { return haystack }
        var out: [UInt8] = []
        out.reserveCapacity(haystack.count)
        var index = 0
        while index < haystack.count {
            if index + needle.count <= haystack.count, haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) {
                out += replacement
                index += needle.count
            } else {
                out.append(haystack[index])
                index += 1
            }
        }
        return out
    }
}
