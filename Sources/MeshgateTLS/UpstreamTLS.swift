import MeshgateCore
import NIOCore
import NIOSSL

/// TLS towards origin servers. Verification is never optional: a certificate or hostname that does not
/// check out fails the connection (and the proxy answers 502); there is deliberately no switch to turn it off.
public enum UpstreamTLS {
    /// The protocol offered to origins; the proxy forwards HTTP/1.1 only.
    public static let applicationProtocols = ["http/1.1"]

    /// The client context for origin connections: full certificate and hostname verification against
    /// the system store or the PEM bundle, TLS 1.2 or newer, ALPN `http/1.1`. Build it once and share it.
    public static func makeClientContext(trust: UpstreamTrust) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = applicationProtocols
        configuration.shutdownTimeout = CloseNotify.timeout
        switch trust {
        case .system:
            configuration.trustRoots = .default
            do {
                return try NIOSSLContext(configuration: configuration)
            } catch {
                throw UpstreamTLSError(
                    path: nil,
                    message: "cannot load the system trust store (looked for /etc/ssl/certs/ca-certificates.crt and "
                        + "/etc/pki/tls/certs/ca-bundle.crt): \(error); install ca-certificates or set tls.upstream_ca to a PEM bundle"
                )
            }
        case .pemBundle(let path):
            configuration.trustRoots = .certificates(try loadBundle(path))
            return try NIOSSLContext(configuration: configuration)
        }
    }

    /// A client handler for an origin connection to `host` (the name the client asked for). For an IP
    /// literal no SNI is sent (TLS forbids it) and the certificate is checked against the connected address.
    public static func makeClientHandler(context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        let serverHostname = IPAddress.isLiteral(host) ? nil : HostPort(host: host, port: 0).host
        return try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
    }

    static func loadBundle(_ path: String) throws(UpstreamTLSError) -> [NIOSSLCertificate] {
        let text: String
        do {
            text = try SecureFile.readText(path)
        } catch {
            throw UpstreamTLSError(path: path, message: "cannot read the upstream CA bundle: \(error.message)")
        }
        guard text.contains("-----BEGIN CERTIFICATE-----") else {
            throw UpstreamTLSError(
                path: path,
                message:
                    "upstream CA bundle \(path) holds no certificates (expected -----BEGIN CERTIFICATE----- blocks)"
            )
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        } catch {
            throw UpstreamTLSError(path: path, message: "upstream CA bundle \(path) is not valid PEM: \(error)")
        }
        guard !certificates.isEmpty else {
            throw UpstreamTLSError(
                path: path,
                message:
                    "upstream CA bundle \(path) holds no certificates (expected -----BEGIN CERTIFICATE----- blocks)"
            )
        }
        return certificates
    }
}
