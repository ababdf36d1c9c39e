import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix

/// A question no upstream could answer, with the last upstream's cause.
public struct DNSUpstreamError: Error, Sendable, CustomStringConvertible {
    /// The upstream tried last.
    public var upstream: String
    /// What went wrong there.
    public var problem: String
    /// Whether it was a timeout (for the metrics).
    var isTimeout = false

    /// `upstream 1.1.1.1:53: PROBLEM`.
    public var description: String { "upstream \(upstream): \(problem)" }
}

/// Forwards questions to `dns.upstreams`: over UDP from one socket per event loop (no thread per
/// query; the query stays on the loop it arrived on), again over TCP when the answer comes back
/// truncated, with a timeout per attempt and failover to the next upstream. The upstream that
/// answered last is tried first next time, so a dead first upstream costs one timeout, not one
/// per query.
final class DNSForwarder: Sendable {
    let upstreams: [SocketAddress]
    let timeout: TimeAmount
    private let metrics: DNSMetrics
    private let sockets = NIOLockedValueBox<[ObjectIdentifier: UpstreamSockets]>([:])
    private let preferred = NIOLockedValueBox(0)
    /// Set while no upstream answers: since when (wall-clock ms) and the last cause.
    let failing = NIOLockedValueBox<(sinceMillis: Int64, cause: String)?>(nil)

    /// The UDP sockets of one event loop: one per address family in use.
    struct UpstreamSockets: Sendable {
        var v4: NIOLoopBound<UpstreamUDPHandler>?
        var v6: NIOLoopBound<UpstreamUDPHandler>?
        var channels: [any Channel]
    }

