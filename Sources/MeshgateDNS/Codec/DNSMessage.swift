/// The fixed 12-byte header's fields other than the section counts (which the codec derives
/// from the sections).
public struct DNSHeader: Hashable, Sendable {
    /// Matches a response to its query.
    public var id: UInt16
    /// QR, OPCODE, AA, TC, RD, RA, Z, AD, CD and RCODE as on the wire.
    public var flags: UInt16

    /// Creates a header.
    public init(id: UInt16, flags: UInt16 = 0) {
        self.id = id
        self.flags = flags
    }

    /// QR: a response.
    public var isResponse: Bool {
        get { flags & 0x8000 != 0 }
        set { set(0x8000, newValue) }
    }
    /// OPCODE: 0 is a standard query.
    public var opcode: UInt8 {
        get { UInt8((flags >> 11) & 0xF) }
        set { flags = (flags & ~0x7800) | (UInt16(newValue & 0xF) << 11) }
    }
    /// AA: authoritative answer.
    public var authoritative: Bool {
        get { flags & 0x0400 != 0 }
        set { set(0x0400, newValue) }
    }
    /// TC: truncated; the client should ask again over TCP.
    public var truncated: Bool {
        get { flags & 0x0200 != 0 }
        set { set(0x0200, newValue) }
    }
    /// RD: recursion desired.
    public var recursionDesired: Bool {
        get { flags & 0x0100 != 0 }
        set { set(0x0100, newValue) }
    }
    /// RA: recursion available.
    public var recursionAvailable: Bool {
        get { flags & 0x0080 != 0 }
        set { set(0x0080, newValue) }
    }
    /// CD: checking disabled (DNSSEC).
    public var checkingDisabled: Bool {
        get { flags & 0x0010 != 0 }
        set { set(0x0010, newValue) }
    }
    /// The low four bits of the response code.
    public var rcode: DNSResponseCode {
        get { DNSResponseCode(rawValue: UInt8(flags & 0xF)) }
        set { flags = (flags & ~0xF) | UInt16(newValue.rawValue & 0xF) }
    }

    private mutating func set(_ bit: UInt16, _ on: Bool) {
        if on { flags |= bit } else { flags &= ~bit }
    }
}

/// One entry of the question section.
public struct DNSQuestion: Hashable, Sendable {
    /// QNAME.
    public var name: DNSName
    /// QTYPE.
    public var type: DNSType
    /// QCLASS.
    public var dnsClass: DNSClass

    /// Creates a question (class IN by default).
    public init(name: DNSName, type: DNSType, dnsClass: DNSClass = .internet) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
    }
}

/// The start-of-authority fields; `minimum` (with the record's TTL) bounds negative caching.
public struct DNSSOA: Hashable, Sendable {
    /// Primary server.
    public var primary: DNSName
    /// Responsible mailbox.
    public var mailbox: DNSName
    /// SERIAL.
    public var serial: UInt32
    /// REFRESH.
    public var refresh: UInt32
    /// RETRY.
    public var retry: UInt32
    /// EXPIRE.
    public var expire: UInt32
    /// MINIMUM: the negative-caching TTL (RFC 2308).
    public var minimum: UInt32

