#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// What the system said, in words for an operator: NIO's `IOError` prints the C function it called
/// and an unbalanced parenthesis (`bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`).
public enum SystemErrorText {
    /// The errno behind `error`, when it came from a system call.
    public static func errno(of error: any Error) -> Int32? {
        (error as? IOError)?.errnoCode
    }

    /// `address already in use`, `connection refused`…; other errors as they describe themselves.
    public static func describe(_ error: any Error) -> String {
        guard let code = errno(of: error) else { return "\(error)" }
        return String(cString: strerror(code)).lowercased()
    }

    /// Why a listener could not bind, and what to do about it.
    public static func bindFailure(_ error: any Error, key: String) -> String {
        switch errno(of: error) {
        case EADDRINUSE:
            return "the address is already in use (another meshgate, or another proxy?); stop it, or change \(key) in meshgate.yaml"
        case EACCES:
            return "permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep on the meshgate binary); or choose a port above 1023 for \(key)"
        case EADDRNOTAVAIL:
            return "no interface of this machine has that address; change \(key) to one of its addresses, or 0.0.0.0"
        default:
            return "\(describe(error)); change \(key) in meshgate.yaml"
        }
    }
}
