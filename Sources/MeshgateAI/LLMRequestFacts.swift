import MeshgateJSON
import NIOCore

/// What metering needs from an LLM request body, read in one pass without building a tree.
///
/// **Input estimate.** Until the provider reports usage, input tokens are estimated as one token per
/// four bytes of string content (`ceil(textBytes / 4)`), the rule of thumb OpenAI documents for
/// English text. Counted: every string value except the top-level `model` and media payloads;
/// media (a string under `data`, `url`, `image_url` or `file_data`: base64 images, files, image
/// URLs) counts `mediaPartTokens` each instead, so one inline image cannot make a request look like
/// a million tokens. Keys and JSON punctuation are not counted; the string values include roles and
/// tool schemas, which roughly stands in for the per-message overhead providers add. It errs low on
/// CJK text and high on escaped text; it is only used to size a reservation, which is settled to
/// the provider's real count afterwards.
public struct LLMRequestFacts: Sendable, Hashable {
    /// Tokens charged per media part in the estimate (roughly one image at the providers' default detail).
    public static let mediaPartTokens = 1000

    /// `model`, when present as a string.
    public var model: String?
    /// `stream: true`.
    public var stream: Bool
    /// The output cap the caller asked for: `max_completion_tokens`, else `max_output_tokens`, else `max_tokens`.
    public var maxOutputTokens: Int?
    /// Bytes of counted string content (see the type's documentation).
    public var textBytes: Int
    /// Media payloads seen.
    public var mediaParts: Int

    /// The estimated input tokens: `ceil(textBytes / 4) + mediaParts × mediaPartTokens`.
    public var estimatedInputTokens: Int {
        (textBytes + 3) / 4 + mediaParts * Self.mediaPartTokens
    }

    /// Input tokens a hard cap reserves: `ceil(textBytes / 2)` (see `ReservationRequest`).
    public var conservativeInputTokens: Int {
        (textBytes + 1) / 2 + mediaParts * Self.mediaPartTokens
    }

    /// Creates facts directly (tests, callers with their own parser).
    public init(model: String? = nil, stream: Bool = false, maxOutputTokens: Int? = nil, textBytes: Int = 0, mediaParts: Int = 0) {
        self.model = model
        self.stream = stream
        self.maxOutputTokens = maxOutputTokens
        self.textBytes = textBytes
        self.mediaParts = mediaParts
    }

    /// Reads the facts from a complete request body. Never fails: an unreadable body gives empty facts.
    public init(body: some Collection<UInt8>) {
        var scan = RequestScan()
        var scanner = JSONFieldScanner()
        scanner.scan(body, visitor: &scan)
        scanner.finish(visitor: &scan)
        self = scan.facts
    }

    /// Reads the facts from a complete request body held in a `ByteBuffer`.
    public init(body: ByteBuffer) {
        self.init(body: body.readableBytesView)
    }

    /// Tokens to reserve before the call: the input estimate plus the output cap, or
    /// `defaultMaxOutputTokens` when the caller set none. Embeddings produce no output tokens.
    public func reservationTokens(endpoint: LLMEndpoint, defaultMaxOutputTokens: Int) -> Int {
        let output = endpoint == .embeddings ? 0 : max(0, maxOutputTokens ?? defaultMaxOutputTokens)
        let (sum, overflow) = estimatedInputTokens.addingReportingOverflow(output)
        return max(1, overflow ? Int.max : sum)
    }
}

/// One in-place byte edit of a body: replace `range` with `replacement`.
public struct ByteEdit: Sendable, Hashable {
    /// The bytes replaced (empty for an insertion).
    public var range: Range<Int>
    /// What goes there.
    public var replacement: [UInt8]

    /// Creates an edit.
    public init(range: Range<Int>, replacement: [UInt8]) {
        self.range = range
        self.replacement = replacement
    }

    /// How much longer the body gets (for `Content-Length`).
    public var lengthChange: Int { replacement.count - range.count }

    /// `body` with the edit applied.
    public func applied(to body: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(body.count + max(0, lengthChange))
        out.append(contentsOf: body[..<range.lowerBound])
        out.append(contentsOf: replacement)
        out.append(contentsOf: body[range.upperBound...])
        return out
    }

    /// `body` with the edit applied.
    public func applied(to body: ByteBuffer) -> ByteBuffer {
        let view = body.readableBytesView
        var out = ByteBuffer()
        out.reserveCapacity(body.readableBytes + max(0, lengthChange))
        out.writeBytes(view.prefix(range.lowerBound))
        out.writeBytes(replacement)
        out.writeBytes(view.dropFirst(range.upperBound))
        return out
    }
}

