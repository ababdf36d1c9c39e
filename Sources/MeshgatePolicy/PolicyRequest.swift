import MeshgateCore

/// One HTTP request as the policy engine sees it: the head, who sent it, and — only if a rule
/// gets that far — the body facts.
public struct PolicyRequest: Sendable {
    /// `http` or `https`.
    public var scheme: String
    /// The destination host as the client named it (any case, optional trailing dot, IPv6 with
    /// or without brackets).
    public var host: String
    /// The destination port.
    public var port: Int
    /// The request method, e.g. `POST` (compared case-insensitively).
    public var method: String
    /// The origin-form target, query included (`/mcp?session=1`); the query is ignored for
    /// matching.
    public var path: String
    /// Request headers in arrival order; names compare case-insensitively.
    public var headers: [(name: String, value: String)]
    /// The client's identity (and team), nil when unknown.
    public var identity: Identity?
    /// Supplies the body facts. Called at most once per evaluation, and only when a rule whose
    /// other selectors hold has a `body` or `mcp` selector. Nil means "no body": such selectors
    /// then do not hold.
    public var bodyFacts: (@Sendable () -> BodyFacts)?

    /// Creates a request.
    public init(
        scheme: String = "https",
        host: String,
        port: Int = 443,
        method: String = "GET",
        path: String = "/",
        headers: [(name: String, value: String)] = [],
        identity: Identity? = nil,
        bodyFacts: (@Sendable () -> BodyFacts)? = nil
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.method = method
        self.path = path
        self.headers = headers
        self.identity = identity
        self.bodyFacts = bodyFacts
    }

    /// A request whose body facts are already known.
    public func withBody(_ facts: BodyFacts) -> PolicyRequest {
        var copy = self
        copy.bodyFacts = { facts }
        return copy
    }
}
