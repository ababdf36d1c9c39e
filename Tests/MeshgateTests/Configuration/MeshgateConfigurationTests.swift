import Foundation
import Meshgate
import MeshgateCore
import Testing

@Suite("MeshgateConfiguration")
struct MeshgateConfigurationTests {
    static let publicKey = Array(repeating: UInt8(7), count: 32)
    static let tokenHash = (0..<32).map { UInt8($0) }

    /// The contract's example with its placeholders filled in and `::1/128` quoted.
    static let contractExample = """
        state_dir: ./state                    # CA, ledger, installed rulesets, previous versions
        listeners:
          explicit: 127.0.0.1:3128
          transparent: 127.0.0.1:3129         # optional
          dns: 127.0.0.1:5353                 # optional
          ai: 127.0.0.1:8088                  # optional
          admin: 127.0.0.1:9090
        access:
          allow_clients: [127.0.0.0/8, "::1/128"]   # the contract has ::1/128 unquoted, which libyaml rejects
          require_identity: false
        tls:
          ca_cert: state/ca.pem
          ca_key: state/ca.key
          upstream_ca: system
          do_not_inspect: ["*.apple.com"]
        portal: https://portal.example.com/mcp
        rulesets: [rulesets/shadow-mcp.yaml, rulesets/dlp-secrets.yaml]
        ruleset_updates:
          source: https://rules.example.com/shadow-mcp.yaml
          public_key: \(Data(publicKey).base64EncodedString())
        inspection:
          max_body_bytes: 1048576
          over_limit: inspect_prefix
        audit:
          path: state/audit.jsonl
        identities:
          - name: agent-build-7
            team: platform
            token_sha256: "\(tokenHash.map { String(format: "%02X", $0) }.joined())"
          - name: node-eu-3
            team: infra
            cidrs: [10.20.0.0/16]
          - name: ci-runner
            team: platform
            uid: 1001
        dns:
          upstreams: [1.1.1.1:53]
          block_answer: zero
          redirect_ipv4: 192.0.2.10
        ai:
          ledger: sqlite:state/ledger.db
          providers:
            openai:    { format: openai,    base_url: https://api.openai.com,    api_key_env: OPENAI_API_KEY }
            anthropic: { format: anthropic, base_url: https://api.anthropic.com, api_key_env: ANTHROPIC_API_KEY }
          models:
            gpt-4o:          { provider: openai }
            claude-sonnet-4: { provider: anthropic, fallback: [gpt-4o] }
          budgets:
            - team: platform
              tokens: 2000000
              window: 1d
              enforce: soft
          ledger_unavailable: fail_closed
        """

