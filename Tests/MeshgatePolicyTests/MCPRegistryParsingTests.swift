import MeshgatePolicy
import Testing

/// The `mcp_servers:` registry of a ruleset: what it holds once read, which requests an entry
/// serves, and the errors a mistyped entry gets (file:line, the key path and a fix).
@Suite struct MCPRegistryParsingTests {
    static let head = "ruleset: r\nversion: \"1\"\nrules: []\n"
    static let digest = "sha256:62ea88d9ff7a7a209d977957f4a0f7c9243d3b414de4b61272991d6dbb361a85"

    static func parse(_ yaml: String) throws -> Ruleset {
        try Ruleset.parse(yaml: head + yaml, file: "a.yaml")
    }

    static func error(_ yaml: String) -> String {
        do {
            _ = try parse(yaml)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func aRegistryIsReadWithItsPinsAndDriftAction() throws {
        let ruleset = try Self.parse("""
            mcp_servers:
              - name: github
                urls: ["https://api.githubcopilot.com/mcp/", "https://mcp.github.example:8443/v1/mcp"]
                tools:
                  - { name: list_issues, digest: "\(Self.digest)" }
                on_drift: filter
              - name: linear
                urls: [https://mcp.linear.app/sse]
            """)
        #expect(ruleset.mcpServers.map(\.name) == ["github", "linear"])
        let github = ruleset.mcpServers[0]
        #expect(github.onDrift == .filter)
        #expect(github.tools == [MCPPinnedTool(name: "list_issues", digest: Self.digest)])
        #expect(github.pin(for: "list_issues")?.digest == Self.digest)
        #expect(github.pin(for: "create_issue") == nil)
        #expect(ruleset.mcpServers[1].tools == nil, "no tools: key pins nothing")
        #expect(ruleset.mcpServers[1].onDrift == .log, "log is the default")
        #expect(github.location.line == 5)
    }

    @Test(arguments: [
        ("https", "api.githubcopilot.com", 443, "/mcp/", true),
        ("https", "api.githubcopilot.com", 443, "/mcp", true),
        ("https", "API.GitHubCopilot.com", 443, "/mcp?x=1", true),
        ("https", "api.githubcopilot.com", 443, "/mcp/session/42", true),
        ("https", "api.githubcopilot.com", 443, "/mcpx", false),
        ("https", "api.githubcopilot.com", 443, "/", false),
        ("http", "api.githubcopilot.com", 80, "/mcp/", false),
        ("https", "api.githubcopilot.com", 8443, "/mcp/", false),
        ("https", "evil.example", 443, "/mcp/", false),
        ("https", "mcp.github.example", 8443, "/v1/mcp", true),
    ])
    func anEntryServesItsOriginAndPathsBelowItsEndpoints(scheme: String, host: String, port: Int, path: String, served: Bool) throws {
        let ruleset = try Self.parse("mcp_servers:\n  - { name: github, urls: [\"https://api.githubcopilot.com/mcp/\", \"https://mcp.github.example:8443/v1/mcp\"] }\n")
        #expect(ruleset.mcpServers[0].serves(scheme: scheme, host: host, port: port, path: path) == served)
    }

    @Test(arguments: [
        ("mcp_servers:\n  - { urls: [\"https://x.example/mcp\"] }\n",
         "a.yaml:5:5: mcp_servers[0]: missing required key 'name'; name the server, e.g. name: github; rules select it with mcp_server: github"),
        ("mcp_servers:\n  - { name: registered, urls: [\"https://x.example/mcp\"] }\n",
         "a.yaml:5:13: mcp_servers[0].name: 'registered' is reserved"),
        ("mcp_servers:\n  - { name: a, urls: [\"https://x.example/mcp\"] }\n  - { name: a, urls: [\"https://y.example/mcp\"] }\n",
         "a.yaml:6:13: mcp_servers[1].name: duplicate MCP server name 'a' (first defined at a.yaml:5:13)"),
        ("mcp_servers:\n  - { name: a, urls: [\"x.example/mcp\"] }\n",
         "a.yaml:5:23: mcp_servers[0].urls[0]: 'x.example/mcp' is not an absolute http or https URL"),
        ("mcp_servers:\n  - { name: a, urls: [] }\n",
         "a.yaml:5:22: mcp_servers[0].urls: an empty list never matches"),
        ("mcp_servers:\n  - { name: a, url: \"https://x.example/mcp\" }\n",
         "unknown key 'url'; write 'urls:' with a list"),
        ("mcp_servers:\n  - { name: a, urls: [\"https://x.example/mcp\"], on_drift: warn }\n",
         "mcp_servers[0].on_drift"),
        ("mcp_servers:\n  - { name: a, urls: [\"https://x.example/mcp\"], tools: [{ name: t, digest: \"sha256:abc\" }] }\n",
         "'sha256:abc' is not a tool digest; write sha256: and 64 lower-case hex digits"),
        ("mcp_servers:\n  - { name: a, urls: [\"https://x.example/mcp\"], tools: [{ name: t, digest: \"\(digest)\" }, { name: t, digest: \"\(digest)\" }] }\n",
         "tool 't' is pinned twice"),
    ])
    func aMistypedEntryIsNamedWithAFix(yaml: String, expected: String) {
        let message = Self.error(yaml)
        #expect(message.contains(expected), "\(message)")
    }
}

/// The registry across ruleset files, as the engine holds it.
@Suite struct MCPRegistryEngineTests {
    static func ruleset(_ name: String, servers: String) throws -> Ruleset {
        try Ruleset.parse(yaml: "ruleset: \(name)\nversion: \"1\"\nrules: []\nmcp_servers:\n\(servers)", file: "\(name).yaml")
    }

    @Test func theEngineFindsTheEntryServingARequest() throws {
        let engine = try PolicyEngine(rulesets: [
            try Self.ruleset("a", servers: "  - { name: github, urls: [\"https://api.githubcopilot.com/mcp/\"] }\n"),
            try Self.ruleset("b", servers: "  - { name: linear, urls: [\"https://mcp.linear.app/mcp\"] }\n"),
        ], regexCompiler: TestRegexCompiler())
        #expect(engine.mcpServers.map(\.name) == ["github", "linear"])
        #expect(engine.mcpServer(servingScheme: "https", host: "mcp.linear.app", port: 443, path: "/mcp")?.name == "linear")
        #expect(engine.mcpServer(servingScheme: "https", host: "mcp.notion.com", port: 443, path: "/mcp") == nil)
    }

    @Test func aServerNameUsedInTwoFilesIsRefused() throws {
        let a = try Self.ruleset("a", servers: "  - { name: github, urls: [\"https://api.githubcopilot.com/mcp/\"] }\n")
        let b = try Self.ruleset("b", servers: "  - { name: github, urls: [\"https://example.com/mcp\"] }\n")
        do {
            _ = try PolicyEngine(rulesets: [a, b], regexCompiler: TestRegexCompiler())
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "b.yaml:5:5: mcp_servers[0].name: duplicate MCP server name 'github' (first defined at a.yaml:5:5); server names must be unique across all ruleset files")
        }
    }
}
