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

/// Identifies clients by source address and presented credentials. Implementations compare
/// tokens in constant time and never log them.
public protocol IdentityResolver: Sendable {
    /// Identifies a client from its address and the raw `Proxy-Authorization` / `Authorization` value.
    func identify(client: SocketAddress?, credentials: String?) -> IdentityResolution
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
