import Foundation
import Logging
import MeshgateAdmin
import MeshgateCore
import NIOPosix
import Prometheus

/// Runs an `AdminServer` on 127.0.0.1 with a free port for the duration of `body`.
func withAdminServer<T>(
    _ configuration: AdminConfiguration = AdminConfiguration(bindPort: 0, adminToken: testAdminToken),
    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    health: HealthRegistry = HealthRegistry(),
    configure: (AdminServer) -> Void = { _ in },
    _ body: (_ baseURL: String) async throws -> T
) async throws -> T {
    var configuration = configuration
    configuration.bindHost = "127.0.0.1"
    configuration.bindPort = 0
    let server = AdminServer(
        configuration: configuration,
        registry: registry,
        health: health,
        group: MultiThreadedEventLoopGroup.singleton,
        logger: Logger(label: "meshgate.admin.test")
    )
    configure(server)
    let task = Task { try await server.run() }
    defer { task.cancel() }
    guard let port = await server.boundPort else {
        try await task.value
        throw BindFailed()
    }
    let result = try await body("http://127.0.0.1:\(port)")
    task.cancel()
    try await task.value
    return result
}

struct BindFailed: Error {}

/// A syntactically valid PEM block around `der` (not a real certificate: the admin server only
/// serves and decodes it).
func pemBlock(_ der: [UInt8]) -> String {
    let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
    return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
}

/// The admin token the test servers expect.
let testAdminToken = "0123456789abcdef0123456789abcdef"
/// The header that presents it.
let adminAuthorization = "Authorization: Bearer \(testAdminToken)"