    /// Creates SOA data.
    public init(primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// One EDNS(0) option (RFC 6891 §6.1.2), kept as code and bytes.
public struct DNSEDNSOption: Hashable, Sendable {
    /// OPTION-CODE.
    public var code: UInt16
    /// OPTION-DATA.
    public var data: [UInt8]

    /// Creates an option.
    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }

    /// Extended DNS Error (RFC 8914).
    public static let extendedErrorCode: UInt16 = 15

    /// An Extended DNS Error option: INFO-CODE and UTF-8 EXTRA-TEXT.
    public static func extendedError(_ code: DNSExtendedError, text: String = "") -> DNSEDNSOption {
        var data: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        data.append(contentsOf: text.utf8.prefix(200))
        return DNSEDNSOption(code: extendedErrorCode, data: data)
    }

    /// The INFO-CODE when this is an Extended DNS Error option.
    public var extendedError: DNSExtendedError? {
        guard code == Self.extendedErrorCode, data.count >= 2 else { return nil }
        return DNSExtendedError(rawValue: UInt16(data[0]) << 8 | UInt16(data[1]))
    }
}

/// Extended DNS Error INFO-CODEs (RFC 8914 §4) that meshgate sets.
public struct DNSExtendedError: RawRepresentable, Hashable, Sendable {
    /// The wire value.
    public var rawValue: UInt16
    /// Wraps a wire value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// 0: Other.
    public static let other = DNSExtendedError(rawValue: 0)
    /// 4: Forged Answer — a `redirect` / `reroute` answer.
    public static let forgedAnswer = DNSExtendedError(rawValue: 4)
    /// 15: Blocked — a `block` answer.
    public static let blocked = DNSExtendedError(rawValue: 15)
    /// 17: Filtered.
    public static let filtered = DNSExtendedError(rawValue: 17)
    /// 18: Prohibited — a client outside `access.allow_clients`.
    public static let prohibited = DNSExtendedError(rawValue: 18)
    /// 22: No Reachable Authority — no upstream answered.
    public static let noReachableAuthority = DNSExtendedError(rawValue: 22)
}

/// The data of a resource record. Types whose RDATA may hold compressed names (RFC 1035's) are
/// decoded so they can be re-encoded at new offsets; every other type passes through as bytes.
public enum DNSRecordData: Hashable, Sendable {
    /// A: four bytes.
    case a([UInt8])
    /// AAAA: sixteen bytes.
    case aaaa([UInt8])
    /// CNAME target.
    case cname(DNSName)
    /// NS, PTR and the other single-name RFC 1035 types.
    case name(DNSName)
    /// MX: preference and exchange.
    case mx(preference: UInt16, exchange: DNSName)
    /// SOA.
    case soa(DNSSOA)
    /// OPT options (the record's class and TTL hold the rest of EDNS).
    case opt([DNSEDNSOption])
    /// Anything else, byte for byte.
    case opaque([UInt8])
}

/// A resource record.
public struct DNSRecord: Hashable, Sendable {
    /// Owner name.
    public var name: DNSName
    /// TYPE.
    public var type: DNSType
    /// CLASS (for OPT: the requestor's UDP payload size).
    public var dnsClass: UInt16
    /// TTL in seconds (for OPT: extended RCODE, version and flags).
    public var ttl: UInt32
    /// RDATA.
    public var data: DNSRecordData

    /// Creates a record.
    public init(name: DNSName, type: DNSType, dnsClass: UInt16 = DNSClass.internet.rawValue, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
        self.ttl = ttl
        self.data = data
    }

    /// An A or AAAA record for `address` (4 or 16 bytes).
    public static func address(_ name: DNSName, _ address: [UInt8], ttl: UInt32) -> DNSRecord {
        address.count == 4
            ? DNSRecord(name: name, type: .a, ttl: ttl, data: .a(address))
            : DNSRecord(name: name, type: .aaaa, ttl: ttl, data: .aaaa(address))
    }
}

/// EDNS(0) as carried by an OPT record (RFC 6891).
public struct DNSEDNS: Hashable, Sendable {
    /// The sender's largest UDP payload.
    public var udpPayloadSize: UInt16
    /// The upper 8 bits of the extended RCODE.
    public var extendedRCode: UInt8
    /// EDNS version (0).
    public var version: UInt8
    /// DO: DNSSEC records wanted.
    public var dnssecOK: Bool
    /// The options, in order.
    public var options: [DNSEDNSOption]

    /// Creates EDNS(0) settings.
    public init(udpPayloadSize: UInt16 = 1232, extendedRCode: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false, options: [DNSEDNSOption] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCode = extendedRCode
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    /// Reads the OPT record's class, TTL and options.
    public init?(_ record: DNSRecord) {
        guard record.type == .opt, case .opt(let options) = record.data else { return nil }
        self.init(udpPayloadSize: record.dnsClass, extendedRCode: UInt8(record.ttl >> 24), version: UInt8((record.ttl >> 16) & 0xFF),
                  dnssecOK: record.ttl & 0x8000 != 0, options: options)
    }

    /// The OPT record that carries these settings.
    public var record: DNSRecord {
        let ttl = UInt32(extendedRCode) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0)
        return DNSRecord(name: .root, type: .opt, dnsClass: udpPayloadSize, ttl: ttl, data: .opt(options))
    }
}

/// A whole DNS message.
public struct DNSMessage: Hashable, Sendable {
    /// The header.
    public var header: DNSHeader
    /// The question section (one entry in practice).
    public var questions: [DNSQuestion]
    /// The answer section.
    public var answers: [DNSRecord]
    /// The authority section.
    public var authorities: [DNSRecord]
    /// The additional section, OPT included.
    public var additionals: [DNSRecord]

    /// Creates a message.
    public init(header: DNSHeader, questions: [DNSQuestion] = [], answers: [DNSRecord] = [], authorities: [DNSRecord] = [], additionals: [DNSRecord] = []) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// The EDNS(0) settings from the OPT record, if there is one.
    public var edns: DNSEDNS? {
        get { additionals.first { $0.type == .opt }.flatMap(DNSEDNS.init) }
        set {
            additionals.removeAll { $0.type == .opt }
            if let newValue { additionals.append(newValue.record) }
        }
    }
}
