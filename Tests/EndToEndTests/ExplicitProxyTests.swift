import Foundation
import MeshgateCore
import NIOCore
import NIOPosix
import Testing

/// The explicit proxy driven by real clients (curl, openssl) against real origins started by the test.
@Suite(.serialized) struct ExplicitProxyTests {
    let group = TestGroup.shared

    @Test func plainGetAndPostAreForwardedByteForByte() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group)
        let proxy = try await TestProxy(group: group, pki: pki)

        let get = try await Curl.fetch("http://127.0.0.1:\(origin.port)/hello", proxy: proxy.url)
        #expect(get.status == 200)
        #expect(get.bodyText == "hello from origin\n")
        #expect(get.headers.lowercased().contains("via: 1.1 meshgate"))

        var payload = Data(count: 1 << 20)
        for i in 0..<payload.count { payload[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        let file = pki.directory.appendingPathComponent("payload.bin")
        try payload.write(to: file)
        let post = try await Curl.fetch("http://127.0.0.1:\(origin.port)/echo", proxy: proxy.url, extra: ["--data-binary", "@\(file.path)", "-H", "Content-Type: application/octet-stream"])
        #expect(post.status == 200)
        #expect(post.body == payload, "1 MiB POST must come back byte for byte")

        let chunked = try await Curl.fetch("http://127.0.0.1:\(origin.port)/echo", proxy: proxy.url, extra: ["--data-binary", "@\(file.path)", "-H", "Transfer-Encoding: chunked"])
        #expect(chunked.status == 200)
        #expect(chunked.body == payload, "a chunked upload arrives intact")

        // The last line is written on the proxy's thread right after the response's end goes out.
        try await eventually { proxy.audit.events.count == 3 }
        let events = proxy.audit.events
        #expect(events.count == 3)
        let line = try #require(events.first).jsonLine()
        #expect(line.contains(#""event":"http""#))
        #expect(line.contains(#""action":"allow""#))
        #expect(line.contains(#""method":"GET""#))
        #expect(line.contains(#""status":200"#))
        #expect(line.contains(#""intercepted":false"#))
        await proxy.stop()
        await origin.close()
    }

    @Test func keepAliveReusesOneUpstreamConnection() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group)
        let proxy = try await TestProxy(group: group, pki: pki)
        let url = "http://127.0.0.1:\(origin.port)/hello"
        let result = try await ProcessRunner.run("curl", ["-sS", "-x", proxy.url, url, url, url], environment: Curl.environment)
        #expect(result.exitCode == 0)
        #expect(result.stdoutText == String(repeating: "hello from origin\n", count: 3))
        #expect(origin.connectionCount == 1, "three requests on one client connection should share one upstream connection")
        await proxy.stop()
        await origin.close()
    }

    @Test func staleKeepAliveConnectionIsRetriedOnAFreshOne() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group)
        let proxy = try await TestProxy(group: group, pki: pki)
        let url = "http://127.0.0.1:\(origin.port)/flaky"
        let result = try await ProcessRunner.run("curl", ["-sS", "-x", proxy.url, url, url], environment: Curl.environment)
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdoutText == "flaky ok\nflaky ok\n", "the GET that met a closed pooled connection is retried, not answered with 502")
        #expect(origin.connectionCount == 2)
        await proxy.stop()
        await origin.close()
    }

    @Test func interceptedHTTPSIsSignedByTheMeshgateCA() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group, tls: pki.originContext)
        let proxy = try await TestProxy(group: group, pki: pki) { $0.connectPorts = [443, origin.port] }

        let response = try await Curl.fetch("https://localhost:\(origin.port)/hello", proxy: proxy.url, extra: ["--cacert", pki.meshgateCAPath])
        #expect(response.status == 200, "stderr: \(response.stderr)")
        #expect(response.bodyText == "hello from origin\n")

        // openssl s_client through the proxy shows who signed the certificate it got.
        let s = try await ProcessRunner.run("openssl", [
            "s_client", "-proxy", "127.0.0.1:\(proxy.port)", "-connect", "localhost:\(origin.port)",
            "-servername", "localhost", "-CAfile", pki.meshgateCAPath, "-verify_return_error",
        ], stdin: Data("Q\n".utf8), timeout: 20)
        #expect(s.stdoutText.contains("meshgate test CA"), "issuer should be the meshgate CA:\n\(s.stdoutText.prefix(2000))")
        #expect(s.stdoutText.contains("Verify return code: 0"))

        let audit = proxy.audit.events.map { $0.jsonLine() }
        #expect(audit.contains { $0.contains(#""intercepted":true"#) && $0.contains(#""scheme":"https""#) && $0.contains(#""path":"/hello""#) })
        await proxy.stop()
        await origin.close()
    }

    @Test func clientsWithoutSNIGetALeafForTheAddressTheyConnectedTo() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group, tls: try pki.originContextWithIPAddress())
        let proxy = try await TestProxy(group: group, pki: pki) { $0.connectPorts = [443, origin.port] }
        // curl sends no SNI for an IP literal; meshgate must mint for 127.0.0.1 (an IP SAN).
        for _ in 0..<2 {
            let response = try await Curl.fetch("https://127.0.0.1:\(origin.port)/hello", proxy: proxy.url, extra: ["--cacert", pki.meshgateCAPath])
            #expect(response.status == 200, "stderr: \(response.stderr)")
        }
        await proxy.stop()
        await origin.close()
    }

    @Test func untrustedOriginCertificateIs502NamingTheProblem() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group, tls: pki.untrustedOriginContext)
        let proxy = try await TestProxy(group: group, pki: pki) { $0.connectPorts = [443, origin.port] }
        let response = try await Curl.fetch("https://localhost:\(origin.port)/hello", proxy: proxy.url, extra: ["--cacert", pki.meshgateCAPath])
        #expect(response.status == 502)
        #expect(response.bodyText.lowercased().contains("certificate"), "body should name the certificate problem: \(response.bodyText)")
        #expect(origin.requests.isEmpty, "nothing may reach an origin whose certificate failed")
        await proxy.stop()
        await origin.close()
    }

    @Test func doNotInspectHostsAreSplicedWithTheOriginsCertificate() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group, tls: pki.originContext)
        let proxy = try await TestProxy(group: group, pki: pki) {
            $0.connectPorts = [443, origin.port]
            $0.doNotInspect = HostPatternList([HostPattern("localhost")].compactMap { $0 })
        }
        // Trusting only the origin's CA works, because meshgate does not re-sign.
        let response = try await Curl.fetch("https://localhost:\(origin.port)/hello", proxy: proxy.url, extra: ["--cacert", pki.originCAPath])
        #expect(response.status == 200, "stderr: \(response.stderr)")
        let s = try await ProcessRunner.run("openssl", [
            "s_client", "-proxy", "127.0.0.1:\(proxy.port)", "-connect", "localhost:\(origin.port)", "-servername", "localhost",
        ], stdin: Data("Q\n".utf8), timeout: 20)
        #expect(s.stdoutText.contains("test origin CA"))
        #expect(!s.stdoutText.contains("meshgate test CA"))
        await proxy.stop()
        // The spliced tunnel's audit line is written when it closes.
        try await eventually { proxy.audit.events.contains { $0.jsonLine().contains(#""method":"CONNECT""#) && $0.jsonLine().contains(#""intercepted":false"#) } }
        await origin.close()
    }

    @Test func connectToANonAllowedPortIs403() async throws {
        let pki = try TestPKI.make()
        let proxy = try await TestProxy(group: group, pki: pki)
        let response = try await Curl.fetch("https://localhost:22/", proxy: proxy.url, extra: ["-v"])
        #expect(response.stderr.contains("403"), "\(response.stderr)")
        await proxy.stop()
    }

    @Test func serverSentEventsArriveOneByOne() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group)
        let proxy = try await TestProxy(group: group, pki: pki)
        // The origin sends event N+1 only after the client has seen event N; a buffering proxy deadlocks here.
        let client = try StreamingClient(["curl", "-sS", "-N", "-x", proxy.url, "http://127.0.0.1:\(origin.port)/sse"])
        for i in 1...3 {
            origin.releaseNextEvent()
            let seen = try await client.waitForOutput(containing: "data: event-\(i)", timeout: 10)
            #expect(seen, "event \(i) did not arrive before the next was sent")
        }
        client.terminate()
        await proxy.stop()
        await origin.close()
    }

    @Test func oversizedHeaderIs431AndTheProxyKeepsServing() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group)
        let proxy = try await TestProxy(group: group, pki: pki)
        let big = String(repeating: "a", count: 64 * 1024)
        let response = try await Curl.fetch("http://127.0.0.1:\(origin.port)/hello", proxy: proxy.url, extra: ["-H", "X-Big: \(big)"])
        #expect(response.status == 431)
        let next = try await Curl.fetch("http://127.0.0.1:\(origin.port)/hello", proxy: proxy.url)
        #expect(next.status == 200)
        await proxy.stop()
        await origin.close()
    }

    @Test(arguments: [
        // Content-Length and Transfer-Encoding together: the classic CL.TE smuggle.
        "POST http://127.0.0.1:ORIGIN/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
        // Two different Content-Lengths.
        "POST http://127.0.0.1:ORIGIN/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello",
        // An invalid chunk size.
        "POST http://127.0.0.1:ORIGIN/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    ])
    func smugglingAttemptsAre400(request: String) async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group)
        let proxy = try await TestProxy(group: group, pki: pki)
        let raw = request.replacingOccurrences(of: "ORIGIN", with: String(origin.port))
        let reply = try await RawClient.exchange(port: proxy.port, send: raw)
        #expect(reply.hasPrefix("HTTP/1.1 400"), "got: \(reply.prefix(200))")
        #expect(!origin.requests.contains { $0.hasPrefix("POST") } || request.contains("zz"), "a smuggled request must not reach the origin")
        let next = try await Curl.fetch("http://127.0.0.1:\(origin.port)/hello", proxy: proxy.url)
        #expect(next.status == 200)
        await proxy.stop()
        await origin.close()
    }

    @Test func absoluteFormHTTPSAndOriginFormAre400() async throws {
        let pki = try TestPKI.make()
        let proxy = try await TestProxy(group: group, pki: pki)
        let https = try await RawClient.exchange(port: proxy.port, send: "GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(https.hasPrefix("HTTP/1.1 400"))
        let origin = try await RawClient.exchange(port: proxy.port, send: "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(origin.hasPrefix("HTTP/1.1 400"))
        let loop = try await RawClient.exchange(port: proxy.port, send: "GET http://127.0.0.1:\(proxy.port)/ HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(loop.hasPrefix("HTTP/1.1 400") && loop.contains("loop"), "\(loop)")
        await proxy.stop()
    }

    @Test func clientsOutsideAllowClientsGet403() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group)
        let proxy = try await TestProxy(group: group, pki: pki) { $0.allowClients = [CIDR("10.0.0.0/8")].compactMap { $0 } }
        let response = try await Curl.fetch("http://127.0.0.1:\(origin.port)/hello", proxy: proxy.url)
        #expect(response.status == 403)
        #expect(origin.requests.isEmpty)
        await proxy.stop()
        await origin.close()
    }

    @Test func requireIdentityAsksFor407() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group)
        let proxy = try await TestProxy(group: group, pki: pki) { $0.requireIdentity = true }
        let response = try await Curl.fetch("http://127.0.0.1:\(origin.port)/hello", proxy: proxy.url)
        #expect(response.status == 407)
        #expect(response.headers.lowercased().contains("proxy-authenticate: basic"))
        await proxy.stop()
        await origin.close()
    }

    @Test func unreachableOriginIs502() async throws {
        let pki = try TestPKI.make()
        let proxy = try await TestProxy(group: group, pki: pki)
        // Port 1 on loopback: nothing listens there.
        let response = try await Curl.fetch("http://127.0.0.1:1/", proxy: proxy.url)
        #expect(response.status == 502)
        #expect(response.bodyText.contains("127.0.0.1:1"))
        await proxy.stop()
    }
}

/// Polls a condition (for things that happen after a connection closes).
func eventually(timeout: TimeInterval = 5, _ condition: @Sendable () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline {
            Issue.record("condition not met within \(timeout)s")
            return
        }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}
