import Meshgate
import Testing

/// One bad configuration and where and how the error must point at it.
struct BadConfiguration: CustomTestStringConvertible, Sendable {
    let name: String
    let yaml: String
    let line: Int
    let keyPath: String
    let fragments: [String]

    var testDescription: String { name }
}

private let badConfigurations: [BadConfiguration] = [
    // YAML syntax, with Yams' own line numbers.
    .init(name: "syntax: bad indentation", yaml: """
        listeners:
          explicit: 127.0.0.1:3128
         admin: 127.0.0.1:9090
        """, line: 3, keyPath: "", fragments: ["invalid YAML"]),
    .init(name: "syntax: tab indentation", yaml: "listeners:\n\texplicit: 127.0.0.1:3128\n",
          line: 2, keyPath: "", fragments: ["invalid YAML", "tab"]),
    .init(name: "syntax: unclosed flow list", yaml: """
        state_dir: ./state
        access:
          allow_clients: [10.0.0.0/8
        """, line: 4, keyPath: "", fragments: ["invalid YAML"]),
    .init(name: "syntax: duplicate key", yaml: """
        listeners:
          explicit: 127.0.0.1:3128
          explicit: 127.0.0.1:3129
        """, line: 2, keyPath: "", fragments: ["duplicate key 'explicit'"]),

    // Unknown keys.
    .init(name: "unknown top-level key", yaml: """
        state_dir: ./state
        listners:
          explicit: 127.0.0.1:3128
        """, line: 2, keyPath: "listners", fragments: ["unknown key 'listners'", "did you mean 'listeners'?"]),
    .init(name: "unknown nested key", yaml: """
        listeners:
          admin: 127.0.0.1:9090
          explict: 127.0.0.1:3128
        """, line: 3, keyPath: "listeners.explict", fragments: ["did you mean 'explicit'?"]),
    .init(name: "key in the wrong section", yaml: """
        allow_clients: [10.0.0.0/8]
        """, line: 1, keyPath: "allow_clients", fragments: ["belongs under 'access:'"]),
    .init(name: "unknown key far from any", yaml: """
        tls:
          zzz: 1
        """, line: 2, keyPath: "tls.zzz", fragments: ["valid keys here:", "do_not_inspect"]),

    // Wrong types.
    .init(name: "top level is a list", yaml: "- a\n- b\n", line: 1, keyPath: "",
          fragments: ["expected a mapping of keys, found a list"]),
    .init(name: "scalar where a list goes", yaml: """
        access:
          allow_clients: 10.0.0.0/8
        """, line: 2, keyPath: "access.allow_clients", fragments: ["expected a list, found '10.0.0.0/8'"]),
    .init(name: "mapping where a list goes", yaml: """
        rulesets:
          a: b
        """, line: 2, keyPath: "rulesets", fragments: ["expected a list, found a mapping"]),
    .init(name: "bare port where host:port goes", yaml: """
        listeners:
          explicit: 3128
        """, line: 2, keyPath: "listeners.explicit", fragments: ["expected host:port, found '3128'"]),
    .init(name: "syntax: unquoted IPv6 listener", yaml: """
        listeners:
          admin: 127.0.0.1:9090
          explicit: [::1]:3128
        """, line: 3, keyPath: "", fragments: ["invalid YAML", "quote IPv6 addresses", "\"[::1]:3128\""]),
    .init(name: "syntax: unquoted IPv6 CIDR in a flow list", yaml: """
        access:
          allow_clients: [127.0.0.0/8, ::1/128]
        """, line: 2, keyPath: "", fragments: ["invalid YAML", "[\"::1/128\"]"]),
    .init(name: "a list where host:port goes", yaml: """
        listeners:
          explicit: [127.0.0.1, 3128]
        """, line: 2, keyPath: "listeners.explicit", fragments: ["expected host:port, found a list"]),
    .init(name: "IPv6 listener without brackets", yaml: """
        listeners:
          explicit: "::1:3128"
        """, line: 2, keyPath: "listeners.explicit", fragments: ["brackets"]),
    .init(name: "not a boolean", yaml: """
        access:
          require_identity: maybe
        """, line: 2, keyPath: "access.require_identity", fragments: ["expected true or false, found 'maybe'"]),
    .init(name: "not a number", yaml: """
        tls:
          leaf_cache_size: many
        """, line: 2, keyPath: "tls.leaf_cache_size", fragments: ["expected a whole number, found 'many'"]),

    // Values.
    .init(name: "invalid CIDR prefix", yaml: """
        access:
          allow_clients:
            - 10.0.0.0/8
            - 10.0.0.0/33
        """, line: 4, keyPath: "access.allow_clients[1]", fragments: ["invalid CIDR '10.0.0.0/33'"]),
    .init(name: "invalid CIDR address", yaml: """
        identities:
          - name: n
            cidrs: [10.0.300.0/24]
        """, line: 3, keyPath: "identities[0].cidrs[0]", fragments: ["invalid CIDR"]),
    .init(name: "listener port out of range", yaml: """
        listeners:
          explicit: 127.0.0.1:70000
        """, line: 2, keyPath: "listeners.explicit", fragments: ["port 70000", "out of range (0-65535)"]),
    .init(name: "connect port out of range", yaml: """
        access:
          connect_ports: [443, 0]
        """, line: 2, keyPath: "access.connect_ports[1]", fragments: ["port 0 is out of range (1-65535)"]),
    .init(name: "bad duration", yaml: """
        limits:
          header_read_timeout: 30s
          idle_timeout: 5 minutes
        """, line: 3, keyPath: "limits.idle_timeout", fragments: ["expected a duration", "'5 minutes'"]),
    .init(name: "zero duration", yaml: """
        tls:
          leaf_validity: 0s
        """, line: 2, keyPath: "tls.leaf_validity", fragments: ["longer than zero"]),
    .init(name: "bad size", yaml: """
        inspection:
          max_body_bytes: 1 megabyte
        """, line: 2, keyPath: "inspection.max_body_bytes", fragments: ["expected a size in bytes"]),
    .init(name: "bad DNS upstream", yaml: """
        dns:
          upstreams: [dns.google]
        """, line: 2, keyPath: "dns.upstreams[0]", fragments: ["invalid DNS upstream 'dns.google'"]),
    .init(name: "redirect_ipv4 is IPv6", yaml: """
        dns:
          redirect_ipv4: 2001:db8::1
        """, line: 2, keyPath: "dns.redirect_ipv4", fragments: ["not an IPv4 address"]),
    .init(name: "bad host pattern", yaml: """
        tls:
          do_not_inspect: ["apple.*.com"]
        """, line: 2, keyPath: "tls.do_not_inspect[0]", fragments: ["invalid host pattern"]),
    .init(name: "portal is not a URL", yaml: "portal: portal.example.com\n", line: 1, keyPath: "portal",
          fragments: ["invalid URL"]),
    .init(name: "public key not base64", yaml: """
        ruleset_updates:
          source: https://rules.example.com/r.yaml
          public_key: BASE64_ED25519_PUBLIC_KEY
        """, line: 3, keyPath: "ruleset_updates.public_key", fragments: ["not valid base64", "rules keygen"]),
    .init(name: "public key of the wrong length", yaml: """
        ruleset_updates:
          source: https://rules.example.com/r.yaml
          public_keys: [AAAA]
        """, line: 3, keyPath: "ruleset_updates.public_keys[0]", fragments: ["decodes to 3 bytes", "32"]),
    .init(name: "ruleset_updates without key", yaml: """
        ruleset_updates:
          source: https://rules.example.com/r.yaml
        """, line: 1, keyPath: "ruleset_updates", fragments: ["missing required key 'public_key'"]),
    .init(name: "provider without base_url", yaml: """
        ai:
          providers:
            local:
              format: openai
        """, line: 3, keyPath: "ai.providers.local", fragments: ["missing required key 'base_url'"]),
    .init(name: "budget without window", yaml: """
        identities: [{ name: bot, uid: 1000 }]
        ai:
          budgets:
            - identity: bot
              tokens: 100
        """, line: 4, keyPath: "ai.budgets[0]", fragments: ["missing required key 'window'"]),
    .init(name: "misspelt identity key", yaml: """
        identities:
          - name: bot
            tokn_sha256: abc
        """, line: 3, keyPath: "identities[0].tokn_sha256", fragments: ["did you mean 'token_sha256'?"]),
    .init(name: "token_sha256 too short", yaml: """
        identities:
          - name: agent
            token_sha256: abc123
        """, line: 3, keyPath: "identities[0].token_sha256", fragments: ["64 hex digits"]),
    .init(name: "identity that can never match", yaml: """
        identities:
          - name: agent
            team: platform
        """, line: 2, keyPath: "identities[0]", fragments: ["nothing can match it"]),
    .init(name: "duplicate identity name", yaml: """
        identities:
          - { name: a, uid: 1 }
          - { name: a, uid: 2 }
        """, line: 3, keyPath: "identities[1].name", fragments: ["used twice"]),
    .init(name: "listeners on one port", yaml: """
        listeners:
          explicit: 127.0.0.1:3128
          admin: 127.0.0.1:3128
        """, line: 3, keyPath: "listeners.admin", fragments: ["clashes with listeners.explicit"]),

    // Enumerations, with suggestions for near misses.
    .init(name: "enum over_limit", yaml: """
        inspection:
          over_limit: truncate
        """, line: 2, keyPath: "inspection.over_limit", fragments: ["invalid value 'truncate'", "inspect_prefix, block"]),
    .init(name: "enum block_answer", yaml: """
        dns:
          block_answer: nxdomian
        """, line: 2, keyPath: "dns.block_answer", fragments: ["did you mean 'nxdomain'?"]),
    .init(name: "enum ca_key_type", yaml: """
        tls:
          ca_key_type: rsa-2048
        """, line: 2, keyPath: "tls.ca_key_type", fragments: ["ecdsa-p256, rsa-3072"]),
    .init(name: "enum ledger_unavailable", yaml: """
        ai:
          ledger_unavailable: fail_closd
        """, line: 2, keyPath: "ai.ledger_unavailable", fragments: ["did you mean 'fail_closed'?"]),
    .init(name: "enum format", yaml: """
        ai:
          providers:
            gemini: { format: gemini, base_url: https://example.com }
        """, line: 3, keyPath: "ai.providers.gemini.format", fragments: ["invalid value 'gemini'", "openai, anthropic"]),
    .init(name: "enum enforce", yaml: """
        identities: [{ name: a, team: platform, uid: 1 }]
        ai:
          budgets:
            - team: platform
              tokens: 1000
              window: 1d
              enforce: strict
        """, line: 7, keyPath: "ai.budgets[0].enforce", fragments: ["invalid value 'strict'", "soft, hard"]),
    .init(name: "enum window", yaml: """
        identities: [{ name: a, team: platform, uid: 1 }]
        ai:
          budgets:
            - team: platform
              tokens: 1000
              window: weekly
        """, line: 6, keyPath: "ai.budgets[0].window", fragments: ["invalid window 'weekly'", "month"]),

    // References between sections.
    .init(name: "model names an unknown provider", yaml: """
        ai:
          providers:
            openai: { format: openai, base_url: https://api.openai.com, api_key_env: OPENAI_API_KEY }
          models:
            gpt-4o: { provider: opnai }
        """, line: 5, keyPath: "ai.models.gpt-4o.provider", fragments: ["unknown provider 'opnai'", "did you mean 'openai'?"]),
    .init(name: "fallback to an unknown model", yaml: """
        ai:
          providers:
            openai: { format: openai, base_url: https://api.openai.com }
          models:
            gpt-4o: { provider: openai, fallback: [gpt-5] }
        """, line: 5, keyPath: "ai.models.gpt-4o.fallback[0]", fragments: ["unknown model 'gpt-5'"]),
    .init(name: "budget for a team nobody is in", yaml: """
        identities: [{ name: a, team: platform, uid: 1 }]
        ai:
          budgets:
            - { team: platfrom, tokens: 10, window: 1d }
        """, line: 4, keyPath: "ai.budgets[0].team", fragments: ["no identity belongs to team 'platfrom'"]),
    .init(name: "ai.lease_heartbeat not in whole seconds", yaml: """
        ai:
          lease_heartbeat: 1500ms
        """, line: 2, keyPath: "ai.lease_heartbeat", fragments: ["whole seconds from 1s to 300s", "lease_heartbeat: 10s"]),
    .init(name: "ai.lease_heartbeat too long", yaml: """
        ai:
          lease_heartbeat: 10m
        """, line: 2, keyPath: "ai.lease_heartbeat", fragments: ["whole seconds from 1s to 300s"]),
    .init(name: "ai.max_response_bytes not a size", yaml: """
        ai:
          max_response_bytes: lots
        """, line: 2, keyPath: "ai.max_response_bytes", fragments: ["lots"]),
    .init(name: "dns listener without upstreams", yaml: """
        listeners:
          dns: 127.0.0.1:5353
        """, line: 2, keyPath: "listeners.dns", fragments: ["dns.upstreams is empty"]),
    .init(name: "require_identity without tokens", yaml: """
        access:
          require_identity: true
        """, line: 2, keyPath: "access.require_identity", fragments: ["every explicit client would get 407"]),
]

