import MeshgateCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import MeshgateTLS

/// Decides what happens inside an accepted CONNECT once the first client bytes are seen.
final class TunnelSetup {
    let services: ProxyServices
    var authority: HostPort
    let clientAddress: SocketAddress?
    let identity: Identity?
    let connectTransaction: HTTPTransaction
    let channel: any Channel
    /// For a transparent connection: the address the client dialled (the upstream goes there, not
    /// to a lookup of the SNI) and the names the DNS filter gave this client for it.
    let transparent: (destination: SocketAddress, resolvedNames: [String])?

    init(channel: any Channel, services: ProxyServices, authority: HostPort, clientAddress: SocketAddress?, identity: Identity?,
         connectTransaction: HTTPTransaction, transparent: (destination: SocketAddress, resolvedNames: [String])? = nil) {
        self.channel = channel
        self.services = services
        self.authority = authority
        self.clientAddress = clientAddress
        self.identity = identity
        self.connectTransaction = connectTransaction
        self.transparent = transparent
    }

    /// A transparent connection's host-level refusal or SNI/DNS disagreement, before any bytes
    /// go anywhere. Returns false when the connection was closed.
    private func checkTransparent(sni: String?, bypass: Bool) -> Bool {
        guard let transparent else { return true }
        let tx = connectTransaction
        // Name the connection by SNI, else by what the client resolved, else by the address.
        let host = sni ?? transparent.resolvedNames.first ?? authority.host
        authority = HostPort(host: host, port: authority.port)
        tx.route.host = host
        if let sni, !transparent.resolvedNames.isEmpty, !transparent.resolvedNames.contains(sni) {
            tx.verdict.detections.append("SNI/DNS mismatch")
            services.logger.warning("transparent connection's SNI is not a name this client resolved to its destination", metadata: [
                "sni": "\(sni)", "destination": "\(transparent.destination.auditDescription)",
                "resolved": "\(transparent.resolvedNames.joined(separator: ","))",
            ])
            if !bypass { services.audit.record(tx.auditEvent(client: clientAddress?.auditDescription, identity: identity)) }
        }
        // Spliced hosts are decided here; intercepted ones request by request inside the tunnel.
        guard bypass else { return true }
        let verdict = services.policy.current.evaluateHostOnly(host: host, port: authority.port, identity: identity)
        tx.verdict.rule = verdict.rule
        tx.verdict.ruleset = verdict.ruleset
        tx.verdict.action = verdict.action
        if verdict.action == .block || verdict.action == .redirect || verdict.action == .reroute {
            tx.verdict.action = .block
            tx.audit.status = 403
            tx.audit.error = "\(host) is refused by rule \(verdict.rule ?? "-") (spliced, so it cannot be redirected)"
            services.metrics.countRequest(action: .block, status: 403)
            services.audit.record(tx.auditEvent(client: clientAddress?.auditDescription, identity: identity))
            channel.close(promise: nil)
            return false
        }
        return true
    }

    /// Called by the SNI peek with the ClientHello's server name (or `.fallback` for no SNI / not TLS).
    func decide(_ result: SNIResult) -> EventLoopFuture<Void> {
        // From here the tunnel's own handlers (glue, TLS, HTTP) own half-closure and timeouts.
        ProxyPipeline.remove(TunnelPeekGuard.self, from: channel.pipeline.syncOperations)
        let sni: String?
        switch result {
        case .hostname(let name): sni = ServerName.host(name)
        case .fallback: sni = nil
        }
        let doNotInspect = services.configuration.doNotInspect
        let bypass: Bool
        if transparent == nil {
            // An explicit tunnel goes to the CONNECT host, so only that host can make it spliced: a
            // listed SNI in front of another CONNECT host would otherwise carry anything, uninspected,
            // to a server no rule looked at.
            bypass = doNotInspect.matches(authority.host)
        } else {
            // A redirected connection goes to the address the client dialled. Where the DNS filter
            // answered this client for that address, a listed SNI splices only if it is one of the
            // names it answered; otherwise any process could carry anything uninspected to any
            // address behind a pinned app's name.
            let resolved = transparent?.resolvedNames ?? []
            let sniNamesDestination = sni.map { resolved.isEmpty || resolved.contains($0) } ?? false
            bypass = doNotInspect.matches(authority.host)
                || (sniNamesDestination && (sni.map { doNotInspect.matches($0) } ?? false))
                || (resolved.first.map { doNotInspect.matches($0) } ?? false)
        }
        guard checkTransparent(sni: sni, bypass: bypass) else {
            return channel.eventLoop.makeFailedFuture(ChannelError.inputClosed)
        }
        if bypass, let sni, sni != authority.host {
            // The SNI names another host than the CONNECT did: its host rules apply too. The 200 is
            // already out, so a refusal can only close the tunnel.
            let verdict = services.policy.current.evaluateHostOnly(host: sni, port: authority.port, identity: identity)
            if verdict.action == .block || verdict.action == .redirect || verdict.action == .reroute {
                let tx = connectTransaction
                tx.verdict.action = .block
                tx.verdict.rule = verdict.rule
                tx.verdict.ruleset = verdict.ruleset
                tx.audit.status = 403
                tx.audit.error = "SNI \(sni) is refused by rule \(verdict.rule ?? "-")"
                services.metrics.countRequest(action: .block, status: 403)
                services.audit.record(tx.auditEvent(client: clientAddress?.auditDescription, identity: identity))
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(ChannelError.inputClosed)
            }
        }
        // Without SNI (an IP, or not TLS at all) we still intercept: splicing unknown bytes would let any
        // client bypass inspection by not sending a ClientHello we can read.
        return bypass ? splice(channel: channel, sni: sni) : intercept(channel: channel, sni: sni)
    }

