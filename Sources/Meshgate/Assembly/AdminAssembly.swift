import Foundation
import Logging
import MeshgateAdmin
import MeshgateTLS
import NIOPosix
import Prometheus

/// Builds the admin listener from `listeners.admin`: health, metrics, the PAC file, the CA
/// certificate, reload and (with the AI gateway) usage.
enum AdminAssembly {
    /// The admin token in the state directory, created on first start whether or not the admin
    /// listener is on, so `meshgate rules reload` and friends find it once one is.
    static func token(configuration: MeshgateConfiguration) throws -> String {
        try AdminToken.loadOrCreate(path: (configuration.stateDirectory as NSString).appendingPathComponent(AdminToken.fileName))
    }

    /// The admin server, when configured.
    static func server(configuration: MeshgateConfiguration, authority: CertificateAuthority, token: String, reloader: PolicyReloader,
                       ai: AIRuntime?, registry: PrometheusCollectorRegistry, health: HealthRegistry, group: MultiThreadedEventLoopGroup,
                       logger: Logger) -> AdminServer? {
        guard let address = configuration.listeners.admin else { return nil }
        let adminConfiguration = AdminConfiguration(
            bindHost: address.host,
            bindPort: address.port,
            allowClients: configuration.access.allowClients,
            explicitProxyAddress: configuration.listeners.explicit.map { pacAddress(for: $0) },
            caCertificatePEM: authority.certificatePEM,
            adminToken: token
        )
        let server = AdminServer(configuration: adminConfiguration, registry: registry, health: health, group: group, logger: logger)
        server.setReloadHandler { requestedBy in reloader.reload(requestedBy: requestedBy) }
        if let ai {
            server.setUsageHandler { team in
                do { return .success(try await ai.usageReport(team: team).json) } catch { return .failure(error) }
            }
        }
        return server
    }

    /// The address clients should use in a PAC file: a wildcard bind is reached via loopback.
    static func pacAddress(for address: ListenAddress) -> String {
        let host = address.isWildcard || address.host.isEmpty ? "127.0.0.1" : address.host
        return host.contains(":") ? "[\(host)]:\(address.port)" : "\(host):\(address.port)"
    }
}
