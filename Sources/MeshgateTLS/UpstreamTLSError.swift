/// Why an upstream TLS client context could not be built. `description` is one line naming the fix.
public struct UpstreamTLSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The trust-bundle path concerned, when there is one.
    public let path: String?
    /// The full one-line explanation.
    public let message: String

    /// Creates an error; `message` should name `path` and the fix.
    public init(path: String?, message: String) {
        self.path = path
        self.message = message
    }

    /// The one-line human explanation.
    public var description: String { message }
}
