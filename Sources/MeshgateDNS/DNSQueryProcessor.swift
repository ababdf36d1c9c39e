import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a query arrived; UDP answers must fit the client's payload size.
public enum DNSTransport: String, Sendable {
    case udp, tcp
}

/// What to send back for one query.
public enum DNSReply: Sendable {
    /// Nothing: the input was not a query we can answer (shorter than a header, or a response).
    case none
    /// This message, now.
    case now([UInt8])
    /// This message, once the upstream answered (never fails: SERVFAIL is an answer).
    case later(EventLoopFuture<[UInt8]>)
}

/// The filter chain for one query, in CoreDNS's order: decode → identify → policy → action
/// (block / redirect / log) → cache → forward; then one audit line.
public final class DNSQueryProcessor: Sendable {
    /// The DoH canary (Mozilla): NXDOMAIN tells browsers not to switch on DNS over HTTPS, which
    /// would bypass this filter.
    static let canary = try? DNSName("use-application-dns.net")
    /// The payload size we offer clients and upstreams (DNS Flag Day 2020).
    static let udpPayloadSize: UInt16 = 1232

    let configuration: DNSFilterConfiguration
    let policy: @Sendable () -> PolicyEngine
    let identities: any IdentityResolver
    let audit: any AuditSink
    let cache: DNSCache
    let memory: DNSAnswerMemory
    let forwarder: DNSForwarder
    let metrics: DNSMetrics
    let decisions: DNSDecisionCache

    init(configuration: DNSFilterConfiguration, policy: @escaping @Sendable () -> PolicyEngine, identities: any IdentityResolver,
         audit: any AuditSink, cache: DNSCache, memory: DNSAnswerMemory, forwarder: DNSForwarder, metrics: DNSMetrics) {
        self.configuration = configuration
        self.policy = policy
        self.identities = identities
        self.audit = audit
        self.cache = cache
        self.memory = memory
        self.forwarder = forwarder
        self.metrics = metrics
        decisions = DNSDecisionCache(capacity: configuration.cacheCapacity)
    }

    /// A decoded query and who sent it.
    struct Query: Sendable {
        var header: DNSHeader
        var question: DNSQuestion
        var edns: DNSEDNS?
        var client: SocketAddress
        var clientBytes: [UInt8]?
        var identity: Identity?
        var transport: DNSTransport
        var qname: String
        /// `client` as audit text, when the caller already has it.
        var clientText: String?

        /// The largest UDP answer the client takes.
        var maxUDPSize: Int { max(512, min(Int(edns?.udpPayloadSize ?? 512), Int(DNSQueryProcessor.udpPayloadSize))) }
    }

