/// Who sent a request: a configured identity and its team. Unknown clients have no identity.
public struct Identity: Sendable, Hashable {
    /// The identity's configured name (`identities[].name`).
    public var name: String
    /// The team the identity belongs to, if configured.
    public var team: String?

    /// Creates an identity.
    public init(name: String, team: String?) {
        self.name = name
        self.team = team
    }
}
