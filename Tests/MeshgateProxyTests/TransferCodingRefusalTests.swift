import MeshgateCore
import NIOHTTP1
import Testing

@testable import MeshgateProxy

/// RFC 9112 §6.1: request bodies are forwarded with chunked framing only; any other transfer coding
/// is answered 501 rather than forwarded stripped of its coding and inspected still compressed.
@Suite("Transfer-Encoding other than chunked")
struct TransferCodingRefusalTests {
    static func classify(_ transferEncodings: [String], mode: ProxyRequestMode = .explicit) -> ProxyRequestKind {
        var headers = HTTPHeaders([("Host", "example.com")])
        for value in transferEncodings { headers.add(name: "Transfer-Encoding", value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: mode == .explicit ? "http://example.com/rpc" : "/rpc", headers: headers)
        return ProxyRequestClassifier.classify(head, mode: mode, configuration: ProxyConfiguration())
    }

    @Test(arguments: [[], ["chunked"], ["Chunked"], [" chunked "]])
    func chunkedAloneIsForwarded(values: [String]) {
        guard case .forward = Self.classify(values) else {
            Issue.record("expected .forward for \(values), got \(Self.classify(values))")
            return
        }
    }

    @Test(arguments: [["gzip, chunked"], ["gzip", "chunked"], ["deflate,chunked"], ["identity"], ["chunked, chunked"], ["br, chunked"]])
    func anyOtherCodingIs501(values: [String]) {
        guard case .reject(let status, let message) = Self.classify(values) else {
            Issue.record("expected .reject for \(values), got \(Self.classify(values))")
            return
        }
        #expect(status == .notImplemented)
        #expect(message.contains("chunked") && message.contains("Content-Encoding"), "\(message)")
    }

    @Test func insideAnInterceptedTunnelToo() {
        let mode = ProxyRequestMode.intercepted(authority: HostPort(host: "example.com", port: 443), serverName: "example.com")
        guard case .reject(.notImplemented, _) = Self.classify(["gzip, chunked"], mode: mode) else {
            Issue.record("expected 501 inside an intercepted tunnel")
            return
        }
    }

    @Test func aLongCodingListIsCutInTheMessage() {
        guard case .reject(_, let message) = Self.classify([String(repeating: "x", count: 10_000) + ", chunked"]) else {
            Issue.record("expected .reject")
            return
        }
        #expect(message.count < 300)
    }
}
