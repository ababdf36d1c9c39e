import Foundation
import Logging
import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
import MeshgateProxy
import MeshgateTLS
import NIOCore
import NIOPosix
import NIOSSL

/// PKI made at test time: meshgate's CA, and a separate CA for the test origins.
struct TestPKI: Sendable {
    let directory: URL
    let meshgateCA: CertificateAuthority
    let originCA: CertificateAuthority
    let meshgateCAPath: String
    let originCAPath: String
    let originContext: NIOSSLContext
    let untrustedOriginContext: NIOSSLContext

    static func make() throws -> TestPKI {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let meshgateCA = try CertificateAuthority.create(commonName: "meshgate test CA")
        let originCA = try CertificateAuthority.create(commonName: "test origin CA")
        let rogueCA = try CertificateAuthority.create(commonName: "rogue CA nobody trusts")
        let meshgatePath = dir.appendingPathComponent("meshgate-ca.pem").path
        let originPath = dir.appendingPathComponent("origin-ca.pem").path
        try meshgateCA.certificatePEM.write(toFile: meshgatePath, atomically: true, encoding: .utf8)
        try originCA.certificatePEM.write(toFile: originPath, atomically: true, encoding: .utf8)
        func serverContext(_ ca: CertificateAuthority) throws -> NIOSSLContext {
            let leaf = try LeafMinter(authority: ca).mint(host: "localhost")
            var config = TLSConfiguration.makeServerConfiguration(
                certificateChain: leaf.chain.map { .certificate($0) },
                privateKey: .privateKey(leaf.privateKey)
            )
            config.applicationProtocols = ["http/1.1"]
            return try NIOSSLContext(configuration: config)
        }
        return TestPKI(
            directory: dir,
            meshgateCA: meshgateCA,
            originCA: originCA,
            meshgateCAPath: meshgatePath,
            originCAPath: originPath,
            originContext: try serverContext(originCA),
            untrustedOriginContext: try serverContext(rogueCA)
        )
    }
}

/// A meshgate explicit proxy running in-process on 127.0.0.1:0 with a memory audit sink.
final class TestProxy: Sendable {
    let server: ProxyServer
    let port: Int
    let audit: MemoryAuditSink
    let services: ProxyServices
    let task: Task<Void, any Error>

    /// Loopback, where the tests' origins listen.
    static let loopback = ["127.0.0.0/8", "::1/128"].compactMap(CIDR.init)

    init(group: any EventLoopGroup, pki: TestPKI, run: Bool = true, policy: PolicyEngine = .empty, configure: (inout ProxyConfiguration) -> Void = { _ in }) async throws {
        var configuration = ProxyConfiguration()
        // Test origins live on loopback, which client-chosen destinations may not reach by default.
        configuration.allowDestinations = Self.loopback
        configuration.headerReadTimeout = .seconds(10)
        configure(&configuration)
        let cache = LeafCertificateCache(minter: try LeafMinter(authority: pki.meshgateCA), capacity: 100)
        let audit = MemoryAuditSink()
        var logger = Logger(label: "meshgate.test")
        logger.logLevel = .warning
        let services = try ProxyServices(
            configuration: configuration,
            leafCache: cache,
            upstreamTLSContext: try UpstreamTLS.makeClientContext(trust: .pemBundle(path: pki.originCAPath)),
            audit: audit,
            policy: PolicyHolder(policy),
            group: group,
            logger: logger
        )
        self.services = services
        let server = ProxyServer(.explicit, host: "127.0.0.1", port: 0, services: services, group: group, shutdownGrace: .seconds(1))
        self.server = server
        self.audit = audit
        if run {
            self.task = Task { try await server.run() }
            self.port = try await server.localAddress.port ?? 0
        } else {
            // The caller runs the server (e.g. in a ServiceGroup).
            self.task = Task {}
            self.port = 0
        }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// Shared event loop group for end-to-end tests.
enum TestGroup {
    static let shared = MultiThreadedEventLoopGroup(numberOfThreads: 2)
}
