import MeshgateCore

/// An upstream answer prepared for replay: encoded once without its OPT record, with the
/// offsets of every TTL, so a reply is a copy plus a few patched bytes. Also carries what the
/// audit line, the policy's CNAME check and the name memory need, worked out once.
public struct DNSCachedAnswer: Sendable {
    /// The encoded response, ID zero, no OPT record.
    let template: [UInt8]
    /// Where each record's TTL sits in `template`.
    let ttlOffsets: [Int]
    /// The TTLs as received (capped at the cache lifetime).
    let ttls: [UInt32]
    /// Wire length of the question name at offset 12.
    let questionNameLength: Int
    /// Upstream EDNS options passed on to clients that use EDNS (Extended DNS Errors and the like).
    let ednsOptions: [DNSEDNSOption]
    /// The response code.
    public let rcode: DNSResponseCode
    /// The answer section in short text form for audit lines.
    public let answerTexts: [String]
    /// A and AAAA addresses in the answer section.
    public let addresses: [[UInt8]]
    /// Names the answer's CNAME records point to (checked against the policy too).
    public let cnameTargets: [String]
    /// Seconds the answer may be reused; nil when it must not be cached.
    public let lifetime: UInt32?

    /// EDNS options that describe one hop (cookies, padding, keepalive) and stay with it.
    static let hopByHopOptions: Set<UInt16> = [10, 11, 12]

    /// Prepares `response`. `minTTL`/`maxTTL` clamp the cache lifetime; `maxNegativeTTL` caps
    /// NXDOMAIN and no-data answers, whose lifetime comes from the SOA (RFC 2308).
    init(_ response: DNSMessage, minTTL: UInt32, maxTTL: UInt32, maxNegativeTTL: UInt32) throws(DNSEncodeError) {
        var message = response
        ednsOptions = message.edns?.options.filter { !Self.hopByHopOptions.contains($0.code) } ?? []
        message.edns = nil
        message.header.id = 0
        rcode = message.header.rcode

        var lifetime: UInt32?
        let negative = rcode == .nameError || (rcode == .noError && message.answers.isEmpty)
        if message.header.truncated || (rcode != .noError && rcode != .nameError) {
            lifetime = nil
        } else if negative {
            if let soa = message.authorities.first(where: { $0.type == .soa }), case .soa(let data) = soa.data {
                lifetime = min(max(min(soa.ttl, data.minimum), minTTL), min(maxNegativeTTL, maxTTL))
            }
        } else {
            let lowest = (message.answers + message.authorities).map(\.ttl).min() ?? 0
            lifetime = min(max(lowest, minTTL), maxTTL)
        }
        self.lifetime = lifetime

        var writer = DNSMessageWriter()
        try writer.write(message)
        template = writer.bytes
        ttlOffsets = writer.ttlOffsets
        let cap = lifetime ?? UInt32.max
        ttls = (message.answers + message.authorities + message.additionals).map { min($0.ttl, cap) }
        questionNameLength = message.questions.first?.name.wire.count ?? 0

        var texts: [String] = []
        var addresses: [[UInt8]] = []
        var targets: [String] = []
        for record in message.answers {
            switch record.data {
            case .a(let address), .aaaa(let address):
                texts.append(IPAddress.format(address))
                addresses.append(address)
            case .cname(let target):
                texts.append("CNAME \(target)")
                targets.append(target.description)
            case .name(let target):
                texts.append("\(record.type) \(target)")
            case .mx(let preference, let exchange):
                texts.append("MX \(preference) \(exchange)")
            case .soa, .opt, .opaque:
                texts.append("\(record.type)")
            }
        }
        answerTexts = texts
        self.addresses = addresses
        cnameTargets = targets
    }

    /// The smallest TTL among the answer's addresses, as a client would see it after `age` seconds.
    func addressTTL(age: UInt32) -> UInt32 {
        (ttls.min() ?? 0) > age ? (ttls.min() ?? 0) - age : 0
    }
}
