import Foundation
import MeshgatePolicy
import MeshgateProxy
import NIOCore

/// Rulesets and a shadow/portal origin pair for policy tests. Every `.test` name resolves to 127.0.0.1
/// through the proxy's static hosts, so nothing leaves the machine.
struct PolicyWorld {
    static let names = ["api.shadow.test", "mcp.shadow.test", "browser.shadow.test", "portal.test", "x.spliced.test"]
    let pki: TestPKI
    let shadow: TestOrigin
    let portal: TestOrigin
    let plainShadow: TestOrigin

    static func make() async throws -> PolicyWorld {
        let pki = try TestPKI.make()
        let context = try pki.originContext(hosts: names)
        return PolicyWorld(
            pki: pki,
            shadow: try await TestOrigin(group: TestGroup.shared, tls: context, name: "shadow"),
            portal: try await TestOrigin(group: TestGroup.shared, tls: context, name: "portal"),
            plainShadow: try await TestOrigin(group: TestGroup.shared, name: "plain-shadow")
        )
    }

    var portalURL: String { "https://portal.test:\(portal.port)/mcp" }

    func policy(_ yaml: String) throws -> PolicyEngine {
        let file = pki.directory.appendingPathComponent("rules-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return try PolicyEngine.load(files: [file], regexCompiler: PCRE2RegexCompiler(), portal: portalURL)
    }

    func shippedPolicy() throws -> PolicyEngine {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let files = ["rulesets/shadow-mcp.yaml", "rulesets/dlp-secrets.yaml"].map { root.appendingPathComponent($0).path }
        return try PolicyEngine.load(files: files, regexCompiler: PCRE2RegexCompiler(), portal: portalURL)
    }

    func proxy(_ policy: PolicyEngine, configure: (inout MeshgateProxy.ProxyConfiguration) -> Void = { _ in }) async throws -> TestProxy {
        try await TestProxy(group: TestGroup.shared, pki: pki, policy: policy) {
            $0.connectPorts = [443, shadow.port, portal.port]
            $0.staticHosts = Dictionary(uniqueKeysWithValues: Self.names.map { ($0, "127.0.0.1") })
            configure(&$0)
        }
    }

    func close() async {
        await shadow.close()
        await portal.close()
        await plainShadow.close()
    }
}
