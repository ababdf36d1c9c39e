import NIOConcurrencyHelpers
import NIOCore

/// The local ends of meshgate's own upstream connections. If the node's redirect rules fail to
/// exempt them (no mark, wrong user), such a connection comes straight back to the transparent
/// listener; its peer is then one of these, and it is refused instead of starting an endless
/// chain of connections (a spliced tunnel has no `Via` header to catch it).
final class OwnConnections: Sendable {
    private let locals = NIOLockedValueBox<Set<SocketAddress>>([])
    // Off until a transparent listener starts: only redirected connections can come back to us.
    private let enabled = NIOLockedValueBox(false)

    /// Starts remembering (the transparent listener calls this).
    func enable() { enabled.withLockedValue { $0 = true } }

    /// Remembers `channel`'s local end until it closes, when enabled.
    func track(_ channel: any Channel) {
        guard enabled.withLockedValue({ $0 }), let local = channel.localAddress else { return }
        locals.withLockedValue { _ = $0.insert(local) }
        channel.closeFuture.whenComplete { [locals] _ in locals.withLockedValue { _ = $0.remove(local) } }
    }

    /// Whether `peer` is the local end of one of our upstream connections.
    func contains(_ peer: SocketAddress?) -> Bool {
        guard let peer else { return false }
        return locals.withLockedValue { $0.contains(peer) }
    }
}
