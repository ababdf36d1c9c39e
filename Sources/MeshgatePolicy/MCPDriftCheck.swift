import MeshgateInspection
import MeshgateJSON

/// One difference between a `tools/list` answer and a registry entry's pins.
public struct MCPToolDrift: Sendable, Equatable {
    /// What happened to the tool since it was pinned.
    public enum Change: String, Sendable {
        /// Listed but not pinned.
        case added
        /// Pinned but no longer listed (known only once the whole list, every page, was seen).
        case removed
        /// Listed with another definition than the pinned one: a rug pull.
        case changed
    }

    public var tool: String
    public var change: Change
    /// The pinned digest (nil for `added`).
    public var oldDigest: String?
    /// The listed digest (nil for `removed`).
    public var newDigest: String?

    public init(tool: String, change: Change, oldDigest: String?, newDigest: String?) {
        self.tool = tool
        self.change = change
        self.oldDigest = oldDigest
        self.newDigest = newDigest
    }
}

/// Compares one page of a `tools/list` result with a registry entry's pins. Pure: the proxy's drift
/// filter, `meshgate mcp diff` and the tests share it.
public struct MCPDriftCheck: Sendable {
    public let entry: MCPServerEntry

    public init(entry: MCPServerEntry) {
        self.entry = entry
    }

    /// What one page says.
    public struct PageResult: Sendable {
        /// Added and changed tools of this page, in list order.
        public var drifts: [MCPToolDrift] = []
        /// The names of every tool the page lists (for `removed` once all pages are in).
        public var listed: [String] = []
        /// The page's `tools` with the added and changed ones left out (for `on_drift: filter`).
        public var keptTools: [JSONValue] = []
    }

    /// Checks `tools` (the `result.tools` array of one page). A tool that is not an object with a
    /// string name is kept as is and not judged: it is the client's problem, not a rug pull.
    public func check(tools: [JSONValue]) -> PageResult {
        var result = PageResult()
        guard let pins = entry.tools else {
            result.keptTools = tools
            return result
        }
        for tool in tools {
            guard let name = tool["name"]?.stringValue, let digest = MCPToolDigest.digest(of: tool) else {
                result.keptTools.append(tool)
                continue
            }
            result.listed.append(name)
            if let pin = pins.first(where: { $0.name == name }) {
                if pin.digest == digest {
                    result.keptTools.append(tool)
                } else {
                    result.drifts.append(MCPToolDrift(tool: name, change: .changed, oldDigest: pin.digest, newDigest: digest))
                }
            } else {
                result.drifts.append(MCPToolDrift(tool: name, change: .added, oldDigest: nil, newDigest: digest))
            }
        }
        return result
    }

    /// The pinned tools missing from a complete list (every page's `listed`).
    public func removed(listed: some Sequence<String>) -> [MCPToolDrift] {
        guard let pins = entry.tools else { return [] }
        let seen = Set(listed)
        return pins.filter { !seen.contains($0.name) }.map {
            MCPToolDrift(tool: $0.name, change: .removed, oldDigest: $0.digest, newDigest: nil)
        }
    }
}

extension PolicyEngine {
    /// Whether a ruleset defines the ``toolDescriptionProfile`` DLP profile.
    public var scansToolDescriptions: Bool { !toolDescriptionPatterns.isEmpty }

    /// The names of the ``toolDescriptionProfile`` patterns that match `description` (a pattern that
    /// cannot finish counts as a finding, named so: a description built to exhaust the matcher is
    /// itself suspicious).
    public func toolDescriptionFindings(_ description: [UInt8]) -> [String] {
        guard !description.isEmpty else { return [] }
        var found: [String] = []
        for index in toolDescriptionPatterns {
            let pattern = patterns[index]
            do {
                if try pattern.regex.matchesNonEmpty(description), !found.contains(pattern.name) { found.append(pattern.name) }
            } catch {
                found.append(MatchErrorMode.detection(pattern.name))
            }
        }
        return found
    }
}
