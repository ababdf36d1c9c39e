/// A resource record or query type (RFC 1035 §3.2.2, IANA "Resource Record (RR) TYPEs").
/// Any 16-bit value is representable; unknown ones print as `TYPE123` (RFC 3597).
public struct DNSType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    public var rawValue: UInt16
    /// Wraps a wire value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// IPv4 address.
    public static let a = DNSType(rawValue: 1)
    /// Authoritative name server.
    public static let ns = DNSType(rawValue: 2)
    /// Canonical name (alias).
    public static let cname = DNSType(rawValue: 5)
    /// Start of authority; its MINIMUM bounds negative caching (RFC 2308).
    public static let soa = DNSType(rawValue: 6)
    /// Domain name pointer.
    public static let ptr = DNSType(rawValue: 12)
    /// Mail exchange.
    public static let mx = DNSType(rawValue: 15)
    /// Text strings.
    public static let txt = DNSType(rawValue: 16)
    /// IPv6 address.
    public static let aaaa = DNSType(rawValue: 28)
    /// Service locator.
    public static let srv = DNSType(rawValue: 33)
    /// EDNS(0) pseudo-record (RFC 6891).
    public static let opt = DNSType(rawValue: 41)
    /// Service binding (RFC 9460).
    public static let svcb = DNSType(rawValue: 64)
    /// HTTPS service binding (RFC 9460).
    public static let https = DNSType(rawValue: 65)
    /// Any type (queries only).
    public static let any = DNSType(rawValue: 255)

    private static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
        35: "NAPTR", 39: "DNAME", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3",
        52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF", 252: "AXFR", 255: "ANY", 257: "CAA",
    ]

    /// The mnemonic (`A`, `AAAA`, `HTTPS`), or `TYPEnnn` for types without one.
    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }

    /// Whether RDATA of this type may hold compressed names (RFC 3597 §4: only the RFC 1035 types).
    var rdataNamesMayBeCompressed: Bool {
        switch rawValue {
        case 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15: true
        default: false
        }
    }
}

/// The CLASS of a question or record; in practice always IN.
public struct DNSClass: RawRepresentable, Hashable, Sendable {
    /// The wire value.
    public var rawValue: UInt16
    /// Wraps a wire value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// The Internet.
    public static let internet = DNSClass(rawValue: 1)
}

/// A response code (RFC 1035 §4.1.1, RFC 6895), printed by name in audit lines.
public struct DNSResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 4-bit header value (extended codes are not produced here).
    public var rawValue: UInt8
    /// Wraps a wire value.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// No error.
    public static let noError = DNSResponseCode(rawValue: 0)
    /// The query could not be interpreted.
    public static let formatError = DNSResponseCode(rawValue: 1)
    /// The server could not answer (here: no upstream answered).
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    /// The name does not exist.
    public static let nameError = DNSResponseCode(rawValue: 3)
    /// The opcode is not supported.
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    /// Refused by policy (here: a client outside `access.allow_clients`).
    public static let refused = DNSResponseCode(rawValue: 5)

    private static let names = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"]

    /// `NOERROR`, `NXDOMAIN`, …; `RCODEn` for the rest.
    public var description: String {
        Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : "RCODE\(rawValue)"
    }
}
