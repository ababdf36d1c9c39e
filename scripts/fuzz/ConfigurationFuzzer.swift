@testable import Meshgate

// The configuration loader (meshgate.yaml through Yams, then every section's keys and values):
// a file either loads or is refused with a ConfigurationError, never a crash; what loads loads the
// same way twice.
@Sendable func fuzzConfiguration(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let first = try? MeshgateConfiguration.parse(yaml: text, path: "/nonexistent/fuzz/meshgate.yaml") else { return }
    let second = try? MeshgateConfiguration.parse(yaml: text, path: "/nonexistent/fuzz/meshgate.yaml")
    invariant(second == first, "the same file loads differently twice")
}
