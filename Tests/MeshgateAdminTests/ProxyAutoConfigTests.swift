import Foundation
import MeshgateCore
import Testing

@testable import MeshgateAdmin

@Suite("proxy.pac")
struct ProxyAutoConfigTests {
    private static let nodeAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/node")

    /// Runs the PAC's FindProxyForURL in node for each host, as a browser would.
    private static func evaluate(_ script: String, hosts: [String]) throws -> [String] {
        let program = script + """

            const hosts = JSON.parse(process.argv[1]);
            console.log(JSON.stringify(hosts.map(h => FindProxyForURL("http://" + h + "/", h))));
            """
        let hostsJSON = String(decoding: try JSONSerialization.data(withJSONObject: hosts), as: UTF8.self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/node")
        process.arguments = ["-e", program, hostsJSON]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try #require(JSONSerialization.jsonObject(with: data) as? [String])
    }

    static let decisions: [(String, String)] = [
        ("localhost", "DIRECT"),
        ("LOCALHOST", "DIRECT"),
        ("127.0.0.1", "DIRECT"),
        ("127.10.20.30", "DIRECT"),
        ("::1", "DIRECT"),
        ("[::1]", "DIRECT"),
        ("10.1.2.3", "DIRECT"),  // the proxy itself
        ("example.com", "PROXY 10.1.2.3:3128"),
        ("mcp.linear.app", "PROXY 10.1.2.3:3128"),
        ("intranet", "PROXY 10.1.2.3:3128"),  // plain hostnames are not exempt
        ("127.example.com", "PROXY 10.1.2.3:3128"),
        ("localhost.example.com", "PROXY 10.1.2.3:3128"),
        ("128.0.0.1", "PROXY 10.1.2.3:3128"),
        ("192.168.1.1", "PROXY 10.1.2.3:3128"),
        ("::2", "PROXY 10.1.2.3:3128"),
    ]

    @Test(.enabled(if: nodeAvailable, "node runs the PAC script"))
    func browserDecisions() throws {
        let proxy = try #require(HostPort(authority: "10.1.2.3:3128", defaultPort: nil))
        let script = ProxyAutoConfig.script(proxy: proxy, requestHost: "admin.example:9090")
        let results = try Self.evaluate(script, hosts: Self.decisions.map(\.0))
        for (index, (host, expected)) in Self.decisions.enumerated() {
            #expect(results[index] == expected, "FindProxyForURL for \(host)")
        }
    }

    @Test func ipv6ProxyIsBracketed() {
        let proxy = HostPort(host: "fd00::5", port: 3128)
        let script = ProxyAutoConfig.script(proxy: proxy, requestHost: nil)
        #expect(script.contains(#"return "PROXY [fd00::5]:3128";"#))
        #expect(script.contains(#"if (h === "fd00::5")"#))
    }

    static let wildcardBinds: [(String, String?, String)] = [
        ("0.0.0.0", "gw.example:9090", "PROXY gw.example:3128"),
        ("::", "[fd00::9]:9090", "PROXY [fd00::9]:3128"),
        ("0.0.0.0", nil, "PROXY 127.0.0.1:3128"),
        ("0.0.0.0", "0.0.0.0:9090", "PROXY 127.0.0.1:3128"),
        ("0.0.0.0", "bad host!", "PROXY 127.0.0.1:3128"),
    ]

    @Test(arguments: wildcardBinds)
    func wildcardBindIsAdvertisedUnderTheRequestedHost(bind: String, hostHeader: String?, expected: String) {
        let script = ProxyAutoConfig.script(proxy: HostPort(host: bind, port: 3128), requestHost: hostHeader)
        #expect(script.contains("return \"\(expected)\";"))
    }
}