@Suite("Configuration errors")
struct ConfigurationErrorTests {
    @Test("names file, line, key path and fix", arguments: badConfigurations)
    func rejects(_ bad: BadConfiguration) throws {
        let error = try #require(throws: ConfigurationError.self) {
            try MeshgateConfiguration.parse(yaml: bad.yaml, path: "conf/meshgate.yaml")
        }
        #expect(error.file == "conf/meshgate.yaml")
        #expect(error.line == bad.line, "\(error)")
        #expect(error.column != nil, "\(error)")
        #expect(error.keyPath == bad.keyPath, "\(error)")
        for fragment in bad.fragments {
            #expect(error.description.contains(fragment), "\(error)")
        }
        #expect(error.description.hasPrefix("conf/meshgate.yaml:\(bad.line):"))
    }

    @Test("description reads like a compiler diagnostic")
    func descriptionFormat() {
        let error = ConfigurationError(file: "m.yaml", line: 3, column: 5, keyPath: "tls.ca_key_type",
                                       message: "invalid value 'x'", fix: "expected one of: a, b")
        #expect(error.description == "m.yaml:3:5: tls.ca_key_type: invalid value 'x'; expected one of: a, b")
        let fileLevel = ConfigurationError(file: "m.yaml", line: nil, column: nil, keyPath: "", message: "no such file")
        #expect(fileLevel.description == "m.yaml: no such file")
    }

    @Test("a missing file is named")
    func missingFile() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try MeshgateConfiguration.load(path: "/nonexistent/meshgate.yaml")
        }
        #expect(error.description.hasPrefix("/nonexistent/meshgate.yaml: no such file"))
    }
}
