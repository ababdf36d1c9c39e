// libFuzzer entry point of the meshgate fuzzer (built by scripts/fuzz.sh): one binary holds every
// harness, and MESHGATE_FUZZ_TARGET picks the one this process runs, so the instrumented sources are
// compiled and linked once for all targets.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The harnesses, by the name scripts/fuzz.sh and MESHGATE_FUZZ_TARGET use.
let fuzzTargets: [String: @Sendable ([UInt8]) -> Void] = [
    "dns": fuzzDNSDecoder,
    "hostport": fuzzHostPort,
    "url": fuzzAbsoluteURL,
    "classifier": fuzzRequestClassifier,
    "body": fuzzBodyDecoder,
    "json": fuzzJSON,
    "mcp": fuzzMCPRecognizer,
    "sse": fuzzSSEUsage,
    "ruleset": fuzzRuleset,
    "config": fuzzConfiguration,
    "cidr": fuzzCIDRAndVersions,
]

let selectedTarget: @Sendable ([UInt8]) -> Void = {
    let name = getenv("MESHGATE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = fuzzTargets[name] else {
        let known = fuzzTargets.keys.sorted().joined(separator: ", ")
        printError("MESHGATE_FUZZ_TARGET must name a target (\(known)); got '\(name)'")
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func meshgateFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget(bytes)
    return 0
}

/// Traps with a message when an invariant of the code under test does not hold (libFuzzer then
/// saves the input as a crash). Used instead of `precondition`, which -O builds keep but print less.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        printError("invariant violated: \(message())")
        abort()
    }
}

/// Writes a line to standard error (the `stderr` global is not concurrency-safe in Swift 6).
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
}

/// Reads a fuzzer input as a few control bytes followed by data.
struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The next byte, or 0 once the input is used up.
    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A number in `0..<bound` from the next byte.
    mutating func choose(_ bound: Int) -> Int { Int(byte()) % max(bound, 1) }

    /// One of `options`, chosen by the next byte.
    mutating func pick<T>(_ options: [T]) -> T { options[choose(options.count)] }

    /// Bytes up to the next `separator` (consumed, not returned) or the end.
    mutating func field(separator: UInt8 = 0) -> [UInt8] {
        let start = position
        while position < bytes.count, bytes[position] != separator { position += 1 }
        let out = Array(bytes[start..<position])
        if position < bytes.count { position += 1 }
        return out
    }

    /// Everything not read yet.
    mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return position < bytes.count ? Array(bytes[position...]) : []
    }
}

/// Whether `text` starts with "/" (compared as a byte: `hasPrefix` compares Characters, and "/"
/// followed by a combining mark is one Character).
func startsWithSlash(_ text: String) -> Bool { text.utf8.first == UInt8(ascii: "/") }

/// Splits `bytes` into chunks whose sizes come from `sizes` (cycled; 0 means 1), to check that
/// incremental parsers give the same answer however the input is cut.
func chunks(of bytes: [UInt8], sizes: [UInt8]) -> [ArraySlice<UInt8>] {
    guard !sizes.isEmpty else { return [bytes[...]] }
    var out: [ArraySlice<UInt8>] = []
    var start = 0
    var k = 0
    while start < bytes.count {
        let size = max(1, Int(sizes[k % sizes.count]))
        let end = min(bytes.count, start + size)
        out.append(bytes[start..<end])
        start = end
        k += 1
    }
    return out
}
