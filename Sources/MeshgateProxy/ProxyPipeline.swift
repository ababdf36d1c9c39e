import MeshgateCore
import NIOCore
import NIOHTTP1

/// Builds the HTTP server half of a proxy pipeline (explicit listener and intercepted tunnels alike).
enum ProxyPipeline {
    static func addHTTPServerHandlers(
        to ops: ChannelPipeline.SynchronousOperations,
        services: ProxyServices,
        mode: ProxyRequestMode,
        identity: Identity?
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
        try ops.addHandler(HTTPServerPipelineHandler())
        try ops.addHandler(HTTPProxyHandler(services: services, mode: mode, identity: identity))
    }

    /// Removes the first handler of `type`, if the pipeline has one (pipeline surgery for tunnels).
    static func remove<H: RemovableChannelHandler>(_ type: H.Type, from ops: ChannelPipeline.SynchronousOperations) {
        guard let context = try? ops.context(handlerType: type) else { return }
        ops.removeHandler(context: context, promise: nil)
    }
}
