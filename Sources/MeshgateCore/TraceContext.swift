import Synchronization

/// W3C Trace Context for one hop through meshgate: the audit line's `request_id` is the span id
/// meshgate gives the request, and the `traceparent` it sends upstream carries the client's trace id
/// (a fresh one when the client sent none or an invalid one) with that span as the parent. An
/// investigator then finds the same trace id in the agent's, meshgate's and the server's records.
public struct TraceContext: Sendable, Equatable {
    /// 32 lowercase hex digits, never all zero.
    public let traceID: String
    /// 16 lowercase hex digits: this hop's span id, used as the audit line's `request_id`.
    public let spanID: String
    /// Two hex digits; the client's flags are kept, a new trace is sampled (`01`).
    public let flags: String
    /// Whether the trace id came from the client's `traceparent`.
    public let continued: Bool

    /// The `traceparent` value to send upstream.
    public var traceparent: String { "00-\(traceID)-\(spanID)-\(flags)" }

    /// The hop for a request that carried `incoming` (its `traceparent` headers, in order): one valid
    /// header is continued; none, several or an invalid one start a new trace, as the spec asks.
    public static func hop<G: RandomNumberGenerator>(incoming: [String], using generator: inout G) -> TraceContext {
        let span = hex(generator.next(), digits: 16, nonZero: &generator)
        if incoming.count == 1, let parsed = parse(incoming[0]) {
            return TraceContext(traceID: parsed.traceID, spanID: span, flags: parsed.flags, continued: true)
        }
        let trace = hex(generator.next(), digits: 16, nonZero: &generator) + hex(generator.next(), digits: 16, nonZero: &generator)
        return TraceContext(traceID: trace, spanID: span, flags: "01", continued: false)
    }

    /// The hop for `incoming`, with ids from ``TraceIDRandom`` (this runs for every request).
    public static func hop(incoming: [String]) -> TraceContext {
        var generator = TraceIDRandom()
        return hop(incoming: incoming, using: &generator)
    }

    /// A fresh span id on its own, for audit lines that are not HTTP requests (DNS queries, ruleset changes).
    public static func newRequestID() -> String {
        var generator = TraceIDRandom()
        return hex(generator.next(), digits: 16, nonZero: &generator)
    }

    /// The trace id and flags of a valid version-00 (or later, read as 00) `traceparent`, else nil.
    public static func parse(_ value: String) -> (traceID: String, flags: String)? {
        let bytes = Array(value.trimmingASCIIWhitespace().utf8)
        // version-traceid-parentid-flags; later versions may append "-…" fields.
        guard bytes.count >= 55, bytes[2] == 0x2D, bytes[35] == 0x2D, bytes[52] == 0x2D else { return nil }
        let version = bytes[0..<2], trace = bytes[3..<35], parent = bytes[36..<52], flags = bytes[53..<55]
        guard [version, trace, parent, flags].allSatisfy({ $0.allSatisfy(isLowerHex) }) else { return nil }
        guard !(version.elementsEqual("ff".utf8)) else { return nil }
        if version.elementsEqual("00".utf8), bytes.count != 55 { return nil }
        if bytes.count > 55, bytes[55] != 0x2D { return nil }
        guard trace.contains(where: { $0 != 0x30 }), parent.contains(where: { $0 != 0x30 }) else { return nil }
        return (String(decoding: trace, as: UTF8.self), String(decoding: flags, as: UTF8.self))
    }

    private static func isLowerHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }

    private static func hex<G: RandomNumberGenerator>(_ value: UInt64, digits: Int, nonZero generator: inout G) -> String {
        var v = value
        while v == 0 { v = generator.next() }
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0x30, count: digits)
        for i in stride(from: digits - 1, through: 0, by: -1) {
            out[i] = table[Int(v & 0xF)]
            v >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> Substring {
        var s = self[...]
        while let c = s.utf8.first, c == 0x20 || c == 0x09 { s = s.dropFirst() }
        while let c = s.utf8.last, c == 0x20 || c == 0x09 { s = s.dropLast() }
        return s
    }
}

/// Ids for every request without a system call each: SplitMix64 over a process-wide counter from a
/// seed the system's generator gives once. Unique and evenly spread, which is what trace and span ids
/// need; not secret (one id and the seed's structure predict the next), and nothing treats them as one.
struct TraceIDRandom: RandomNumberGenerator {
    private static let seed: UInt64 = {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }()
    private static let counter = Atomic<UInt64>(0)

    mutating func next() -> UInt64 {
        let n = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        var z = Self.seed &+ n &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
