import NIOCore

/// Removes the usage-only chunk (`"choices":[]` plus `usage`) from an OpenAI stream whose request
/// meshgate edited to ask for usage, so the caller gets exactly the stream it asked for: client
/// code that reads `chunk.choices[0]` on every chunk keeps working.
///
/// Events are passed on whole, as soon as their blank line arrives; only the bytes of an event
/// still in flight are held. A stream without blank-line framing (or an event over 64 KiB) is
/// passed through untouched rather than held.
public struct UsageChunkFilter: Sendable {
    private var pending = ByteBuffer()
    private var passthrough = false
    private static let maxHeld = 64 * 1024

    /// Creates a filter.
    public init() {}

    /// The bytes to send on for `buffer`: every complete event in it except the usage-only chunk.
    public mutating func filter(_ buffer: ByteBuffer) -> ByteBuffer {
        if passthrough { return buffer }
        var incoming = buffer
        pending.writeBuffer(&incoming)
        let bytes = pending.readableBytesView
        guard let end = Self.lastEventEnd(in: bytes) else {
            if pending.readableBytes > Self.maxHeld {
                passthrough = true
                defer { pending.clear() }
                return pending
            }
            return ByteBuffer()
        }
        var out = ByteBuffer()
        out.reserveCapacity(end)
        var start = bytes.startIndex
        while start < bytes.startIndex + end {
            let eventEnd = Self.nextEventEnd(in: bytes, from: start) ?? (bytes.startIndex + end)
            let event = bytes[start..<eventEnd]
            if !Self.isUsageOnly(event) { out.writeBytes(event) }
            start = eventEnd
        }
        pending.moveReaderIndex(forwardBy: end)
        pending.discardReadBytes()
        return out
    }

    /// What is still held when the stream ends (an unterminated last event).
    public mutating func flush() -> ByteBuffer {
        defer { pending.clear() }
        return pending
    }

    /// Offset just past the last blank line in `bytes`, or nil when there is none.
    static func lastEventEnd(in bytes: ByteBufferView) -> Int? {
        var index = bytes.endIndex
        while index > bytes.startIndex {
            index -= 1
            guard bytes[index] == 0x0A else { continue }
            // "\n\n" or "\n\r\n": a line feed preceded by an empty line.
            let before = index - 1
            if before >= bytes.startIndex, bytes[before] == 0x0A { return index + 1 - bytes.startIndex }
            if before - 1 >= bytes.startIndex, bytes[before] == 0x0D, bytes[before - 1] == 0x0A { return index + 1 - bytes.startIndex }
        }
        return nil
    }

    static func nextEventEnd(in bytes: ByteBufferView, from start: Int) -> Int? {
        var index = start
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                let next = index + 1
                if next < bytes.endIndex, bytes[next] == 0x0A { return next + 1 }
                if next + 1 < bytes.endIndex, bytes[next] == 0x0D, bytes[next + 1] == 0x0A { return next + 2 }
            }
            index += 1
        }
        return nil
    }

    private static let choicesKey = Array(#""choices""#.utf8)
    private static let usageKey = Array(#""usage""#.utf8)

    /// Whether an event is a chunk with an empty `choices` array and a `usage` object.
    static func isUsageOnly(_ event: ByteBufferView.SubSequence) -> Bool {
        guard let usage = firstIndex(of: usageKey, in: event), let choices = firstIndex(of: choicesKey, in: event) else { return false }
        // `"usage":null` rides on every chunk of some servers; only a real report counts.
        var index = usage + usageKey.count
        while index < event.endIndex, event[index] == 0x20 || event[index] == 0x3A { index += 1 }
        guard index < event.endIndex, event[index] == 0x7B else { return false }
        index = choices + choicesKey.count
        while index < event.endIndex, event[index] == 0x20 || event[index] == 0x3A { index += 1 }
        guard index < event.endIndex, event[index] == 0x5B else { return false }
        index += 1
        while index < event.endIndex, event[index] == 0x20 || event[index] == 0x0A || event[index] == 0x0D { index += 1 }
        return index < event.endIndex && event[index] == 0x5D
    }

    private static func firstIndex(of needle: [UInt8], in haystack: ByteBufferView.SubSequence) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
