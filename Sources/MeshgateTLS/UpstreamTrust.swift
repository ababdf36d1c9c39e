/// Where the trust roots for origin servers come from (`tls.upstream_ca`).
public enum UpstreamTrust: Sendable, Equatable {
    /// The operating system's store (on Linux `/etc/ssl/certs/ca-certificates.crt` or the Fedora bundle).
    case system
    /// Only the certificates in this PEM file.
    case pemBundle(path: String)

    /// Parses the config value: `system`, or a path to a PEM bundle.
    public init(configValue: String) {
        self = configValue == "system" ? .system : .pemBundle(path: configValue)
    }
}
