import Foundation
import MeshgatePolicy

/// The steps `rules update` and the server's periodic update share: fetch, verify the signature,
/// refuse anything not newer than what is in force, check it together with the other rulesets in
/// force (parse, compile every regex, run every embedded test), then install. Each step that fails
/// throws a one-line cause before anything on disk has changed.
public struct RulesetUpdater: Sendable {
    /// The configuration in force (rulesets, portal, state_dir, trusted keys).
    public let configuration: MeshgateConfiguration
    /// Where installed rulesets live.
    public let store: RulesetStore
    /// How rulesets are downloaded.
    public var fetcher: RulesetFetcher

    /// An updater for `configuration`.
    public init(configuration: MeshgateConfiguration, showProgress: Bool = false) {
        self.configuration = configuration
        self.store = RulesetStore(stateDirectory: configuration.stateDirectory)
        var trustBundle: String?
        if case .bundle(let path) = configuration.tls.upstreamCA { trustBundle = path }
        self.fetcher = RulesetFetcher(trustBundle: trustBundle, showProgress: showProgress)
    }

    /// What an update did.
    public enum Outcome: Sendable {
        /// A new version is on disk (not yet committed).
        case installed(name: String, oldVersion: String?, newVersion: String, change: PendingChange)
        /// The very same file is already in force.
        case upToDate(name: String, version: String)
    }

    /// The configured source, or a clear error when there is none.
    public var configuredSource: RulesetFetcher.Source {
        get throws {
            guard let updates = configuration.rulesetUpdates else {
                throw StoreError("no ruleset source: pass --source URL|PATH or set ruleset_updates.source in \(configuration.sourcePath ?? "the configuration")")
            }
            return updates.source
        }
    }

    /// Fetches, verifies, checks and installs from `source`. The caller holds the store's lock and
    /// commits or undoes the returned change.
    public func update(from source: RulesetFetcher.Source, allowDowngrade: Bool = false) async throws -> Outcome {
        guard let keys = configuration.rulesetUpdates?.publicKeys, !keys.isEmpty else {
            throw StoreError("no trusted signing key: set ruleset_updates.public_key in \(configuration.sourcePath ?? "the configuration") to the publisher's ruleset-signing.pub")
        }
        let fetched = try await fetcher.fetch(source)
        try Self.verify(fetched, from: source, keys: keys)

        let candidate: Ruleset
        do {
            candidate = try Ruleset.parse(yaml: String(decoding: fetched.bytes, as: UTF8.self), file: source.description)
        } catch {
            throw StoreError("\(error)")
        }
        try RulesetStore.validate(name: candidate.name)

        let inForce = try store.effectiveRulesets(configured: configuration.rulesets)
        let current = inForce.first { $0.name == candidate.name }
        if let current {
            let currentBytes = FileManager.default.contents(atPath: current.file).map(Array.init)
            if currentBytes == fetched.bytes {
                return .upToDate(name: candidate.name, version: current.version)
            }
            let order = RulesetVersion.compare(candidate.version, current.version)
            if !allowDowngrade, order <= 0 {
                let relation = order == 0 ? "the same version as" : "older than"
                let why = RulesetVersion.isPreRelease(candidate.version) ? "a pre-release sorts before its release, and an old signed file replayed is refused" : "an old signed file replayed is refused"
                throw StoreError("refusing \(candidate.name) \(candidate.version) from \(source): it is \(relation) \(current.version), which is in force, and versions must increase (\(why)); pass --allow-downgrade to install it anyway")
            }
        }

        var rulesets = inForce.filter { $0.name != candidate.name }
        let position = inForce.firstIndex { $0.name == candidate.name } ?? rulesets.count
        rulesets.insert(candidate, at: position)
        do {
            _ = try PolicyReloader.compile(rulesets: rulesets, portal: configuration.portal?.absoluteString)
        } catch {
            throw StoreError("\(candidate.name) \(candidate.version) fails `rules check`: \(error)")
        }

        let change = try store.install(name: candidate.name, version: candidate.version, bytes: fetched.bytes)
        return .installed(name: candidate.name, oldVersion: current?.version, newVersion: candidate.version, change: change)
    }

    static func verify(_ fetched: RulesetFetcher.Fetched, from source: RulesetFetcher.Source, keys: [[UInt8]]) throws {
        let text = fetched.signature.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Data(base64Encoded: text), raw.count == 64 else {
            throw StoreError("\(source).sig is not an Ed25519 signature (expected the base64 of 64 bytes, as `meshgate rules sign` writes)")
        }
        guard RulesetSigning.verify(data: Data(fetched.bytes), signature: text, trustedKeys: keys) else {
            throw StoreError("signature check failed for \(source): it was not signed by any key in ruleset_updates (the file was altered or cut short, or signed with another key)")
        }
    }
}
