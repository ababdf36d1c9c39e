import MeshgateCore

/// Settings of the `admin` listener (`listeners.admin`, `access.allow_clients`, the explicit
/// listener's address for the PAC file, and the CA certificate served at `/ca.pem`).
public struct AdminConfiguration: Sendable {
    /// Address to bind, e.g. "127.0.0.1" or "::1".
    public var bindHost: String
    /// Port to bind; 0 picks a free one (tests read it from `AdminServer.boundPort`).
    public var bindPort: Int
    /// Clients allowed to use the admin endpoints; everyone else gets 403. An empty list allows
    /// no one.
    public var allowClients: [CIDR]
    /// The explicit proxy listener as `host:port` (e.g. "127.0.0.1:3128"), which `/proxy.pac`
    /// points browsers at; nil when that listener is off, and `/proxy.pac` is then 404.
    public var explicitProxyAddress: String?
    /// The CA certificate served at `/ca.pem` (empty: `/ca.pem` is 404).
    public var caCertificatePEM: String
    /// Request bodies are read and ignored up to this many bytes; larger ones get 413.
    public var maxRequestBodyBytes: Int
    /// The secret `POST /admin/reload` (and the other state-changing or private endpoints) must
    /// present as `Authorization: Bearer TOKEN`; `serve` reads it from `state_dir/admin.token`.
    /// nil refuses those endpoints to everyone.
    public var adminToken: String?

    /// Loopback only: `127.0.0.0/8` and `::1/128`, the contract's default `access.allow_clients`.
    public static let loopbackClients: [CIDR] = ["127.0.0.0/8", "::1/128"].compactMap { CIDR($0) }

    /// Creates a configuration; the defaults are the contract's (`127.0.0.1:9090`, loopback only).
    public init(
        bindHost: String = "127.0.0.1",
        bindPort: Int = 9090,
        allowClients: [CIDR] = AdminConfiguration.loopbackClients,
        explicitProxyAddress: String? = nil,
        caCertificatePEM: String = "",
        maxRequestBodyBytes: Int = 64 * 1024,
        adminToken: String? = nil
    ) {
        self.bindHost = bindHost
        self.bindPort = bindPort
        self.allowClients = allowClients
        self.explicitProxyAddress = explicitProxyAddress
        self.caCertificatePEM = caCertificatePEM
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.adminToken = adminToken
    }
}