    /// Answers one message from `client`. Unreadable input gets FORMERR when it has a header
    /// (and silence when not); responses are ignored so two resolvers cannot ping-pong.
    /// `clientText`, when given, is `client.auditDescription` (handlers keep it per peer, so it
    /// is not formatted again for every query).
    public func process(_ bytes: [UInt8], client: SocketAddress, clientText: String? = nil, transport: DNSTransport, on loop: any EventLoop) -> DNSReply {
        guard let header = DNSMessage.header(of: bytes), !header.isResponse else {
            metrics.malformed.increment()
            return .none
        }
        let message: DNSMessage
        do {
            message = try DNSMessage(decoding: bytes)
        } catch {
            metrics.malformed.increment()
            return .now(Self.bare(header, rcode: .formatError))
        }
        guard header.opcode == 0 else { return .now(Self.bare(header, rcode: .notImplemented)) }
        guard message.questions.count == 1 else {
            metrics.malformed.increment()
            return .now(Self.bare(header, rcode: .formatError))
        }
        let clientBytes = IPAddress.bytes(of: client).map(IPAddress.unmapped)
        var query = Query(header: header, question: message.questions[0], edns: message.edns, client: client,
                          clientBytes: clientBytes, identity: nil, transport: transport, qname: message.questions[0].name.description,
                          clientText: clientText)
        if let edns = query.edns, edns.version > 0 {
            // BADVERS (RFC 6891 §6.1.3): extended RCODE 16 is 1 in the OPT record's upper bits.
            var reply = DNSMessage(header: Self.responseHeader(for: query, rcode: .noError), questions: [query.question])
            reply.edns = DNSEDNS(udpPayloadSize: Self.udpPayloadSize, extendedRCode: 1)
            return .now((try? reply.encoded()) ?? [])
        }

        guard let clientBytes, configuration.allowClients.contains(where: { $0.contains(clientBytes) }) else {
            let reply = synthesize(query, rcode: .refused, answers: [], error: .extendedError(.prohibited, text: "client not in access.allow_clients"))
            record(query, action: .block, rule: nil, ruleset: nil, detections: [], rcode: .refused, answers: [], cached: false)
            return .now(reply)
        }
        if case .identified(let identity) = identities.identify(client: client, credentials: nil) {
            query.identity = identity
        }

        if let canary = Self.canary, query.question.name == canary {
            let reply = synthesize(query, rcode: .nameError, answers: [], error: nil)
            record(query, action: .block, rule: nil, ruleset: nil, detections: ["DoH canary"], rcode: .nameError, answers: [], cached: false)
            return .now(reply)
        }

        let policy = self.policy()
        let verdict = policy.evaluateHostOnly(host: query.qname, identity: query.identity)
        switch verdict.action {
        case .block, .redirect, .reroute:
            return .now(decided(query, verdict: verdict, detections: verdict.detections))
        case .allow, .log, .limit:
            return resolve(query, verdict: verdict, policy: policy, on: loop)
        }
    }

    // MARK: Forwarding

    private func resolve(_ query: Query, verdict: Verdict, policy: PolicyEngine, on loop: any EventLoop) -> DNSReply {
        let key = query.question
        if let (answer, age) = cache.lookup(key) {
            metrics.cacheHits.increment()
            return .now(finish(query, answer: answer, age: age, verdict: verdict, policy: policy, cached: true))
        }
        metrics.cacheMisses.increment()
        let future = forwarder.resolve(query.question, checkingDisabled: query.header.checkingDisabled, on: loop)
            .map { response -> [UInt8] in
                do {
                    let answer = try self.cache.insert(key, response: response)
                    return self.finish(query, answer: answer, age: 0, verdict: verdict, policy: policy, cached: false)
                } catch {
                    return self.servfail(query, verdict: verdict, reason: "\(error)")
                }
            }
            .recover { error in self.servfail(query, verdict: verdict, reason: "\(error)") }
        return .later(future)
    }

    private func servfail(_ query: Query, verdict: Verdict, reason: String) -> [UInt8] {
        metrics.servfail.increment()
        let reply = synthesize(query, rcode: .serverFailure, answers: [], error: .extendedError(.noReachableAuthority, text: reason))
        record(query, action: verdict.action, rule: verdict.rule, ruleset: verdict.ruleset, detections: verdict.detections,
               rcode: .serverFailure, answers: [], cached: false)
        return reply
    }

    /// Replays an upstream answer, unless a CNAME in it leads to a name the policy blocks or
    /// redirects (one hop of indirection must not be a way round the filter).
    private func finish(_ query: Query, answer: DNSCachedAnswer, age: UInt32, verdict: Verdict, policy: PolicyEngine, cached: Bool) -> [UInt8] {
        for target in answer.cnameTargets {
            let cnameVerdict = policy.evaluateHostOnly(host: target, identity: query.identity)
            switch cnameVerdict.action {
            case .block, .redirect, .reroute:
                return decided(query, verdict: cnameVerdict, detections: cnameVerdict.detections + ["CNAME \(target)"])
            case .allow, .log, .limit:
                continue
            }
        }
        let reply = replay(answer, for: query, age: age)
        memory.record(client: query.clientBytes, name: query.qname, addresses: answer.addresses, ttl: answer.addressTTL(age: age))
        record(query, action: verdict.action, rule: verdict.rule, ruleset: verdict.ruleset, detections: verdict.detections,
               rcode: answer.rcode, answers: answer.answerTexts, cached: cached)
        return reply
    }

