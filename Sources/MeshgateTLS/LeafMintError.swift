/// Why a leaf certificate could not be minted for a host.
public struct LeafMintError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The host as asked for.
    public let host: String
    /// What was wrong.
    public let reason: String

    /// Creates an error for `host`.
    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }

    /// One line: the host and the reason.
    public var description: String { "cannot mint a certificate for \"\(host)\": \(reason)" }
}
