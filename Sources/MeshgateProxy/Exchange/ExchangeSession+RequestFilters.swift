import MeshgateAI
import MeshgateCore
import MeshgateInspection
import MeshgatePolicy
import NIOCore
import NIOHTTP1

extension ExchangeSession {
    /// Runs a forwardable request through its filters (`ExchangeFilterOrder`): policy from its
    /// head when no rule needs the body, otherwise once the body is held (up to
    /// `inspection.max_body_bytes`) and inspected; then token admission for an LLM call.
    func applyPolicy(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        tx.verdict.policy = services.policy.current
        if let ai = services.ai, tx.llm.call == nil {
            tx.llm.call = ai.recognizer.recognize(method: tx.head.method.rawValue, host: tx.route.host, port: tx.route.port, path: tx.route.path)
        }
        runRequestFilters(tx)
    }

    /// Starts the request filters on a request whose facts are known.
    func runRequestFilters(_ tx: HTTPTransaction) {
        tx.filters.request = ExchangeFilterOrder.requestFilters(for: tx, mode: mode, services: services, identity: identity, callbacks: self)
        runRequestHead(tx, from: 0)
    }

    /// The head hooks from `first` on; then the body is held, or the request goes upstream.
    func runRequestHead(_ tx: HTTPTransaction, from first: Int) {
        guard let context else { return }
        var index = first
        while index < tx.filters.request.count {
            switch tx.filters.request[index].requestHead(exchange: tx) {
            case .continue, .consumed:
                index += 1
            case .holdBody:
                tx.requestBody.holding = true
                index += 1
            case .pause:
                tx.filters.pausedRequest = (body: false, filter: index)
                machine.enter(.admitting(tx))
                return
            case let status:
                return carryOutRequest(status, tx)
            }
        }
        if tx.requestBody.holding {
            if tx.requestBody.inspection == nil { tx.requestBody.inspection = RequestShape.inspectionBuffer(for: tx.head, cap: configuration.maxInspectedBodyBytes) }
            machine.enter(.inspecting(tx))
            return
        }
        startAttempt(tx, context: context)
    }

    /// The body hooks from `first` on, once the body is held; then the request goes upstream.
    func runRequestBody(_ tx: HTTPTransaction, from first: Int) {
        guard let context else { return }
        for index in first..<tx.filters.request.count {
            switch tx.filters.request[index].requestBody(exchange: tx) {
            case .continue, .consumed, .holdBody:
                continue
            case .pause:
                tx.filters.pausedRequest = (body: true, filter: index)
                machine.enter(.admitting(tx))
                return
            case let status:
                return carryOutRequest(status, tx)
            }
        }
        startAttempt(tx, context: context)
    }

    /// Does what a request filter asked for instead of going on.
    func carryOutRequest(_ status: FilterStatus, _ tx: HTTPTransaction) {
        switch status {
        case .reply(let response, let close):
            respondLocally(tx, response, close: close)
        case .respond(let status, let message):
            respondUpstreamFailure(tx, status: status, message: message, close: true)
        case .end, .cut:
            closeConnection()
        case .continue, .consumed, .pause, .holdBody, .retry:
            break
        }
    }

    /// A body part arrived while the request is held for inspection.
    func inspectBody(_ tx: HTTPTransaction, _ buffer: ByteBuffer) {
        tx.audit.bytesIn += buffer.readableBytes
        tx.requestBody.buffered.append(.body(.byteBuffer(buffer)))
        tx.requestBody.bufferedBytes += buffer.readableBytes
        var incoming = buffer
        tx.requestBody.inspection?.writeBuffer(&incoming)
        if case .aiGateway = mode {
            // The ai listener routes and translates whole requests, so it holds them to the end
            // (images make LLM requests large); providers themselves refuse more than 32 MB.
            guard tx.requestBody.bufferedBytes > RequestShape.maxAIRequestBytes else { return }
            tx.verdict.action = .block
            respondAI(tx, format: tx.llm.call?.format ?? .openai, status: .payloadTooLarge,
                      message: "meshgate: the request body is over \(RequestShape.maxAIRequestBytes / 1_048_576) MiB, more than providers accept")
            return
        }
        guard tx.requestBody.bufferedBytes > configuration.maxInspectedBodyBytes else { return }
        switch configuration.overLimit {
        case .block:
            tx.verdict.action = .block
            tx.verdict.detections.append("Body over inspection limit")
            respondLocally(tx, LocalResponse(
                status: .payloadTooLarge,
                message: "request body exceeds \(configuration.maxInspectedBodyBytes) bytes and inspection.over_limit is block"
            ), close: true)
        case .inspectPrefix:
            // Decide on what we have; the rest streams through unchanged.
            runRequestBody(tx, from: 0)
        }
    }
}
