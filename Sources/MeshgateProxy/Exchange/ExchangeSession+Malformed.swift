import Logging
import NIOCore
import NIOHTTP1

extension ExchangeSession {
    /// A request the decoder could not parse. It is answered (400, or 431 for an oversized header
    /// block) and audited like any refused request, then the connection closes: after a parse error
    /// nothing more on it can be framed. When it arrived pipelined behind a request still being
    /// answered, that request is answered first (`HTTPServerPipelineHandler` holds the error back
    /// until the previous response has ended, but delivers it before this handler has settled that
    /// exchange). Logged at debug level, at most once per interval per listener: clients choose how
    /// many malformed requests they send.
    func refuseMalformedRequest(_ error: HTTPParserError) {
        services.metrics.badRequests.increment()
        logMalformedRequest(error)
        let tx = machine.current
        switch machine.malformedRequest(error, requestEnded: tx?.progress.requestEnded ?? false) {
        case .deferred:
            break
        case .answer:
            answerMalformedRequest(error)
        case .close:
            closeConnection()
        case .refuseCurrent:
            guard let tx else { return closeConnection() }
            if case .forwarding(_, let connection) = state {
                connection.delegate = nil
                connection.close()
            }
            let response = Self.malformedResponse(error, maxHeaderBytes: configuration.maxHeaderBytes)
            tx.audit.error = response.errorMessage
            respondLocally(tx, response, close: true)
        }
    }

    /// A 400 (or 431) with its own audit line; nothing of the request is known.
    func answerMalformedRequest(_ error: HTTPParserError) {
        let tx = HTTPTransaction(
            head: HTTPRequestHead(version: .http1_1, method: .RAW(value: "-"), uri: ""),
            scheme: "http", host: "", port: 0, path: "", intercepted: false
        )
        tx.verdict.action = .block
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
