import MeshgateCore
@testable import MeshgateProxy
import NIOCore
import NIOHTTP1

// The proxy's request classifier: what a request head asks for on the explicit listener, inside an
// intercepted tunnel and on a redirected plain-HTTP connection. Whatever the target and Host header
// say, a CONNECT stays within access.connect_ports, nothing is forwarded to meshgate's own
// listeners, a request inside a tunnel never leaves the tunnel's authority, and a redirected
// connection goes to the address the client dialled.
private let ownListener = HostPort(host: "127.0.0.1", port: 3128)
private let configuration = ProxyConfiguration(connectPorts: [443, 8443], ownAddresses: [ownListener, HostPort(host: "0.0.0.0", port: 9090)])
private let tunnel = HostPort(host: "api.example.com", port: 443)
private let dialled = try? SocketAddress(ipAddress: "192.0.2.7", port: 8080)

@Sendable func fuzzRequestClassifier(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let method = input.pick([HTTPMethod.GET, .POST, .CONNECT, .OPTIONS, .HEAD, .PUT, .RAW(value: "PROPFIND")])
    let modeChoice = input.choose(3)
    let host = String(decoding: input.field(), as: UTF8.self)
    let uri = String(decoding: input.rest(), as: UTF8.self)
    var headers = HTTPHeaders()
    if !host.isEmpty { headers.add(name: "Host", value: host) }
    let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)

    switch modeChoice {
    case 0:
        let kind = ProxyRequestClassifier.classify(head, mode: .explicit, configuration: configuration)
        switch kind {
        case .connect(let target):
            invariant(method == .CONNECT, "\(method) \(uri) became a tunnel")
            invariant(configuration.connectPorts.contains(target.port), "CONNECT \(uri) reaches port \(target.port)")
            invariant(!configuration.isOwnAddress(target), "CONNECT \(uri) reaches meshgate's own listener \(target)")
        case .forward(let target):
            invariant(target.scheme == "http", "\(uri) forwarded as \(target.scheme)")
            invariant(startsWithSlash(target.path), "\(uri) forwarded with path '\(target.path)'")
            invariant(!configuration.isOwnAddress(target.origin), "\(uri) forwarded to meshgate's own listener \(target.origin)")
        case .reject:
            break
        }
    case 1:
        let kind = ProxyRequestClassifier.classify(head, mode: .intercepted(authority: tunnel, serverName: nil), configuration: configuration)
        if case .forward(let target) = kind {
            invariant(target.origin == tunnel, "\(uri) inside the tunnel to \(tunnel) goes to \(target.origin)")
            invariant(target.scheme == "https", "\(uri) inside a tunnel forwarded as \(target.scheme)")
            invariant(startsWithSlash(target.path) || target.path == "*", "\(uri) forwarded with path '\(target.path)'")
            invariant(target.serverName == tunnel.host, "SNI \(String(describing: target.serverName)) for \(uri)")
        }
        invariant(kind.isNotConnect, "\(uri) opened a tunnel inside a tunnel")
    default:
        guard let dialled else { return }
        let kind = ProxyRequestClassifier.classify(
            head, mode: .transparentHTTP(destination: dialled, fallbackHost: "fallback.example"), configuration: configuration)
        if case .forward(let target) = kind {
            invariant(target.origin.port == 8080, "\(uri) (Host \(host)) redirected to port \(target.origin.port)")
            invariant(target.pinnedAddress == dialled, "\(uri) (Host \(host)) not pinned to the dialled address")
            invariant(startsWithSlash(target.path) || target.path == "*", "\(uri) forwarded with path '\(target.path)'")
            invariant(!target.origin.host.isEmpty, "\(uri) (Host \(host)) forwarded with an empty host")
        }
        invariant(kind.isNotConnect, "\(uri) opened a tunnel on a redirected connection")
    }
}

private extension ProxyRequestKind {
    var isNotConnect: Bool {
        if case .connect = self { return false }
        return true
    }
}