    private let socketMark: Int32?
    static let markOption = ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_MARK))

    init(upstreams: [SocketAddress], timeout: TimeAmount, metrics: DNSMetrics, socketMark: Int32? = nil) {
        self.socketMark = socketMark
        self.upstreams = upstreams
        self.timeout = timeout
        self.metrics = metrics
    }

    /// Opens the UDP sockets on every loop of `group`.
    func start(group: any EventLoopGroup) async throws {
        let needV4 = upstreams.contains { if case .v4 = $0 { true } else { false } }
        let needV6 = upstreams.contains { if case .v6 = $0 { true } else { false } }
        for loop in group.makeIterator() {
            var entry = UpstreamSockets(channels: [])
            for (family, needed) in [("0.0.0.0", needV4), ("::", needV6)] where needed {
                var bootstrap = DatagramBootstrap(group: loop)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                if let socketMark {
                    bootstrap = bootstrap.channelOption(Self.markOption, value: SocketOptionValue(socketMark))
                }
                let channel = try await bootstrap
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(UpstreamUDPHandler())
                        }
                    }
                    .bind(host: family, port: 0)
                    .get()
                let handler = try await channel.eventLoop.submit {
                    NIOLoopBound(try channel.pipeline.syncOperations.handler(type: UpstreamUDPHandler.self), eventLoop: channel.eventLoop)
                }.get()
                if family == "::" { entry.v6 = handler } else { entry.v4 = handler }
                entry.channels.append(channel)
            }
            sockets.withLockedValue { $0[ObjectIdentifier(loop)] = entry }
        }
    }

    /// Closes the sockets; queries in flight fail.
    func stop() async {
        let all = sockets.withLockedValue { s -> [any Channel] in
            defer { s = [:] }
            return s.values.flatMap(\.channels)
        }
        for channel in all { try? await channel.close() }
    }

    /// Asks the upstreams in turn; fails only when none answered. An upstream that answers
    /// SERVFAIL, REFUSED, NOTIMP or FORMERR counts as failed while others remain; the last one's
    /// answer is returned as it is.
    func resolve(_ question: DNSQuestion, checkingDisabled: Bool, on loop: any EventLoop) -> EventLoopFuture<DNSMessage> {
        guard let entry = sockets.withLockedValue({ $0[ObjectIdentifier(loop)] }) else {
            return loop.makeFailedFuture(DNSUpstreamError(upstream: "-", problem: "the DNS forwarder is not running"))
        }
        let first = preferred.withLockedValue { $0 } % max(1, upstreams.count)
        let result = attempt(0, first: first, question: question, checkingDisabled: checkingDisabled, sockets: entry, loop: loop)
        result.whenComplete { outcome in
            switch outcome {
            case .success:
                if self.failing.withLockedValue({ $0 != nil }) { self.failing.withLockedValue { $0 = nil } }
            case .failure(let error):
                self.failing.withLockedValue { state in
                    state = (state?.sinceMillis ?? DNSQueryProcessor.wallClockMillis(), "\(error)")
                }
            }
        }
        return result
    }

    private func attempt(_ n: Int, first: Int, question: DNSQuestion, checkingDisabled: Bool,
                         sockets: UpstreamSockets, loop: any EventLoop) -> EventLoopFuture<DNSMessage> {
        let index = (first + n) % upstreams.count
        let upstream = upstreams[index]
        let isLast = n + 1 >= upstreams.count
        let exchange = exchange(question, checkingDisabled: checkingDisabled, upstream: upstream, sockets: sockets, loop: loop)
        return exchange.flatMapThrowing { response -> DNSMessage in
            switch response.header.rcode {
            case .serverFailure, .refused, .notImplemented, .formatError:
                self.metrics.countUpstreamFailure("rcode")
                if !isLast { throw DNSUpstreamError(upstream: "\(upstream)", problem: "answered \(response.header.rcode)") }
            default:
                break
            }
            if index != first { self.preferred.withLockedValue { $0 = index } }
            return response
        }.flatMapError { error in
            if let upstreamError = error as? DNSUpstreamError, !upstreamError.problem.hasPrefix("answered") {
                self.metrics.countUpstreamFailure(upstreamError.isTimeout ? "timeout" : "network")
            } else if !(error is DNSUpstreamError) {
                self.metrics.countUpstreamFailure("network")
            }
            guard !isLast else { return loop.makeFailedFuture(error) }
            return self.attempt(n + 1, first: first, question: question, checkingDisabled: checkingDisabled, sockets: sockets, loop: loop)
        }
    }

    /// One upstream: UDP, then TCP when the UDP answer is truncated.
    private func exchange(_ question: DNSQuestion, checkingDisabled: Bool, upstream: SocketAddress,
                          sockets: UpstreamSockets, loop: any EventLoop) -> EventLoopFuture<DNSMessage> {
        let bound: NIOLoopBound<UpstreamUDPHandler>?
        if case .v6 = upstream { bound = sockets.v6 } else { bound = sockets.v4 }
        guard let bound else {
            return loop.makeFailedFuture(DNSUpstreamError(upstream: "\(upstream)", problem: "no socket for its address family"))
        }
        let timeout = self.timeout
        return bound.value.exchange(question, checkingDisabled: checkingDisabled, upstream: upstream, timeout: timeout, loop: loop).flatMap { response in
            guard response.header.truncated else { return loop.makeSucceededFuture(response) }
            return Self.exchangeOverTCP(question, checkingDisabled: checkingDisabled, upstream: upstream, timeout: timeout, loop: loop, socketMark: self.socketMark)
        }
    }

    /// The query we send: our own random ID, recursion desired, EDNS with a 1232-byte payload
    /// (the DNS Flag Day 2020 size) and no DO bit — answers are rewritten here, so DNSSEC
    /// records would not validate downstream anyway.
    static func query(_ question: DNSQuestion, id: UInt16, checkingDisabled: Bool) -> [UInt8] {
        var header = DNSHeader(id: id)
        header.recursionDesired = true
        header.checkingDisabled = checkingDisabled
        var message = DNSMessage(header: header, questions: [question])
        message.edns = DNSEDNS(udpPayloadSize: 1232)
        return (try? message.encoded()) ?? []
    }

    /// Whether `response` answers the query with `id` about `question`.
    static func matches(_ response: DNSMessage, id: UInt16, question: DNSQuestion) -> Bool {
        response.header.id == id && response.header.isResponse && response.questions.count == 1
            && response.questions[0].name == question.name && response.questions[0].type == question.type
            && response.questions[0].dnsClass == question.dnsClass
    }

    static func exchangeOverTCP(_ question: DNSQuestion, checkingDisabled: Bool, upstream: SocketAddress,
                                timeout: TimeAmount, loop: any EventLoop, socketMark: Int32? = nil) -> EventLoopFuture<DNSMessage> {
        let id = UInt16.random(in: 0...UInt16.max)
        let query = Self.query(question, id: id, checkingDisabled: checkingDisabled)
        let promise = loop.makePromise(of: [UInt8].self)
        let deadline = loop.scheduleTask(in: timeout) {
            promise.fail(DNSUpstreamError(upstream: "\(upstream)", problem: "no answer over TCP within \(timeout.nanoseconds / 1_000_000) ms", isTimeout: true))
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        var tcp = ClientBootstrap(group: loop).connectTimeout(timeout)
        if let socketMark { tcp = tcp.channelOption(Self.markOption, value: SocketOptionValue(socketMark)) }
        tcp
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    try ops.addHandler(ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .twoBytes)))
                    try ops.addHandler(UpstreamTCPHandler(promise: promise))
                }
            }
            .connect(to: upstream)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    var buffer = channel.allocator.buffer(capacity: query.count + 2)
                    buffer.writeInteger(UInt16(query.count))
                    buffer.writeBytes(query)
                    channel.writeAndFlush(buffer, promise: nil)
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure(let error):
                    promise.fail(DNSUpstreamError(upstream: "\(upstream)", problem: "TCP connect failed: \(error)"))
                }
            }
        return promise.futureResult.flatMapThrowing { bytes in
            let response: DNSMessage
            do {
                response = try DNSMessage(decoding: bytes)
            } catch {
                throw DNSUpstreamError(upstream: "\(upstream)", problem: "\(error)")
            }
            guard Self.matches(response, id: id, question: question) else {
                throw DNSUpstreamError(upstream: "\(upstream)", problem: "the TCP answer does not match the question")
            }
            return response
        }
    }
}

