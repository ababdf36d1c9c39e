import Logging
import MeshgateCore
import MeshgateJSON
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTLS

/// Sets up one connection on the `transparent` listener: TCP that nftables redirected here on a
/// node. The original destination comes from conntrack (`SO_ORIGINAL_DST`); TLS ports
/// (`access.connect_ports`) are peeked for SNI and then intercepted, spliced or refused as a
/// CONNECT would be; other ports are served as HTTP named by `Host`. Upstream connections always go
/// to the original destination.
enum TransparentConnection {
    static func setUp(_ channel: any Channel, services: ProxyServices) -> EventLoopFuture<Void> {
        let client = channel.remoteAddress
        return OriginalDestination.read(from: channel).flatMap { destination in
            guard let destination, let destinationIP = destination.ipAddress, let destinationPort = destination.port else {
                services.logger.warning("connection to the transparent listener was not redirected (no SO_ORIGINAL_DST); closing", metadata: [
                    "client": "\(client?.auditDescription ?? "?")",
                    "fix": "send traffic here with nftables redirect (contrib/egress.sh up); clients that can be configured use listeners.explicit",
                ])
                return channel.close()
            }
            return workload(of: client, services: services, on: channel.eventLoop).flatMapThrowing { workload in
                let identity: Identity?
                if case .identified(let found) = services.identities.identify(client: client, workload: workload) {
                    identity = found
                } else {
                    identity = nil
                }
                let names = destinationNames(destination, client: client, services: services)
                let tls = services.configuration.connectPorts.contains(destinationPort)
                let tx = transaction(client: client, destinationIP: destinationIP, port: destinationPort, tls: tls, workload: workload)
                let ops = channel.pipeline.syncOperations
                try ops.addHandler(IdleTimeoutHandler(timeout: services.configuration.idleTimeout))

                guard services.configuration.allows(client) else {
                    refuse(channel, tx, status: 403, reason: "client \(client?.ipAddress ?? "?") is not allowed (access.allow_clients)",
                           tls: tls, services: services, identity: identity)
                    return
                }
                if services.ownConnections.contains(client) {
                    refuse(channel, tx, status: 508, reason: "meshgate's own upstream connection to \(destination.auditDescription) was redirected back to it; refusing to loop (exempt meshgate's mark or user in the redirect rules)",
                           tls: tls, services: services, identity: identity)
                    return
                }
                let dialledUs = channel.localAddress.map { $0.unmappedIPAddress == destinationIP && $0.port == destinationPort } ?? false
                if dialledUs || services.isOwnAddress(HostPort(host: destinationIP, port: destinationPort)) {
                    refuse(channel, tx, status: 508, reason: "redirected connection's original destination \(destination.auditDescription) is meshgate itself; refusing to loop (exempt meshgate's own traffic in the redirect rules)",
                           tls: tls, services: services, identity: identity)
                    return
                }
                if tls {
                    let setup = TunnelSetup(
                        channel: channel, services: services,
                        authority: HostPort(host: destinationIP, port: destinationPort),
                        clientAddress: client, identity: identity, connectTransaction: tx,
                        transparent: (destination, names)
                    )
                    try ops.addHandler(ByteToMessageHandler(SNIHandler { [setup] result in setup.decide(result) }))
                    try ops.addHandler(TunnelPeekGuard(timeout: services.configuration.headerReadTimeout))
                } else {
                    try ProxyPipeline.addHTTPServerHandlers(
                        to: ops, services: services,
                        mode: .transparentHTTP(destination: destination, fallbackHost: names.first ?? destinationIP),
                        identity: identity,
                        transparent: TransparentFacts(destination: tx.request.transparentDestination ?? destination.auditDescription, workload: workload)
                    )
                }
            }
        }
    }

    /// The socket owner (uid, cgroup) when the client is a process on this host and an identity
    /// needs it; looked up on the blocking pool because it reads /proc.
    private static func workload(of client: SocketAddress?, services: ProxyServices, on eventLoop: any EventLoop) -> EventLoopFuture<LocalWorkload?> {
        guard services.identities.usesWorkloads || services.configuration.auditWorkloads,
              let client, let ip = client.ipAddress, let bytes = IPAddress.parse(ip), let port = client.port else {
            return eventLoop.makeSucceededFuture(nil)
        }
        return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            // The cgroup costs a walk over the owner's processes, so only when an identity asks for one.
            SocketOwner.lookup(address: bytes, port: port, withCgroup: services.identities.usesWorkloads)
        }.recover { _ in nil }
    }

    private static func destinationNames(_ destination: SocketAddress, client: SocketAddress?, services: ProxyServices) -> [String] {
        guard let memory = services.nameMemory, let ip = destination.ipAddress, let bytes = IPAddress.parse(ip) else { return [] }
        return memory.names(for: bytes, client: client?.ipAddress.flatMap(IPAddress.parse))
    }

    private static func transaction(client: SocketAddress?, destinationIP: String, port: Int, tls: Bool, workload: LocalWorkload?) -> HTTPTransaction {
        let head = HTTPRequestHead(version: .http1_1, method: tls ? .CONNECT : .GET, uri: tls ? "\(destinationIP):\(port)" : "/")
        let facts = TransparentFacts(destination: "\(destinationIP.contains(":") ? "[\(destinationIP)]" : destinationIP):\(port)", workload: workload)
        return HTTPTransaction(head: head, scheme: tls ? "https" : "http", host: destinationIP, port: port, path: tls ? "" : "/",
                               intercepted: false, transparent: facts)
    }

    /// Refuses before any upstream is contacted: an HTTP error for plain connections, a close for
    /// TLS ones (nothing can be said to a TLS client before a handshake); audited either way.
    private static func refuse(_ channel: any Channel, _ tx: HTTPTransaction, status: Int, reason: String, tls: Bool, services: ProxyServices, identity: Identity?) {
        tx.audit.status = status
        tx.verdict.action = .block
        tx.audit.error = reason
        services.metrics.countRequest(action: .block, status: status)
        services.audit.record(tx.auditEvent(client: channel.remoteAddress?.auditDescription, identity: identity))
        services.logger.warning("transparent connection refused", metadata: ["reason": "\(reason)"])
        guard !tls else {
            channel.close(promise: nil)
            return
        }
        let phrase = status == 508 ? "Loop Detected" : "Forbidden"
        var body: [UInt8] = Array(#"{"error":{"code":"\#(status == 508 ? "loop_detected" : "forbidden")","message":"#.utf8)
        JSONText.appendString(reason, to: &body)
        body += Array("}}".utf8)
        let head = "HTTP/1.1 \(status) \(phrase)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\nX-Meshgate-Action: block\r\n\r\n"
        try? channel.pipeline.syncOperations.addHandler(ImmediateResponse(bytes: Array(head.utf8) + body))
    }
}

/// Writes a canned response once the connection is active, then closes it.
private final class ImmediateResponse: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let bytes: [UInt8]
    init(bytes: [UInt8]) { self.bytes = bytes }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func send(_ context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(NIOAny(channel.allocator.buffer(bytes: bytes))).whenComplete { _ in channel.close(promise: nil) }
    }
}
