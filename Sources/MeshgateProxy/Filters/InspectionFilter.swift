import Logging
import MeshgateCore
import MeshgateInspection
import MeshgatePolicy
import NIOCore

/// Undoes a held body's Content-Encoding (every coding, in order, up to the inspection cap) so the
/// rules and the LLM meter read what the origin will. A body meshgate cannot decode is refused
/// under the rule that needs it with `inspection.undecodable: block`, since the origin may decode
/// what the rules could not see; otherwise it is inspected as sent.
final class InspectionFilter: ExchangeFilter {
    private let configuration: ProxyConfiguration
    private let identity: Identity?
    private let logger: Logger

    init(configuration: ProxyConfiguration, identity: Identity?, logger: Logger) {
        self.configuration = configuration
        self.identity = identity
        self.logger = logger
    }

    func requestBody(exchange tx: HTTPTransaction) -> FilterStatus {
        let raw = tx.requestBody.inspection.map { Array($0.readableBytesView) } ?? []
        tx.requestBody.inspection = nil
        let cap = configuration.maxInspectedBodyBytes
        var body = raw
        let encodings = tx.head.headers["content-encoding"]
        if !encodings.isEmpty {
            switch Self.decode(raw, contentEncoding: encodings.joined(separator: ", "), cap: cap, complete: tx.progress.requestEnded) {
            case .success(let decoded):
                body = decoded
            case .failure(let error):
                tx.verdict.detections.append(PolicyEngine.undecodableBodyDetection)
                if let refusal = refuseUndecodable(tx, error: error) { return refusal }
            }
        }
        tx.noteInspectedBody(decodedBytes: body.count, cap: cap)
        tx.requestBody.inspected = body
        return .continue
    }

    /// Undoes the held body's Content-Encoding up to `cap`. When the request has not ended (only a
    /// prefix was held, `over_limit: inspect_prefix`) the stream is cut off on purpose, so that is
    /// no error: what was decoded is inspected.
    static func decode(_ raw: [UInt8], contentEncoding: String, cap: Int, complete: Bool) -> Result<[UInt8], BodyDecodingError> {
        Result { () throws(BodyDecodingError) in
            let decoder = try BodyDecoder(contentEncoding: contentEncoding, maxDecodedBytes: cap)
            let bytes = try decoder.decode(raw)
            if complete { try decoder.finish() }
            return bytes
        }
    }

    private func refuseUndecodable(_ tx: HTTPTransaction, error: BodyDecodingError) -> FilterStatus? {
        guard configuration.undecodable == .block, let policy = tx.verdict.policy,
              let verdict = policy.undecodableBodyVerdict(for: tx.policyRequest(identity: identity)) else { return nil }
        tx.verdict.action = .block
        tx.verdict.rule = verdict.rule
        tx.verdict.ruleset = verdict.ruleset
        tx.audit.error = "request body not inspected: \(error)"
        // Client-controlled and possibly frequent: debug, not info.
        logger.debug("refused a body that could not be decoded", metadata: [
            "rule_id": "\(verdict.rule ?? "-")", "error": "\(error)",
        ])
        let response = PolicyResponse.block(rule: verdict.rule, portal: policy.portal, jsonRPC: nil, accept: tx.head.headers.first(name: "accept"))
        return .reply(response, close: RequestShape.hasBody(tx.head) && !tx.progress.requestEnded)
    }
}
