import Logging
import MeshgateCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// The proxy's per-connection HTTP handler. Sits after `HTTPServerPipelineHandler` (which serialises
/// pipelined requests) in the explicit listener's pipeline and inside intercepted TLS tunnels.
/// Consumes request parts, decides, and either answers locally or streams the exchange through a
/// pooled upstream connection with back-pressure both ways. CONNECT and protocol upgrades hand the
/// connection over to a tunnel (see the `+Connect` and `+Upgrade` extensions).
final class HTTPProxyHandler {
    typealias Machine = ExchangeStateMachine<HTTPTransaction, UpstreamConnection>
    typealias State = Machine.State

    let services: ProxyServices
    let mode: ProxyRequestMode
    /// The connection's lifecycle; this handler performs what it decides.
    var machine = Machine(now: .now())
    var state: State { machine.state }
    var context: ChannelHandlerContext?
    var clientAddress: SocketAddress? {
        didSet { if clientAddress != oldValue { clientAuditDescription = clientAddress?.auditDescription } }
    }
    /// `clientAddress` as the audit line writes it, formatted once per connection.
    private(set) var clientAuditDescription: String?
    var identity: Identity?
    /// Set for requests on redirected connections, for their audit lines.
    var transparent: TransparentFacts?
    private var headerTimer: Scheduled<Void>?
    /// Bytes buffered while an upstream connects before reading from the client pauses.
    private static let maxBufferedWhileConnecting = 256 * 1024

    init(services: ProxyServices, mode: ProxyRequestMode, identity: Identity? = nil) {
        self.services = services
        self.mode = mode
        self.identity = identity
    }

    var configuration: ProxyConfiguration { services.configuration }
    var logger: Logger { services.logger }

    // MARK: request head

    func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        // llhttp also stops after a CONNECT: a refused one (403, 407) must not wedge the connection.
        guard machine.beginExchange(decoderStops: head.method == .CONNECT || HeaderRewriter.decoderStopsAfter(head.headers)) else {
            // HTTPServerPipelineHandler hands over one request at a time, and one it delivers while the
            // previous exchange settles is deferred in channelRead; anything else is a bug or abuse.
            context.close(promise: nil)
            return
        }
        let intercepted: Bool
        if case .intercepted = mode { intercepted = true } else { intercepted = false }
        let tx = HTTPTransaction(
            head: head,
            scheme: intercepted ? "https" : "http",
            host: "",
            port: 0,
            path: head.uri,
            intercepted: intercepted
        )
        if case .intercepted(let authority, _, _) = mode {
            tx.host = authority.host
            tx.port = authority.port
        }
        if let transparent {
            tx.transparentDestination = transparent.destination
            tx.workload = transparent.workload
        }

        guard configuration.allows(clientAddress) else {
            let who = clientAddress?.ipAddress ?? "unknown"
            respondLocally(tx, LocalResponse(status: .forbidden, message: "client \(who) is not allowed (access.allow_clients)"), close: true)
            return
        }
        guard head.headers.count <= configuration.maxHeaderCount else {
            let message = "request has \(head.headers.count) header fields, more than \(configuration.maxHeaderCount) (limits.max_header_count)"
            respondLocally(tx, LocalResponse(status: .requestHeaderFieldsTooLarge, message: message), close: true)
            return
        }
        if case .aiGateway = mode {
            receivedAIGatewayHead(tx, context: context)
            return
        }
        if case .explicit = mode {
            switch services.identities.identify(client: clientAddress, credentials: head.headers.first(name: "proxy-authorization")) {
            case .identified(let id):
                identity = id
            case .anonymous where !configuration.requireIdentity:
                identity = nil
            case .anonymous, .invalidCredentials:
                let response = LocalResponse(
                    status: .proxyAuthenticationRequired,
                    message: "proxy authentication required: send Proxy-Authorization with an identity token",
                    extraHeaders: [("Proxy-Authenticate", "Basic realm=\"meshgate\""), ("Proxy-Authenticate", "Bearer realm=\"meshgate\"")]
                )
                respondLocally(tx, response, close: false)
                return
            }
        }

