import Foundation
import MeshgateCore
import MeshgatePolicy

/// The typed contents of `meshgate.yaml`. Every path in it is absolute: relative paths in the
/// file resolve against the file's folder. Unset keys take the defaults documented in
/// `docs/configuration.md`, which are also what the repository's `meshgate.yaml` spells out.
public struct MeshgateConfiguration: Sendable, Hashable {
    /// Absolute path of the file this was read from; nil for the built-in defaults.
    public var sourcePath: String?
    /// `state_dir`: CA, ledger, installed rulesets and their previous versions. Default `./state`.
    public var stateDirectory: String
    /// `listeners`.
    public var listeners: Listeners
    /// `access`.
    public var access: Access
    /// `tls`.
    public var tls: TLSSettings
    /// `limits`.
    public var limits: Limits
    /// `portal`: where `redirect` / `reroute` actions send MCP traffic by default.
    public var portal: URL?
    /// `rulesets`: absolute paths of ruleset files and `builtin:NAME` entries, in evaluation order;
    /// the shipped rulesets (built in) when the key is absent, none for `rulesets: []`.
    public var rulesets: [String]
    /// `ruleset_updates`; nil when not configured.
    public var rulesetUpdates: RulesetUpdates?
    /// `inspection`.
    public var inspection: Inspection
    /// `audit`.
    public var audit: Audit
    /// `identities`, in file order.
    public var identities: [Identity]
    /// `dns`.
    public var dns: DNS
    /// `ai`.
    public var ai: AI
    /// `transparent`.
    public var transparent = Transparent()

    /// Creates a configuration from its parts.
    public init(
        sourcePath: String?, stateDirectory: String, listeners: Listeners, access: Access,
        tls: TLSSettings, limits: Limits, portal: URL?, rulesets: [String], rulesetUpdates: RulesetUpdates?,
        inspection: Inspection, audit: Audit, identities: [Identity], dns: DNS, ai: AI
    ) {
        self.sourcePath = sourcePath
        self.stateDirectory = stateDirectory
        self.listeners = listeners
        self.access = access
        self.tls = tls
        self.limits = limits
        self.portal = portal
        self.rulesets = rulesets
        self.rulesetUpdates = rulesetUpdates
        self.inspection = inspection
        self.audit = audit
        self.identities = identities
        self.dns = dns
        self.ai = ai
    }

    /// The file `meshgate serve` reads when no `--config` is given.
    public static let defaultFileName = "meshgate.yaml"

    /// Reads and validates the file at `path` (relative to the working directory).
    /// Throws ``ConfigurationError`` naming the file, line, column and key.
    public static func load(path: String) throws -> MeshgateConfiguration {
        func failure(_ message: String, _ fix: String?) -> ConfigurationError {
            ConfigurationError(file: path, line: nil, column: nil, keyPath: "", message: message, fix: fix)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw failure("no such file", "create it (the repository's meshgate.yaml is a start) or pass --config")
        }
        guard !isDirectory.boolValue else {
            throw failure("is a directory", "pass the configuration file, e.g. --config \(path)/meshgate.yaml")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure("cannot be read", "check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw failure("is not UTF-8 text", "save it as UTF-8")
        }
        return try parse(yaml: text, path: path)
    }

    /// Parses YAML text as if read from `path`, which names the file in errors and anchors
    /// relative paths (a relative `path` is taken against the working directory).
    public static func parse(yaml: String, path: String) throws -> MeshgateConfiguration {
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = LexicalPath.resolve(path, against: cwd, home: nil)
        let source = YAMLSource(
            file: path,
            baseDirectory: LexicalPath.directory(of: absolute),
            homeDirectory: ProcessInfo.processInfo.environment["HOME"],
            foldsMergeKeys: true
        )
        var configuration = try decode(try YAMLNode.root(of: yaml, source: source), source: source)
        configuration.sourcePath = absolute
        return configuration
    }

    /// The built-in defaults, equal to what the repository's `meshgate.yaml` loads to when it
    /// sits in `baseDirectory` (pass the working directory when no file is used).
    public static func embeddedDefaults(baseDirectory: String) -> MeshgateConfiguration {
        let base = LexicalPath.normalise(
            baseDirectory.hasPrefix("/") ? baseDirectory : FileManager.default.currentDirectoryPath + "/" + baseDirectory)
        let state = base + "/state"
        return MeshgateConfiguration(
            sourcePath: nil,
            stateDirectory: state,
            listeners: Listeners(),
            access: Access(),
            tls: .defaults(stateDirectory: state),
            limits: Limits(),
            portal: nil,
            rulesets: RulesetSource.shipped,
            rulesetUpdates: nil,
            inspection: Inspection(),
            audit: .defaults(stateDirectory: state),
            identities: [],
            dns: DNS(),
            ai: .defaults(stateDirectory: state)
        )
    }
}
