import MeshgateCore
import NIOConcurrencyHelpers
import NIOCore

/// Which names recently resolved to which addresses, per client: the transparent proxy asks it
/// for the hostname of a connection that carries no SNI or Host ("client X dialled IP Y, which
/// name did X resolve to Y?").
///
/// Every address answered to a client (cache hits included) is remembered for its TTL plus
/// `grace` — clients keep using an address a little past its TTL — under the client's address
/// and under "any client". When an address answered for several names, the latest wins.
/// Bounded: at most `capacity` (client, address) pairs, the least recently used going first.
public final class DNSAnswerMemory: Sendable {
    struct Key: Hashable, Sendable {
        /// The client's address bytes; empty for "any client".
        var client: [UInt8]
        var address: [UInt8]
    }

    struct Entry: Sendable {
        var name: String
        var expiresAt: UInt64
    }

    /// The most (client, address) pairs kept.
    public let capacity: Int
    /// Seconds an entry outlives its TTL.
    public let grace: UInt32
    private let clock: any DNSClock
    private let entries: NIOLockedValueBox<LRUCache<Key, Entry>>

    /// Creates an empty memory.
    public init(capacity: Int = 65_536, grace: UInt32 = 300, clock: any DNSClock = SystemDNSClock()) {
        self.capacity = max(1, capacity)
        self.grace = grace
        self.clock = clock
        entries = NIOLockedValueBox(LRUCache(capacity: self.capacity))
    }

    /// Remembers that `client` (4 or 16 bytes; nil when unknown) was told `name` has `addresses`
    /// for `ttl` seconds.
    public func record(client: [UInt8]?, name: String, addresses: [[UInt8]], ttl: UInt32) {
        guard !addresses.isEmpty else { return }
        let expiresAt = clock.nowNanoseconds() + UInt64(ttl + min(grace, UInt32.max - ttl)) * 1_000_000_000
        let entry = Entry(name: name, expiresAt: expiresAt)
        entries.withLockedValue { cache in
            for address in addresses {
                if let client { cache.set(Key(client: client, address: address), entry) }
                cache.set(Key(client: [], address: address), entry)
            }
        }
    }

    /// The name `client` most recently resolved to `address`, while it is remembered. With
    /// `anyClient`, falls back to the name any client most recently resolved to it.
    public func hostname(for address: [UInt8], client: [UInt8]?, anyClient: Bool = false) -> String? {
        let now = clock.nowNanoseconds()
        return entries.withLockedValue { cache -> String? in
            if let client, let entry = cache.peek(Key(client: client, address: address)), now < entry.expiresAt {
                return entry.name
            }
            guard anyClient || client == nil, let entry = cache.peek(Key(client: [], address: address)), now < entry.expiresAt else {
                return nil
            }
            return entry.name
        }
    }

    /// ``hostname(for:client:anyClient:)`` for socket addresses (ports ignored).
    public func hostname(for address: SocketAddress, client: SocketAddress?, anyClient: Bool = false) -> String? {
        guard let bytes = IPAddress.bytes(of: address) else { return nil }
        return hostname(for: IPAddress.unmapped(bytes), client: client.flatMap(IPAddress.bytes(of:)).map(IPAddress.unmapped), anyClient: anyClient)
    }
}

extension DNSAnswerMemory: AddressNameMemory {
    /// The name this client most recently resolved to `address`, else the one any client did.
    public func names(for address: [UInt8], client: [UInt8]?) -> [String] {
        let unmapped = IPAddress.unmapped(address)
        return hostname(for: unmapped, client: client.map(IPAddress.unmapped), anyClient: true).map { [$0] } ?? []
    }
}