    /// The cached template with this query's ID, RD/CD bits and name spelling, TTLs counted
    /// down by `age`, an OPT record when the client sent one, and cut to the header and
    /// question with TC set when it does not fit the client's UDP size.
    func replay(_ answer: DNSCachedAnswer, for query: Query, age: UInt32) -> [UInt8] {
        var out = answer.template
        out[0] = UInt8(query.header.id >> 8)
        out[1] = UInt8(query.header.id & 0xFF)
        out[2] = (out[2] & ~0x01) | (query.header.recursionDesired ? 0x01 : 0)
        out[3] = (out[3] & ~0x10) | (query.header.checkingDisabled ? 0x10 : 0)
        let name = query.question.name.wire
        if name.count == answer.questionNameLength, out.count >= 12 + name.count {
            out.replaceSubrange(12..<(12 + name.count), with: name)
        }
        for (index, offset) in answer.ttlOffsets.enumerated() {
            let ttl = answer.ttls[index] > age ? answer.ttls[index] - age : 0
            out[offset] = UInt8(ttl >> 24)
            out[offset + 1] = UInt8((ttl >> 16) & 0xFF)
            out[offset + 2] = UInt8((ttl >> 8) & 0xFF)
            out[offset + 3] = UInt8(ttl & 0xFF)
        }
        if query.edns != nil { Self.appendOPT(to: &out, options: answer.ednsOptions) }
        if query.transport == .udp, out.count > query.maxUDPSize {
            var cut = Array(out[0..<(12 + answer.questionNameLength + 4)])
            cut[2] |= 0x02
            for i in 6..<12 { cut[i] = 0 }
            if query.edns != nil { Self.appendOPT(to: &cut, options: []) }
            return cut
        }
        return out
    }