        if head.headers[canonicalForm: "via"].contains(where: { $0.contains("(\(services.instanceID))") }) {
            respondLocally(tx, LocalResponse(status: .loopDetected, message: "this request already passed through this meshgate (Via); refusing to loop"), close: true)
            return
        }
        switch ProxyRequestClassifier.classify(head, mode: mode, configuration: configuration, isOwnAddress: services.isOwnAddress) {
        case .reject(let status, let message):
            if case .explicit = mode {
                if head.method == .CONNECT, let hp = HostPort(authority: head.uri, defaultPort: nil) {
                    tx.scheme = "https"
                    tx.host = hp.host
                    tx.port = hp.port
                    tx.path = ""
                } else if let url = AbsoluteURL(head.uri), let hp = HostPort(authority: url.authority, defaultPort: 80) {
                    tx.scheme = url.scheme
                    tx.host = hp.host
                    tx.port = hp.port
                    tx.path = url.pathAndQuery
                }
            }
            respondLocally(tx, LocalResponse(status: status, message: message), close: status == .badRequest)
        case .connect(let authority):
            tx.host = authority.host
            tx.port = authority.port
            tx.path = ""
            tx.scheme = "https"
            if configuration.doNotInspect.matches(authority.host), refuseByHostPolicy(tx, host: authority.host, port: authority.port) {
                return
            }
            machine.enter(.connectPending(tx, authority))
        case .forward(let target):
            tx.target = target
            tx.scheme = target.scheme
            tx.host = target.origin.host
            tx.port = target.origin.port
            tx.path = target.path
            applyPolicy(tx, context: context)
        }
    }

    /// For a tunnel that will not be inspected, host-level rules decide at CONNECT time: anything but
    /// allow/log is a 403 to the CONNECT itself (a spliced stream cannot be rerouted or redirected).
    func refuseByHostPolicy(_ tx: HTTPTransaction, host: String, port: Int) -> Bool {
        let policy = services.policy.current
        let verdict = policy.evaluateHostOnly(host: host, port: port, identity: identity)
        switch verdict.action {
        case .allow, .log, .limit:
            tx.action = verdict.action
            tx.rule = verdict.rule
            tx.ruleset = verdict.ruleset
            return false
        case .block, .redirect, .reroute:
            tx.action = .block
            tx.rule = verdict.rule
            tx.ruleset = verdict.ruleset
            tx.redirectTarget = verdict.target
            respondLocally(tx, PolicyResponse.block(rule: verdict.rule, portal: policy.portal, jsonRPC: nil, accept: tx.head.headers.first(name: "accept")), close: true)
            return true
        }
    }

    // MARK: forwarding

    func startForward(_ tx: HTTPTransaction, context: ChannelHandlerContext, allowPooled: Bool = true) {
        guard let target = tx.target else { return }
        let key = UpstreamKey(scheme: target.scheme, origin: target.origin, serverName: target.serverName, pinned: target.pinnedAddress,
                              configured: target.configured)
        if allowPooled, let pool = services.pools.pool(for: context.eventLoop), let connection = pool.take(key) {
            tx.usedPooledConnection = true
            attach(connection, to: tx)
            return
        }
        tx.usedPooledConnection = false
        machine.enter(.connecting(tx))
        services.connector.connect(key, on: context.eventLoop).hop(to: context.eventLoop).assumeIsolated().whenComplete { [self] result in
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
                tx.error = failure.description
                respondUpstreamFailure(tx, status: failure.status, message: failure.description, close: !tx.requestEnded)
            }
        }
    }

    private func attach(_ connection: UpstreamConnection, to tx: HTTPTransaction) {
        guard let target = tx.target else { return }
        connection.delegate = self
        machine.enter(.forwarding(tx, connection))
        if tx.buffered.contains(where: { if case .body = $0 { true } else { false } }) { tx.bodyForwarded = true }
        connection.write(.head(HeaderRewriter.upstreamRequestHead(tx.head, target: target, via: services.viaToken)))
        for part in tx.buffered { connection.write(part) }
        tx.buffered.removeAll()
        tx.bufferedBytes = 0
        connection.flush()
        updateClientReads()
    }

    func receivedBody(_ buffer: ByteBuffer) {
        switch state {
        case .connecting(let tx), .admitting(let tx):
            tx.bytesIn += buffer.readableBytes
            tx.buffered.append(.body(.byteBuffer(buffer)))
            tx.bufferedBytes += buffer.readableBytes
            updateClientReads()
        case .forwarding(let tx, let connection):
            tx.bytesIn += buffer.readableBytes
            tx.bodyForwarded = true
            connection.write(.body(.byteBuffer(buffer)))
        case .localResponse(let tx, _):
            tx.bytesIn += buffer.readableBytes
        case .inspecting(let tx):
            inspectBody(tx, buffer)
        case .idle, .handedOff, .closed, .connectPending:
            break
        }
    }

    func receivedEnd(_ trailers: HTTPHeaders?) {
        switch state {
        case .connecting(let tx), .admitting(let tx):
            tx.requestEnded = true
            tx.buffered.append(.end(trailers))
        case .forwarding(let tx, let connection):
            tx.requestEnded = true
            connection.write(.end(trailers))
            connection.flush()
            if tx.responseEnded { finishForwarded(tx, connection) }
        case .localResponse(let tx, let closeAfter):
            tx.requestEnded = true
            if tx.responseEnded { finishLocal(tx, closeAfter: closeAfter) }
        case .inspecting(let tx):
            tx.requestEnded = true
            tx.buffered.append(.end(trailers))
            if let context { decideHeld(tx, context: context) }
        case .connectPending(let tx, let authority):
            // Pipeline surgery only now: the decoder must not deliver this `.end` to the TLS peek.
            tx.requestEnded = true
            if let context { startTunnel(tx, authority: authority, context: context) }
        case .idle, .handedOff, .closed:
            break
        }
    }

    func receivedReadComplete() {
        if case .forwarding(_, let connection) = state { connection.flush() }
    }

    // MARK: local responses

    func respondLocally(_ tx: HTTPTransaction, _ response: LocalResponse, close: Bool) {
        guard let context else { return }
        if tx.responseHeadSent {
            // Too late for a status; all we can do is cut the connection.
            tx.error = tx.error ?? response.errorMessage
            finishAudit(tx)
            closeConnection()
            return
        }
        // A request whose body is still arriving would desynchronise the connection if we kept it.
        let closeAfter = close || !tx.clientKeepAlive
        tx.status = Int(response.status.code)
        // A request meshgate refuses itself (access, CONNECT port, loop, malformed, a transfer coding
        // it does not forward) is a block, with no rule.
        if (400..<500).contains(Int(response.status.code)) || response.status == .notImplemented, tx.action == .allow { tx.action = .block }
        tx.responseHeadSent = true
        tx.bytesOut += response.bodyByteCount + 120
        if tx.error == nil, let message = response.errorMessage { tx.error = message }
        machine.enter(.localResponse(tx, closeAfter: closeAfter))
        // Recorded before the last byte goes out, so whoever reads the response can find its line.
        finishAudit(tx)
        response.write(to: context, version: tx.head.version, close: closeAfter, wrap: wrapOutboundOut).assumeIsolated().whenComplete { [self] _ in
            tx.responseEnded = true
            if tx.requestEnded || closeAfter {
                finishLocal(tx, closeAfter: closeAfter)
            }
        }
        updateClientReads()
    }

    private func finishLocal(_ tx: HTTPTransaction, closeAfter: Bool) {
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
        if tx.requestEnded, connection.reusable, !tx.upgradeRequested, let pool = services.pools.pool(for: connection.channel.eventLoop) {
            pool.release(connection)
        } else {
            connection.delegate = nil
            connection.close()
        }
        if tx.clientKeepAlive && tx.requestEnded {
            becomeIdle()
        } else {
            closeConnection()
        }
    }

    func finishAudit(_ tx: HTTPTransaction) {
        guard !tx.audited else { return }
        tx.audited = true
        chargeLLMCall(tx)
        services.metrics.countRequest(action: tx.action, status: tx.status ?? 499)
        services.audit.record(tx.auditEvent(client: clientAuditDescription, identity: identity))
        machine.exchangeRecorded()
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
        switch machine.clientClosedInput(requestEnded: tx?.requestEnded ?? false, isLLMCall: tx?.llmCall != nil) {
        case .none:
            break
        case .close:
            closeConnection()
        case .abandonAndClose:
            logger.info("client left an LLM call in progress; cancelling the provider call", metadata: [
                "host": "\(tx?.host ?? "-")", "identity": "\(identity?.name ?? "-")",
            ])
            // Closing settles it (abandonExchange; channelInactive finds the machine closed).
            abandonExchange()
            context?.close(promise: nil)
        case .endLocalRequest:
            guard case .localResponse(let tx, _) = state else { break }
            tx.requestEnded = true
            if tx.responseEnded { finishLocal(tx, closeAfter: true) }
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

    // MARK: flow control

    /// Client reads pause while the upstream cannot take more, or too much is buffered during connect.
    func updateClientReads() {
        let hold: Bool
        switch state {
        case .connecting(let tx), .admitting(let tx):
            hold = tx.bufferedBytes >= Self.maxBufferedWhileConnecting
        case .forwarding(_, let connection):
            hold = !connection.channel.isWritable
        default:
            hold = false
        }
        if machine.setReadsHeld(hold) { context?.read() }
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

extension HTTPProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress
        if context.channel.isActive { armHeaderTimer() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        clientAddress = context.channel.remoteAddress
        armHeaderTimer()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let part = machine.received(unwrapInboundIn(data)) {
            dispatch(part, context: context)
        }
    }

    private func dispatch(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            receivedHead(head, context: context)
        case .body(let buffer):
            receivedBody(buffer)
        case .end(let trailers):
            receivedEnd(trailers)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receivedReadComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        abandonExchange()
        context.fireChannelInactive()
    }

    /// The client is gone: the exchange in progress ends here, its upstream call is cancelled, its
    /// audit line written and a metered call settled or released. Leaves the state `.closed`.
    func abandonExchange() {
        switch machine.connectionLost() {
        case .connecting(let tx), .admitting(let tx), .inspecting(let tx):
            tx.error = "client closed the connection"
            finishAudit(tx)
        case .forwarding(let tx, let connection):
            connection.delegate = nil
            connection.close()
            tx.error = tx.error ?? "client closed the connection"
            finishAudit(tx)
        case .localResponse(let tx, _):
            if !tx.responseEnded { finishAudit(tx) }
        case .idle, .handedOff, .closed, .connectPending:
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .forwarding(_, let connection) = state {
            connection.setReadsHeld(!context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError {
            // A request cut off by the connection closing (a client that left, or shutdown quiescing an
            // idle connection) is reported just before channelInactive, which settles the exchange:
            // nobody is left to answer, and writing after the serialising handler finished
            // quiescing is a precondition failure.
            guard context.channel.isActive else { return }
            refuseMalformedRequest(parserError)
            return
        }
        if case .handedOff = state {
            context.fireErrorCaught(error)
            return
        }
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        if error is NIOSSLError || error is BoringSSLError {
            services.metrics.clientTLSFailures.increment()
            logger.info("client TLS handshake failed; is the meshgate CA installed on the client? (meshgate ca export)", metadata: [
                "client_ip": "\(clientAddress?.ipAddress ?? "?")", "error": "\(error)",
            ])
        }
        closeConnection()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            closeConnection()
            return
        }
        if case ChannelEvent.inputClosed = event, !machine.isHandedOff {
            clientClosedInput()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if machine.readRequested() { context.read() }
    }
}

// Not Sendable: confined to its channel's event loop. Futures it waits on are hopped there and
// observed through `assumeIsolated()`, which checks that they call back on it.
@available(*, unavailable)
extension HTTPProxyHandler: Sendable {}
