/// What meshgate did with a request or query. The raw values are the contract's spelling
/// (audit `action`, `X-Meshgate-Action`, ruleset `action:`).
public enum PolicyAction: String, Sendable, Hashable, CaseIterable {
    case allow
    case block
    case redirect
    case reroute
    case log
    /// Refused because a token cap would be exceeded (AI gateway).
    case limit
}
