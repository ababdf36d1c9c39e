import Foundation
import Testing

/// A node set up for real: a client namespace routed through a gateway namespace where meshgate
/// runs behind the shipped nftables redirect rules (contrib/egress.sh), and an origin namespace
/// with HTTP and HTTPS servers. The client uses plain `curl` with no proxy settings.
@Suite(.serialized) struct TransparentNetnsTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let world = fixtures.appendingPathComponent("netns/world.sh").path
    static let origin = fixtures.appendingPathComponent("origin_server.py").path
    static let originAddress = "10.77.2.2"

    /// Runs `world.sh exec ID ROLE …`.
    static func exec(_ id: String, _ role: String, _ command: [String], timeout: TimeInterval = 30) async throws -> ProcessResult {
        try await ProcessRunner.run("bash", [world, "exec", id, role] + command, timeout: timeout)
    }

    static func background(_ id: String, _ role: String, _ command: [String]) throws -> StreamingClient {
        try StreamingClient(["bash", world, "exec", id, role] + command, environment: Curl.environment, captureStderr: true)
    }

    @Test func aNodeRedirectsItsEgressThroughMeshgate() async throws {
        let id = String(getpid() % 10000)
        let up = try await ProcessRunner.run("bash", [Self.world, "up", id], timeout: 60)
        defer { _ = try? ProcessRunner.runBlocking("bash", [Self.world, "down", id]) }
        try #require(up.exitCode == 0, "cannot set up the namespaces: \(up.stderr) \(up.stdoutText)")

        let pki = try TestPKI.make()
        let dir = pki.directory
        let names = ["allowed.test", "spliced.test", "mcp.linear.app", "origin.test", "shadow.test"]
        let (cert, key) = try pki.writeOriginLeaf(host: names[0], ipAddress: [10, 77, 2, 2], moreHosts: Array(names.dropFirst()))
        var processes: [StreamingClient] = []
        defer { processes.forEach { $0.terminate() } }
        let (cert6, key6) = try pki.writeOriginLeaf(host: "v6.test")
        for arguments in [[Self.origin, Self.originAddress, "443", cert, key], [Self.origin, Self.originAddress, "80"],
                          [Self.origin, "fd77:2::2", "443", cert6, key6],
                          [Self.fixtures.appendingPathComponent("dns_upstream.py").path, "--bind", Self.originAddress, "--port", "53", "--a", Self.originAddress]] {
            let server = try Self.background(id, "origin", ["python3"] + arguments)
            processes.append(server)
            #expect(try await server.waitForOutput(containing: "listening", timeout: 20), "\(server.text)")
        }

        // Local processes are told apart by the uid that owns their socket.
        try """
            ruleset: node-local
            version: "1"
            rules:
              - { id: batch-jobs-stay-home, match: { identity: [batch-job], host: [allowed.test] }, action: block }
            """.write(toFile: dir.appendingPathComponent("node.yaml").path, atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("meshgate.yaml").path
        try """
            state_dir: ./state
            listeners:
              transparent: "[::]:3129"
              dns: 0.0.0.0:5353
              admin: 127.0.0.1:0
            access:
              allow_clients: [10.77.0.0/16, 127.0.0.0/8, "fd77::/16"]
            tls:
              upstream_ca: \(pki.originCAPath)
              do_not_inspect: [spliced.test]
            portal: https://origin.test/mcp
            rulesets: [node.yaml, \(ServeCommandTests.repositoryRoot)/rulesets/shadow-mcp.yaml]
            identities:
              - { name: batch-job, team: batch, uid: 65534 }
            audit:
              path: ./state/audit.jsonl
            dns:
              upstreams: [\(Self.originAddress):53]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let meshgate = try Self.background(id, "gw", [ServeCommandTests.binary, "serve", "--config", config])
        processes.append(meshgate)
        #expect(try await meshgate.waitForOutput(containing: "transparent proxy listening", timeout: 30), "\(meshgate.text)")
        #expect(!meshgate.text.contains("cannot mark upstream sockets"), "running as root, the mark must work: \(meshgate.text)")
        let ca = dir.appendingPathComponent("state/ca.pem").path

        func curl(_ arguments: [String]) async throws -> (status: Int, body: String) {
            let output = dir.appendingPathComponent("curl-\(UUID().uuidString)").path
            let result = try await Self.exec(id, "client", ["curl", "-sS", "-m", "15", "-o", output, "-w", "%{http_code}"] + arguments)
            let body = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return (Int(result.stdoutText) ?? 0, body + result.stderr)
        }
        func issuer(_ host: String) async throws -> String {
            let result = try await Self.exec(id, "client", ["sh", "-c", "openssl s_client -connect \(host):443 -servername \(host) </dev/null 2>/dev/null | openssl x509 -noout -issuer"])
            return result.stdoutText
        }

        // HTTPS to an allowed host works, and the certificate is meshgate's.
        let allowed = try await curl(["--cacert", ca, "https://allowed.test/hello"])
        #expect(allowed.status == 200, "\(allowed.body)")
        #expect(allowed.body.contains("origin host=allowed.test path=/hello"))
        #expect(try await issuer("allowed.test").contains("meshgate local CA"), "intercepted with meshgate's CA")

        // A shadow MCP host is rerouted to the portal, over HTTPS and over plain HTTP (by Host).
        let shadow = try await curl(["--cacert", ca, "-X", "POST", "-H", "Content-Type: application/json",
                                     "--data", #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, "https://mcp.linear.app/mcp"])
        #expect(shadow.status == 200, "\(shadow.body)")
        #expect(shadow.body.contains("origin host=origin.test path=/mcp"), "rerouted to the portal: \(shadow.body)")
        let plainShadow = try await curl(["http://mcp.linear.app/mcp"])
        #expect(plainShadow.body.contains("origin host=origin.test path=/mcp"), "\(plainShadow.body)")
        let plainAllowed = try await curl(["http://allowed.test/plain"])
        #expect(plainAllowed.status == 200)
        #expect(plainAllowed.body.contains("origin host=allowed.test path=/plain"))

        // IPv6: the original destination comes from IP6T_SO_ORIGINAL_DST and is intercepted the same way.
        let v6 = try await curl(["-6", "--cacert", ca, "https://v6.test/six"])
        #expect(v6.status == 200, "\(v6.body)")
        #expect(v6.body.contains("origin host=v6.test path=/six"))

        // A do_not_inspect host is spliced: the origin's own certificate reaches the client.
        let spliced = try await curl(["--cacert", pki.originCAPath, "https://spliced.test/s"])
        #expect(spliced.status == 200, "\(spliced.body)")
        #expect(try await issuer("spliced.test").contains("test origin CA"))

        // QUIC (UDP 443) is dropped at the gateway, so clients fall back to TCP.
        let catcher = try Self.background(id, "origin", ["python3", "-c", """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("\(Self.originAddress)", 443)); s.settimeout(4)
            print("ready", flush=True)
            try:
                s.recvfrom(100); print("RECEIVED", flush=True)
            except socket.timeout:
                print("NOTHING", flush=True)
            """])
        processes.append(catcher)
        #expect(try await catcher.waitForOutput(containing: "ready", timeout: 10))
        _ = try await Self.exec(id, "client", ["python3", "-c", """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for _ in range(3): s.sendto(b"quic?", ("\(Self.originAddress)", 443))
            """])
        #expect(try await catcher.waitForOutput(containing: "NOTHING", timeout: 10), "UDP 443 must not arrive: \(catcher.text)")

        // On the gateway itself, a process running as uid 65534 is redirected by the output chain and
        // identified as batch-job, which may not reach allowed.test; root's identical request may.
        let asBatch = try await Self.exec(id, "gw", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                                      "curl", "-s", "-m", "15", "-o", "/dev/null", "-w", "%{http_code}", "http://allowed.test/local"])
        #expect(asBatch.stdoutText == "403", "\(asBatch.stdoutText) \(asBatch.stderr)")
        let asRoot = try await Self.exec(id, "gw", ["curl", "-s", "-m", "15", "-o", "/dev/null", "-w", "%{http_code}", "http://allowed.test/local"])
        #expect(asRoot.stdoutText == "200", "\(asRoot.stdoutText) \(asRoot.stderr)")

        // The client's DNS goes to meshgate's DNS filter too; a request with neither SNI nor Host is
        // then named by what the client resolved. A shadow MCP name is refused at resolution time.
        let resolved = try await Self.exec(id, "client", ["dig", "+short", "+time=5", "+tries=1", "named-by-dns.test"])
        #expect(resolved.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == Self.originAddress, "\(resolved.stdoutText) \(resolved.stderr)")
        let noHost = try await Self.exec(id, "client", ["python3", "-c", """
            import socket
            s = socket.create_connection(("\(Self.originAddress)", 80), timeout=10)
            s.sendall(b"GET /no-host HTTP/1.0\\r\\n\\r\\n")
            print(s.recv(4096).decode(errors="replace"))
            """])
        #expect(noHost.stdoutText.contains("200"), "\(noHost.stdoutText) \(noHost.stderr)")
        // Now that the DNS filter has named the origin's address for this client, a listed SNI that
        // is not one of those names does not splice (it could front any server at any address): the
        // connection is intercepted, with meshgate's certificate.
        let reissued = try await issuer("spliced.test")
        #expect(reissued.contains("meshgate local CA") && !reissued.contains("test origin CA"),
                "a listed SNI the DNS filter did not give for this address is inspected: \(reissued)")
        let blockedName = try await Self.exec(id, "client", ["dig", "+short", "+time=5", "+tries=1", "mcp.stripe.com"])
        #expect(blockedName.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) != Self.originAddress, "\(blockedName.stdoutText)")

        // Dialling meshgate's listener itself is a loop: 508, audited.
        let loop = try await curl(["http://10.77.1.1:3129/"])
        #expect(loop.status == 508, "\(loop.body)")

        // The writer batches lines (up to 10 ms behind): wait for the last request's line.
        var audit = ""
        for _ in 0..<100 {
            audit = (try? String(contentsOfFile: dir.appendingPathComponent("state/audit.jsonl").path, encoding: .utf8)) ?? ""
            if audit.contains(#""status":508"#) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(audit.contains(#""host":"mcp.linear.app""#) && audit.contains(#""action":"reroute""#))
        #expect(audit.contains(#""destination":"10.77.2.2:443""#))
        #expect(audit.contains(#""destination":"[fd77:2::2]:443""#), "IPv6 original destination")
        #expect(audit.contains(#""status":508"#))
        let batchLine = audit.split(separator: "\n").first { $0.contains(#""path":"/local""#) && $0.contains(#""status":403"#) }
        #expect(batchLine?.contains(#""identity":"batch-job","team":"batch","action":"block","rule":"batch-jobs-stay-home""#) == true, "\(batchLine ?? "")")
        #expect(batchLine?.contains(#""uid":65534"#) == true)
        let noHostLine = audit.split(separator: "\n").first { $0.contains(#""path":"/no-host""#) }
        #expect(noHostLine?.contains(#""host":"named-by-dns.test""#) == true, "\(noHostLine ?? "")")
        #expect(audit.contains(#""event":"dns""#) && audit.contains(#""qname":"named-by-dns.test""#))
        meshgate.signal(SIGTERM)
        _ = try await meshgate.waitForExit(timeout: 15)
    }
}
