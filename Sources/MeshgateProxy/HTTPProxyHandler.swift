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
    enum State {
        case idle
        case connecting(HTTPTransaction)
        /// An LLM call waits for its token reservation; body parts are buffered meanwhile.
        case admitting(HTTPTransaction)
        case forwarding(HTTPTransaction, UpstreamConnection)
        /// Our own response is going out; the rest of the request body is discarded.
        case localResponse(HTTPTransaction, closeAfter: Bool)
        /// The body is held while a rule that needs it decides.
        case inspecting(HTTPTransaction)
        /// A CONNECT head arrived; the tunnel starts once the decoder has delivered its end.
        case connectPending(HTTPTransaction, HostPort)
        /// The connection now belongs to a tunnel (CONNECT or upgrade).
        case handedOff
        case closed
    }

    let services: ProxyServices
    let mode: ProxyRequestMode
    var state: State = .idle
    var context: ChannelHandlerContext?
    var clientAddress: SocketAddress? {
        didSet { if clientAddress != oldValue { clientAuditDescription = clientAddress?.auditDescription } }
    }
    /// `clientAddress` as the audit line writes it, formatted once per connection.
    private(set) var clientAuditDescription: String?
    var identity: Identity?
    var transactionsServed = 0
    /// Set for requests on redirected connections, for their audit lines.
    var transparent: TransparentFacts?
    /// The pending header-read check. It is not rescheduled per request: a check that finds the
    /// connection busy lapses, and one that finds it idle for less than the timeout waits the rest.
    private var headerTimer: Scheduled<Void>?
    private var idleSince = NIODeadline.now()
    private var readsHeld = false
    /// A pipelined request that `HTTPServerPipelineHandler` delivered from inside our write of the
    /// previous response's end, before that exchange was settled here. Replayed once idle.
    private var deferredParts: [HTTPServerRequestPart] = []
    /// A malformed request pipelined behind one not yet answered; answered once idle (+Malformed).
    var deferredMalformedRequest: HTTPParserError?
    private var replayingDeferred = false
    private var pendingRead = false
    /// The client shut down its sending side (FIN): nothing after the requests already read will come,
    /// so the connection closes once they are answered instead of waiting for a timer in CLOSE-WAIT.
    private var clientInputClosed = false
    /// The request decoder stopped parsing after an `Upgrade` or `CONNECT` request (llhttp treats what
    /// follows as the new protocol); if it is declined, a fresh decoder must take over before the next request.
    var requestDecoderStopped = false
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
        guard case .idle = state else {
            // HTTPServerPipelineHandler hands over one request at a time, and one it delivers while the
            // previous exchange settles is deferred in channelRead; anything else is a bug or abuse.
            context.close(promise: nil)
            return
        }
        // llhttp also stops after a CONNECT: a refused one (403, 407) must not wedge the connection.
        requestDecoderStopped = head.method == .CONNECT || HeaderRewriter.decoderStopsAfter(head.headers)
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
            state = .connectPending(tx, authority)
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
        state = .connecting(tx)
        services.connector.connect(key, on: context.eventLoop).hop(to: context.eventLoop).whenComplete { [self] result in
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
        state = .forwarding(tx, connection)
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
        state = .localResponse(tx, closeAfter: closeAfter)
        // Recorded before the last byte goes out, so whoever reads the response can find its line.
        finishAudit(tx)
        response.write(to: context, version: tx.head.version, close: closeAfter, wrap: wrapOutboundOut).whenComplete { [self] _ in
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
        transactionsServed += 1
    }

    func becomeIdle() {
        state = .idle
        readsHeld = false
        if requestDecoderStopped, let context {
            requestDecoderStopped = false
            ProxyPipeline.restartRequestDecoder(in: context.pipeline.syncOperations, services: services)
        }
        armHeaderTimer()
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
        replayDeferredParts()
        if isIdle, deferredParts.isEmpty { answerDeferredMalformedRequest() }
        if clientInputClosed, isIdle, deferredParts.isEmpty { closeConnection() }
    }

    /// The client half-closed. An exchange whose request has fully arrived is still answered (a client
    /// may shut down its sending side and wait for the response); one cut off mid-request is abandoned.
    /// So is an LLM call: no SDK half-closes, so its FIN means the caller gave up (a timeout, a
    /// cancelled stream), and a provider call left running would hold its reservation and keep
    /// generating tokens nobody reads, possibly for minutes. Closing settles it (channelInactive).
    func clientClosedInput() {
        clientInputClosed = true
        switch state {
        case .idle:
            if deferredParts.isEmpty { closeConnection() }
        case .connecting(let tx), .admitting(let tx), .inspecting(let tx), .forwarding(let tx, _):
            if tx.requestEnded, tx.llmCall != nil {
                logger.info("client left an LLM call in progress; cancelling the provider call", metadata: [
                    "host": "\(tx.host)", "identity": "\(identity?.name ?? "-")",
                ])
                abandonExchange()
                context?.close(promise: nil)
            } else if !tx.requestEnded {
                closeConnection()
            }
        case .localResponse(let tx, _):
            // Our answer is already going out; the rest of the body it would have discarded never comes.
            guard !tx.requestEnded else { break }
            tx.requestEnded = true
            if tx.responseEnded { finishLocal(tx, closeAfter: true) }
        case .connectPending:
            closeConnection()
        case .handedOff, .closed:
            break
        }
    }

    private func replayDeferredParts() {
        guard !replayingDeferred, !deferredParts.isEmpty, let context else { return }
        replayingDeferred = true
        defer { replayingDeferred = false }
        while let part = deferredParts.first {
            // The next request waits until the one just started is answered (becomeIdle comes back here).
            if case .head = part, !isIdle { break }
            deferredParts.removeFirst()
            dispatch(part, context: context)
        }
        receivedReadComplete()
    }

    private var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    private var isHandedOff: Bool {
        if case .handedOff = state { return true }
        return false
    }

    func closeConnection() {
        if case .closed = state { return }
        state = .closed
        headerTimer?.cancel()
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
        readsHeld = hold
        if !hold, pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    func armHeaderTimer() {
        idleSince = .now()
        if headerTimer == nil { scheduleHeaderCheck(at: idleSince + configuration.headerReadTimeout) }
    }

    private func scheduleHeaderCheck(at deadline: NIODeadline) {
        guard let context else { return }
        headerTimer = context.eventLoop.scheduleTask(deadline: deadline) { [self] in
            headerTimer = nil
            // Busy: becomeIdle arms a new check when the exchange ends.
            guard case .idle = state else { return }
            let due = idleSince + configuration.headerReadTimeout
            if due > .now() {
                scheduleHeaderCheck(at: due)
                return
            }
            headerReadTimedOut()
        }
    }

    private func headerReadTimedOut() {
        if transactionsServed == 0, let context {
            // A client that connected but never finished a request head learns why it was dropped.
            // The serialising handler only lets responses follow requests, so it leaves first.
            ProxyPipeline.removeSerialisation(from: context.pipeline.syncOperations)
            let response = LocalResponse(status: .requestTimeout, message: "no complete request head within \(configuration.headerReadTimeout.nanoseconds / 1_000_000_000)s (limits.header_read_timeout)")
            response.write(to: context, version: .http1_1, close: true, wrap: wrapOutboundOut).whenComplete { _ in
                self.closeConnection()
            }
        } else {
            closeConnection()
        }
    }

    func cancelTimers() {
        headerTimer?.cancel()
        headerTimer = nil
    }

    func shouldPassRead() -> Bool {
        if readsHeld {
            pendingRead = true
            return false
        }
        return true
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
        let part = unwrapInboundIn(data)
        if mustDefer(part) {
            deferredParts.append(part)
            return
        }
        dispatch(part, context: context)
    }

    private func mustDefer(_ part: HTTPServerRequestPart) -> Bool {
        if !deferredParts.isEmpty { return true }
        guard case .head = part else { return false }
        switch state {
        case .forwarding, .localResponse: return true
        default: return false
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
        deferredParts.removeAll()
        abandonExchange()
        context.fireChannelInactive()
    }

    /// The client is gone: the exchange in progress ends here, its upstream call is cancelled, its
    /// audit line written and a metered call settled or released. Leaves the state `.closed`.
    func abandonExchange() {
        switch state {
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
        state = .closed
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
            refuseMalformedRequest(parserError, behindDeferredRequests: !deferredParts.isEmpty)
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
        if case ChannelEvent.inputClosed = event, !isHandedOff {
            clientClosedInput()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if shouldPassRead() { context.read() }
    }
}

// Confined to its channel's event loop: futures it waits on are hopped there before they call back.
extension HTTPProxyHandler: @unchecked Sendable {}