    private func splice(channel: any Channel, sni: String?) -> EventLoopFuture<Void> {
        services.metrics.tunnelsSpliced.increment()
        let tx = connectTransaction
        let audit = services.audit
        let metrics = services.metrics
        let client = clientAddress?.auditDescription
        let identity = self.identity
        let (clientGlue, originGlue) = GlueHandler.matchedPair()
        let bootstrap = ClientBootstrap(group: channel.eventLoop)
            .connectTimeout(services.configuration.upstreamConnectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .marked(services.configuration.socketMark)
            .channelInitializer { [originGlue = NIOLoopBound(originGlue, eventLoop: channel.eventLoop)] origin in
                // The origin channel is on the client's loop (the bootstrap's only loop).
                origin.eventLoop.makeCompletedFuture {
                    try origin.pipeline.syncOperations.addHandler(originGlue.value)
                }
            }
        let staticHost = services.configuration.staticHosts[authority.host]
        let connected = bootstrap.connect(host: staticHost ?? authority.host, port: authority.port, pinned: transparent?.destination,
                                          guard: staticHost == nil ? services.destinationGuard : nil, on: channel.eventLoop)
        // Both callbacks run on the client channel's loop, where the connect was started.
        return connected.assumeIsolated()
            .flatMapThrowing { origin in
                self.services.ownConnections.track(origin)
                let initialOut = tx.audit.bytesOut
                clientGlue.onClose = { fromClient in
                    tx.audit.bytesIn += fromClient
                    tx.audit.bytesOut = initialOut + originGlue.bytesRead
                    metrics.countRequest(action: tx.verdict.action, status: 200)
                    audit.record(tx.auditEvent(client: client, identity: identity))
                }
                try channel.pipeline.syncOperations.addHandler(clientGlue)
            }
            .flatMapError { error in
                let failure = UpstreamConnector.classify(connectError: error, target: self.authority.description, timeout: self.services.configuration.upstreamConnectTimeout)
                metrics.countUpstreamError(failure.kind)
                tx.audit.status = Int(failure.status.code)
                tx.audit.error = failure.description
                if failure.status == .forbidden { tx.verdict.action = .block }
                metrics.countRequest(action: tx.verdict.action, status: tx.audit.status ?? 502)
                audit.record(tx.auditEvent(client: client, identity: identity))
                // The 200 is already sent; closing is the only signal left.
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(error) as EventLoopFuture<Void>
            }
            .nonisolated()
    }

    private func intercept(channel: any Channel, sni: String?) -> EventLoopFuture<Void> {
        services.metrics.tunnelsIntercepted.increment()
        let services = self.services
        let authority = self.authority
        let identity = self.identity
        let contextFuture: EventLoopFuture<NIOSSLContext>
        if sni != nil {
            contextFuture = channel.eventLoop.makeSucceededFuture(services.interceptContext)
        } else {
            // No SNI (a client that connected to an IP): serve a leaf for the CONNECT authority itself.
            contextFuture = services.serverContextWithoutSNI(for: authority.host, on: channel.eventLoop)
        }
        let pinned = transparent?.destination
        let request = connectTransaction.request
        let transparentFacts = request.transparentDestination.map { TransparentFacts(destination: $0, workload: request.workload) }
        return contextFuture.hop(to: channel.eventLoop).flatMapThrowing { sslContext in
            let ops = channel.pipeline.syncOperations
            try ops.addHandler(NIOSSLServerHandler(context: sslContext))
            try ProxyPipeline.addHTTPServerHandlers(
                to: ops,
                services: services,
                mode: .intercepted(authority: authority, serverName: sni, pinned: pinned),
                identity: identity,
                transparent: transparentFacts
            )
        }
    }
}

// Not Sendable: used only on the tunnel channel's event loop.
@available(*, unavailable)
extension TunnelSetup: Sendable {}