    /// Appends our OPT record and counts it in ARCOUNT.
    static func appendOPT(to out: inout [UInt8], options: [DNSEDNSOption]) {
        let length = options.reduce(0) { $0 + 4 + $1.data.count }
        out.append(contentsOf: [0, 0, 41, UInt8(udpPayloadSize >> 8), UInt8(udpPayloadSize & 0xFF), 0, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF)])
        for option in options {
            out.append(contentsOf: [UInt8(option.code >> 8), UInt8(option.code & 0xFF), UInt8(option.data.count >> 8), UInt8(option.data.count & 0xFF)])
            out.append(contentsOf: option.data)
        }
        let count = (UInt16(out[10]) << 8 | UInt16(out[11])) &+ 1
        out[10] = UInt8(count >> 8)
        out[11] = UInt8(count & 0xFF)
    }

    // MARK: Answers we make

    /// The answer for a block, redirect or reroute verdict, audited.
    private func decided(_ query: Query, verdict: Verdict, detections: [String]) -> [UInt8] {
        let key = DNSDecisionCache.Key(question: query.question, action: verdict.action, rule: verdict.rule)
        guard let answer = try? decisions.answer(for: key, make: { () throws(DNSEncodeError) in try decidedAnswer(query, verdict: verdict) }) else {
            let reply = synthesize(query, rcode: .serverFailure, answers: [], error: nil)
            record(query, action: verdict.action, rule: verdict.rule, ruleset: verdict.ruleset, detections: detections,
                   rcode: .serverFailure, answers: [], cached: false)
            return reply
        }
        if verdict.action != .block, !answer.addresses.isEmpty {
            memory.record(client: query.clientBytes, name: query.qname, addresses: answer.addresses, ttl: configuration.syntheticTTL)
        }
        record(query, action: verdict.action, rule: verdict.rule, ruleset: verdict.ruleset, detections: detections,
               rcode: answer.rcode, answers: answer.answerTexts, cached: false)
        return replay(answer, for: query, age: 0)
    }

    /// What a block, redirect or reroute verdict answers, prepared for replay: the Extended DNS
    /// Error naming the rule travels as an EDNS option, so clients without EDNS get none.
    private func decidedAnswer(_ query: Query, verdict: Verdict) throws(DNSEncodeError) -> DNSCachedAnswer {
        let name = query.question.name
        let type = query.question.type
        let ttl = configuration.syntheticTTL
        var rcode = DNSResponseCode.noError
        var answers: [DNSRecord] = []
        let error: DNSEDNSOption
        let rule = verdict.rule ?? "-"
        if verdict.action == .block {
            error = .extendedError(.blocked, text: "blocked by meshgate rule \(rule)")
            if configuration.blockAnswer == .nxdomain {
                rcode = .nameError
            } else if type == .a {
                answers = [.address(name, [0, 0, 0, 0], ttl: ttl)]
            } else if type == .aaaa {
                answers = [.address(name, [UInt8](repeating: 0, count: 16), ttl: ttl)]
            }
        } else {
            error = .extendedError(.forgedAnswer, text: "redirected by meshgate rule \(rule)")
            if type == .a, let address = configuration.redirectIPv4 {
                answers = [.address(name, address, ttl: ttl)]
            } else if type == .aaaa, let address = configuration.redirectIPv6 {
                answers = [.address(name, address, ttl: ttl)]
            }
        }
        var message = DNSMessage(header: Self.responseHeader(for: query, rcode: rcode), questions: [query.question], answers: answers)
        message.edns = DNSEDNS(udpPayloadSize: Self.udpPayloadSize, options: [error])
        return try DNSCachedAnswer(message, minTTL: 0, maxTTL: .max, maxNegativeTTL: .max)
    }

    static func responseHeader(for query: Query, rcode: DNSResponseCode) -> DNSHeader {
        var header = DNSHeader(id: query.header.id)
        header.isResponse = true
        header.opcode = query.header.opcode
        header.recursionDesired = query.header.recursionDesired
        header.recursionAvailable = true
        header.checkingDisabled = query.header.checkingDisabled
        header.rcode = rcode
        return header
    }

    /// A response made here: the question echoed, `answers`, and an OPT record carrying the
    /// Extended DNS Error when the client speaks EDNS.
    func synthesize(_ query: Query, rcode: DNSResponseCode, answers: [DNSRecord], error: DNSEDNSOption?) -> [UInt8] {
        var message = DNSMessage(header: Self.responseHeader(for: query, rcode: rcode), questions: [query.question], answers: answers)
        if query.edns != nil { message.edns = DNSEDNS(udpPayloadSize: Self.udpPayloadSize, options: error.map { [$0] } ?? []) }
        return (try? message.encoded()) ?? Self.bare(query.header, rcode: rcode)
    }

    /// Just a header: for queries whose question could not be read.
    static func bare(_ query: DNSHeader, rcode: DNSResponseCode) -> [UInt8] {
        var header = DNSHeader(id: query.id)
        header.isResponse = true
        header.opcode = query.opcode
        header.recursionDesired = query.recursionDesired
        header.recursionAvailable = true
        header.rcode = rcode
        return [UInt8(header.id >> 8), UInt8(header.id & 0xFF), UInt8(header.flags >> 8), UInt8(header.flags & 0xFF), 0, 0, 0, 0, 0, 0, 0, 0]
    }

    // MARK: Audit

    private func record(_ query: Query, action: PolicyAction, rule: String?, ruleset: String?, detections: [String],
                        rcode: DNSResponseCode, answers: [String], cached: Bool) {
        metrics.countQuery(action)
        audit.record(AuditEvent(
            timestampMillis: Self.wallClockMillis(),
            kind: .dns,
            client: query.clientText ?? query.client.auditDescription,
            identity: query.identity,
            action: action,
            rule: rule,
            ruleset: ruleset,
            detections: detections,
            fields: [
                ("qname", .string(query.qname)),
                ("qtype", .string(query.question.type.description)),
                ("rcode", .string(rcode.description)),
                ("answers", .strings(answers)),
                ("transport", .string(query.transport.rawValue)),
                ("cached", .bool(cached)),
            ]
        ))
    }

    static func wallClockMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
