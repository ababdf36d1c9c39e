import MeshgateCore

/// What a ClientHello's `server_name` (SNI) names.
public enum ServerName {
    /// The host `serverName` names: normalised as `HostPort.host` is (lowercase, no brackets, no
    /// trailing dot) and without a `:port` suffix.
    ///
    /// RFC 6066 allows no port in the name, but Go's `crypto/tls` sends `tls.Config.ServerName`
    /// verbatim, and Go programs that fill it from a URL's host (`hey`: `ServerName: req.Host`) send
    /// `api.example.com:8443` when the URL names its port. Such a name cannot go into a certificate,
    /// and the upstream does not know it either, so the port is dropped: the client gets a leaf for the
    /// host (which is all the name can mean) and the upstream handshake names the host. A name that is
    /// not `host:port` is only normalised.
    public static func host(_ serverName: String) -> String {
        if let named = HostPort(authority: serverName, defaultPort: nil) { return named.host }
        return HostPort(host: serverName, port: 0).host
    }
}