extension LLMRequestFacts {
    /// The edit that makes an OpenAI streaming request ask for usage in its final chunk
    /// (`"stream_options":{"include_usage":true}`), or nil when none is needed: not streaming, an
    /// endpoint without stream options, usage already requested, or a body that is not a JSON object.
    ///
    /// The edit is minimal and leaves every other byte as sent: it appends the member after the last
    /// top-level member, adds `include_usage` to an existing `stream_options` object, or turns an
    /// explicit `include_usage: false` into `true` (metering needs the count; the caller then sees one
    /// extra chunk with empty `choices`, which the OpenAI SDKs accept). The caller must fix
    /// `Content-Length` by `lengthChange`.
    public static func includeUsageEdit(body: some Collection<UInt8>, endpoint: LLMEndpoint) -> ByteEdit? {
        guard endpoint.acceptsStreamOptions else { return nil }
        var scan = RequestScan()
        var scanner = JSONFieldScanner()
        scanner.scan(body, visitor: &scan)
        scanner.finish(visitor: &scan)
        guard scan.rootIsObject, scan.rootClosed, scan.facts.stream else { return nil }
        switch scan.includeUsage {
        case .some(let value) where value.isTrue:
            return nil
        case .some(let value):
            return ByteEdit(range: value.range, replacement: Array("true".utf8))
        case nil:
            break
        }
        switch scan.streamOptions {
        case .object(let open, let lastMemberEnd)?:
            if let end = lastMemberEnd {
                return ByteEdit(range: end..<end, replacement: Array(#","include_usage":true"#.utf8))
            }
            return ByteEdit(range: (open + 1)..<(open + 1), replacement: Array(#""include_usage":true"#.utf8))
        case .other(let range)?:
            return ByteEdit(range: range, replacement: Array(#"{"include_usage":true}"#.utf8))
        case nil:
            guard let end = scan.lastTopLevelEnd else { return nil }
            return ByteEdit(range: end..<end, replacement: Array(#","stream_options":{"include_usage":true}"#.utf8))
        }
    }

    /// The edit that caps a request's output at `tokens` when it set no cap of its own, in the
    /// member `endpoint` reads (`max_completion_tokens` for chat, `max_output_tokens` for
    /// Responses, `max_tokens` otherwise), appended after the last top-level member; nil when the
    /// body has a cap, is not a whole JSON object, or is an embeddings call.
    public static func outputCapEdit(body: ByteBuffer, endpoint: LLMEndpoint, tokens: Int) -> ByteEdit? {
        guard endpoint != .embeddings else { return nil }
        var scan = RequestScan()
        var scanner = JSONFieldScanner()
        scanner.scan(body.readableBytesView, visitor: &scan)
        scanner.finish(visitor: &scan)
        guard scan.rootIsObject, scan.rootClosed, scan.facts.maxOutputTokens == nil, let end = scan.lastTopLevelEnd else { return nil }
        let member = switch endpoint {
        case .chatCompletions: "max_completion_tokens"
        case .responses: "max_output_tokens"
        case .completions, .messages, .embeddings: "max_tokens"
        }
        return ByteEdit(range: end..<end, replacement: Array(",\"\(member)\":\(max(1, tokens))".utf8))
    }

    /// `includeUsageEdit` for a body in a `ByteBuffer`.
    public static func includeUsageEdit(body: ByteBuffer, endpoint: LLMEndpoint) -> ByteEdit? {
        includeUsageEdit(body: body.readableBytesView, endpoint: endpoint)
    }
}

/// Collects request facts and the offsets the include_usage edit needs.
private struct RequestScan: JSONScanVisitor {
    enum StreamOptions {
        case object(open: Int, lastMemberEnd: Int?)
        case other(Range<Int>)
    }

    struct IncludeUsage {
        var range: Range<Int>
        var isTrue: Bool
    }

    var facts = LLMRequestFacts()
    var rootIsObject = false
    var rootClosed = false
    var lastTopLevelEnd: Int?
    var streamOptions: StreamOptions?
    var includeUsage: IncludeUsage?
    private var maxCompletion: Int?
    private var maxOutput: Int?
    private var maxTokens: Int?

    mutating func containerStart(path: JSONPath, isObject: Bool, offset: Int) {
        if path.count == 0 {
            rootIsObject = isObject
        } else if path.is(.streamOptions) {
            streamOptions = isObject ? .object(open: offset, lastMemberEnd: nil) : .other(offset..<offset)
            includeUsage = nil
        }
    }

    mutating func containerEnd(path: JSONPath, isObject: Bool, offset: Int, isEmpty: Bool) {
        switch path.count {
        case 0: rootClosed = true
        case 1:
            lastTopLevelEnd = offset + 1
            if path.is(.streamOptions), case .other(let range)? = streamOptions {
                streamOptions = .other(range.lowerBound..<(offset + 1))
            }
        case 2 where path[0] == .streamOptions:
            memberEnded(insideStreamOptions: offset + 1)
        default: break
        }
    }

    func wantsText(path: JSONPath) -> Bool { path.is(.model) }

    mutating func scalar(path: JSONPath, value: JSONScalar, start: Int, end: Int) {
        if path.count == 1 {
            lastTopLevelEnd = end
            switch (path[0], value) {
            case (.model, .string(_, let text)): facts.model = text
            case (.model, _): break
            case (.stream, .bool(let flag)): facts.stream = flag
            case (.stream, _): facts.stream = false
            case (.maxCompletionTokens, .number(let n)): maxCompletion = n
            case (.maxOutputTokens, .number(let n)): maxOutput = n
            case (.maxTokens, .number(let n)): maxTokens = n
            case (.streamOptions, _):
                streamOptions = .other(start..<end)
                includeUsage = nil
            case (_, .string(let length, _)): facts.textBytes += length
            default: break
            }
            facts.maxOutputTokens = maxCompletion ?? maxOutput ?? maxTokens
            return
        }
        if path.count == 2, path[0] == .streamOptions {
            memberEnded(insideStreamOptions: end)
            if path[1] == .includeUsage {
                includeUsage = IncludeUsage(range: start..<end, isTrue: value == .bool(true))
            }
            return
        }
        guard case .string(let length, _) = value else { return }
        switch path.last {
        case .data, .url, .imageURL, .fileData: facts.mediaParts += 1
        default: facts.textBytes += length
        }
    }

    private mutating func memberEnded(insideStreamOptions end: Int) {
        if case .object(let open, _)? = streamOptions {
            streamOptions = .object(open: open, lastMemberEnd: end)
        }
    }
}
