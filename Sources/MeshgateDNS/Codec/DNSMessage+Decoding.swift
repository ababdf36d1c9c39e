/// Why a message could not be decoded, and where.
public struct DNSDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset where decoding stopped.
    public var offset: Int
    /// What was wrong.
    public var problem: String

    /// `malformed DNS message at byte N: PROBLEM`.
    public var description: String { "malformed DNS message at byte \(offset): \(problem)" }
}

extension DNSMessage {
    /// The header's size; shorter input cannot even be answered with FORMERR.
    public static let headerLength = 12
    /// Compression pointers followed per name at most; a strictly-backwards rule already
    /// excludes loops, this bounds the work on a long chain.
    static let maxPointerHops = 64

    /// Decodes a message received from the network. Every length, count, offset and pointer is
    /// checked against the input: lying counts, truncated records, pointer loops, forward
    /// pointers, labels over 63 bytes and names over 255 bytes are errors, never crashes.
    public init(decoding bytes: [UInt8]) throws(DNSDecodeError) {
        var reader = DNSReader(bytes: bytes)
        let id = try reader.readUInt16()
        let flags = try reader.readUInt16()
        let counts = [try reader.readUInt16(), try reader.readUInt16(), try reader.readUInt16(), try reader.readUInt16()]
        // A question takes at least 5 bytes and a record 11: counts the input cannot hold are lies.
        let needed = Int(counts[0]) * 5 + (Int(counts[1]) + Int(counts[2]) + Int(counts[3])) * 11
        guard needed <= bytes.count - Self.headerLength else {
            throw DNSDecodeError(offset: reader.offset, problem: "section counts need at least \(needed) bytes, \(bytes.count - Self.headerLength) present")
        }
        self.init(header: DNSHeader(id: id, flags: flags))
        for _ in 0..<counts[0] {
            let name = try reader.readName()
            let type = try reader.readUInt16()
            let dnsClass = try reader.readUInt16()
            questions.append(DNSQuestion(name: name, type: DNSType(rawValue: type), dnsClass: DNSClass(rawValue: dnsClass)))
        }
        for _ in 0..<counts[1] { answers.append(try reader.readRecord(section: .answer)) }
        for _ in 0..<counts[2] { authorities.append(try reader.readRecord(section: .authority)) }
        var sawOPT = false
        for _ in 0..<counts[3] {
            let start = reader.offset
            let record = try reader.readRecord(section: .additional)
            if record.type == .opt {
                guard !sawOPT else { throw DNSDecodeError(offset: start, problem: "more than one OPT record") }
                sawOPT = true
            }
            additionals.append(record)
        }
    }

    /// The header alone, when at least 12 bytes arrived (to answer FORMERR to garbage that has one).
    public static func header(of bytes: [UInt8]) -> DNSHeader? {
        guard bytes.count >= headerLength else { return nil }
        return DNSHeader(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), flags: UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
    }
}

/// A bounds-checked cursor over a whole message (pointers are offsets into all of it).
struct DNSReader {
    enum Section { case answer, authority, additional }

    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    func error(_ problem: String, at offset: Int? = nil) -> DNSDecodeError {
        DNSDecodeError(offset: offset ?? self.offset, problem: problem)
    }

    mutating func readUInt8() throws(DNSDecodeError) -> UInt8 {
        guard offset < bytes.count else { throw error("truncated: expected 1 more byte") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws(DNSDecodeError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw error("truncated: expected 2 more bytes") }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32() throws(DNSDecodeError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("truncated: expected 4 more bytes") }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func readBytes(_ count: Int) throws(DNSDecodeError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw error("truncated: expected \(count) more bytes") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// Reads a possibly compressed name. The cursor ends after the name's in-place part.
    /// A pointer must point before the start of the run of labels it ends (and past the
    /// header), so every jump moves strictly backwards and a chain cannot loop.
    mutating func readName() throws(DNSDecodeError) -> DNSName {
        var wire: [UInt8] = []
        wire.reserveCapacity(32)
        var position = offset
        var segmentStart = offset
        var resumeAt: Int?
        var hops = 0
        while true {
            guard position < bytes.count else { throw error("truncated name", at: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    wire.append(0)
                    offset = resumeAt ?? position + 1
                    return DNSName(uncheckedWire: wire)
                }
                let end = position + 1 + Int(length)
                guard end <= bytes.count else { throw error("truncated label", at: position) }
                guard wire.count + 1 + Int(length) + 1 <= DNSName.maxWireLength else {
                    throw error("name longer than 255 bytes", at: position)
                }
                wire.append(contentsOf: bytes[position..<end])
                position = end
            case 0xC0:
                guard position + 1 < bytes.count else { throw error("truncated compression pointer", at: position) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < segmentStart, target >= DNSMessage.headerLength else {
                    throw error("compression pointer to \(target) does not point backwards", at: position)
                }
                hops += 1
                guard hops <= DNSMessage.maxPointerHops else { throw error("too many compression pointers", at: position) }
                if resumeAt == nil { resumeAt = position + 2 }
                position = target
                segmentStart = target
            default:
                // 0x40 (extended label types, RFC 6891 deprecated them) and 0x80 are not names;
                // a length byte of 64-191 is a label over 63 bytes.
                throw error("label length byte \(length) (labels are at most 63 bytes)", at: position)
            }
        }
    }

    mutating func readRecord(section: Section) throws(DNSDecodeError) -> DNSRecord {
        let name = try readName()
        let type = DNSType(rawValue: try readUInt16())
        let dnsClass = try readUInt16()
        let ttl = try readUInt32()
        let rdLength = Int(try readUInt16())
        let start = offset
        let end = start + rdLength
        guard end <= bytes.count else { throw error("record data of \(rdLength) bytes runs past the end") }
        let data: DNSRecordData
        switch type {
        case .a:
            guard rdLength == 4 else { throw error("A record with \(rdLength) bytes of data") }
            data = .a(try readBytes(4))
        case .aaaa:
            guard rdLength == 16 else { throw error("AAAA record with \(rdLength) bytes of data") }
            data = .aaaa(try readBytes(16))
        case .cname:
            data = .cname(try readName())
        case .mx:
            let preference = try readUInt16()
            data = .mx(preference: preference, exchange: try readName())
        case .soa:
            let primary = try readName()
            let mailbox = try readName()
            data = .soa(DNSSOA(primary: primary, mailbox: mailbox, serial: try readUInt32(), refresh: try readUInt32(),
                               retry: try readUInt32(), expire: try readUInt32(), minimum: try readUInt32()))
        case .opt:
            guard section == .additional else { throw error("OPT record outside the additional section", at: start) }
            guard name.isRoot else { throw error("OPT record with a non-root owner name", at: start) }
            var options: [DNSEDNSOption] = []
            while offset < end {
                let code = try readUInt16()
                let length = Int(try readUInt16())
                guard offset + length <= end else { throw error("EDNS option of \(length) bytes runs past its record") }
                options.append(DNSEDNSOption(code: code, data: try readBytes(length)))
            }
            data = .opt(options)
        default:
            // NS, MD, MF, MB, MG, MR, PTR: a single name that may be compressed.
            if [2, 3, 4, 7, 8, 9, 12].contains(type.rawValue) {
                data = .name(try readName())
            } else {
                data = .opaque(try readBytes(rdLength))
            }
        }
        guard offset == end else {
            throw error("\(type) record data is \(rdLength) bytes but its fields take \(offset - start)", at: start)
        }
        return DNSRecord(name: name, type: type, dnsClass: dnsClass, ttl: ttl, data: data)
    }
}
