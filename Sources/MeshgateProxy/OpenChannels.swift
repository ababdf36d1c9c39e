import NIOConcurrencyHelpers
import NIOCore

/// The client connections a listener has accepted and not yet closed, so that a shutdown whose
/// grace period has run out can cut what is still open (a tunnel, a stalled upload, a client that
/// never reads) instead of leaving the process to wait for their idle timers.
final class OpenChannels: Sendable {
    private let channels = NIOLockedValueBox([ObjectIdentifier: any Channel]())

    /// Tracks `channel` until it closes.
    func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [channels] _ in
            _ = channels.withLockedValue { $0.removeValue(forKey: id) }
        }
    }

    /// How many are open now.
    var count: Int { channels.withLockedValue { $0.count } }

    /// Closes every open channel and waits until they have all closed.
    func closeAll(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let open = channels.withLockedValue { Array($0.values) }
        let closed = open.map { channel in
            channel.close().recover { _ in }.flatMap { channel.closeFuture.recover { _ in } }
        }
        return EventLoopFuture.andAllComplete(closed, on: eventLoop)
    }
}
