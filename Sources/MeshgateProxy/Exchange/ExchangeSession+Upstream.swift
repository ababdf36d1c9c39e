import MeshgateCore
import NIOCore
import NIOHTTP1

/// The response path: upstream parts run through the exchange's filters (`ExchangeFilterOrder`) and
/// what they return is carried out here, the only place that writes a forwarded response.
extension ExchangeSession: UpstreamConnectionDelegate {
    func upstream(_ connection: UpstreamConnection, didReceive part: HTTPClientResponsePart) {
        guard case .forwarding(let tx, let current) = state, current === connection else { return }
        if tx.filters.heldResponse != nil {
            // A filter waits for work it started; what the upstream sends meanwhile waits behind it.
            tx.filters.heldResponse?.append((part, 0))
            return
        }
        deliver(part, from: 0, tx, connection)
    }

    func upstream(_ connection: UpstreamConnection, didCloseWith error: (any Error)?) {
        guard case .forwarding(let tx, let current) = state, current === connection else { return }
        if let held = tx.filters.heldResponse, held.contains(where: { if case .end = $0.part { true } else { false } }) {
            // The whole answer is here, held for a filter: not a failure.
            tx.filters.upstreamClosedWhileHeld = true
            return
        }
        // A pooled connection the origin closed while it sat idle: retry once on a fresh one, as
        // long as nothing was answered yet and nothing of a body would need replaying.
        if tx.progress.usedPooledConnection, !tx.progress.retried, !tx.progress.responseHeadSent, !tx.progress.bodyForwarded, let context {
            tx.progress.retried = true
            services.logger.debug("pooled upstream connection was closed; retrying on a new one", metadata: ["host": "\(tx.route.host)"])
            // attach() re-sends the head; an `.end` already received must be replayed with it.
            if tx.progress.requestEnded { tx.requestBody.buffered = [.end(nil)] }
            startForward(tx, context: context, allowPooled: false)
            return
        }
        services.metrics.countUpstreamError("closed")
        let reason = error.map { "origin connection failed: \($0)" } ?? "origin closed the connection before the response was complete"
        if !tx.progress.responseHeadSent, let context, retryAttempt(tx, outcome: "connection closed", retryAfter: nil, context: context) { return }
        if tx.progress.responseHeadSent {
            upstreamFailedMidResponse(tx, reason: reason)
        } else {
            tx.audit.error = reason
            respondUpstreamFailure(tx, status: .badGateway, message: reason, close: true)
        }
    }

    func upstreamWritabilityChanged(_ connection: UpstreamConnection) {
        updateClientReads()
    }

    /// Runs an upstream part through the filters from `first` on (a part a filter paused is offered
    /// to that filter again).
    private func deliver(_ part: HTTPClientResponsePart, from first: Int, _ tx: HTTPTransaction, _ connection: UpstreamConnection) {
        guard let context else { return }
        switch part {
        case .head(let head): responseHead(head, tx, connection, context: context)
        case .body(let buffer): responseBody(buffer, from: first, tx, connection, context: context)
        case .end(let trailers): responseEnd(trailers, from: first, tx, connection, context: context)
        }
    }

