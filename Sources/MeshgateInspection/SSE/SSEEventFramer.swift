/// Cuts a `text/event-stream` into whole events, for a filter that may rewrite one event and must
/// pass the others on byte for byte. An event is everything up to and including the blank line that
/// ends it (LF, CRLF or CR line ends, split across chunks anywhere). An event longer than
/// `maxEventBytes` is given up on: its bytes so far are returned as passed-through, so memory stays
/// bounded, and the rest of it passes until the next event starts.
public struct SSEEventFramer: Sendable {
    /// A piece of the stream.
    public enum Piece: Sendable, Equatable {
        /// A whole event (its raw bytes, blank line included).
        case event([UInt8])
        /// Bytes to pass unchanged (a giant event's).
        case passed([UInt8])
    }

    public let maxEventBytes: Int
    private var pending: [UInt8] = []
    /// The current line has had a byte other than a line end.
    private var lineHasContent = false
    private var afterCR = false
    /// Inside an over-long event: bytes pass until it ends.
    private var skipping = false

    public init(maxEventBytes: Int = 4 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    /// Feeds a chunk; returns the pieces it completes, in order.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [Piece] {
        var pieces: [Piece] = []
        var passed: [UInt8] = []
        for byte in bytes {
            if afterCR, byte == 0x0A {
                // The LF of a CRLF: part of the line end already counted.
                afterCR = false
                if skipping { passed.append(byte) } else { pending.append(byte) }
                if !skipping, endsEventHere { flushEvent(into: &pieces, passed: &passed) }
                continue
            }
            afterCR = false
            if skipping { passed.append(byte) } else { pending.append(byte) }
            if byte == 0x0A || byte == 0x0D {
                afterCR = byte == 0x0D
                if !lineHasContent {
                    // A blank line: the event ends (after a CR, once we know whether an LF follows).
                    if skipping {
                        skipping = false
                    } else if byte == 0x0A {
                        flushEvent(into: &pieces, passed: &passed)
                    } else {
                        endsEventHere = true
                    }
                }
                lineHasContent = false
            } else {
                if endsEventHere {
                    // A lone CR ended the event; this byte starts the next.
                    let last = pending.removeLast()
                    flushEvent(into: &pieces, passed: &passed)
                    pending.append(last)
                }
                lineHasContent = true
            }
            if !skipping, pending.count > maxEventBytes {
                passed.append(contentsOf: pending)
                pending.removeAll(keepingCapacity: false)
                endsEventHere = false
                skipping = true
            }
        }
        if !passed.isEmpty { pieces.append(.passed(passed)) }
        return pieces
    }

    /// What is left at the end of the stream: an event whose last line end was a lone CR (only the
    /// end of the stream tells it is not the first half of a CRLF), or bytes without their blank line,
    /// to pass unchanged. Nil when nothing is left.
    public mutating func finish() -> Piece? {
        defer {
            pending.removeAll()
            endsEventHere = false
        }
        guard !pending.isEmpty else { return nil }
        return endsEventHere && !skipping ? .event(pending) : .passed(pending)
    }

    private var endsEventHere = false

    private mutating func flushEvent(into pieces: inout [Piece], passed: inout [UInt8]) {
        endsEventHere = false
        if !passed.isEmpty {
            pieces.append(.passed(passed))
            passed.removeAll()
        }
        if !pending.isEmpty { pieces.append(.event(pending)) }
        pending.removeAll(keepingCapacity: true)
    }

    /// The event's `data` (its `data:` lines joined with LF, one leading space dropped) and whether
    /// it had any.
    public static func data(of event: [UInt8]) -> [UInt8]? {
        var data: [UInt8] = []
        var found = false
        forEachLine(event) { line in
            guard line.starts(with: "data".utf8) else { return }
            var value = line.dropFirst(4)
            if let first = value.first {
                guard first == UInt8(ascii: ":") else { return }
                value = value.dropFirst()
                if value.first == 0x20 { value = value.dropFirst() }
            }
            if found { data.append(0x0A) }
            data.append(contentsOf: value)
            found = true
        }
        return found ? data : nil
    }

    /// The event with its `data:` lines replaced by one `data:` line holding `data` (which has no line
    /// ends), other fields (`event:`, `id:`) kept in place.
    public static func replacingData(of event: [UInt8], with data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var written = false
        forEachLine(event) { line in
            if line.starts(with: "data".utf8), line.count == 4 || line[line.startIndex + 4] == UInt8(ascii: ":") {
                guard !written else { return }
                written = true
                out.append(contentsOf: "data: ".utf8)
                out.append(contentsOf: data)
            } else {
                out.append(contentsOf: line)
            }
            out.append(0x0A)
        }
        out.append(0x0A)
        return out
    }

    private static func forEachLine(_ event: [UInt8], _ body: (ArraySlice<UInt8>) -> Void) {
        var start = 0
        var i = 0
        while i < event.count {
            let byte = event[i]
            if byte == 0x0A || byte == 0x0D {
                if i > start { body(event[start..<i]) }
                if byte == 0x0D, i + 1 < event.count, event[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < event.count { body(event[start...]) }
    }
}
