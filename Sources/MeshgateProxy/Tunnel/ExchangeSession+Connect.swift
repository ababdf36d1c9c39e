import MeshgateCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import MeshgateTLS

extension ExchangeSession {
    /// Accepts a CONNECT: answers 200, removes the HTTP handlers and peeks at the ClientHello to choose
    /// between interception and splicing.
    func startTunnel(_ tx: HTTPTransaction, authority: HostPort, context: ChannelHandlerContext) {
        machine.handOff()
        cancelTimers()
        tx.audit.status = 200
        let setup = TunnelSetup(
            channel: context.channel,
            services: services,
            authority: authority,
            clientAddress: clientAddress,
            identity: identity,
            connectTransaction: tx
        )
        do {
            let ops = context.pipeline.syncOperations
            let peek = ByteToMessageHandler(SNIHandler { [setup] result in setup.decide(result) })
            let peekGuard = TunnelPeekGuard(timeout: configuration.headerReadTimeout)
            try ops.addHandler(peek, position: .after(context.handler))
            try ops.addHandler(peekGuard, position: .after(peek))
            ProxyPipeline.removeSerialisation(from: ops)
            ProxyPipeline.remove(HTTPResponseEncoder.self, from: ops)
            // Written raw: NIO's encoder would add body framing that a CONNECT 2xx must not have.
            var established = context.channel.allocator.buffer(capacity: 64)
            established.writeString("HTTP/1.1 200 Connection Established\r\n\r\n")
            tx.audit.bytesOut += established.readableBytes
            context.writeAndFlush(NIOAny(established), promise: nil)
            ops.removeHandler(context: context, promise: nil)
            ProxyPipeline.remove(ByteToMessageHandler<HTTPRequestDecoder>.self, from: ops)
        } catch {
            logger.warning("could not set up tunnel", metadata: ["host": "\(authority)", "error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// For a tunnel that will not be inspected, host-level rules decide at CONNECT time: anything but
    /// allow/log is a 403 to the CONNECT itself (a spliced stream cannot be rerouted or redirected).
    func refuseByHostPolicy(_ tx: HTTPTransaction, host: String, port: Int) -> Bool {
        let policy = services.policy.current
        let verdict = policy.evaluateHostOnly(host: host, port: port, identity: identity)
        switch verdict.action {
        case .allow, .log, .limit:
            tx.verdict.action = verdict.action
            tx.verdict.rule = verdict.rule
            tx.verdict.ruleset = verdict.ruleset
            return false
        case .block, .redirect, .reroute:
            tx.verdict.action = .block
            tx.verdict.rule = verdict.rule
            tx.verdict.ruleset = verdict.ruleset
            tx.verdict.redirectTarget = verdict.target
            respondLocally(tx, PolicyResponse.block(rule: verdict.rule, portal: policy.portal, jsonRPC: nil, accept: tx.head.headers.first(name: "accept")), close: true)
            return true
        }
    }
}
