import MeshgateCore
import NIOCore
import NIOHTTP1

/// Builds the HTTP server half of a proxy pipeline (explicit listener and intercepted tunnels alike).
enum ProxyPipeline {
    static func addHTTPServerHandlers(
        to ops: ChannelPipeline.SynchronousOperations,
        services: ProxyServices,
        mode: ProxyRequestMode,
        identity: Identity?,
        transparent: TransparentFacts? = nil
    ) throws {
        try ops.addHandler(HTTPResponseEncoder())
        try ops.addHandler(makeRequestDecoder(services: services))
        try ops.addHandler(ReadAheadHandler())
        try ops.addHandler(HTTPServerPipelineHandler())
        if case .aiGateway = mode {
            try ops.addHandler(AIGatewayHandler(services: services))
        } else {
            try ops.addHandler(HTTPProxyHandler(services: services, mode: mode, identity: identity, transparent: transparent))
        }
    }

    private static func makeRequestDecoder(services: ProxyServices) -> ByteToMessageHandler<HTTPRequestDecoder> {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = services.configuration.maxHeaderBytes
        limits.maxHeaderListSize = services.configuration.maxHeaderBytes
        return ByteToMessageHandler(HTTPRequestDecoder(
            leftOverBytesStrategy: .forwardBytes,
            informationalResponseStrategy: .drop,
            limitConfiguration: limits
        ))
    }

    /// Puts a fresh request decoder in place of one that stopped after an `Upgrade` request the origin
    /// declined. The new one goes in right behind the old, so the bytes the old one held (the client's
    /// next request, perhaps) are forwarded into it when the old one is removed.
    static func restartRequestDecoder(in ops: ChannelPipeline.SynchronousOperations, services: ProxyServices) {
        guard let old = try? ops.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) else { return }
        do {
            try ops.addHandler(makeRequestDecoder(services: services), position: .after(old.handler))
            ops.removeHandler(context: old, promise: nil)
        } catch {
            old.close(promise: nil)
        }
    }

    /// Removes the request serialisation (`HTTPServerPipelineHandler` and the read-ahead beside it),
    /// which only makes sense while the connection speaks HTTP.
    static func removeSerialisation(from ops: ChannelPipeline.SynchronousOperations) {
        remove(HTTPServerPipelineHandler.self, from: ops)
        remove(ReadAheadHandler.self, from: ops)
    }

    /// Removes the first handler of `type`, if the pipeline has one (pipeline surgery for tunnels).
    static func remove<H: RemovableChannelHandler>(_ type: H.Type, from ops: ChannelPipeline.SynchronousOperations) {
        guard let context = try? ops.context(handlerType: type) else { return }
        ops.removeHandler(context: context, promise: nil)
    }
}

/// What a redirected connection carries into each of its requests' audit lines.
struct TransparentFacts {
    /// The original destination as `ip:port`.
    var destination: String
    /// The local process behind it, when it is one of this host's.
    var workload: LocalWorkload?
}
