/// Receives the parts of server-sent events as `SSEParser` finds them.
public protocol SSEEventHandler {
    /// Part of the current event's `data` (a line's value, possibly in pieces). `firstOfLine` is true
    /// for the first piece of each `data:` line; per the spec a second line is joined with "\n".
    mutating func data(_ bytes: UnsafeRawBufferPointer, firstOfLine: Bool)
    /// The current event's `event:` name (complete; capped at 64 bytes).
    mutating func eventName(_ name: String)
    /// A blank line ended an event that had at least one `data` or `event` line.
    mutating func dispatch()
    /// A line ended that is not a comment and names no field the spec defines (`data`, `event`,
    /// `id`, `retry`); `hasColon` is false for a line with no colon at all, which a stream that
    /// is not an event stream (an HTML page, say) is full of.
    mutating func unknownField(hasColon: Bool)
}

extension SSEEventHandler {
    /// Ignores the line, as the spec does.
    public mutating func unknownField(hasColon: Bool) {}
}

/// An incremental `text/event-stream` parser (WHATWG HTML §9.2) fed byte chunks split anywhere.
///
/// Lines end in LF, CR or CRLF, also when the CR and LF arrive in different chunks. `data` values
/// are streamed to the handler as they arrive, never buffered, so a huge event costs no memory;
/// `id`, `retry` and comments are skipped. Field names are matched exactly (`data`, `event`).
/// A leading byte-order mark is not skipped; a caller that may see one drops it first.
public struct SSEParser: Sendable {
    private enum State: Sendable {
        /// Reading a field name (or the start of a line).
        case name
        /// After `name:`, where one leading space is dropped.
        case valueStart(Field)
        /// Inside a value.
        case value(Field)
    }

    private enum Field: Sendable {
        case data
        case event
        /// `id` and `retry`, which nothing here reads.
        case skipped
        /// A comment (a line starting with `:`).
        case comment
        /// Any other name.
        case unknown
    }

    private static let maxNameLength = 8
    private static let maxEventNameLength = 64

    private var state = State.name
    private var nameBuffer: [UInt8] = []
    private var nameOverflow = false
    private var eventBuffer: [UInt8] = []
    private var lineLength = 0
    private var afterCR = false
    private var eventHasFields = false
    private var dataLineStarted = false

    /// Creates a parser at the start of a stream.
    public init() {
        nameBuffer.reserveCapacity(Self.maxNameLength)
    }

    /// Parses the next chunk, calling `handler` for each event part.
    public mutating func feed<H: SSEEventHandler>(_ bytes: UnsafeRawBufferPointer, handler: inout H) {
        let count = bytes.count
        var i = 0
        while i < count {
            let byte = bytes[i]
            if afterCR {
                afterCR = false
                if byte == 0x0A { i += 1; continue }  // the LF of a CRLF split or not
            }
            if byte == 0x0A || byte == 0x0D {
                afterCR = byte == 0x0D
                endLine(handler: &handler)
                i += 1
                continue
            }
            lineLength += 1
            switch state {
            case .name:
                if byte == UInt8(ascii: ":") {
                    state = .valueStart(field())
                } else if nameBuffer.count < Self.maxNameLength {
                    nameBuffer.append(byte)
                } else {
                    nameOverflow = true
                }
                i += 1
            case .valueStart(let field):
                state = .value(field)
                if byte == UInt8(ascii: " ") { i += 1 }
            case .value(let field):
                // Hand over the run up to the end of the line in one piece.
                var j = i
                while j < count, bytes[j] != 0x0A, bytes[j] != 0x0D { j += 1 }
                lineLength += j - i - 1
                let run = UnsafeRawBufferPointer(rebasing: bytes[i..<j])
                switch field {
                case .data:
                    handler.data(run, firstOfLine: !dataLineStarted)
                    dataLineStarted = true
                case .event:
                    let room = Self.maxEventNameLength - eventBuffer.count
                    if room > 0 { eventBuffer.append(contentsOf: run.prefix(room)) }
                case .skipped, .comment, .unknown:
                    break
                }
                i = j
            }
        }
    }

    /// Parses the next chunk, calling `handler` for each event part.
    public mutating func feed<H: SSEEventHandler>(_ bytes: some Collection<UInt8>, handler: inout H) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            feed(UnsafeRawBufferPointer(buffer), handler: &handler)
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { feed($0, handler: &handler) }
        }
    }

    private func field() -> Field {
        guard !nameOverflow else { return .unknown }
        if nameBuffer.elementsEqual("data".utf8) { return .data }
        if nameBuffer.elementsEqual("event".utf8) { return .event }
        if nameBuffer.isEmpty { return .comment }
        if nameBuffer.elementsEqual("id".utf8) || nameBuffer.elementsEqual("retry".utf8) { return .skipped }
        return .unknown
    }

    private mutating func endLine<H: SSEEventHandler>(handler: inout H) {
        defer {
            state = .name
            nameBuffer.removeAll(keepingCapacity: true)
            nameOverflow = false
            lineLength = 0
            dataLineStarted = false
        }
        if lineLength == 0 {
            // A blank line ends the event.
            if eventHasFields { handler.dispatch() }
            eventHasFields = false
            eventBuffer.removeAll(keepingCapacity: true)
            return
        }
        let field: Field
        let hasColon: Bool
        switch state {
        case .name:
            // A line without a colon is a field with an empty value (a non-blank line has a name).
            field = self.field()
            hasColon = false
        case .valueStart(let f), .value(let f):
            field = f
            hasColon = true
        }
        switch field {
        case .data:
            if !dataLineStarted {
                // An empty data line still adds an (empty) line to the event's data.
                handler.data(UnsafeRawBufferPointer(start: nil, count: 0), firstOfLine: true)
            }
            eventHasFields = true
        case .event:
            handler.eventName(String(decoding: eventBuffer, as: UTF8.self))
            eventBuffer.removeAll(keepingCapacity: true)
            eventHasFields = true
        case .skipped, .comment:
            break
        case .unknown:
            handler.unknownField(hasColon: hasColon)
        }
    }
}
