import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import MeshgateDNS

/// The filter as a client sees it, in process: real UDP/TCP sockets against a scripted upstream.
@Suite(.serialized) struct DNSServerTests {
    static let rules = """
        ruleset: dns-test
        version: "1"
        rules:
          - { id: allow-portal, match: { host: ["$portal"] }, action: allow }
          - { id: block-stripe, match: { host: ["mcp.stripe.com"] }, action: block }
          - { id: shadow-mcp-host, match: { host: ["mcp.*"] }, action: reroute, target: portal }
          - { id: watch, match: { host: ["*.watched.test"] }, action: log }
          - { id: path-only, match: { path: ["/mcp"] }, action: block }
        """

    @Test func queriesFromOneSourcePortAreSharedByTheLoops() async throws {
        let upstream = try await TestUpstream()
        let running = try await RunningServer.start(upstreams: [upstream.address], policy: try testPolicy(Self.rules))
        defer { Task { await running.stop(); await upstream.close() } }
        // One socket, so one source port: the kernel's hash alone would put every query on one loop.
        let queries = try (0..<200).map { try TestClient.query("mcp.stripe.com", .a, id: UInt16($0)) }
        let answers = try await TestClient.udp(queries, to: running.address, expect: queries.count)
        #expect(answers.count == queries.count)
        let counts = running.server.udpDatagrams.withLockedValue { $0.map { $0.count.load(ordering: .relaxed) } }
        #expect(counts.count == 2 && counts.reduce(0, +) == queries.count)
        #expect(counts.allSatisfy { $0 >= 40 }, "datagrams per socket: \(counts)")
    }

    @Test func eachAuditLineNamesThePortTheQueryCameFrom() async throws {
        let upstream = try await TestUpstream()
        let running = try await RunningServer.start(upstreams: [upstream.address], policy: try testPolicy(Self.rules))
        defer { Task { await running.stop(); await upstream.close() } }
        // More peers than a handler remembers the text of, asking in turns, so texts are replaced.
        var sockets: [any Channel] = []
        for _ in 0..<12 {
            sockets.append(try await DatagramBootstrap(group: TestGroup.shared).bind(host: "127.0.0.1", port: 0).get())
        }
        defer { for socket in sockets { socket.close(promise: nil) } }
        for round in 0..<3 {
            for (index, socket) in sockets.enumerated() {
                let query = try TestClient.query("mcp.stripe.com", id: UInt16(round * 100 + index))
                try await socket.writeAndFlush(AddressedEnvelope(remoteAddress: running.address, data: ByteBuffer(bytes: query)))
            }
        }
        for _ in 0..<300 where running.audit.events.count < 36 { try await Task.sleep(nanoseconds: 10_000_000) }
        let expected = Dictionary(uniqueKeysWithValues: sockets.enumerated().map { ($0.offset, "127.0.0.1:\($0.element.localAddress?.port ?? 0)") })
        var seen: [String: Int] = [:]
        for event in running.audit.events { seen[event.client ?? "-", default: 0] += 1 }
        #expect(seen == Dictionary(uniqueKeysWithValues: expected.values.map { ($0, 3) }))
    }

