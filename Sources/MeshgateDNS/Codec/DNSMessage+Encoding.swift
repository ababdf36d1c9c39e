/// A message that cannot be written: too many records, or RDATA over 65535 bytes.
public struct DNSEncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What does not fit.
    public var problem: String
    /// `cannot encode DNS message: PROBLEM`.
    public var description: String { "cannot encode DNS message: \(problem)" }
}

extension DNSMessage {
    /// The wire form, with owner names and RFC 1035 RDATA names compressed.
    public func encoded() throws(DNSEncodeError) -> [UInt8] {
        var writer = DNSMessageWriter()
        try writer.write(self)
        return writer.bytes
    }
}

/// Writes messages with name compression, remembering where each record's TTL went so that a
/// cached answer can be replayed with its TTLs counted down in place.
struct DNSMessageWriter {
    private(set) var bytes: [UInt8] = []
    /// Offsets of the TTL field of every record written (OPT excluded).
    private(set) var ttlOffsets: [Int] = []
    /// Where names and their suffixes start in `bytes`, for compression.
    private var suffixOffsets: [Int] = []

    init() { bytes.reserveCapacity(512) }

    mutating func write(_ message: DNSMessage) throws(DNSEncodeError) {
        let sections = [message.answers, message.authorities, message.additionals]
        guard message.questions.count <= Int(UInt16.max), sections.allSatisfy({ $0.count <= Int(UInt16.max) }) else {
            throw DNSEncodeError(problem: "more than 65535 entries in a section")
        }
        appendUInt16(message.header.id)
        appendUInt16(message.header.flags)
        appendUInt16(UInt16(message.questions.count))
        for section in sections { appendUInt16(UInt16(section.count)) }
        for question in message.questions {
            writeName(question.name, compress: true)
            appendUInt16(question.type.rawValue)
            appendUInt16(question.dnsClass.rawValue)
        }
        for section in sections {
            for record in section { try write(record) }
        }
    }

    mutating func write(_ record: DNSRecord) throws(DNSEncodeError) {
        writeName(record.name, compress: true)
        appendUInt16(record.type.rawValue)
        appendUInt16(record.dnsClass)
        if record.type != .opt { ttlOffsets.append(bytes.count) }
        appendUInt32(record.ttl)
        let lengthAt = bytes.count
        appendUInt16(0)
        switch record.data {
        case .a(let address), .aaaa(let address):
            bytes.append(contentsOf: address)
        case .cname(let name), .name(let name):
            writeName(name, compress: true)
        case .mx(let preference, let exchange):
            appendUInt16(preference)
            writeName(exchange, compress: true)
        case .soa(let soa):
            writeName(soa.primary, compress: true)
            writeName(soa.mailbox, compress: true)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { appendUInt32(value) }
        case .opt(let options):
            for option in options {
                guard option.data.count <= Int(UInt16.max) else { throw DNSEncodeError(problem: "EDNS option over 65535 bytes") }
                appendUInt16(option.code)
                appendUInt16(UInt16(option.data.count))
                bytes.append(contentsOf: option.data)
            }
        case .opaque(let data):
            bytes.append(contentsOf: data)
        }
        let length = bytes.count - lengthAt - 2
        guard length <= Int(UInt16.max) else { throw DNSEncodeError(problem: "\(record.type) record data over 65535 bytes") }
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(length & 0xFF)
    }

    /// Writes `name`, ending in a pointer to the longest suffix already written when
    /// `compress` is set, and registers its new suffixes for later names.
    ///
    /// Earlier suffixes are found by comparing against the bytes already written (following
    /// their pointers), not through a table of names: that table allocated a name per suffix and
    /// was the largest cost of encoding a forwarded answer. Only the first `maxSuffixes` are
    /// offered for reuse, which bounds the search in a message with thousands of names; later
    /// names are then written out in full, which is still valid.
    mutating func writeName(_ name: DNSName, compress: Bool) {
        let wire = name.wire
        var pointer: Int?
        var inlineEnd = wire.count - 1
        if compress {
            var start = 0
            search: while start < wire.count, wire[start] != 0 {
                for offset in suffixOffsets where writtenName(at: offset, equals: wire, from: start) {
                    pointer = offset
                    inlineEnd = start
                    break search
                }
                start += Int(wire[start]) + 1
            }
        }
        let base = bytes.count
        var start = 0
        while start < inlineEnd, suffixOffsets.count < Self.maxSuffixes, base + start < 0x4000 {
            suffixOffsets.append(base + start)
            start += Int(wire[start]) + 1
        }
        bytes.append(contentsOf: wire[0..<inlineEnd])
        if let pointer {
            appendUInt16(0xC000 | UInt16(pointer))
        } else {
            bytes.append(0)
        }
    }

    /// Name starts kept for compression at most.
    static let maxSuffixes = 128

    /// Whether the name written at `offset` equals `wire[start...]`, ignoring ASCII case.
    private func writtenName(at offset: Int, equals wire: [UInt8], from start: Int) -> Bool {
        var at = offset
        var i = start
        // Pointers here were written by this writer and point backwards; the bound is a guard.
        for _ in 0..<255 {
            let length = bytes[at]
            if length & 0xC0 == 0xC0 {
                at = Int(length & 0x3F) << 8 | Int(bytes[at + 1])
                continue
            }
            guard wire[i] == length else { return false }
            if length == 0 { return true }
            for k in 1...Int(length) where DNSName.fold(bytes[at + k]) != DNSName.fold(wire[i + k]) { return false }
            at += Int(length) + 1
            i += Int(length) + 1
        }
        return false
    }

    mutating func appendUInt16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    mutating func appendUInt32(_ value: UInt32) {
        bytes.append(UInt8(value >> 24))
        bytes.append(UInt8((value >> 16) & 0xFF))
        bytes.append(UInt8((value >> 8) & 0xFF))
        bytes.append(UInt8(value & 0xFF))
    }
}
