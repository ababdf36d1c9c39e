import MeshgateCore
import MeshgateInspection
import MeshgatePolicy
import NIOCore
import NIOHTTP1

extension HTTPProxyHandler: UpstreamConnectionDelegate {
    func upstream(_ connection: UpstreamConnection, didReceive part: HTTPClientResponsePart) {
        guard case .forwarding(let tx, let current) = state, current === connection, let context else { return }
        if tx.heldForGrowth != nil {
            tx.heldForGrowth?.append(part)
            return
        }
        switch part {
        case .head(let head):
            if head.status == .continue {
                // Relay 100-continue only to clients that asked for it.
                if tx.head.headers.contains(name: "expect") {
                    let interim = HTTPResponseHead(version: tx.head.version, status: .continue)
                    context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
                }
                return
            }
            if (100..<200).contains(head.status.code), head.status != .switchingProtocols {
                return
            }
            if tx.aiAttempts != nil, providerAnswered(tx, head, connection: connection, context: context) { return }
            tx.status = Int(head.status.code)
            tx.responseHeadSent = true
            var out = HeaderRewriter.clientResponseHead(head, clientVersion: tx.head.version, via: services.viaToken)
            if let rule = tx.rule {
                out.headers.replaceOrAdd(name: "X-Meshgate-Rule", value: rule)
                out.headers.replaceOrAdd(name: "X-Meshgate-Action", value: tx.action.rawValue)
            }
            meterResponseHead(tx, head, into: &out)
            // A translated body has another length; it goes out chunked.
            if tx.responseTranslation != nil { out.headers.remove(name: "content-length") }
            if tx.aiAttempts != nil, prepareAIResponseHead(tx, &out) { return }
            tx.bytesOut += HTTPTransaction.estimatedSize(of: out)
            if head.status == .switchingProtocols {
                guard tx.upgradeRequested else {
                    // An origin may not switch protocols unasked; refuse rather than desynchronise.
                    connection.delegate = nil
                    connection.close()
                    tx.responseHeadSent = false
                    respondLocally(tx, LocalResponse(status: .badGateway, message: "origin switched protocols without being asked"), close: true)
                    return
                }
                context.writeAndFlush(wrapOutboundOut(.head(out)), promise: nil)
                // The switch happens at the response's `.end`, which the decoder delivers next.
                tx.switchingProtocols = true
                return
            }
            tx.responseFramedByLength = out.headers.contains(name: "content-length")
            context.write(wrapOutboundOut(.head(out)), promise: nil)
            // Metered LLM calls are charged from what the whole response said, at its end.
            if tx.responseTranslation == nil, tx.usageFilter == nil, tx.metered == nil, tx.head.method != .HEAD,
               let length = out.headers.first(name: "content-length").flatMap({ Int($0) }) {
                tx.responseBodyRemaining = length
            }
            if let type = head.headers.first(name: "content-type"), type.containsASCIICaseInsensitive("text/event-stream") {
                tx.ssePrefix = []
            }
        case .body(let buffer):
            if tx.ssePrefix != nil, watchLegacySSE(tx, buffer) { return }
            if tx.metered != nil, meterResponseBody(tx, buffer, connection: connection, context: context) { return }
            var buffer = buffer
            if tx.responseTranslation != nil {
                guard let translated = translateResponse(tx, buffer), translated.readableBytes > 0 else { return }
                buffer = translated
            }
            if tx.usageFilter != nil {
                buffer = tx.usageFilter?.filter(buffer) ?? buffer
                if buffer.readableBytes == 0 { return }
            }
            tx.bytesOut += buffer.readableBytes
            if let remaining = tx.responseBodyRemaining {
                tx.responseBodyRemaining = remaining - buffer.readableBytes
                // A client that counts Content-Length is done with this part; whoever reads the
                // response must find its line (as for our own responses). The .end that follows is a no-op.
                if remaining - buffer.readableBytes <= 0, tx.requestEnded { finishAudit(tx) }
            }
            // Flushing per part keeps server-sent events flowing event by event.
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable { connection.setReadsHeld(true) }
        case .end(let trailers):
            if tx.switchingProtocols {
                completeUpgrade(tx, connection, context: context)
                return
            }
            tx.responseEnded = true
            if let owed = finishResponseTranslation(tx), owed.readableBytes > 0 {
                tx.bytesOut += owed.readableBytes
                context.write(wrapOutboundOut(.body(.byteBuffer(owed))), promise: nil)
            }
            // An untranslatable held answer went out as a 502 of its own.
            guard case .forwarding(let current, _) = state, current === tx else { return }
            if let rest = tx.usageFilter?.flush(), rest.readableBytes > 0 {
                tx.bytesOut += rest.readableBytes
                context.write(wrapOutboundOut(.body(.byteBuffer(rest))), promise: nil)
            }
            // Recorded before the last byte goes out, so whoever reads the response can find its line.
            finishAudit(tx)
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            finishForwarded(tx, connection)
        }
    }