    @Test func blockRedirectAllowAndCanaryOverUDP() async throws {
        let upstream = try await TestUpstream()
        let running = try await RunningServer.start(upstreams: [upstream.address], policy: try testPolicy(Self.rules))
        defer { Task { await running.stop(); await upstream.close() } }

        let blocked = try #require(try await TestClient.udp("MCP.stripe.com", to: running.address))
        #expect(blocked.answers.map(\.data) == [.a([0, 0, 0, 0])])
        #expect(blocked.edns?.options.first?.extendedError == .blocked)
        let blocked6 = try #require(try await TestClient.udp("mcp.stripe.com", .aaaa, to: running.address))
        #expect(blocked6.answers.map(\.data) == [.aaaa([UInt8](repeating: 0, count: 16))])
        let blockedTXT = try #require(try await TestClient.udp("mcp.stripe.com", .txt, to: running.address))
        #expect(blockedTXT.header.rcode == .noError)
        #expect(blockedTXT.answers.isEmpty)
        #expect(blockedTXT.edns?.options.first?.extendedError == .blocked, "other types: empty NOERROR with EDE 15")

        let redirected = try #require(try await TestClient.udp("mcp.linear.app", to: running.address))
        #expect(redirected.answers.map(\.data) == [.a([192, 0, 2, 10])])
        #expect(redirected.edns?.options.first?.extendedError == .forgedAnswer)
        let redirected6 = try #require(try await TestClient.udp("mcp.linear.app", .aaaa, to: running.address))
        #expect(redirected6.answers.isEmpty, "no redirect_ipv6: empty NOERROR")
        #expect(redirected6.header.rcode == .noError)

        let allowed = try #require(try await TestClient.udp("www.example.com", to: running.address))
        #expect(allowed.answers.map(\.data) == [.a([192, 0, 2, 1])])
        #expect(allowed.header.id == 0x4242)
        let portal = try #require(try await TestClient.udp("portal.example.com", to: running.address))
        #expect(portal.answers.map(\.data) == [.a([192, 0, 2, 1])], "the portal itself resolves normally")
        let pathRuleIgnored = try #require(try await TestClient.udp("api.example.com", to: running.address))
        #expect(pathRuleIgnored.answers.map(\.data) == [.a([192, 0, 2, 1])], "rules with a path selector do not apply to DNS")

        let canary = try #require(try await TestClient.udp("use-application-dns.net", to: running.address))
        #expect(canary.header.rcode == .nameError)

        let events = running.audit.events
        let byName = Dictionary(events.map { (field("qname", $0) + "/" + field("qtype", $0), $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["mcp.stripe.com/A"]?.action == .block)
        #expect(byName["mcp.stripe.com/A"]?.rule == "block-stripe")
        #expect(field("answers", byName["mcp.stripe.com/A"]) == "0.0.0.0")
        #expect(byName["mcp.linear.app/A"]?.action == .reroute)
        #expect(field("rcode", byName["use-application-dns.net/A"]) == "NXDOMAIN")
        #expect(byName["www.example.com/A"]?.action == .allow)
        #expect(byName["www.example.com/A"]?.rule == nil)
        #expect(field("rcode", byName["www.example.com/A"]) == "NOERROR")
        #expect(events.count == 9, "one audit line per query")
        #expect(upstream.queries.allSatisfy { !$0.contains("stripe") && !$0.contains("linear") }, "decided names never reach the upstream")
        #expect(running.server.memory.hostname(for: [192, 0, 2, 1], client: [127, 0, 0, 1]) == "api.example.com", "the latest name for the address")
        #expect(running.server.memory.hostname(for: [192, 0, 2, 10], client: [127, 0, 0, 1]) == "mcp.linear.app", "redirect answers too")
    }

    @Test func logIsForwardedAndAnswersAreCachedAndCNAMEsChecked() async throws {
        let upstream = try await TestUpstream()
        let running = try await RunningServer.start(upstreams: [upstream.address], policy: try testPolicy(Self.rules))
        defer { Task { await running.stop(); await upstream.close() } }

        for _ in 0..<3 {
            let logged = try #require(try await TestClient.udp("a.watched.test", to: running.address))
            #expect(logged.answers.map(\.data) == [.a([192, 0, 2, 1])])
        }
        #expect(upstream.queries.filter { $0.contains("a.watched.test") }.count == 1, "the second and third came from the cache")
        #expect(running.audit.events.map(\.action) == [.log, .log, .log])
        #expect(running.audit.events.map { field("cached", $0) } == ["false", "true", "true"])

        let nx1 = try #require(try await TestClient.udp("nx1.example.com", to: running.address))
        let nx2 = try #require(try await TestClient.udp("nx1.example.com", to: running.address))
        #expect(nx1.header.rcode == .nameError)
        #expect(nx2.header.rcode == .nameError)
        #expect(upstream.queries.filter { $0.contains("nx1") }.count == 1, "NXDOMAIN is cached for the SOA minimum")

        let cloaked = try #require(try await TestClient.udp("alias.example.com", to: running.address))
        #expect(cloaked.answers.map(\.data) == [.a([192, 0, 2, 10])], "a CNAME to a rerouted name is rerouted")
        #expect(running.audit.events.last?.detections == ["CNAME mcp.linear.app"])
    }

    @Test func truncatedUDPAnswersAreFetchedOverTCPAndServedOverTCP() async throws {
        let upstream = try await TestUpstream()
        let running = try await RunningServer.start(upstreams: [upstream.address])
        defer { Task { await running.stop(); await upstream.close() } }

        let udp = try #require(try await TestClient.udp("big.example.com", to: running.address, edns: false))
        #expect(udp.header.truncated, "40 records do not fit 512 bytes: TC, so the client retries over TCP")
        #expect(upstream.queries == ["udp big.example.com A", "tcp big.example.com A"])

        let answers = try await TestClient.tcp([try TestClient.query("big.example.com", id: 1), try TestClient.query("www.example.com", id: 2),
                                                try TestClient.query("mcp.example.org", .aaaa, id: 3)], to: running.address)
        #expect(Set(answers.map(\.header.id)) == [1, 2, 3], "several queries on one connection")
        #expect(answers.first { $0.header.id == 1 }?.answers.count == 40)
        #expect(running.audit.events.last.map { field("transport", $0) } == "tcp")
    }

    @Test func failoverThenSERVFAILWhenNoUpstreamAnswers() async throws {
        let dead = try await TestUpstream()
        let live = try await TestUpstream()
        let deadAddress = dead.address
        await dead.close()
        let running = try await RunningServer.start(upstreams: [deadAddress, live.address])
        defer { Task { await running.stop(); await live.close() } }
        let answer = try #require(try await TestClient.udp("www.example.com", to: running.address))
        #expect(answer.answers.map(\.data) == [.a([192, 0, 2, 1])], "the second upstream answers")

        let silent = try await TestUpstream()
        let failing = try await TestUpstream(failing: true)
        let lastWord = try await RunningServer.start(upstreams: [silent.address, failing.address])
        let passedOn = try #require(try await TestClient.udp("slow.example.com", to: lastWord.address))
        #expect(passedOn.header.rcode == .serverFailure, "the last upstream's own SERVFAIL is passed on")
        await lastWord.stop()
        await failing.close()

        let lonely = try await RunningServer.start(upstreams: [silent.address])
        defer { Task { await lonely.stop(); await silent.close() } }
        let timedOut = try #require(try await TestClient.udp("slow.example.com", to: lonely.address))
        #expect(timedOut.header.rcode == .serverFailure)
        #expect(timedOut.edns?.options.first?.extendedError == .noReachableAuthority)
        #expect(field("rcode", lonely.audit.events.last) == "SERVFAIL")
        #expect(lonely.server.healthProblem?.contains("no upstream answered") == true)
    }

    @Test func garbageGetsFORMERROrSilenceAndTheServerKeepsAnswering() async throws {
        let upstream = try await TestUpstream()
        let running = try await RunningServer.start(upstreams: [upstream.address])
        defer { Task { await running.stop(); await upstream.close() } }
        var garbage: [[UInt8]] = [[0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 12], [1, 2, 3]]
        var rng = DNSDecoderFuzzTests.SeededGenerator(state: 99)
        let seed = try TestClient.query("www.example.com")
        for _ in 0..<300 {
            var packet = DNSDecoderFuzzTests.mutate(seed, &rng)
            if packet.count >= 3 { packet[2] &= 0x7F }
            garbage.append(packet)
        }
        let replies = try await TestClient.udp(garbage, to: running.address, expect: 250)
        #expect(replies.contains { $0.header.id == 0xABCD && $0.header.rcode == .formatError })
        let after = try #require(try await TestClient.udp("after.example.com", to: running.address))
        #expect(after.answers.map(\.data) == [.a([192, 0, 2, 1])])
    }

    @Test func clientsOutsideAllowClientsAreRefused() async throws {
        let upstream = try await TestUpstream()
        let running = try await RunningServer.start(upstreams: [upstream.address]) { $0.allowClients = [CIDR("10.0.0.0/8")].compactMap { $0 } }
        defer { Task { await running.stop(); await upstream.close() } }
        let refused = try #require(try await TestClient.udp("www.example.com", to: running.address))
        #expect(refused.header.rcode == .refused)
        #expect(refused.edns?.options.first?.extendedError == .prohibited)
        #expect(upstream.queries.isEmpty)
        #expect(running.audit.events.first?.action == .block)
    }

    @Test func blockAnswerNXDOMAINAndIPv6Listener() async throws {
        let upstream = try await TestUpstream()
        let running = try await RunningServer.start(upstreams: [upstream.address], policy: try testPolicy(Self.rules), host: "::1") {
            $0.blockAnswer = .nxdomain
        }
        defer { Task { await running.stop(); await upstream.close() } }
        #expect(running.address.protocol == .inet6)
        let blocked = try #require(try await TestClient.udp("mcp.stripe.com", to: running.address))
        #expect(blocked.header.rcode == .nameError)
        #expect(blocked.answers.isEmpty)
        let allowed = try #require(try await TestClient.tcp([try TestClient.query("www.example.com")], to: running.address).first)
        #expect(allowed.answers.map(\.data) == [.a([192, 0, 2, 1])])
        #expect(running.audit.events.first?.client?.hasPrefix("[::1]:") == true)
    }

    @Test func aReplacedPolicyAppliesToTheNextQuery() async throws {
        let upstream = try await TestUpstream()
        let holder = PolicyBox(.empty)
        let audit = MemoryAuditSink()
        let server = DNSServer(host: "127.0.0.1", port: 0, configuration: DNSFilterConfiguration(upstreams: [upstream.address]),
                               policy: { holder.current }, audit: audit, group: TestGroup.shared, logger: .init(label: "test"))
        let task = Task { try await server.run() }
        defer { Task { task.cancel(); await upstream.close() } }
        let address = try await server.localAddress
        #expect(try await TestClient.udp("mcp.stripe.com", to: address)?.answers.map(\.data) == [.a([192, 0, 2, 1])])
        holder.current = try testPolicy(Self.rules)
        #expect(try await TestClient.udp("mcp.stripe.com", to: address)?.answers.map(\.data) == [.a([0, 0, 0, 0])])
    }
}

final class PolicyBox: @unchecked Sendable {
    private let lock = NIOLock()
    private var value: PolicyEngine
    init(_ value: PolicyEngine) { self.value = value }
    var current: PolicyEngine {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// An event-specific audit field as text (strings plain, arrays comma-joined).
func field(_ key: String, _ event: AuditEvent?) -> String {
    guard let event, let value = event.fields.first(where: { $0.0 == key })?.1 else { return "" }
    switch value {
    case .string(let s): return s
    case .strings(let list): return list.joined(separator: ",")
    case .bool(let b): return "\(b)"
    case .int(let i): return "\(i)"
    case .double(let d): return "\(d)"
    case .null: return "null"
    case .objects(let objects): return "\(objects.count) objects"
    }
}
