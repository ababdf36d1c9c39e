import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
import NIOCore
import Testing

@testable import MeshgateDNS

/// Block and redirect answers are made once per (question, action, rule) and replayed; each
/// client must still get its own ID, flags, spelling and EDNS, and a changed rule a new answer.
@Suite struct DNSDecisionCacheTests {
    static let client = try! SocketAddress(ipAddress: "127.0.0.1", port: 5353)

    static func ask(_ processor: DNSQueryProcessor, _ name: String, _ type: DNSType = .a, id: UInt16, rd: Bool = true, edns: Bool = true) throws -> DNSMessage {
        var header = DNSHeader(id: id)
        header.recursionDesired = rd
        var query = DNSMessage(header: header, questions: [DNSQuestion(name: try DNSName(name), type: type)])
        if edns { query.edns = DNSEDNS(udpPayloadSize: 1232) }
        guard case .now(let bytes) = processor.process(try query.encoded(), client: client, transport: .udp, on: TestGroup.shared.next()) else {
            Issue.record("a decided query must be answered at once")
            return DNSMessage(header: DNSHeader(id: 0))
        }
        return try DNSMessage(decoding: bytes)
    }

    @Test func aReplayedBlockAnswerTakesEachQuerysIDFlagsSpellingAndEDNS() throws {
        let audit = MemoryAuditSink()
        let policy = try testPolicy(DNSServerTests.rules)
        let processor = try TestProcessor.make(policy: { policy }, audit: audit)

        let first = try Self.ask(processor, "mcp.stripe.com", id: 1)
        let second = try Self.ask(processor, "MCP.Stripe.COM", id: 2, rd: false, edns: false)
        let third = try Self.ask(processor, "mcp.stripe.com", id: 3)
        #expect(processor.decisions.count == 1, "one answer made, replayed twice")

        #expect([first, second, third].map(\.header.id) == [1, 2, 3])
        #expect([first, second, third].map(\.header.recursionDesired) == [true, false, true])
        #expect([first, second, third].allSatisfy { $0.header.isResponse && $0.header.recursionAvailable && $0.header.rcode == .noError })
        #expect([first, second, third].map { $0.answers.map(\.data) } == Array(repeating: [.a([0, 0, 0, 0])], count: 3))
        #expect(second.questions.first?.name.wire == name("MCP.Stripe.COM").wire, "the question comes back as it was spelt")
        #expect(second.answers.first?.name.wire == name("MCP.Stripe.COM").wire)
        #expect(first.edns?.options.first?.extendedError == .blocked)
        #expect(second.edns == nil, "no OPT record for a client that sent none")
        #expect(third.edns?.options.first?.extendedError == .blocked)
        #expect(audit.events.map(\.rule) == ["block-stripe", "block-stripe", "block-stripe"])
        #expect(audit.events.map { field("answers", $0) } == ["0.0.0.0", "0.0.0.0", "0.0.0.0"])
    }

    @Test func aRuleWhoseActionChangesGetsANewAnswer() throws {
        let box = PolicyBox(try testPolicy("""
            ruleset: t
            version: "1"
            rules:
              - { id: shadow, match: { host: ["mcp.example.net"] }, action: block }
            """))
        let processor = try TestProcessor.make(configuration: DNSFilterConfiguration(upstreams: [], redirectIPv4: [192, 0, 2, 10]),
                                               policy: { box.current })
        #expect(try Self.ask(processor, "mcp.example.net", id: 1).answers.map(\.data) == [.a([0, 0, 0, 0])])
        box.current = try testPolicy("""
            ruleset: t
            version: "2"
            rules:
              - { id: shadow, match: { host: ["mcp.example.net"] }, action: reroute, target: portal }
            """)
        let rerouted = try Self.ask(processor, "mcp.example.net", id: 2)
        #expect(rerouted.answers.map(\.data) == [.a([192, 0, 2, 10])])
        #expect(rerouted.edns?.options.first?.extendedError == .forgedAnswer)
        #expect(try Self.ask(processor, "mcp.example.net", .aaaa, id: 3).answers.isEmpty, "no redirect_ipv6: empty NOERROR")
    }
}
