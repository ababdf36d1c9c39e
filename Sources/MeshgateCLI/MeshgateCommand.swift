import ArgumentParser
import Foundation
import Logging
import Meshgate
import MeshgateTLS

@main
struct MeshgateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meshgate",
        abstract: "Egress gateway for machines that run AI agents: intercepting proxy, policy, audit.",
        version: MeshgateVersion.string,
        subcommands: [Serve.self, Reload.self, CA.self, Rules.self, Usage.self, MCP.self, Trail.self]
    )
}

/// `--config`, shared by every command that reads the configuration.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: ./meshgate.yaml if present, else built-in defaults).")
    var config: String?

    init() {}
    init(config: String?) { self.config = config }

    func load() throws -> MeshgateConfiguration {
        if let config {
            return try MeshgateConfiguration.load(path: config)
        }
        let cwd = FileManager.default.currentDirectoryPath
        let local = cwd + "/meshgate.yaml"
        if FileManager.default.fileExists(atPath: local) {
            return try MeshgateConfiguration.load(path: local)
        }
        return MeshgateConfiguration.embeddedDefaults(baseDirectory: cwd)
    }
}

/// Prints a one-line cause and exits non-zero: how every command reports bad input.
func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("meshgate: \(error)\n".utf8))
    return ExitCode(1)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run all configured listeners (SIGTERM/SIGINT drain gracefully).")

    @OptionGroup var options: ConfigOption
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        let configuration: MeshgateConfiguration
        do {
            configuration = try options.load()
        } catch {
            throw fail(error)
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "meshgate")
        do {
            try await MeshgateServer.serve(configuration: configuration, logger: logger)
        } catch {
            throw fail(error)
        }
    }
}

struct Reload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the running meshgate to reload its configuration's rulesets and portal, and reopen its audit log.",
        discussion: """
            Talks to the server's admin listener (listeners.admin, which needs a fixed port) with the token in \
            state_dir/admin.token, so it must run as a user that can read that file. The server keeps its \
            current policy if the new one does not load, and this command prints why. Without an admin \
            listener: kill -HUP "$(cat STATE_DIR/meshgate.pid)".
            """
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        do {
            let configuration = try options.load()
            let pidFile = (configuration.stateDirectory as NSString).appendingPathComponent(ServerSignalService.pidFileName)
            let admin = try AdminClient(configuration: configuration, otherwise: "check --config names the running server's configuration (its pid file: \(pidFile))")
            try await admin.ensureReachable()
            print(try await admin.reload(requestedBy: "meshgate reload (\(NSUserName()))"))
        } catch {
            throw fail(error)
        }
    }
}

struct Usage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show token usage per team and identity against their caps, from the configured ledger.",
        discussion: "Tokens are input + output tokens in each budget's current window (teams without a budget: this calendar month, UTC)."
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "Only this team and its identities.")
    var team: String?
    @Flag(help: #"Print {"teams":[…],"identities":[…]} as JSON (the /admin/usage shape)."#)
    var json = false

    func run() async throws {
        do {
            let report = try await UsageCommand.report(configuration: try options.load(), team: team)
            print(json ? report.json : UsageCommand.table(report), terminator: json ? "\n" : "")
        } catch {
            throw fail(error)
        }
    }
}

struct CA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Manage the local CA that signs intercepted connections.",
        subcommands: [Init.self, Export.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the CA certificate and key (key mode 0600) in the state directory.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Replace an existing CA (every client must trust the new one).")
        var force = false
        @Option(help: "Key type: ecdsa-p256 (default) or rsa-3072.")
        var keyType: String?

        func run() async throws {
            do {
                let configuration = try options.load()
                var type: CAKeyType?
                if let keyType {
                    guard let parsed = CAKeyType(rawValue: keyType) else {
                        throw ValidationError("--key-type must be ecdsa-p256 or rsa-3072, not '\(keyType)'")
                    }
                    type = parsed
                }
                print(try CACommands.initialize(configuration: configuration, force: force, keyType: type))
            } catch {
                throw fail(error)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the CA certificate (PEM, or DER with --der).")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Write DER bytes instead of PEM.")
        var der = false

        func run() async throws {
            do {
                let bytes = try CACommands.export(configuration: try options.load(), der: der)
                FileHandle.standardOutput.write(Data(bytes))
            } catch {
                throw fail(error)
            }
        }
    }
}

struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check rulesets and try requests against the configured policy.",
        subcommands: [Check.self, Test.self, Update.self, Rollback.self, Keygen.self, Sign.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Parse rulesets, compile every regex, run their embedded tests; exit 1 with file:line errors. Regexes that backtrack super-linearly or match the empty string are warned about on stderr.")
        @Argument(help: "Ruleset files, in evaluation order.")
        var files: [String]
        @Flag(help: "Exit 1 when there are warnings, too.")
        var strict = false
        @Option(help: "Portal URL for `target: portal` and `$portal` (default: the configuration's, else a placeholder).")
        var portal: String?
        @Option(help: "Configuration file to take the portal from.")
        var config: String?

        func run() async throws {
            do {
                var portalURL = portal
                if portalURL == nil {
                    let configuration = try ConfigOption(config: config).load()
                    portalURL = configuration.portal?.absoluteString
                }
                let report = try RulesCommands.check(files: files, portal: portalURL)
                for line in report.summaries { print(line) }
                for warning in report.warnings { FileHandle.standardError.write(Data("\(warning)\n".utf8)) }
                if report.untimed > 0 {
                    FileHandle.standardError.write(Data("meshgate: \(report.untimed) patterns were not timed (time budget spent)\n".utf8))
                }
                if strict, !report.warnings.isEmpty {
                    throw RulesCommands.UsageError(message: "\(report.warnings.count) warning\(report.warnings.count == 1 ? "" : "s") (--strict)")
                }
            } catch {
                throw fail(error)
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the decision for a request as JSON (action, rule, ruleset, detections, mcp_method, target).")
        @OptionGroup var options: ConfigOption
        @Option(help: "Absolute URL of the request.")
        var url: String
        @Option(help: "HTTP method.")
        var method: String = "GET"
        @Option(name: .customLong("header"), help: "A header as 'Name: value' (repeatable).")
        var headers: [String] = []
        @Option(help: "Body text, or @FILE to read it from a file.")
        var body: String?
        @Option(help: "Evaluate as this configured identity.")
        var identity: String?

        func run() async throws {
            do {
                var parsedHeaders: [(name: String, value: String)] = []
                for header in headers {
                    guard let parsed = RulesCommands.headerLine(header) else {
                        throw RulesCommands.UsageError(message: "--header must look like 'Name: value', got '\(header)'")
                    }
                    parsedHeaders.append(parsed)
                }
                var bodyBytes: [UInt8]?
                if let body {
                    if body.hasPrefix("@") {
                        let path = String(body.dropFirst())
                        guard let data = FileManager.default.contents(atPath: path) else {
                            throw RulesCommands.UsageError(message: "cannot read body file \(path)")
                        }
                        bodyBytes = Array(data)
                    } else {
                        bodyBytes = Array(body.utf8)
                    }
                }
                let request = RulesCommands.TestRequest(url: url, method: method, headers: parsedHeaders, body: bodyBytes, identity: identity)
                print(try RulesCommands.test(request, configuration: try options.load()))
            } catch {
                throw fail(error)
            }
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an Ed25519 key pair for signing rulesets; prints the public key for ruleset_updates.public_key.")
        @Option(help: "Directory for ruleset-signing.key (mode 0600) and ruleset-signing.pub.")
        var out: String

        func run() async throws {
            do {
                print(try RulesetSigning.generateKeyPair(in: out))
            } catch {
                throw fail(error)
            }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write FILE.sig: the Ed25519 signature over FILE's exact bytes (for ruleset publishers).")
        @Option(help: "The private key from `meshgate rules keygen`.")
        var key: String
        @Argument(help: "The ruleset file to sign.")
        var file: String

        func run() async throws {
            do {
                print(try RulesetSigning.sign(file: file, keyPath: key))
            } catch {
                throw fail(error)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a signed ruleset, verify and check it, install it atomically and have the running server reload.",
            discussion: """
            The ruleset and its detached signature (SOURCE.sig) are fetched over https (server verified), http, \
            file:// or a path, verified against ruleset_updates.public_key(s), refused unless its version is newer \
            than the one in force, checked like `rules check` together with the other rulesets in force, installed \
            into state_dir/rulesets (keeping the previous 5 versions), and the server is told to reload. On any \
            failure the installed rulesets are left exactly as they were and the exit code is 1.

            Version order (SemVer-like): numbers compare as numbers (2026.11.3 < 2026.11.24); a pre-release, \
            "-" and a letter, sorts before its release and pre-releases compare numerically \
            (2026.02.01-rc2 < 2026.02.01-rc10 < 2026.02.01 < 2026.02.02-rc1); "-" and a digit is a revision \
            after its release (2026.02.01 < 2026.02.01-2). An older or equal version is refused, naming both.
            """
        )
        @OptionGroup var options: ConfigOption
        @Option(help: "URL or path of the ruleset (default: ruleset_updates.source).")
        var source: String?
        @Flag(help: "Install even if the version is not newer than the one in force.")
        var allowDowngrade = false
        @Flag(help: "Install only; do not ask a running server to reload.")
        var noReload = false

        func run() async throws {
            do {
                let configuration = try options.load()
                print(try await RulesetInstallCommands.update(
                    configuration: configuration, source: source, allowDowngrade: allowDowngrade,
                    reload: !noReload, showProgress: true
                ))
            } catch {
                throw fail(error)
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reinstate the previous version of an installed ruleset and have the running server reload.")
        @OptionGroup var options: ConfigOption
        @Option(help: "Which installed ruleset (needed when more than one is installed).")
        var ruleset: String?
        @Flag(help: "Change the files only; do not ask a running server to reload.")
        var noReload = false

        func run() async throws {
            do {
                let configuration = try options.load()
                print(try await RulesetInstallCommands.rollback(configuration: configuration, ruleset: ruleset, reload: !noReload))
            } catch {
                throw fail(error)
            }
        }
    }
}
