import MeshgateAudit
import MeshgateCore
import Testing

@Suite struct RedactingAuditSinkTests {
    static func event(_ kind: AuditEvent.Kind, _ fields: [(String, AuditValue)]) -> AuditEvent {
        AuditEvent(timestampMillis: 1_795_949_518_123, kind: kind, client: "127.0.0.1:52144", identity: nil, action: .allow, fields: fields,
                   requestID: "c3")
    }

    @Test func httpAndAILinesAreRedactedAndSaySoInTheirJSON() throws {
        let memory = MemoryAuditSink()
        let sink = RedactingAuditSink(memory, redactor: AuditRedactor(queryKeys: ["api-version"]))
        sink.record(Self.event(.http, [
            ("method", .string("GET")), ("host", .string("example.com")),
            ("path", .string("http://alice:S3cretPass@example.com/x?api_key=k&page=2")), ("status", .int(407)),
        ]))
        sink.record(Self.event(.ai, [
            ("path", .string("/openai/deployments/gpt/chat/completions?api-version=2024-02-01&key=k")),
            ("mcp_method", .string(String(repeating: "é", count: 300))),
        ]))
        let lines = memory.events.map { $0.jsonLine() }
        #expect(lines.count == 2)
        #expect(lines[0] == #"{"ts":"2026-11-29T10:51:58.123Z","event":"http","client":"127.0.0.1:52144","identity":null,"team":null,"action":"allow","rule":null,"ruleset":null,"detections":[],"request_id":"c3","method":"GET","host":"example.com","path":"http://example.com/x?api_key=REDACTED&page=REDACTED","status":407}"#)
        let ai = try #require(lines.last)
        #expect(ai.contains(#""path":"/openai/deployments/gpt/chat/completions?api-version=2024-02-01&key=REDACTED""#), "\(ai)")
        #expect(ai.hasSuffix(#"…","truncated":["mcp_method"]}"#), "\(ai)")
        #expect(!lines.joined().contains("S3cretPass"))
    }

    @Test func dnsAndRulesetLinesPassUnchanged() {
        let memory = MemoryAuditSink()
        let sink = RedactingAuditSink(memory, redactor: AuditRedactor())
        let long = String(repeating: "a", count: 600)
        sink.record(Self.event(.dns, [("qname", .string(long)), ("path", .string("/?x=1"))]))
        guard case .string(let qname)? = memory.events.first?.fields.first?.1 else {
            Issue.record("no event")
            return
        }
        #expect(qname == long)
        #expect(memory.events.first?.fields.count == 2)
    }
}
