/// What the DNS filter remembers of its answers, for connections that carry no name (no SNI, no
/// `Host`): "which names did this client resolve to this address?".
public protocol AddressNameMemory: Sendable {
    /// Names whose recent, unexpired answers to `client` (nil: to anyone) contained `address`,
    /// most recent first; empty when unknown.
    func names(for address: [UInt8], client: [UInt8]?) -> [String]
}
