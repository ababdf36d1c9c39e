/// A domain name in uncompressed wire form: length-prefixed labels ending with the root's zero
/// byte, letter case as received. Equality and hashing ignore ASCII case (RFC 4343).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Longest label (RFC 1035 §2.3.4).
    public static let maxLabelLength = 63
    /// Longest name in wire form, length bytes and root included.
    public static let maxWireLength = 255

    /// The wire bytes, e.g. `[3, m, c, p, 0]`.
    public private(set) var wire: [UInt8]

    /// The root name `.`.
    public static let root = DNSName(uncheckedWire: [0])

    /// Wraps bytes the decoder has already validated.
    init(uncheckedWire: [UInt8]) { wire = uncheckedWire }

    /// Parses `mcp.example.com` (a trailing dot is allowed; no escapes).
    public init(_ text: String) throws(DNSNameError) {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        if utf8 == [UInt8(ascii: ".")] || utf8.isEmpty {
            self.init(uncheckedWire: [0])
            return
        }
        var labels = utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if labels.last?.isEmpty == true { labels.removeLast() }
        for label in labels {
            guard !label.isEmpty else { throw DNSNameError(name: text, problem: "an empty label") }
            guard label.count <= Self.maxLabelLength else {
                throw DNSNameError(name: text, problem: "a label of \(label.count) bytes (at most 63)")
            }
            bytes.append(UInt8(label.count))
            bytes.append(contentsOf: label)
        }
        bytes.append(0)
        guard bytes.count <= Self.maxWireLength else {
            throw DNSNameError(name: text, problem: "\(bytes.count) bytes in wire form (at most 255)")
        }
        self.init(uncheckedWire: bytes)
    }

    /// Whether this is the root name.
    public var isRoot: Bool { wire.count == 1 }

    /// The number of labels, the root not counted.
    public var labelCount: Int {
        var count = 0, i = 0
        while i < wire.count, wire[i] != 0 {
            count += 1
            i += Int(wire[i]) + 1
        }
        return count
    }

    /// Lowercase dotted form without the trailing dot (`.` for the root); bytes that are not
    /// letters, digits, `-` or `_` are written `\DDD`, and `.`/`\` inside a label as `\.`/`\\`.
    /// This is the form policy host patterns and audit lines use.
    public var description: String {
        if isRoot { return "." }
        var out: [UInt8] = []
        out.reserveCapacity(wire.count)
        var i = 0
        while i < wire.count, wire[i] != 0 {
            let length = Int(wire[i])
            if !out.isEmpty { out.append(UInt8(ascii: ".")) }
            for byte in wire[(i + 1)..<(i + 1 + length)] {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): out.append(byte | 0x20)
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    out.append(byte)
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    out.append(UInt8(ascii: "\\"))
                    out.append(byte)
                default:
                    out.append(UInt8(ascii: "\\"))
                    out.append(UInt8(ascii: "0") + byte / 100)
                    out.append(UInt8(ascii: "0") + (byte / 10) % 10)
                    out.append(UInt8(ascii: "0") + byte % 10)
                }
            }
            i += length + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The same name with ASCII letters lowercased (for cache keys).
    public var lowercased: DNSName {
        var copy = wire
        for i in copy.indices where copy[i] >= UInt8(ascii: "A") && copy[i] <= UInt8(ascii: "Z") { copy[i] |= 0x20 }
        return DNSName(uncheckedWire: copy)
    }

    /// The name with its first label removed (the root stays the root).
    var parent: DNSName {
        guard !isRoot else { return self }
        return DNSName(uncheckedWire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    /// Case-insensitive comparison.
    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.wire.count == rhs.wire.count else { return false }
        for i in lhs.wire.indices where Self.fold(lhs.wire[i]) != Self.fold(rhs.wire[i]) { return false }
        return true
    }

    /// Case-insensitive hash.
    public func hash(into hasher: inout Hasher) {
        // Eight folded bytes per combine: the cache hashes a name for every query.
        hasher.combine(wire.count)
        var word: UInt64 = 0
        for (i, byte) in wire.enumerated() {
            word = word << 8 | UInt64(Self.fold(byte))
            if i & 7 == 7 {
                hasher.combine(word)
                word = 0
            }
        }
        hasher.combine(word)
    }

    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}

/// A domain name that cannot be written in wire form.
public struct DNSNameError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name as given.
    public var name: String
    /// What is wrong with it.
    public var problem: String
    /// `invalid DNS name 'NAME': PROBLEM`.
    public var description: String { "invalid DNS name '\(name)': \(problem)" }
}
