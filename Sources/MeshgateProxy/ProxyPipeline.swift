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
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = services.configuration.maxHeaderBytes
        limits.maxHeaderListSize = services.configuration.maxHeaderBytes
        try ops.addHandler(HTTPResponseEncoder())
        try ops.addHandler(ByteToMessageHandler(HTTPRequestDecoder(
            leftOverBytesStrategy: .forwardBytes,
            informationalResponseStrategy: .drop,
            limitConfiguration: limits
        )))
        try ops.addHandler(ReadAheadHandler())
        try ops.addHandler(HTTPServerPipelineHandler())
        let handler = HTTPProxyHandler(services: services, mode: mode, identity: identity)
        handler.transparent = transparent
        try ops.addHandler(handler)
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
