import NIOCore
import NIOHTTP1
import NIOPosix

extension ExchangeSession {
    /// After a 101 both connections stop speaking HTTP: remove the HTTP handlers on both sides and glue
    /// the raw byte streams (WebSocket frames pass through unchanged).
    func completeUpgrade(_ tx: HTTPTransaction, _ connection: UpstreamConnection, context: ChannelHandlerContext) {
        machine.handOff()
        connection.delegate = nil
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
        let audit = services.audit
        let client = clientAddress?.auditDescription
        let identity = self.identity
        let metrics = services.metrics
        let initialIn = tx.audit.bytesIn
        let initialOut = tx.audit.bytesOut
        clientGlue.onClose = { fromClient in
            tx.audit.bytesIn = initialIn + fromClient
            tx.audit.bytesOut = initialOut + upstreamGlue.bytesRead
            metrics.countRequest(action: tx.verdict.action, status: 101)
            audit.record(tx.auditEvent(client: client, identity: identity))
        }
        do {
            let clientOps = context.pipeline.syncOperations
            let upstreamOps = connection.channel.pipeline.syncOperations
            try upstreamOps.addHandler(upstreamGlue)
            try clientOps.addHandler(clientGlue)
            // Encoders and the serialising pipeline handler first, so leftover bytes that the decoders
            // forward on removal reach the glue and not an HTTP handler.
            ProxyPipeline.remove(UpstreamResponseHandler.self, from: upstreamOps)
            ProxyPipeline.remove(HTTPRequestEncoder.self, from: upstreamOps)
            ProxyPipeline.remove(ByteToMessageHandler<HTTPResponseDecoder>.self, from: upstreamOps)
            ProxyPipeline.removeSerialisation(from: clientOps)
            ProxyPipeline.remove(HTTPResponseEncoder.self, from: clientOps)
            clientOps.removeHandler(context: context, promise: nil)
            ProxyPipeline.remove(ByteToMessageHandler<HTTPRequestDecoder>.self, from: clientOps)
            context.channel.read()
            connection.channel.read()
        } catch {
            logger.warning("could not switch connection to the upgraded protocol", metadata: ["error": "\(error)"])
            connection.close()
            context.close(promise: nil)
        }
    }
}
