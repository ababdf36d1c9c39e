@testable import MeshgateProxy
import NIOHTTP1
import Testing

@Suite struct HTTPTransactionInspectionTests {
    static func transaction(encoding: String? = nil, ended: Bool) -> HTTPTransaction {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/upload")
        if let encoding { head.headers.add(name: "Content-Encoding", value: encoding) }
        let tx = HTTPTransaction(head: head, scheme: "http", host: "example.com", port: 80, path: "/upload", intercepted: false)
        tx.progress.requestEnded = ended
        return tx
    }

    @Test func aDecisionBeforeTheBodyEndedIsOnAPrefix() {
        let tx = Self.transaction(ended: false)
        tx.noteInspectedBody(decodedBytes: 8192, cap: 1024)
        #expect(tx.verdict.inspectedPrefixBytes == 1024)
    }

    @Test func aWholeBodyWithinTheCapIsNotFlagged() {
        let tx = Self.transaction(ended: true)
        tx.noteInspectedBody(decodedBytes: 1024, cap: 1024)
        #expect(tx.verdict.inspectedPrefixBytes == nil)
    }

    @Test func aBodyThatDecodesToTheCapWasCutByTheDecoder() {
        let tx = Self.transaction(encoding: "gzip", ended: true)
        tx.noteInspectedBody(decodedBytes: 1024, cap: 1024)
        #expect(tx.verdict.inspectedPrefixBytes == 1024)
        let small = Self.transaction(encoding: "gzip", ended: true)
        small.noteInspectedBody(decodedBytes: 100, cap: 1024)
        #expect(small.verdict.inspectedPrefixBytes == nil)
    }

    @Test func theAuditLineSaysSo() {
        let tx = Self.transaction(ended: false)
        tx.noteInspectedBody(decodedBytes: 5000, cap: 2048)
        let event = tx.auditEvent(client: nil, identity: nil)
        #expect(event.fields.contains { $0.0 == "body_truncated" && $0.1 == .bool(true) })
        #expect(event.fields.contains { $0.0 == "inspected_bytes" && $0.1 == .int(2048) })
    }
}
