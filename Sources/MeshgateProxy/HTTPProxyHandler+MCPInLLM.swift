import MeshgateAI
import MeshgatePolicy
import NIOCore
import NIOHTTP1

extension HTTPProxyHandler {
    /// MCP servers an allowed LLM request asks its provider to connect to are judged like requests
    /// to them: one the policy blocks blocks the whole call (the policy's 403); one it reroutes or
    /// redirects is swapped for the target in the body, so the provider connects to the portal.
    /// Returns true when the call was answered here.
    func policeMCPServers(_ tx: HTTPTransaction, facts: BodyFacts, policy: PolicyEngine, context: ChannelHandlerContext) -> Bool {
        guard !facts.mcp.serverURLs.isEmpty else { return false }
        var swaps: [(from: String, to: String)] = []
        for (url, verdict) in policy.evaluateMCPServers(facts.mcp.serverURLs, identity: identity) {
            for detection in verdict.detections where !tx.detections.contains(detection) { tx.detections.append(detection) }
            switch verdict.action {
            case .allow, .log, .limit:
                if verdict.action == .log, tx.action == .allow { tx.action = .log }
                continue
            case .block:
                tx.action = .block
                tx.rule = verdict.rule
                tx.ruleset = verdict.ruleset
                logger.info("refused an LLM call naming a blocked MCP server", metadata: ["server_url": "\(ProxyRequestClassifier.quoted(url))", "rule_id": "\(verdict.rule ?? "-")"])
                respondLocally(tx, PolicyResponse.block(rule: verdict.rule, portal: policy.portal, jsonRPC: nil,
                                                        accept: tx.head.headers.first(name: "accept")),
                               close: Self.hasBody(tx.head) && !tx.requestEnded)
                return true
            case .redirect, .reroute:
                guard let target = verdict.target else { continue }
                tx.action = verdict.action
                tx.rule = verdict.rule
                tx.ruleset = verdict.ruleset
                tx.redirectTarget = target
                swaps.append((url, target))
            }
        }
        guard !swaps.isEmpty else { return false }
        switch swapServerURLs(tx, swaps) {
        case .swapped: return false
        case .answered: return true
        case .notFound: break
        }
        // Written with escapes the plain text does not match: never let the shadow server through.
        tx.action = .block
        tx.error = "an MCP server URL to swap for the portal is written in a form meshgate cannot rewrite; the call is refused"
        respondLocally(tx, PolicyResponse.block(rule: tx.rule, portal: policy.portal, jsonRPC: nil, accept: tx.head.headers.first(name: "accept")),
                       close: Self.hasBody(tx.head) && !tx.requestEnded)
        return true
    }

    /// Replaces each server URL, as a JSON string, in the held body (and in the `ai` listener's copy
    /// that fallbacks translate from).
    private enum SwapOutcome { case swapped, notFound, answered }

    private func swapServerURLs(_ tx: HTTPTransaction, _ swaps: [(from: String, to: String)]) -> SwapOutcome {
        var body = tx.heldBody.map { Array($0.readableBytesView) } ?? []
        for (from, to) in swaps {
            let replaced = Self.replacing(Array(UsageReport.quote(from).utf8), with: Array(UsageReport.quote(to).utf8), in: body)
            guard replaced != body else { return .notFound }
            body = replaced
        }
        tx.replaceHeldBody(ByteBuffer(bytes: body))
        if var attempts = tx.aiAttempts {
            var original = attempts.body
            for (from, to) in swaps {
                original = Self.replacing(Array(UsageReport.quote(from).utf8), with: Array(UsageReport.quote(to).utf8), in: original)
            }
            attempts.body = original
            tx.aiAttempts = attempts
            // Re-derives the forwarded body from the swapped copy (translated as needed).
            if !prepareAttempt(tx) { return .answered }
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
