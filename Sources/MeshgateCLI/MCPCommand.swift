import ArgumentParser
import Foundation
import Meshgate

struct MCP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Pin an MCP server's tools for the registry, and see what changed since.",
        subcommands: [Pin.self, Diff.self]
    )

    struct Pin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a live MCP server's tools and print its mcp_servers: entry with each tool pinned by digest.",
            discussion: """
                Connects directly (not through a running meshgate) with the configuration's upstream trust \
                (tls.upstream_ca), as a 2026-07-28 stateless client, falling back to the initialize handshake. \
                Paste the entry into a ruleset and sign it like any ruleset update.
                """
        )
        @Argument(help: "The server's MCP endpoint, e.g. https://mcp.example.com/mcp")
        var url: String
        @Option(help: "The registry name (default: from the host, mcp.linear.app → linear).")
        var name: String?
        @Option(name: .customLong("header"), help: "An extra request header 'Name: value' (repeatable), e.g. an Authorization the server needs.")
        var headers: [String] = []
        @OptionGroup var options: ConfigOption

        func run() async throws {
            do {
                let configuration = try options.load()
                let listing = try await MCPCommands.lister(configuration: configuration, headers: headers).list(url)
                print(MCPCommands.pinEntry(url: url, name: name ?? MCPCommands.defaultName(for: url), listing: listing), terminator: "")
            } catch {
                throw fail(error)
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare a live MCP server's tools with their pins in the configured rulesets; exit 1 when something changed.",
            discussion: "Changed tools show both digests and the new description, so a reviewer can tell a fix from a rug pull."
        )
        @Argument(help: "The server's MCP endpoint, as registered.")
        var url: String
        @Option(name: .customLong("header"), help: "An extra request header 'Name: value' (repeatable).")
        var headers: [String] = []
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let diff: MCPCommands.Diff
            do {
                let configuration = try options.load()
                let entry = try MCPCommands.entry(serving: url, policy: try MCPCommands.policy(configuration: configuration))
                let listing = try await MCPCommands.lister(configuration: configuration, headers: headers).list(url)
                diff = MCPCommands.diff(entry: entry, listing: listing)
            } catch {
                throw fail(error)
            }
            print(MCPCommands.text(diff), terminator: "")
            if !diff.drifts.isEmpty { throw ExitCode(1) }
        }
    }
}

struct Trail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the audit log as a tree: identity → LLM call → the MCP tool calls it asked for → decisions.",
        discussion: """
            A tools/call is placed under the LLM call whose answer asked for that tool (same identity, or the \
            same client address without identities, within 30 minutes): its audit line carries llm_request_id. \
            --request takes a request_id or a W3C trace id and shows that request with its relatives.
            """
    )
    @Option(help: "Only this identity.")
    var identity: String?
    @Option(help: "Only lines from this long ago, e.g. 30m, 1h, 2d.")
    var since: String?
    @Option(help: "A request_id (or a trace id): that request, its LLM call and its sibling tool calls.")
    var request: String?
    @Option(name: .customLong("file"), help: "Read this audit log (repeatable) instead of the configured one.")
    var files: [String] = []
    @Flag(help: "Print the tree as JSON, each audit line as logged.")
    var json = false
    @OptionGroup var options: ConfigOption

    func run() async throws {
        do {
            print(try TrailCommand.run(configuration: try options.load(), files: files, identity: identity, since: since,
                                       request: request, json: json), terminator: "")
        } catch {
            throw fail(error)
        }
    }
}
