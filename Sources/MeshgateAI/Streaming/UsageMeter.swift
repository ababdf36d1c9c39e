import MeshgateInspection
import MeshgateJSON
import NIOCore

/// What one server-sent event of an LLM stream contributed to metering.
public struct StreamUsageEvent: Sendable, Hashable {
    /// The `event:` name (Anthropic sends one per event; OpenAI none).
    public var name: String?
    /// Usage numbers carried by this event (empty when none).
    public var usage: ReportedUsage
    /// Raw bytes of generated text and tool-call arguments in this event.
    public var outputTextBytes: Int
    /// Whether this event carried the final usage report (OpenAI's last chunk, Anthropic
    /// `message_delta`, OpenAI Responses `response.completed`).
    public var isFinalUsage: Bool
    /// Whether it is an error event.
    public var isError: Bool
    /// Whether it is OpenAI's `data: [DONE]` terminator.
    public var isDone: Bool
}

/// Meters one LLM response as its body streams past: a JSON body or a `text/event-stream`, fed in
/// chunks split anywhere, with no copy of the body kept.
///
/// At the end, `finish()` gives the provider's own count when it arrived, else an estimate marked
/// `estimated`: the reported input (Anthropic reports it first) or the request's estimate, and as
/// output the reported output or `ceil(outputTextBytes / 4)`, whichever is larger.
public struct UsageMeter: Sendable {
    /// The response's dialect.
    public let format: LLMFormat
    /// Whether the body is a server-sent event stream.
    public let streaming: Bool
    /// The request's input estimate, used when no input count arrives.
    public let estimatedInputTokens: Int
    /// Body bytes consumed.
    public private(set) var bytesSeen = 0

    private var sse = SSEParser()
    private var state = MeterState()

    /// Whether a response with this `Content-Type` is a server-sent event stream.
    public static func isEventStream(contentType: String?) -> Bool {
        guard let contentType else { return false }
        return contentType.lowercased().hasPrefix("text/event-stream")
    }

    /// Creates a meter for one response.
    public init(format: LLMFormat, streaming: Bool, estimatedInputTokens: Int = 0) {
        self.format = format
        self.streaming = streaming
        self.estimatedInputTokens = estimatedInputTokens
    }

    /// Usage reported so far, merged across events.
    public var reported: ReportedUsage { state.reported }
    /// Whether the final usage report arrived.
    public var complete: Bool { state.complete }
    /// Raw bytes of generated text seen so far.
    public var outputTextBytes: Int { state.outputTextBytes }
    /// The model named in the response.
    public var model: String? { state.model }
    /// Whether an error document or event was seen.
    public var sawError: Bool { state.sawError }
    /// The tool calls the model asked for so far (id and name; duplicates across a stream's events merged).
    public var toolCalls: [LLMToolCall] { state.toolCalls }

    /// Consumes the next body chunk, calling `onEvent` for each complete server-sent event in it.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, onEvent: (StreamUsageEvent) -> Void = { _ in }) {
        bytesSeen += bytes.count
        guard streaming else {
            state.scanner.scan(bytes, visitor: &state.scan)
            return
        }
        withoutActuallyEscaping(onEvent) { callback in
            // Move the state into the handler so its buffers stay uniquely referenced (no copies).
            var handler = DispatchingHandler(state: state, onEvent: callback)
            state = MeterState()
            sse.feed(bytes, handler: &handler)
            state = handler.state
        }
    }

    /// Consumes the next body chunk.
    public mutating func consume(_ buffer: ByteBuffer, onEvent: (StreamUsageEvent) -> Void = { _ in }) {
        buffer.withUnsafeReadableBytes { consume($0, onEvent: onEvent) }
    }

    /// The usage to charge; call once the response ended or was cut.
    public mutating func finish() -> TokenUsage {
        if !streaming {
            state.scanner.finish(visitor: &state.scan)
            _ = state.fold()
        }
        return currentUsage
    }

    /// The best count so far: what `finish()` would return now (for cutting a stream at a cap).
    public var currentUsage: TokenUsage {
        var usage = state.reported.normalized(format)
        if state.complete && state.reported.hasInput { return usage }
        if !state.reported.hasInput { usage.input = estimatedInputTokens }
        usage.output = max(usage.output, (state.outputTextBytes + 3) / 4)
        usage.estimated = true
        return usage
    }
}

