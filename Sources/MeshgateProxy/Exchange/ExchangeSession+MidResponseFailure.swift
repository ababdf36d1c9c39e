import MeshgateAI
import NIOCore
import NIOHTTP1

/// What the client gets when the origin fails after its response head went out: too late for a
/// status, so the response is ended now rather than left open for the client's own timeout.
extension ExchangeSession {
    /// Ends a response whose origin connection failed mid-body. An LLM stream ends with an error
    /// event in the caller's format (its SDK raises an API error naming the failure) and a clean
    /// end of the chunked body; anything else is cut by closing the connection, which a client
    /// counting Content-Length or chunks reads as a truncated response. Either way the audit line
    /// is written and a metered call is charged for what streamed.
    func upstreamFailedMidResponse(_ tx: HTTPTransaction, reason: String) {
        guard let context else { return }
        guard let metered = tx.llm.metered, metered.streaming, !tx.progress.responseFramedByLength, tx.head.method != .HEAD else {
            tx.audit.error = reason
            finishAudit(tx)
            closeConnection()
            return
        }
        let message = "meshgate: the provider closed the connection mid-stream (\(reason)); the response is incomplete"
        logger.info("LLM provider failed mid-stream; ending the caller's stream with an error event", metadata: [
            "provider": "\(metered.call.provider)", "model": "\(metered.model)", "error": "\(reason)",
        ])
        var event = context.channel.allocator.buffer(capacity: 256)
        event.writeString(ProviderError.errorEvent(format: tx.llm.attempts?.callerFormat ?? metered.call.format, status: 502, message: message))
        tx.audit.bytesOut += event.readableBytes
        tx.audit.error = message
        tx.progress.responseEnded = true
        finishAudit(tx)
        context.write(wrapOutboundOut(.body(.byteBuffer(event))), promise: nil)
        // The exchange is over for both sides: the connection closes once the end is out.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] _ in closeConnection() }
    }
}