    @Test("the contract's example parses to the values it spells")
    func contractExample() throws {
        let c = try MeshgateConfiguration.parse(yaml: Self.contractExample, path: "/etc/meshgate/meshgate.yaml")
        #expect(c.sourcePath == "/etc/meshgate/meshgate.yaml")
        #expect(c.stateDirectory == "/etc/meshgate/state")
        #expect(c.listeners.explicit == ListenAddress(host: "127.0.0.1", port: 3128))
        #expect(c.listeners.transparent == ListenAddress(host: "127.0.0.1", port: 3129))
        #expect(c.listeners.dns == ListenAddress(host: "127.0.0.1", port: 5353))
        #expect(c.listeners.ai == ListenAddress(host: "127.0.0.1", port: 8088))
        #expect(c.listeners.admin == ListenAddress(host: "127.0.0.1", port: 9090))
        #expect(c.access.allowClients.map(\.description) == ["127.0.0.0/8", "::1/128"])
        #expect(c.access.requireIdentity == false)
        #expect(c.access.connectPorts == [443])
        #expect(c.tls.caCertPath == "/etc/meshgate/state/ca.pem")
        #expect(c.tls.caKeyPath == "/etc/meshgate/state/ca.key")
        #expect(c.tls.upstreamCA == .system)
        #expect(c.tls.doNotInspect == ["*.apple.com"])
        #expect(c.portal == URL(string: "https://portal.example.com/mcp"))
        #expect(c.rulesets == ["/etc/meshgate/rulesets/shadow-mcp.yaml", "/etc/meshgate/rulesets/dlp-secrets.yaml"])
        let updates = try #require(c.rulesetUpdates)
        #expect(updates.source == .url(try #require(URL(string: "https://rules.example.com/shadow-mcp.yaml"))))
        #expect(updates.publicKeys == [Self.publicKey])
        #expect(updates.interval == nil)
        #expect(c.inspection == .init(maxBodyBytes: 1_048_576, overLimit: .inspectPrefix))
        #expect(c.audit.destination == .file(path: "/etc/meshgate/state/audit.jsonl"))

        #expect(c.identities.map(\.name) == ["agent-build-7", "node-eu-3", "ci-runner"])
        #expect(c.identities[0].team == "platform")
        #expect(c.identities[0].tokenSHA256 == Self.tokenHash)
        #expect(c.identities[0].coreIdentity == Identity(name: "agent-build-7", team: "platform"))
        #expect(c.identities[1].cidrs == [try #require(CIDR("10.20.0.0/16"))])
        #expect(c.identities[1].tokenSHA256 == nil)
        #expect(c.identities[2].uid == 1001)
        #expect(c.identities[2].cgroup == nil)

        #expect(c.dns.upstreams == [HostPort(host: "1.1.1.1", port: 53)])
        #expect(c.dns.blockAnswer == .zero)
        #expect(c.dns.redirectIPv4 == [192, 0, 2, 10])
        #expect(c.dns.redirectIPv6 == nil)

        #expect(c.ai.ledger == .sqlite(path: "/etc/meshgate/state/ledger.db"))
        #expect(c.ai.providers["openai"] == .init(name: "openai", format: .openai,
                                                  baseURL: try #require(URL(string: "https://api.openai.com")),
                                                  apiKeyEnvironment: "OPENAI_API_KEY"))
        #expect(c.ai.providers["anthropic"]?.format == .anthropic)
        #expect(c.ai.models["gpt-4o"] == .init(name: "gpt-4o", provider: "openai"))
        #expect(c.ai.models["claude-sonnet-4"] == .init(name: "claude-sonnet-4", provider: "anthropic", fallback: ["gpt-4o"]))
        #expect(c.ai.budgets == [.init(subject: .team("platform"), tokens: 2_000_000, window: .fixed(.seconds(86_400)), enforce: .soft)])
        #expect(c.ai.ledgerUnavailable == .failClosed)
    }

    @Test("keys the proxy needs now, with non-default values")
    func proxyKeys() throws {
        let c = try MeshgateConfiguration.parse(yaml: """
            access:
              connect_ports: [443, 8443]
            tls:
              leaf_cache_size: 500
              leaf_validity: 2d
              ca_key_type: rsa-3072
              upstream_ca: certs/corporate.pem
            limits:
              max_header_bytes: 32KiB
              max_url_bytes: 4096
              header_read_timeout: 10s
              idle_timeout: 2m
              upstream_connect_timeout: 1500ms
              shutdown_grace: 1h
            ruleset_updates:
              source: rules/shadow-mcp.yaml
              public_keys: [\(Data(Self.publicKey).base64EncodedString()), \(Data(Self.tokenHash).base64EncodedString())]
              interval: 1h
            audit:
              path: "-"
            """, path: "/srv/mg/meshgate.yaml")
        #expect(c.access.connectPorts == [443, 8443])
        #expect(c.tls.leafCacheSize == 500)
        #expect(c.tls.leafValidity == .seconds(2 * 86_400))
        #expect(c.tls.caKeyType == .rsa3072)
        #expect(c.tls.upstreamCA == .bundle(path: "/srv/mg/certs/corporate.pem"))
        #expect(c.limits == .init(maxHeaderBytes: 32_768, maxURLBytes: 4096, headerReadTimeout: .seconds(10),
                                  idleTimeout: .seconds(120), upstreamConnectTimeout: .milliseconds(1500),
                                  shutdownGrace: .seconds(3600)))
        #expect(c.rulesetUpdates == .init(source: .file(path: "/srv/mg/rules/shadow-mcp.yaml"),
                                          publicKeys: [Self.publicKey, Self.tokenHash], interval: .seconds(3600)))
        #expect(c.audit.destination == .stdout)
    }

    @Test("relative paths resolve against the file's folder", arguments: [
        ("/etc/meshgate/meshgate.yaml", "state", "/etc/meshgate/state"),
        ("/etc/meshgate/meshgate.yaml", "./state/", "/etc/meshgate/state"),
        ("/etc/meshgate/meshgate.yaml", "../lib/meshgate", "/etc/lib/meshgate"),
        ("/etc/meshgate/meshgate.yaml", "/var/lib/meshgate", "/var/lib/meshgate"),
        ("/meshgate.yaml", "a//b/./c", "/a/b/c"),
    ])
    func relativePaths(file: String, stateDir: String, expected: String) throws {
        let c = try MeshgateConfiguration.parse(yaml: "state_dir: \(stateDir)\n", path: file)
        #expect(c.stateDirectory == expected)
        // Paths that default to the state directory follow it.
        #expect(c.tls.caCertPath == expected + "/ca.pem")
        #expect(c.tls.caKeyPath == expected + "/ca.key")
        #expect(c.audit.destination == .file(path: expected + "/audit.jsonl"))
        #expect(c.ai.ledger == .sqlite(path: expected + "/ledger.db"))
    }

    @Test("the AI gateway's hardening keys: defaults and values")
    func aiHardeningKeys() throws {
        let defaults = try MeshgateConfiguration.parse(yaml: "state_dir: /tmp/x\n", path: "/etc/meshgate/meshgate.yaml").ai
        #expect(defaults.leaseHeartbeat == .seconds(10) && defaults.ledgerTimeout == .seconds(1))
        #expect(defaults.defaultMaxTokens == 4096 && defaults.maxResponseBytes == 32 << 20)
        let set = try MeshgateConfiguration.parse(yaml: """
            ai:
              lease_heartbeat: 3s
              ledger_timeout: 250ms
              default_max_tokens: 512
              max_response_bytes: 4MiB
            """, path: "/etc/meshgate/meshgate.yaml").ai
        #expect(set.leaseHeartbeat == .seconds(3) && set.ledgerTimeout == .milliseconds(250))
        #expect(set.defaultMaxTokens == 512 && set.maxResponseBytes == 4 << 20)
    }

    @Test("explicit paths resolve against the file's folder, not the state directory")
    func explicitPathsIgnoreStateDirectory() throws {
        let c = try MeshgateConfiguration.parse(yaml: """
            state_dir: /var/lib/meshgate
            tls: { ca_cert: pki/ca.pem, ca_key: /secure/ca.key }
            audit: { path: logs/audit.jsonl }
            rulesets: [rulesets/a.yaml, ../shared/b.yaml]
            ai: { ledger: "sqlite:ledger.db" }
            """, path: "/etc/meshgate/meshgate.yaml")
        #expect(c.tls.caCertPath == "/etc/meshgate/pki/ca.pem")
        #expect(c.tls.caKeyPath == "/secure/ca.key")
        #expect(c.audit.destination == .file(path: "/etc/meshgate/logs/audit.jsonl"))
        #expect(c.rulesets == ["/etc/meshgate/rulesets/a.yaml", "/etc/shared/b.yaml"])
        #expect(c.ai.ledger == .sqlite(path: "/etc/meshgate/ledger.db"))
    }

    @Test("a relative file path is taken against the working directory")
    func relativeFilePath() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let c = try MeshgateConfiguration.parse(yaml: "", path: "conf/meshgate.yaml")
        #expect(c.sourcePath == cwd + "/conf/meshgate.yaml")
        #expect(c.stateDirectory == cwd + "/conf/state")
    }

    @Test("defaults are the contract's")
    func defaults() throws {
        let c = MeshgateConfiguration.embeddedDefaults(baseDirectory: "/opt/mg")
        #expect(c.sourcePath == nil)
        #expect(c.stateDirectory == "/opt/mg/state")
        #expect(c.listeners.explicit?.description == "127.0.0.1:3128")
        #expect(c.listeners.admin?.description == "127.0.0.1:9090")
        #expect(c.listeners.transparent == nil && c.listeners.dns == nil && c.listeners.ai == nil)
        #expect(c.access.allowClients.map(\.description) == ["127.0.0.0/8", "::1/128"])
        #expect(c.access.requireIdentity == false)
        #expect(c.access.connectPorts == [443])
        #expect(c.tls.caCertPath == "/opt/mg/state/ca.pem")
        #expect(c.tls.caKeyPath == "/opt/mg/state/ca.key")
        #expect(c.tls.upstreamCA == .system)
        #expect(c.tls.doNotInspect.isEmpty)
        #expect(c.tls.leafCacheSize == 10_000)
        #expect(c.tls.leafValidity == .seconds(7 * 86_400))
        #expect(c.tls.caKeyType == .ecdsaP256)
        #expect(c.limits.maxHeaderBytes == 65_536)
        #expect(c.limits.maxURLBytes == 8_192)
        #expect(c.limits.headerReadTimeout == .seconds(30))
        #expect(c.limits.idleTimeout == .seconds(300))
        #expect(c.limits.upstreamConnectTimeout == .seconds(10))
        #expect(c.limits.shutdownGrace == .seconds(30))
        #expect(c.portal == nil)
        #expect(c.rulesets == ["builtin:shadow-mcp.yaml", "builtin:dlp-secrets.yaml"], "the shipped rulesets, from the binary")
        #expect(c.rulesetUpdates == nil)
        #expect(c.inspection.maxBodyBytes == 1_048_576)
        #expect(c.inspection.overLimit == .inspectPrefix)
        #expect(c.audit.destination == .file(path: "/opt/mg/state/audit.jsonl"))
        #expect(c.identities.isEmpty)
        #expect(c.dns.upstreams.isEmpty)
        #expect(c.dns.blockAnswer == .zero)
        #expect(c.ai.ledger == .sqlite(path: "/opt/mg/state/ledger.db"))
        #expect(c.ai.providers.isEmpty && c.ai.models.isEmpty && c.ai.budgets.isEmpty)
        #expect(c.ai.ledgerUnavailable == .failClosed)
    }

    @Test("an empty file, or empty sections, mean the defaults", arguments: [
        "",
        "# nothing but a comment\n",
        "listeners:\ntls:\naccess:\nlimits:\naudit:\ndns:\nai:\ninspection:\n",
    ])
    func emptyMeansDefaults(yaml: String) throws {
        var c = try MeshgateConfiguration.parse(yaml: yaml, path: "/opt/mg/meshgate.yaml")
        #expect(c.sourcePath == "/opt/mg/meshgate.yaml")
        c.sourcePath = nil
        #expect(c == MeshgateConfiguration.embeddedDefaults(baseDirectory: "/opt/mg"))
    }

    @Test("the repository's meshgate.yaml loads to the embedded defaults")
    func repositoryFile() throws {
        // Tests/MeshgateTests/Configuration/<this file> -> package root
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        var loaded = try MeshgateConfiguration.load(path: root + "/meshgate.yaml")
        #expect(loaded.sourcePath == root + "/meshgate.yaml")
        loaded.sourcePath = nil
        #expect(loaded == MeshgateConfiguration.embeddedDefaults(baseDirectory: root))
    }

    @Test("listeners can be switched off and bound anywhere")
    func listenerForms() throws {
        let c = try MeshgateConfiguration.parse(yaml: """
            listeners:
              explicit: off
              transparent: ":3129"
              ai: "[::1]:8088"
              admin: localhost:0
            access:
              allow_clients: [10.0.0.0/8]
            """, path: "/m.yaml")
        #expect(c.listeners.explicit == nil)
        #expect(c.listeners.transparent == ListenAddress(host: "::", port: 3129))
        #expect(c.listeners.ai == ListenAddress(host: "::1", port: 8088))
        #expect(c.listeners.admin == ListenAddress(host: "localhost", port: 0))
        #expect(c.listeners.enabled.map(\.key) == ["transparent", "ai", "admin"])
    }

    @Test("merge keys and anchors are honoured")
    func anchors() throws {
        let c = try MeshgateConfiguration.parse(yaml: """
            ai:
              providers:
                openai: &openai { format: openai, base_url: https://api.openai.com, api_key_env: OPENAI_API_KEY }
                azure:
                  <<: *openai
                  base_url: https://example.openai.azure.com
            """, path: "/m.yaml")
        #expect(c.ai.providers["azure"]?.format == .openai)
        #expect(c.ai.providers["azure"]?.apiKeyEnvironment == "OPENAI_API_KEY")
        #expect(c.ai.providers["azure"]?.baseURL.host == "example.openai.azure.com")
    }
}
