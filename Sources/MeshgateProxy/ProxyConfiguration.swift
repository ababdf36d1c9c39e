import MeshgateCore
import MeshgatePolicy
import NIOCore

/// Everything the HTTP proxy listeners need to decide and forward, already parsed and validated.
public struct ProxyConfiguration: Sendable {
    /// Clients allowed to use the proxy; anyone else gets 403.
    public var allowClients: [CIDR]
    /// When true, explicit clients without valid `Proxy-Authorization` get 407.
    public var requireIdentity: Bool
    /// Ports `CONNECT` may reach.
    public var connectPorts: Set<Int>
    /// Hosts whose TLS is spliced, never decrypted.
    public var doNotInspect: HostPatternList
    /// Largest request header block (request line + headers) accepted; beyond it 431.
    public var maxHeaderBytes: Int
    /// Longest request target accepted; beyond it 414.
    public var maxURLBytes: Int
    /// Most header fields in one request; beyond it 431 (each field costs a lookup in every rule).
    public var maxHeaderCount = 100
    /// How long a client may take to send a complete request head.
    public var headerReadTimeout: TimeAmount
    /// How long a connection may sit without traffic before it is closed.
    public var idleTimeout: TimeAmount
    /// How long connecting to an origin may take before the client gets 504.
    public var upstreamConnectTimeout: TimeAmount
    /// Networks client-chosen destinations may reach although they are loopback, link-local or
    /// meshgate's own addresses (`access.allow_destinations`; default none).
    public var allowDestinations: [CIDR] = []
    /// Addresses meshgate itself listens on: requests aimed at them are answered locally, never forwarded.
    public var ownAddresses: [HostPort]
    /// Idle upstream connections kept per origin and event loop.
    public var maxIdleUpstreamPerOrigin: Int
    /// The token placed in `Via`.
    public var viaName: String
    /// Request bodies are inspected up to this many bytes (after decoding).
    public var maxInspectedBodyBytes: Int
    /// What happens to a body larger than `maxInspectedBodyBytes` when a rule needs the body.
    public var overLimit: OverLimit
    /// What happens to a body a rule needs whose Content-Encoding cannot be decoded (default: refused).
    public var undecodable: Undecodable = .block
    /// `inspection.mcp_connectors`: what a refusing verdict does to an MCP connector (no URL) in an LLM call.
    public var mcpConnectors: MCPConnectorMode = .refuse
    /// Names resolved to fixed addresses instead of DNS, like Squid's `hosts_file` (tests use it).
    public var staticHosts: [String: String]
    /// `SO_MARK` on meshgate's upstream sockets, so node redirect rules can exempt them (nil: none).
    public var socketMark: Int32?
    /// Look up the uid and cgroup of local processes behind redirected connections for the audit
    /// line even when no identity names them.
    public var auditWorkloads = true
    /// Removes credentials and query values (except `audit.query_keys`) from audit lines and
    /// bounds their client-chosen fields.
    public var auditRedactor = AuditRedactor()

    /// `inspection.over_limit`.
    public enum OverLimit: Sendable {
        /// Decide on the first `maxInspectedBodyBytes`, then stream the rest unchanged.
        case inspectPrefix
        /// Refuse the request.
        case block
    }

    /// `inspection.undecodable`.
    public enum Undecodable: Sendable {
        /// Refuse the request under the rule that needs its body.
        case block
        /// Inspect the body as sent.
        case allow
    }

    /// Creates a configuration with the contract's defaults.
    public init(
        allowClients: [CIDR] = [CIDR("127.0.0.0/8"), CIDR("::1/128")].compactMap { $0 },
        requireIdentity: Bool = false,
        connectPorts: Set<Int> = [443],
        doNotInspect: HostPatternList = HostPatternList([]),
        maxHeaderBytes: Int = 64 * 1024,
        maxURLBytes: Int = 8 * 1024,
        headerReadTimeout: TimeAmount = .seconds(30),
        idleTimeout: TimeAmount = .seconds(300),
        upstreamConnectTimeout: TimeAmount = .seconds(10),
        ownAddresses: [HostPort] = [],
        maxIdleUpstreamPerOrigin: Int = 256,
        viaName: String = "meshgate",
        maxInspectedBodyBytes: Int = 1 << 20,
        overLimit: OverLimit = .inspectPrefix,
        staticHosts: [String: String] = [:],
        socketMark: Int32? = nil
    ) {
        self.allowClients = allowClients
        self.requireIdentity = requireIdentity
        self.connectPorts = connectPorts
        self.doNotInspect = doNotInspect
        self.maxHeaderBytes = maxHeaderBytes
        self.maxURLBytes = maxURLBytes
        self.headerReadTimeout = headerReadTimeout
        self.idleTimeout = idleTimeout
        self.upstreamConnectTimeout = upstreamConnectTimeout
        self.ownAddresses = ownAddresses
        self.maxIdleUpstreamPerOrigin = maxIdleUpstreamPerOrigin
        self.viaName = viaName
        self.maxInspectedBodyBytes = maxInspectedBodyBytes
        self.overLimit = overLimit
        self.staticHosts = staticHosts
        self.socketMark = socketMark
    }

    /// Whether a client address may use the proxy.
    public func allows(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        return allowClients.contains { $0.contains(address) }
    }

    /// Whether `target` is one of meshgate's own listeners (a request there would loop).
    func isOwnAddress(_ target: HostPort) -> Bool {
        Self.matchesOwn(target, among: ownAddresses)
    }

    static func matchesOwn(_ target: HostPort, among ownAddresses: [HostPort]) -> Bool {
        ownAddresses.contains { own in
            guard own.port == target.port else { return false }
            if own.host == target.host { return true }
            // A wildcard bind answers on every local address; loopback names are the common case.
            let targetIsLocal = target.host == "localhost"
                || IPAddress.parse(target.host).map { IPAddress.isLoopback($0) || IPAddress.isUnspecified($0) } == true
            let ownIsWildcardOrLocal = IPAddress.parse(own.host).map {
                IPAddress.isUnspecified($0) || IPAddress.isLoopback($0)
            } ?? (own.host == "localhost")
            return targetIsLocal && ownIsWildcardOrLocal
        }
    }
}