    private func responseHead(_ head: HTTPResponseHead, _ tx: HTTPTransaction, _ connection: UpstreamConnection, context: ChannelHandlerContext) {
        if head.status == .continue {
            // Relay 100-continue only to clients that asked for it.
            if tx.head.headers.contains(name: "expect") {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: tx.head.version, status: .continue))), promise: nil)
            }
            return
        }
        if (100..<200).contains(head.status.code), head.status != .switchingProtocols { return }
        var out = HeaderRewriter.clientResponseHead(head, clientVersion: tx.head.version, via: services.viaToken)
        if let rule = tx.verdict.rule {
            out.headers.replaceOrAdd(name: "X-Meshgate-Rule", value: rule)
            out.headers.replaceOrAdd(name: "X-Meshgate-Action", value: tx.verdict.action.rawValue)
        }
        tx.filters.response = ExchangeFilterOrder.responseFilters(for: tx, head: head, services: services, identity: identity, callbacks: self)
        for filter in tx.filters.response {
            switch filter.responseHead(&out, exchange: tx) {
            case .continue:
                continue
            case .consumed:
                // No status yet: a client that leaves before the held head goes out got none (499).
                tx.filters.responseHeadHeld = true
                return
            case let status:
                return carryOut(status, tx, connection, context: context)
            }
        }
        tx.audit.status = Int(head.status.code)
        tx.progress.responseHeadSent = true
        tx.audit.bytesOut += HTTPTransaction.estimatedSize(of: out)
        if head.status == .switchingProtocols {
            guard tx.request.upgradeRequested else {
                // An origin may not switch protocols unasked; refuse rather than desynchronise.
                connection.delegate = nil
                connection.close()
                tx.progress.responseHeadSent = false
                respondLocally(tx, LocalResponse(status: .badGateway, message: "origin switched protocols without being asked"), close: true)
                return
            }
            context.writeAndFlush(wrapOutboundOut(.head(out)), promise: nil)
            // The switch happens at the response's `.end`, which the decoder delivers next.
            tx.progress.switchingProtocols = true
            return
        }
        tx.progress.responseFramedByLength = out.headers.contains(name: "content-length")
        context.write(wrapOutboundOut(.head(out)), promise: nil)
        // A body the filters change, or charge at its end, is recorded at the end.
        if tx.filters.response.allSatisfy(\.passesBodyThrough), tx.head.method != .HEAD,
           let length = out.headers.first(name: "content-length").flatMap({ Int($0) }) {
            tx.progress.responseBodyRemaining = length
        }
    }

    private func responseBody(_ buffer: ByteBuffer, from first: Int, _ tx: HTTPTransaction, _ connection: UpstreamConnection,
                              context: ChannelHandlerContext) {
        var buffer = buffer
        var index = first
        while index < tx.filters.response.count {
            let given = buffer
            switch tx.filters.response[index].responseBody(&buffer, exchange: tx) {
            case .continue:
                if buffer.readableBytes == 0 { return }
                index += 1
            case .consumed:
                return
            case .pause:
                return hold(.body(given), at: index, tx)
            case let status:
                return carryOut(status, tx, connection, context: context)
            }
        }
        tx.audit.bytesOut += buffer.readableBytes
        if let remaining = tx.progress.responseBodyRemaining {
            tx.progress.responseBodyRemaining = remaining - buffer.readableBytes
            // A client that counts Content-Length is done with this part; whoever reads the
            // response must find its line (as for our own responses). The .end that follows is a no-op.
            if remaining - buffer.readableBytes <= 0, tx.progress.requestEnded { finishAudit(tx) }
        }
        // Flushing per part keeps server-sent events flowing event by event.
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if !context.channel.isWritable { connection.setReadsHeld(true) }
    }

    private func responseEnd(_ trailers: HTTPHeaders?, from first: Int, _ tx: HTTPTransaction, _ connection: UpstreamConnection,
                             context: ChannelHandlerContext) {
        if tx.progress.switchingProtocols {
            completeUpgrade(tx, connection, context: context)
            return
        }
        tx.progress.responseEnded = true
        var tail = tx.filters.pausedTail ?? ResponseTail()
        tx.filters.pausedTail = nil
        for index in first..<tx.filters.response.count {
            switch tx.filters.response[index].responseEnd(&tail, exchange: tx) {
            case .continue, .consumed:
                continue
            case .pause:
                tx.filters.pausedTail = tail
                return hold(.end(trailers), at: index, tx)
            case let status:
                return carryOut(status, tx, connection, context: context)
            }
        }
        if let head = tail.head {
            tx.audit.status = Int(head.status.code)
            tx.progress.responseHeadSent = true
            tx.filters.responseHeadHeld = false
            tx.audit.bytesOut += HTTPTransaction.estimatedSize(of: head)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        }
        if let body = tail.body, body.readableBytes > 0 {
            tx.audit.bytesOut += body.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        // Recorded before the last byte goes out, so whoever reads the response can find its line.
        finishAudit(tx)
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        finishForwarded(tx, connection)
    }

    /// A filter paused on `part`: it waits, ahead of whatever the upstream sends next.
    private func hold(_ part: HTTPClientResponsePart, at index: Int, _ tx: HTTPTransaction) {
        tx.filters.heldResponse = [(part, index)] + (tx.filters.heldResponse ?? [])
    }

    /// Offers the held parts again, in order, until one pauses again.
    private func resumeHeld(_ tx: HTTPTransaction, _ connection: UpstreamConnection) {
        guard var held = tx.filters.heldResponse else { return }
        tx.filters.heldResponse = nil
        while !held.isEmpty {
            let (part, from) = held.removeFirst()
            deliver(part, from: from, tx, connection)
            if tx.filters.heldResponse != nil {
                tx.filters.heldResponse?.append(contentsOf: held)
                return
            }
            guard case .forwarding(let current, let currentConnection) = state, current === tx, currentConnection === connection else { return }
        }
        if tx.filters.upstreamClosedWhileHeld {
            tx.filters.upstreamClosedWhileHeld = false
            upstream(connection, didCloseWith: nil)
        }
    }

    /// Does what a filter asked for beyond passing the part on.
    private func carryOut(_ status: FilterStatus, _ tx: HTTPTransaction, _ connection: UpstreamConnection, context: ChannelHandlerContext) {
        switch status {
        case .continue, .consumed, .pause, .holdBody:
            return
        case .reply(let response, _):
            tx.filters.heldResponse = nil
            connection.delegate = nil
            connection.close()
            respondLocally(tx, response, close: true)
        case .end(let bytes):
            tx.filters.heldResponse = nil
            connection.delegate = nil
            connection.close()
            tx.audit.bytesOut += bytes.readableBytes
            tx.progress.responseEnded = true
            finishAudit(tx)
            if bytes.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
            // The connection closes after the end: a response whose length was announced cannot end early.
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] _ in closeConnection() }
        case .cut:
            tx.filters.heldResponse = nil
            connection.delegate = nil
            connection.close()
            finishAudit(tx)
            closeConnection()
        case .respond(let status, let message):
            tx.filters.heldResponse = nil
            connection.delegate = nil
            connection.close()
            if let attempts = tx.llm.attempts {
                respondAI(tx, format: attempts.callerFormat, status: status, message: message)
            } else {
                respondLocally(tx, LocalResponse(status: status, message: message), close: true)
            }
        case .retry(let outcome, let retryAfter):
            connection.delegate = nil
            connection.close()
            if !retryAttempt(tx, outcome: outcome, retryAfter: retryAfter, context: context) {
                respondUpstreamFailure(tx, status: .badGateway, message: "the provider answered \(outcome)", close: true)
            }
        }
    }
}

