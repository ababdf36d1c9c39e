import Logging
import NIOCore
import NIOHTTP1

extension HTTPProxyHandler {
    /// A request the decoder could not parse. It is answered (400, or 431 for an oversized header
    /// block) and audited like any refused request, then the connection closes: after a parse error
    /// nothing more on it can be framed. When it arrived pipelined behind a request still being
    /// answered, that request is answered first (`HTTPServerPipelineHandler` holds the error back
    /// until the previous response has ended, but delivers it before this handler has settled that
    /// exchange). Logged at debug level, at most once per interval per listener: clients choose how
    /// many malformed requests they send.
    func refuseMalformedRequest(_ error: HTTPParserError, behindDeferredRequests: Bool) {
        services.metrics.badRequests.increment()
        logMalformedRequest(error)
        let response = Self.malformedResponse(error, maxHeaderBytes: configuration.maxHeaderBytes)
        switch state {
        case .idle where behindDeferredRequests:
            deferredMalformedRequest = error
        case .idle:
            answerMalformedRequest(error)
        case .connecting(let tx), .inspecting(let tx), .admitting(let tx), .forwarding(let tx, _), .localResponse(let tx, _):
            if tx.requestEnded {
                // This request is whole, so the error belongs to the next one: answered once this one is.
                deferredMalformedRequest = error
                return
            }
            if case .localResponse = state {
                // Our answer is already going out and the connection closes after it.
                closeConnection()
                return
            }
            if case .forwarding(_, let connection) = state {
                connection.delegate = nil
                connection.close()
            }
            tx.error = response.errorMessage
            respondLocally(tx, response, close: true)
        case .handedOff, .closed, .connectPending:
            closeConnection()
        }
    }

    /// Answers a malformed request that waited for the exchanges before it (call when idle).
    func answerDeferredMalformedRequest() {
        guard let error = deferredMalformedRequest else { return }
        deferredMalformedRequest = nil
        answerMalformedRequest(error)
    }

    /// A 400 (or 431) with its own audit line; nothing of the request is known.
    private func answerMalformedRequest(_ error: HTTPParserError) {
        let tx = HTTPTransaction(
            head: HTTPRequestHead(version: .http1_1, method: .RAW(value: "-"), uri: ""),
            scheme: "http", host: "", port: 0, path: "", intercepted: false
        )
        tx.action = .block
        respondLocally(tx, Self.malformedResponse(error, maxHeaderBytes: configuration.maxHeaderBytes), close: true)
    }

    static func malformedResponse(_ error: HTTPParserError, maxHeaderBytes: Int) -> LocalResponse {
        switch error {
        case .headerOverflow:
            LocalResponse(status: .requestHeaderFieldsTooLarge,
                          message: "request header block exceeds \(maxHeaderBytes) bytes (limits.max_header_bytes)")
        default:
            LocalResponse(status: .badRequest, message: "malformed request (\(error)); the connection is closed")
        }
    }

    /// The listener this connection came in on, as log lines name it.
    private var listenerName: String {
        switch mode {
        case .explicit, .intercepted(_, _, pinned: nil): "explicit"
        case .transparentHTTP, .intercepted: "transparent"
        case .aiGateway: "ai"
        }
    }

    private func logMalformedRequest(_ error: HTTPParserError) {
        guard logger.logLevel <= .debug, let suppressed = services.malformedRequestLog.admit(listenerName) else { return }
        var metadata: Logger.Metadata = [
            "listener": "\(listenerName)", "client_ip": "\(clientAddress?.ipAddress ?? "?")", "error": "\(error)",
        ]
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        logger.debug("refused malformed request", metadata: metadata)
    }
}
