import Foundation
import NIOCore
import Testing

/// Go clients (Debian's golang-go: crypto/tls and net/http, as gh, Terraform, kubectl, Docker and the Go
/// MCP SDK use them; and `hey`) through the explicit proxy with interception, with and without a port
/// in the URL. `hey` sets `tls.Config.ServerName` to the request's `Host`, so its SNI is `host:8443`
/// when the URL names a port; meshgate failed those handshakes with an `internal_error` alert.
@Suite(.serialized) struct GoClientTests {
    static let host = "api.go.test"

    /// How the URL names the origin.
    enum URLForm: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case noPort = "https://host/"
        case defaultPort = "https://host:443/"
        case otherPort = "https://host:PORT/"

        var testDescription: String { rawValue }
    }

    /// The origin on 443 and on a free port of one random loopback address (so that `https://host/`
    /// reaches it without clashing with anything on 127.0.0.1:443), and meshgate sending `host` there.
    struct World {
        let pki: TestPKI
        let address: String
        let defaultPortOrigin: TestOrigin
        let otherPortOrigin: TestOrigin
        let proxy: TestProxy

        static func make() async throws -> World {
            let pki = try TestPKI.make()
            let context = try pki.originContext(hosts: [GoClientTests.host])
            // Binding 443 needs root (the test command runs as root); a random 127/8 address keeps
            // parallel runs and a local web server out of the way.
            let address = "127.\(Int.random(in: 1...254)).\(Int.random(in: 0...255)).\(Int.random(in: 1...254))"
            let defaultPortOrigin = try await TestOrigin(group: TestGroup.shared, tls: context, name: "443", address: address, port: 443)
            let otherPortOrigin = try await TestOrigin(group: TestGroup.shared, tls: context, name: "other", address: address)
            let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) {
                $0.connectPorts = [443, otherPortOrigin.port]
                $0.staticHosts = [GoClientTests.host: address]
            }
            return World(pki: pki, address: address, defaultPortOrigin: defaultPortOrigin, otherPortOrigin: otherPortOrigin, proxy: proxy)
        }

        func url(_ form: URLForm, path: String = "/hello") -> String {
            switch form {
            case .noPort: "https://\(GoClientTests.host)\(path)"
            case .defaultPort: "https://\(GoClientTests.host):443\(path)"
            case .otherPort: "https://\(GoClientTests.host):\(otherPortOrigin.port)\(path)"
            }
        }

        func close() async {
            await proxy.stop()
            await defaultPortOrigin.close()
            await otherPortOrigin.close()
        }
    }

    @Test(arguments: URLForm.allCases, [false, true])
    func goNetHTTPGetsTheOriginsAnswer(form: URLForm, sniFromURLHost: Bool) async throws {
        let world = try await World.make()
        let url = world.url(form)
        var arguments = ["-url", url, "-cacert", world.pki.meshgateCAPath, "-n", "3"]
        if sniFromURLHost { arguments.append("-sni-from-url-host") }
        let result = try await ProcessRunner.run(try await GoClient.binary.value, arguments, timeout: 60,
                                                 environment: GoClient.environment(proxy: world.proxy.url))
        #expect(result.exitCode == 0, "\(url): \(result.stderr)")
        #expect(result.stdoutText == String(repeating: "200 hello from origin\n", count: 3), "\(url): \(result.stderr)")
        let origin = form == .otherPort ? world.otherPortOrigin : world.defaultPortOrigin
        #expect(origin.requests == Array(repeating: "GET /hello", count: 3))
        // The upstream was reached through one intercepted tunnel (the client's connection is kept alive).
        try await eventually { world.proxy.audit.events.count == 3 }
        let lines = world.proxy.audit.events.map { $0.jsonLine() }
        #expect(lines.allSatisfy { $0.contains(#""intercepted":true"#) && $0.contains(#""host":"api.go.test""#) }, "\(lines)")
        await world.close()
    }

    @Test(arguments: URLForm.allCases)
    func heyGets200For200Requests(form: URLForm) async throws {
        let world = try await World.make()
        let url = world.url(form)
        let result = try await ProcessRunner.run("hey", ["-n", "200", "-c", "10", "-x", world.proxy.url, url],
                                                 timeout: 120, environment: Curl.environment)
        #expect(result.exitCode == 0, "\(result.stderr)")
        let report = result.stdoutText
        #expect(report.contains("[200]\t200 responses"), "\(url):\n\(report)")
        #expect(!report.contains("Error distribution"), "\(url):\n\(report)")
        let origin = form == .otherPort ? world.otherPortOrigin : world.defaultPortOrigin
        #expect(origin.requests.count == 200)
        await world.close()
    }
}

/// The Go client in Fixtures/go, built once per test run into .build/go-client (standard library only,
/// so it builds offline; Go's caches live under .build as well, so this works as root in CI).
enum GoClient {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/go")
    static let buildDirectory = source.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/go-client")

    /// The path of the built client.
    static let binary: Task<String, any Error> = Task { try await build() }

    /// What the client runs with: a clean environment and `HTTPS_PROXY`.
    static func environment(proxy: String) -> [String: String] {
        Curl.environment.merging(["HTTPS_PROXY": proxy]) { _, new in new }
    }

    private static func build() async throws -> String {
        let output = buildDirectory.appendingPathComponent("goclient").path
        let environment = Curl.environment.merging([
            "GOCACHE": buildDirectory.appendingPathComponent("cache").path,
            "GOPATH": buildDirectory.appendingPathComponent("gopath").path,
            "GOPROXY": "off",
            "GOFLAGS": "",
            "GOTOOLCHAIN": "local",
            "CGO_ENABLED": "0",
        ]) { _, new in new }
        let result = try await ProcessRunner.run(
            "bash", ["-c", #"cd "$1" && exec go build -o "$2" ."#, "go-build", source.path, output],
            timeout: 300, environment: environment
        )
        guard result.exitCode == 0 else { throw BuildFailed(output: result.stderr + result.stdoutText) }
        return output
    }

    struct BuildFailed: Error, CustomStringConvertible {
        var output: String
        var description: String { "go build of Fixtures/go failed (is golang-go installed? scripts/install-deps.sh --test):\n\(output)" }
    }
}