extension ExchangeSession: ExchangeFilterCallbacks {
    func start<T: Sendable>(_ work: @escaping @Sendable () async -> T, then: @escaping (T) -> FilterStatus) {
        guard let context, let tx = machine.current else { return }
        let connection: UpstreamConnection? = if case .forwarding(_, let connection) = state { connection } else { nil }
        context.eventLoop.makeFutureWithTask(work).assumeIsolated().whenSuccess { [self] result in
            // The filter learns the result even if its exchange ended meanwhile; only a current one acts on it.
            let status = then(result)
            guard machine.isCurrent(tx), self.context != nil else { return }
            if let paused = tx.filters.pausedRequest {
                resumeRequest(tx, paused, status)
            } else if let connection {
                resumeResponse(tx, connection, status)
            }
        }
    }

    func holdUpstreamReads() {
        if case .forwarding(_, let connection) = state { connection.setReadsHeld(true) }
    }

    private func resumeRequest(_ tx: HTTPTransaction, _ paused: (body: Bool, filter: Int), _ status: FilterStatus) {
        switch status {
        case .continue:
            tx.filters.pausedRequest = nil
            if paused.body { runRequestBody(tx, from: paused.filter) } else { runRequestHead(tx, from: paused.filter) }
        case .pause, .consumed, .holdBody:
            break
        default:
            tx.filters.pausedRequest = nil
            carryOutRequest(status, tx)
        }
    }

    private func resumeResponse(_ tx: HTTPTransaction, _ connection: UpstreamConnection, _ status: FilterStatus) {
        guard case .forwarding(let current, let currentConnection) = state, current === tx, currentConnection === connection,
              let context else { return }
        switch status {
        case .continue:
            if context.channel.isWritable { connection.setReadsHeld(false) }
            resumeHeld(tx, connection)
        case .pause, .consumed, .holdBody:
            break
        default:
            carryOut(status, tx, connection, context: context)
        }
    }
}