/// The meter's running totals plus the scanner of the current document or event.
private struct MeterState: Sendable {
    var reported = ReportedUsage()
    var complete = false
    var outputTextBytes = 0
    var model: String?
    var sawError = false
    var toolCalls: [LLMToolCall] = []
    var scan = UsageScan()
    var scanner = JSONFieldScanner()
    var eventName: String?
    var dataPrefix: [UInt8] = []
    var dataLines = 0

    /// Adds the finished document's findings to the totals and starts a new one.
    mutating func fold() -> StreamUsageEvent {
        let isError = scan.isError || eventName == "error"
        let event = StreamUsageEvent(name: eventName, usage: scan.reported, outputTextBytes: scan.outputTextBytes,
                                     isFinalUsage: scan.sawFinalUsage, isError: isError,
                                     isDone: dataPrefix.elementsEqual("[DONE]".utf8))
        reported.merge(scan.reported)
        complete = complete || scan.sawFinalUsage
        outputTextBytes += scan.outputTextBytes
        model = scan.model ?? model
        sawError = sawError || isError
        for call in scan.toolCalls { LLMToolCall.merge(call, into: &toolCalls) }
        scan.reset(capturesModel: model == nil)
        scanner.reset()
        eventName = nil
        dataPrefix.removeAll(keepingCapacity: true)
        dataLines = 0
        return event
    }
}

/// Streams each event's data through the JSON scanner and reports the event at dispatch.
private struct DispatchingHandler: SSEEventHandler {
    var state: MeterState
    let onEvent: (StreamUsageEvent) -> Void

    mutating func data(_ bytes: UnsafeRawBufferPointer, firstOfLine: Bool) {
        if firstOfLine {
            state.dataLines += 1
            if state.dataLines > 1 {
                // Data lines join with "\n", which JSON reads as whitespace.
                withUnsafeBytes(of: UInt8(0x0A)) { state.scanner.scan($0, visitor: &state.scan) }
            }
        }
        if state.dataPrefix.count < 6 { state.dataPrefix.append(contentsOf: bytes.prefix(6 - state.dataPrefix.count)) }
        state.scanner.scan(bytes, visitor: &state.scan)
    }

    mutating func eventName(_ name: String) {
        state.eventName = name
    }

    mutating func dispatch() {
        state.scanner.finish(visitor: &state.scan)
        onEvent(state.fold())
    }
}

/// A tool call a model asked for: the provider's call id and the tool's name (either may be missing
/// from a malformed answer).
public struct LLMToolCall: Sendable, Hashable {
    public var id: String?
    public var name: String?

    public init(id: String?, name: String?) {
        self.id = id
        self.name = name
    }

    /// At most this many calls are kept per answer (the audit line stays bounded).
    public static let maxPerAnswer = 64

    /// Adds `call` unless it repeats one already there (a stream names a call in several events; the
    /// OpenAI Responses API repeats the whole output at its end).
    static func merge(_ call: LLMToolCall, into calls: inout [LLMToolCall]) {
        if let id = call.id, let index = calls.firstIndex(where: { $0.id == id }) {
            if calls[index].name == nil { calls[index].name = call.name }
            return
        }
        if call.id == nil, call.name != nil, let last = calls.indices.last, calls[last].name == nil {
            // A stream's id chunk and name chunk arrived in separate events.
            calls[last].name = call.name
            return
        }
        guard calls.count < maxPerAnswer else { return }
        calls.append(call)
    }
}
