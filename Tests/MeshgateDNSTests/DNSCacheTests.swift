import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import MeshgateDNS

/// A clock the test moves by hand.
final class ManualClock: DNSClock {
    private let now = NIOLockedValueBox<UInt64>(1_000_000_000_000)
    func nowNanoseconds() -> UInt64 { now.withLockedValue { $0 } }
    func advance(seconds: UInt64) { now.withLockedValue { $0 += seconds * 1_000_000_000 } }
}

@Suite struct DNSCacheTests {

    static func response(_ qname: String, type: DNSType = .a, rcode: DNSResponseCode = .noError,
                         answers: [DNSRecord] = [], authorities: [DNSRecord] = []) -> DNSMessage {
        var header = DNSHeader(id: 7)
        header.isResponse = true
        header.recursionAvailable = true
        header.rcode = rcode
        return DNSMessage(header: header, questions: [DNSQuestion(name: name(qname), type: type)], answers: answers, authorities: authorities)
    }

    static func soa(ttl: UInt32, minimum: UInt32) -> DNSRecord {
        var data = DNSCodecTests.soa
        data.minimum = minimum
        return DNSRecord(name: name("example.com"), type: .soa, ttl: ttl, data: .soa(data))
    }

    static func key(_ qname: String, _ type: DNSType = .a) -> DNSCache.Key { DNSQuestion(name: name(qname), type: type) }

    @Test func positiveAnswersLiveForTheirSmallestTTL() throws {
        let clock = ManualClock()
        let cache = DNSCache(clock: clock)
        let answers: [DNSRecord] = [.address(name("a.example.com"), [192, 0, 2, 1], ttl: 300), .address(name("a.example.com"), [192, 0, 2, 2], ttl: 60)]
        _ = try cache.insert(Self.key("a.example.com"), response: Self.response("a.example.com", answers: answers))
        clock.advance(seconds: 59)
        let hit = try #require(cache.lookup(Self.key("A.Example.COM")), "the key ignores case")
        #expect(hit.age == 59)
        #expect(hit.answer.answerTexts == ["192.0.2.1", "192.0.2.2"])
        clock.advance(seconds: 1)
        #expect(cache.lookup(Self.key("a.example.com")) == nil, "expired after 60 s")
        #expect(cache.lookup(Self.key("a.example.com", .aaaa)) == nil, "the type is part of the key")
    }

    @Test func negativeAnswersUseTheSOAMinimum() throws {
        let clock = ManualClock()
        let cache = DNSCache(clock: clock)
        _ = try cache.insert(Self.key("nx.example.com"),
                             response: Self.response("nx.example.com", rcode: .nameError, authorities: [Self.soa(ttl: 900, minimum: 30)]))
        _ = try cache.insert(Self.key("nodata.example.com", .aaaa),
                             response: Self.response("nodata.example.com", type: .aaaa, authorities: [Self.soa(ttl: 20, minimum: 600)]))
        clock.advance(seconds: 19)
        #expect(cache.lookup(Self.key("nx.example.com"))?.answer.rcode == .nameError)
        #expect(cache.lookup(Self.key("nodata.example.com", .aaaa)) != nil)
        clock.advance(seconds: 1)
        #expect(cache.lookup(Self.key("nodata.example.com", .aaaa)) == nil, "min(SOA TTL, MINIMUM) = 20 s")
        clock.advance(seconds: 10)
        #expect(cache.lookup(Self.key("nx.example.com")) == nil, "min(SOA TTL, MINIMUM) = 30 s")
    }

    @Test func negativeAnswersWithoutSOAAndFailuresAreNotKept() throws {
        let cache = DNSCache(clock: ManualClock())
        _ = try cache.insert(Self.key("nx.example.com"), response: Self.response("nx.example.com", rcode: .nameError))
        _ = try cache.insert(Self.key("fail.example.com"), response: Self.response("fail.example.com", rcode: .serverFailure,
                                                                                     authorities: [Self.soa(ttl: 60, minimum: 60)]))
        #expect(cache.count == 0)
    }

    @Test func lifetimesAreClamped() throws {
        let clock = ManualClock()
        let cache = DNSCache(minTTL: 30, maxTTL: 120, maxNegativeTTL: 40, clock: clock)
        let short = try cache.insert(Self.key("short.test"), response: Self.response("short.test", answers: [.address(name("short.test"), [1, 1, 1, 1], ttl: 0)]))
        let long = try cache.insert(Self.key("long.test"), response: Self.response("long.test", answers: [.address(name("long.test"), [1, 1, 1, 2], ttl: 86_400)]))
        let negative = try cache.insert(Self.key("nx.test"), response: Self.response("nx.test", rcode: .nameError, authorities: [Self.soa(ttl: 3600, minimum: 3600)]))
        #expect(short.lifetime == 30)
        #expect(long.lifetime == 120)
        #expect(negative.lifetime == 40)
        clock.advance(seconds: 29)
        #expect(cache.lookup(Self.key("short.test")) != nil, "a TTL of 0 is kept for the minimum")
        clock.advance(seconds: 91)
        #expect(cache.lookup(Self.key("long.test")) == nil, "a day is cut to the maximum")
    }

    @Test func sizeIsBounded() throws {
        let cache = DNSCache(capacity: 100, clock: ManualClock())
        for i in 0..<1000 {
            let qname = "host\(i).example.com"
            _ = try cache.insert(Self.key(qname), response: Self.response(qname, answers: [.address(name(qname), [10, 0, UInt8(i / 256), UInt8(i % 256)], ttl: 300)]))
        }
        #expect(cache.count == 100)
        #expect(cache.lookup(Self.key("host999.example.com")) != nil, "the newest stay")
        #expect(cache.lookup(Self.key("host0.example.com")) == nil, "the oldest went first")
    }

