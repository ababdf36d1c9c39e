/// Why the local CA could not be created, loaded or written. `description` is one line a user can act on.
public struct CAError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The broad cause, for callers that react differently (e.g. the CLI's exit code or `--force` hint).
    public enum Kind: String, Sendable, Equatable {
        /// The key file is accessible by group or others.
        case insecureKeyPermissions
        /// A file exists and overwriting was not asked for.
        case fileExists
        /// Only one of the certificate and key files exists.
        case incompleteCA
        /// A file could not be read, created or written.
        case io
        /// The certificate file holds no usable CA certificate.
        case invalidCertificate
        /// The key file holds no usable private key.
        case invalidKey
        /// The private key does not belong to the certificate.
        case keyMismatch
        /// Building or signing the CA certificate failed.
        case generation
    }

    /// The broad cause.
    public let kind: Kind
    /// The file concerned, when there is one.
    public let path: String?
    /// The full one-line explanation, naming the path and the fix where there is one.
    public let message: String

    /// Creates an error; `message` should already name `path` and the fix.
    public init(kind: Kind, path: String?, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// The one-line human explanation.
    public var description: String { message }
}

extension CAError {
    static func insecureKeyPermissions(path: String, mode: Int) -> CAError {
        CAError(
            kind: .insecureKeyPermissions,
            path: path,
            message: "CA key \(path) has mode \(octal(mode)) and is accessible by group or others; "
                + "run `chmod 600 \(path)`"
        )
    }

    static func fileExists(path: String) -> CAError {
        CAError(
            kind: .fileExists,
            path: path,
            message: "\(path) already exists; refusing to overwrite it (use --force to replace the CA)"
        )
    }

    static func io(_ what: String, path: String, errno code: Int32) -> CAError {
        CAError(kind: .io, path: path, message: "cannot \(what) \(path): \(errnoDescription(code))")
    }

    /// `0644`-style rendering of a permission mode.
    static func octal(_ mode: Int) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
