import NIOCore

/// The outcome of identifying a client.
public enum IdentityResolution: Sendable, Equatable {
    /// No identity matched and no credentials were presented.
    case anonymous
    /// A configured identity matched.
    case identified(Identity)
    /// Credentials were presented but match no identity.
    case invalidCredentials
}

/// The local process behind a redirected connection: the owner of the client socket.
public struct LocalWorkload: Sendable, Equatable {
    /// The socket owner's uid.
    public var uid: UInt32
    /// The owning process's cgroup path (cgroup v2, as in `/proc/PID/cgroup`), when found.
    public var cgroup: String?

    /// Creates a workload.
    public init(uid: UInt32, cgroup: String?) {
        self.uid = uid
        self.cgroup = cgroup
    }
}

/// Identifies clients by source address and presented credentials. Implementations compare
/// tokens in constant time and never log them.
public protocol IdentityResolver: Sendable {
    /// Identifies a client from its address and the raw `Proxy-Authorization` / `Authorization` value.
    func identify(client: SocketAddress?, credentials: String?) -> IdentityResolution
    /// Identifies a local process (transparent connections from this node) by uid and cgroup,
    /// falling back to its address.
    func identify(client: SocketAddress?, workload: LocalWorkload?) -> IdentityResolution
    /// Whether any identity is recognised by uid or cgroup (so looking the socket owner up is worth it).
    var usesWorkloads: Bool { get }
}

extension IdentityResolver {
    /// By address only.
    public func identify(client: SocketAddress?, workload: LocalWorkload?) -> IdentityResolution {
        identify(client: client, credentials: nil)
    }
    /// None by default.
    public var usesWorkloads: Bool { false }
}

/// Knows no identities: everyone is anonymous.
public struct NoIdentities: IdentityResolver {
    /// Creates the resolver.
    public init() {}
    /// Always `.anonymous`, or `.invalidCredentials` when credentials were presented.
    public func identify(client: SocketAddress?, credentials: String?) -> IdentityResolution {
        credentials == nil ? .anonymous : .invalidCredentials
    }
}