    @Test func replayedAnswersCountTheirTTLDownAndTakeTheQuerysIDAndSpelling() throws {
        let clock = ManualClock()
        let cache = DNSCache(clock: clock)
        var upstream = Self.response("www.example.com", answers: [
            DNSRecord(name: name("www.example.com"), type: .cname, ttl: 300, data: .cname(name("cdn.example.net"))),
            .address(name("cdn.example.net"), [192, 0, 2, 9], ttl: 100),
        ])
        upstream.edns = DNSEDNS(options: [.extendedError(.other, text: "from upstream"), DNSEDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])])
        _ = try cache.insert(Self.key("www.example.com"), response: upstream)
        clock.advance(seconds: 40)
        let (answer, age) = try #require(cache.lookup(Self.key("www.example.com")))
        #expect(answer.cnameTargets == ["cdn.example.net"])
        let processor = try TestProcessor.make()
        let query = DNSQueryProcessor.Query(header: DNSHeader(id: 0xBEEF, flags: 0x0100), question: DNSQuestion(name: name("WWW.example.com"), type: .a),
                                            edns: DNSEDNS(), client: try .init(ipAddress: "127.0.0.1", port: 5000), clientBytes: [127, 0, 0, 1],
                                            identity: nil, transport: .udp, qname: "www.example.com")
        let reply = try DNSMessage(decoding: processor.replay(answer, for: query, age: age))
        #expect(reply.header.id == 0xBEEF)
        #expect(reply.questions[0].name.wire == name("WWW.example.com").wire)
        #expect(reply.answers.map(\.ttl) == [60, 60], "the CNAME's 300 s is capped at the answer's 100 s lifetime, then 40 s pass")
        #expect(reply.edns?.options.compactMap(\.extendedError) == [.other], "EDE passes through, the cookie does not")
    }

    @Test func bigAnswersAreTruncatedForSmallUDPClients() throws {
        let cache = DNSCache(clock: ManualClock())
        let qname = "big.example.com"
        let answers = (0..<60).map { DNSRecord.address(name(qname), [10, 0, 0, UInt8($0)], ttl: 60) }
        let answer = try cache.insert(Self.key(qname), response: Self.response(qname, answers: answers))
        let processor = try TestProcessor.make()
        var query = DNSQueryProcessor.Query(header: DNSHeader(id: 1, flags: 0x0100), question: DNSQuestion(name: name(qname), type: .a),
                                            edns: nil, client: try .init(ipAddress: "127.0.0.1", port: 5000), clientBytes: [127, 0, 0, 1],
                                            identity: nil, transport: .udp, qname: qname)
        let cut = try DNSMessage(decoding: processor.replay(answer, for: query, age: 0))
        #expect(cut.header.truncated)
        #expect(cut.answers.isEmpty)
        #expect(cut.questions.count == 1)
        query.transport = .tcp
        let whole = try DNSMessage(decoding: processor.replay(answer, for: query, age: 0))
        #expect(!whole.header.truncated)
        #expect(whole.answers.count == 60)
    }
}

@Suite struct DNSAnswerMemoryTests {
    @Test func remembersWhichNameAClientResolvedToAnAddress() throws {
        let clock = ManualClock()
        let memory = DNSAnswerMemory(grace: 10, clock: clock)
        memory.record(client: [10, 0, 0, 1], name: "mcp.example.com", addresses: [[192, 0, 2, 1]], ttl: 60)
        memory.record(client: [10, 0, 0, 2], name: "www.example.org", addresses: [[192, 0, 2, 1]], ttl: 60)
        #expect(memory.hostname(for: [192, 0, 2, 1], client: [10, 0, 0, 1]) == "mcp.example.com")
        #expect(memory.hostname(for: [192, 0, 2, 1], client: [10, 0, 0, 2]) == "www.example.org")
        #expect(memory.hostname(for: [192, 0, 2, 1], client: [10, 0, 0, 3]) == nil, "another client's answer is not this client's")
        #expect(memory.hostname(for: [192, 0, 2, 1], client: [10, 0, 0, 3], anyClient: true) == "www.example.org", "unless asked: the latest wins")
        let dialled = try SocketAddress(ipAddress: "::ffff:192.0.2.1", port: 443)
        #expect(memory.hostname(for: dialled, client: try SocketAddress(ipAddress: "10.0.0.1", port: 1)) == "mcp.example.com")
        clock.advance(seconds: 69)
        #expect(memory.hostname(for: [192, 0, 2, 1], client: [10, 0, 0, 1]) == "mcp.example.com", "TTL plus grace")
        clock.advance(seconds: 1)
        #expect(memory.hostname(for: [192, 0, 2, 1], client: [10, 0, 0, 1]) == nil)
    }

    @Test func isBounded() {
        let memory = DNSAnswerMemory(capacity: 50, clock: ManualClock())
        for i in 0..<500 {
            memory.record(client: [10, 0, 0, 1], name: "h\(i).test", addresses: [[10, 1, UInt8(i / 256), UInt8(i % 256)]], ttl: 60)
        }
        #expect(memory.hostname(for: [10, 1, 1, 243], client: [10, 0, 0, 1]) == "h499.test")
        #expect(memory.hostname(for: [10, 1, 0, 0], client: [10, 0, 0, 1]) == nil)
    }
}