/// Sits alone in an upstream UDP socket's pipeline: sends queries, matches answers to them by
/// ID, source address and question, and fails those that time out. Confined to its event loop.
final class UpstreamUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    struct Pending {
        var promise: EventLoopPromise<DNSMessage>
        var upstream: SocketAddress
        var question: DNSQuestion
        var timeout: Scheduled<Void>
    }

    /// IDs in flight per socket at most; beyond that a query fails at once rather than risk
    /// a long search for a free ID.
    static let maxInFlight = 50_000
    private var pending: [UInt16: Pending] = [:]
    private var ids = RandomQueryIDs()
    private var context: ChannelHandlerContext?
    private var flushScheduled = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        failAll(DNSUpstreamError(upstream: "-", problem: "the forwarder socket closed"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(DNSUpstreamError(upstream: "-", problem: "the forwarder socket closed"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: DNSUpstreamError) {
        let all = pending
        pending = [:]
        for (_, entry) in all {
            entry.timeout.cancel()
            entry.promise.fail(error)
        }
    }

    func exchange(_ question: DNSQuestion, checkingDisabled: Bool, upstream: SocketAddress, timeout: TimeAmount,
                  loop: any EventLoop) -> EventLoopFuture<DNSMessage> {
        guard let context else {
            return loop.makeFailedFuture(DNSUpstreamError(upstream: "\(upstream)", problem: "the forwarder socket is closed"))
        }
        guard pending.count < Self.maxInFlight else {
            return loop.makeFailedFuture(DNSUpstreamError(upstream: "\(upstream)", problem: "too many queries in flight"))
        }
        var id = ids.next()
        while pending[id] != nil { id = ids.next() }
        let promise = loop.makePromise(of: DNSMessage.self)
        let query = DNSForwarder.query(question, id: id, checkingDisabled: checkingDisabled)
        let scheduled = loop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) { [self] in
            guard let entry = pending.removeValue(forKey: id) else { return }
            entry.promise.fail(DNSUpstreamError(upstream: "\(upstream)", problem: "no answer within \(timeout.nanoseconds / 1_000_000) ms", isTimeout: true))
        }
        pending[id] = Pending(promise: promise, upstream: upstream, question: question, timeout: scheduled)
        var buffer = context.channel.allocator.buffer(capacity: query.count)
        buffer.writeBytes(query)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: upstream, data: buffer)), promise: nil)
        // The queries a read burst of the listener forwards leave in one sendmmsg: the flush
        // runs once the loop has finished handling that burst.
        if !flushScheduled {
            flushScheduled = true
            loop.assumeIsolatedUnsafeUnchecked().execute { [self] in
                flushScheduled = false
                self.context?.flush()
            }
        }
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.data.readableBytes >= DNSMessage.headerLength,
              let id = envelope.data.getInteger(at: envelope.data.readerIndex, as: UInt16.self),
              let entry = pending[id], entry.upstream == envelope.remoteAddress else { return }
        // Anything that does not parse or answer the question is ignored (the timeout stands), so
        // a spoofed packet cannot fail or poison a query.
        guard let response = try? DNSMessage(decoding: Array(envelope.data.readableBytesView)),
              DNSForwarder.matches(response, id: id, question: entry.question) else { return }
        pending[id] = nil
        entry.timeout.cancel()
        entry.promise.succeed(response)
    }
}

/// Collects the first length-prefixed answer on an upstream TCP connection.
final class UpstreamTCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<[UInt8]>

    init(promise: EventLoopPromise<[UInt8]>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        promise.succeed(Array(frame.readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(DNSUpstreamError(upstream: "\(context.remoteAddress.map { "\($0)" } ?? "-")", problem: "closed before answering over TCP"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(DNSUpstreamError(upstream: "-", problem: "\(error)"))
        context.close(promise: nil)
    }
}
