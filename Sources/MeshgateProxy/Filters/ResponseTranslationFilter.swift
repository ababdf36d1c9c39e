import MeshgateAI
import NIOCore
import NIOHTTP1

/// On the `ai` listener, turns the provider's response into the caller's format when the two
/// differ: a stream event by event, anything else whole. A whole answer keeps its head until the
/// translation succeeded or failed (then the caller gets 502 in its format instead of a 200 with an
/// error body); a large one is translated off the event loop, so other connections are not stalled.
final class ResponseTranslationFilter: ExchangeFilter {
    private let maxResponseBytes: Int
    private weak var callbacks: (any ExchangeFilterCallbacks)?
    private var active = false
    /// Event by event (a stream), or nil when the answer is held whole.
    private var stream: StreamTranslator?
    /// The provider's body so far, when held whole.
    private var body = ByteBuffer()
    /// The caller's response head, held until the whole body is translated.
    private var heldHead: HTTPResponseHead?
    private var status = 0
    private var from = LLMFormat.openai
    private var to = LLMFormat.openai
    private var model = ""
    /// A translation done off the event loop, waiting to be sent.
    private var translated: Result<[UInt8], TranslationError>?

    /// Held bodies larger than this are translated off the event loop (a few ms of work below it).
    static let offLoopTranslationBytes = 256 << 10
    /// At most this many bytes of a held provider body (ai.max_response_bytes).
    static let defaultMaxResponseBytes = 32 << 20

    init(maxResponseBytes: Int, callbacks: any ExchangeFilterCallbacks) {
        self.maxResponseBytes = maxResponseBytes
        self.callbacks = callbacks
    }

    func responseHead(_ head: inout HTTPResponseHead, exchange tx: HTTPTransaction) -> FilterStatus {
        guard let attempts = tx.llm.attempts, attempts.current.provider.format != attempts.callerFormat else { return .continue }
        active = true
        status = Int(head.status.code)
        from = attempts.current.provider.format
        to = attempts.callerFormat
        model = attempts.callerModel
        // A translated body has another length.
        head.headers.remove(name: "content-length")
        if status < 400, UsageMeter.isEventStream(contentType: head.headers.first(name: "content-type")) {
            stream = StreamTranslator(from: from, to: to, model: model)
            // A translated OpenAI stream ends with a usage chunk; a caller that did not ask for one does not get it.
            if to == .openai, LLMRequestFacts.includeUsageEdit(body: attempts.body, endpoint: attempts.callerEndpoint) != nil {
                tx.llm.stripUsageChunk = true
            }
            return .continue
        }
        heldHead = head
        return .consumed
    }

    func responseBody(_ chunk: inout ByteBuffer, exchange tx: HTTPTransaction) -> FilterStatus {
        guard active else { return .continue }
        if stream != nil {
            let out = stream?.translate(chunk) ?? chunk
            if let failure = stream?.failure {
                // The caller gets the error event in its format; the provider call is cancelled.
                tx.audit.error = "provider stream could not be translated: \(failure)"
                active = false
                return .end(out)
            }
            chunk = out
            return .continue
        }
        guard body.readableBytes + chunk.readableBytes <= maxResponseBytes else {
            active = false
            heldHead = nil
            return .respond(.badGateway, message: "meshgate: the provider's response is larger than \(maxResponseBytes) bytes and cannot be translated (ai.max_response_bytes)")
        }
        body.writeBuffer(&chunk)
        return .consumed
    }

    func responseEnd(_ tail: inout ResponseTail, exchange tx: HTTPTransaction) -> FilterStatus {
        guard active else { return .continue }
        if stream != nil {
            if let rest = stream?.finish() { tail.append(rest) }
            return .continue
        }
        if let done = translated {
            translated = nil
            return answer(done, into: &tail, tx)
        }
        let bytes = Array(body.readableBytesView)
        body = ByteBuffer()
        if status >= 400 {
            return answer(.success(ResponseTranslator.translateError(bytes, status: status, from: from, to: to)), into: &tail, tx)
        }
        let (from, to, model) = (from, to, model)
        guard bytes.count > Self.offLoopTranslationBytes, let callbacks else {
            return answer(translateWhole(bytes, from: from, to: to, model: model), into: &tail, tx)
        }
        callbacks.start({ translateWhole(bytes, from: from, to: to, model: model) }) { [self] result in
            translated = result
            return .continue
        }
        return .pause
    }

    var passesBodyThrough: Bool { !active }

    /// The held head and the translated body, or 502 in the caller's format naming why.
    private func answer(_ result: Result<[UInt8], TranslationError>, into tail: inout ResponseTail, _ tx: HTTPTransaction) -> FilterStatus {
        active = false
        switch result {
        case .success(let translated):
            if var head = heldHead {
                head.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
                head.headers.replaceOrAdd(name: "Content-Length", value: String(translated.count))
                head.headers.remove(name: "transfer-encoding")
                tail.head = head
            }
            heldHead = nil
            tail.append(ByteBuffer(bytes: translated))
            return .continue
        case .failure(let error):
            heldHead = nil
            let reason = "the provider's response could not be translated to the \(to.rawValue) format: \(error)"
            tx.audit.error = reason
            return .respond(.badGateway, message: "meshgate: \(reason)")
        }
    }
}

/// A whole answer in the caller's format (a free function: it also runs off the event loop).
private func translateWhole(_ bytes: [UInt8], from: LLMFormat, to: LLMFormat, model: String) -> Result<[UInt8], TranslationError> {
    Result { () throws(TranslationError) in try ResponseTranslator.translate(bytes, from: from, to: to, model: model) }
}
