import Logging
import MeshgateCore
import NIOCore
import NIOHTTP1

/// How an exchange ends (a local answer, a forwarded one, the client leaving) and what the
/// connection does next, as `ExchangeStateMachine` decides; and the header timer.
extension ExchangeSession {
    // MARK: local responses

    func respondLocally(_ tx: HTTPTransaction, _ response: LocalResponse, close: Bool) {
        guard let context else { return }
        if tx.progress.responseHeadSent {
            // Too late for a status; all we can do is cut the connection.
            tx.audit.error = tx.audit.error ?? response.errorMessage
            finishAudit(tx)
            closeConnection()
            return
        }
        // A request whose body is still arriving would desynchronise the connection if we kept it.
        let closeAfter = close || !tx.request.keepAlive
        tx.audit.status = Int(response.status.code)
        // A request meshgate refuses itself (access, CONNECT port, loop, malformed, a transfer coding
        // it does not forward) is a block, with no rule.
        if (400..<500).contains(Int(response.status.code)) || response.status == .notImplemented, tx.verdict.action == .allow { tx.verdict.action = .block }
        tx.progress.responseHeadSent = true
        tx.audit.bytesOut += response.bodyByteCount + 120
        if tx.audit.error == nil, let message = response.errorMessage { tx.audit.error = message }
        machine.enter(.localResponse(tx, closeAfter: closeAfter))
        // Recorded before the last byte goes out, so whoever reads the response can find its line.
        finishAudit(tx)
        response.write(to: context, version: tx.head.version, close: closeAfter, wrap: wrapOutboundOut).assumeIsolated().whenComplete { [self] _ in
            tx.progress.responseEnded = true
            if tx.progress.requestEnded || closeAfter {
                finishLocal(tx, closeAfter: closeAfter)
            }
        }
        updateClientReads()
    }

    func finishLocal(_ tx: HTTPTransaction, closeAfter: Bool) {
        guard case .localResponse(let current, _) = state, current === tx else { return }
        finishAudit(tx)
        if closeAfter {
            closeConnection()
        } else {
            becomeIdle()
        }
    }

    func finishForwarded(_ tx: HTTPTransaction, _ connection: UpstreamConnection) {
        guard case .forwarding(let current, _) = state, current === tx else { return }
        finishAudit(tx)
        // An origin that declined an upgrade may have stopped parsing as NIO's decoder does: not reused.
        if tx.progress.requestEnded, connection.reusable, !tx.request.upgradeRequested, let pool = services.pools.pool(for: connection.channel.eventLoop) {
            pool.release(connection)
        } else {
            connection.delegate = nil
            connection.close()
        }
        if tx.request.keepAlive && tx.progress.requestEnded {
            becomeIdle()
        } else {
            closeConnection()
        }
    }

    func finishAudit(_ tx: HTTPTransaction) {
        guard !tx.audit.recorded else { return }
        tx.audit.recorded = true
        chargeLLMCall(tx)
        linkToolCalls(tx)
        services.metrics.countRequest(action: tx.verdict.action, status: tx.audit.status ?? 499)
        services.audit.record(tx.auditEvent(client: clientAuditDescription, identity: identity))
        machine.exchangeRecorded()
    }

    /// An LLM answer's tool calls are remembered for this client; an MCP `tools/call` of one of them
    /// is linked to the answer that asked for it.
    private func linkToolCalls(_ tx: HTTPTransaction) {
        let client = LLMToolCallMemory.client(identity: identity, address: clientAddress?.ipAddress)
        if let calls = tx.llm.metered?.toolCalls, !calls.isEmpty {
            services.llmToolCalls.remember(calls, llmRequestID: tx.request.trace.spanID, client: client)
        }
        if let tool = tx.verdict.mcp?.tool, let asked = services.llmToolCalls.find(tool: tool, client: client) {
            tx.verdict.mcp?.llmRequestID = asked.llmRequestID
            tx.verdict.mcp?.llmCallID = asked.callID
        }
    }

    func becomeIdle() {
        let actions = machine.becameIdle(now: .now(), headerTimeout: configuration.headerReadTimeout)
        if actions.restartDecoder, let context {
            ProxyPipeline.restartRequestDecoder(in: context.pipeline.syncOperations, services: services)
        }
        if let deadline = actions.scheduleHeaderCheck { scheduleHeaderCheck(at: deadline) }
        if actions.read { context?.read() }
        replayDeferredParts()
        switch machine.afterReplay() {
        case .answerMalformed(let error): answerMalformedRequest(error)
        case .close: closeConnection()
        case .none: break
        }
    }

    /// The client half-closed; the machine says what that means for the exchange in progress.
    func clientClosedInput() {
        let tx = machine.current
        // A client that half-closes while its answer is held back whole (an MCP tool list being
        // checked, a translation) has nothing to read until the end: it is gone, as with an LLM call.
        let abandons = tx?.llm.call != nil || tx?.filters.responseHeadHeld == true
        switch machine.clientClosedInput(requestEnded: tx?.progress.requestEnded ?? false, isLLMCall: abandons) {
        case .none:
            break
        case .close:
            closeConnection()
        case .abandonAndClose:
            logger.info(tx?.llm.call != nil ? "client left an LLM call in progress; cancelling the provider call"
                        : "client left while its answer was held for checking; cancelling the upstream request", metadata: [
                "host": "\(tx?.route.host ?? "-")", "identity": "\(identity?.name ?? "-")",
            ])
            // Closing settles it (abandonExchange; channelInactive finds the machine closed).
            abandonExchange()
            context?.close(promise: nil)
        case .endLocalRequest:
            guard case .localResponse(let tx, _) = state else { break }
            tx.progress.requestEnded = true
            if tx.progress.responseEnded { finishLocal(tx, closeAfter: true) }
        }
    }

    private func replayDeferredParts() {
        guard let context, machine.beginReplay() else { return }
        while let part = machine.nextDeferredPart() {
            dispatch(part, context: context)
        }
        machine.endReplay()
        receivedReadComplete()
    }

    func closeConnection() {
        guard machine.close() else { return }
        headerTimer?.cancel()
        headerTimer = nil
        context?.close(promise: nil)
    }

    func armHeaderTimer() {
        if let deadline = machine.armHeaderCheck(now: .now(), headerTimeout: configuration.headerReadTimeout) {
            scheduleHeaderCheck(at: deadline)
        }
    }

    private func scheduleHeaderCheck(at deadline: NIODeadline) {
        guard let context else {
            machine.headerCheckCancelled()
            return
        }
        headerTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            headerTimer = nil
            switch machine.headerCheckDue(now: .now(), headerTimeout: configuration.headerReadTimeout) {
            case .lapse: break
            case .recheck(let at): scheduleHeaderCheck(at: at)
            case .timedOut(let explain): headerReadTimedOut(explain: explain)
            }
        }
    }

    private func headerReadTimedOut(explain: Bool) {
        if explain, let context {
            // A client that connected but never finished a request head learns why it was dropped.
            // The serialising handler only lets responses follow requests, so it leaves first.
            ProxyPipeline.removeSerialisation(from: context.pipeline.syncOperations)
            let response = LocalResponse(status: .requestTimeout, message: "no complete request head within \(configuration.headerReadTimeout.nanoseconds / 1_000_000_000)s (limits.header_read_timeout)")
            response.write(to: context, version: .http1_1, close: true, wrap: wrapOutboundOut).assumeIsolated().whenComplete { _ in
                self.closeConnection()
            }
        } else {
            closeConnection()
        }
    }

    func cancelTimers() {
        headerTimer?.cancel()
        headerTimer = nil
        machine.headerCheckCancelled()
    }
}
