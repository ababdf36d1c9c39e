import Logging
import MeshgateCore
import NIOCore
import NIOHTTP1

/// A decided request on its way upstream: a pooled or new connection, the parts held meanwhile,
/// and back-pressure from the upstream to the client.
extension ExchangeSession {
    func startForward(_ tx: HTTPTransaction, context: ChannelHandlerContext, allowPooled: Bool = true) {
        guard let target = tx.route.target else { return }
        let key = UpstreamKey(scheme: target.scheme, origin: target.origin, serverName: target.serverName, pinned: target.pinnedAddress,
                              configured: target.configured)
        if allowPooled, let pool = services.pools.pool(for: context.eventLoop), let connection = pool.take(key) {
            tx.progress.usedPooledConnection = true
            attach(connection, to: tx)
            return
        }
        tx.progress.usedPooledConnection = false
        machine.enter(.connecting(tx))
        services.connector.connect(key, on: context.eventLoop).hop(to: context.eventLoop).assumeIsolated().whenComplete { [self] bound in
            let result = bound.map(\.value)
            guard case .connecting(let current) = state, current === tx else {
                if case .success(let connection) = result { connection.close() }
                return
            }
            switch result {
            case .success(let connection):
                attach(connection, to: tx)
            case .failure(let error):
                let failure = (error as? UpstreamFailure)
                    ?? UpstreamFailure(status: .badGateway, description: "\(error)", kind: "connect")
                services.metrics.countUpstreamError(failure.kind)
                logger.info("upstream unavailable", metadata: [
                    "host": "\(target.origin)", "error": "\(failure.description)",
                ])
                if let context = self.context, retryAttempt(tx, outcome: "connect failed", retryAfter: nil, context: context) { return }
                tx.audit.error = failure.description
                respondUpstreamFailure(tx, status: failure.status, message: failure.description, close: !tx.progress.requestEnded)
            }
        }
    }

    private func attach(_ connection: UpstreamConnection, to tx: HTTPTransaction) {
        guard let target = tx.route.target else { return }
        connection.delegate = self
        machine.enter(.forwarding(tx, connection))
        if tx.requestBody.buffered.contains(where: { if case .body = $0 { true } else { false } }) { tx.progress.bodyForwarded = true }
        connection.write(.head(HeaderRewriter.upstreamRequestHead(tx.head, target: target, via: services.viaToken)))
        for part in tx.requestBody.buffered { connection.write(part) }
        tx.requestBody.buffered.removeAll()
        tx.requestBody.bufferedBytes = 0
        connection.flush()
        updateClientReads()
    }

    func receivedBody(_ buffer: ByteBuffer) {
        switch state {
        case .connecting(let tx), .admitting(let tx):
            tx.audit.bytesIn += buffer.readableBytes
            tx.requestBody.buffered.append(.body(.byteBuffer(buffer)))
            tx.requestBody.bufferedBytes += buffer.readableBytes
            updateClientReads()
        case .forwarding(let tx, let connection):
            tx.audit.bytesIn += buffer.readableBytes
            tx.progress.bodyForwarded = true
            connection.write(.body(.byteBuffer(buffer)))
        case .localResponse(let tx, _):
            tx.audit.bytesIn += buffer.readableBytes
        case .inspecting(let tx):
            inspectBody(tx, buffer)
        case .idle, .handedOff, .closed, .connectPending:
            break
        }
    }

    func receivedEnd(_ trailers: HTTPHeaders?) {
        switch state {
        case .connecting(let tx), .admitting(let tx):
            tx.progress.requestEnded = true
            tx.requestBody.buffered.append(.end(trailers))
        case .forwarding(let tx, let connection):
            tx.progress.requestEnded = true
            connection.write(.end(trailers))
            connection.flush()
            if tx.progress.responseEnded { finishForwarded(tx, connection) }
        case .localResponse(let tx, let closeAfter):
            tx.progress.requestEnded = true
            if tx.progress.responseEnded { finishLocal(tx, closeAfter: closeAfter) }
        case .inspecting(let tx):
            tx.progress.requestEnded = true
            tx.requestBody.buffered.append(.end(trailers))
            runRequestBody(tx, from: 0)
        case .connectPending(let tx, let authority):
            // Pipeline surgery only now: the decoder must not deliver this `.end` to the TLS peek.
            tx.progress.requestEnded = true
            if let context { startTunnel(tx, authority: authority, context: context) }
        case .idle, .handedOff, .closed:
            break
        }
    }

    func receivedReadComplete() {
        if case .forwarding(_, let connection) = state { connection.flush() }
    }

    /// Client reads pause while the upstream cannot take more, or too much is buffered during connect.
    func updateClientReads() {
        let hold: Bool
        switch state {
        case .connecting(let tx), .admitting(let tx):
            hold = tx.requestBody.bufferedBytes >= Self.maxBufferedWhileConnecting
        case .forwarding(_, let connection):
            hold = !connection.channel.isWritable
        default:
            hold = false
        }
        if machine.setReadsHeld(hold) { context?.read() }
    }
}