    func upstream(_ connection: UpstreamConnection, didCloseWith error: (any Error)?) {
        guard case .forwarding(let tx, let current) = state, current === connection else { return }
        if let held = tx.heldForGrowth, held.contains(where: { if case .end = $0 { true } else { false } }) {
            // The whole answer is here, held for the ledger: not a failure.
            tx.upstreamClosedWhileHeld = true
            return
        }
        // A pooled connection the origin closed while it sat idle: retry once on a fresh one, as
        // long as nothing was answered yet and nothing of a body would need replaying.
        if tx.usedPooledConnection, !tx.retried, !tx.responseHeadSent, !tx.bodyForwarded, let context {
            tx.retried = true
            services.logger.debug("pooled upstream connection was closed; retrying on a new one", metadata: ["host": "\(tx.host)"])
            // attach() re-sends the head; an `.end` already received must be replayed with it.
            if tx.requestEnded { tx.buffered = [.end(nil)] }
            startForward(tx, context: context, allowPooled: false)
            return
        }
        services.metrics.countUpstreamError("closed")
        let reason = error.map { "origin connection failed: \($0)" } ?? "origin closed the connection before the response was complete"
        if !tx.responseHeadSent, let context, retryAttempt(tx, outcome: "connection closed", retryAfter: nil, context: context) { return }
        if tx.responseHeadSent {
            upstreamFailedMidResponse(tx, reason: reason)
        } else {
            tx.error = reason
            respondUpstreamFailure(tx, status: .badGateway, message: reason, close: true)
        }
    }

    func upstreamWritabilityChanged(_ connection: UpstreamConnection) {
        updateClientReads()
    }
}

extension HTTPProxyHandler {
    /// Legacy MCP over SSE announces itself in the response (`event: endpoint`), whatever the request
    /// looked like. Seeing it adds the `MCP SSE` detection; if the policy would not let MCP through to
    /// this host, the stream is cut before the client reads the endpoint. Returns true when cut.
    func watchLegacySSE(_ tx: HTTPTransaction, _ buffer: ByteBuffer) -> Bool {
        guard var prefix = tx.ssePrefix else { return false }
        prefix.append(contentsOf: buffer.readableBytesView.prefix(4096 - prefix.count))
        switch MCPLegacySSE.inspect(streamPrefix: prefix, maxBytes: 4096) {
        case .incomplete where prefix.count < 4096:
            tx.ssePrefix = prefix
            return false
        case .incomplete, .notHandshake:
            tx.ssePrefix = nil
            return false
        case .endpoint:
            tx.ssePrefix = nil
        }
        let detection = MCPDetection.sse.rawValue
        if !tx.detections.contains(detection) { tx.detections.append(detection) }
        guard tx.action == .allow || tx.action == .log, let policy = tx.policy else { return false }
        var request = policyRequest(for: tx)
        request.bodyFacts = { BodyFacts(raw: [], mcp: MCPFacts(isMCP: true, detections: [detection])) }
        let verdict = policy.evaluate(request)
        guard verdict.action == .block || verdict.action == .reroute || verdict.action == .redirect else { return false }
        tx.action = .block
        tx.rule = verdict.rule
        tx.ruleset = verdict.ruleset
        tx.error = "legacy MCP SSE stream cut by rule \(verdict.rule ?? "-")"
        logger.info("cut a legacy MCP SSE stream", metadata: ["host": "\(tx.host)", "rule_id": "\(verdict.rule ?? "-")"])
        if case .forwarding(_, let connection) = state {
            connection.delegate = nil
            connection.close()
        }
        finishAudit(tx)
        closeConnection()
        return true
    }
}
