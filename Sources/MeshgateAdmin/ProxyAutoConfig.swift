import MeshgateCore
import MeshgateJSON

/// The `/proxy.pac` file: everything through the explicit listener, except loopback
/// destinations and the proxy itself, which a proxy on this machine could not reach for the
/// client anyway. There is deliberately no `; DIRECT` fallback: when the gateway is down,
/// traffic fails instead of silently bypassing policy.
enum ProxyAutoConfig {
    /// The PAC script for a proxy at `proxy`. A proxy bound to the unspecified address
    /// (0.0.0.0 or ::) is advertised under `requestHost`, the name the client used to reach
    /// the admin listener, since that is an address of this machine the client can route to.
    static func script(proxy: HostPort, requestHost: String?) -> String {
        var host = proxy.host
        if let bytes = IPAddress.parse(host), IPAddress.isUnspecified(bytes) {
            host = requestHost.flatMap(usableHost) ?? "127.0.0.1"
        }
        let advertised = HostPort(host: host, port: proxy.port)
        let proxyDirective = "PROXY \(advertised.description)"
        return """
            // meshgate proxy auto-configuration: all traffic goes through the egress gateway.
            function FindProxyForURL(url, host) {
              var h = host.toLowerCase();
              if (h.charAt(0) === "[" && h.charAt(h.length - 1) === "]") {
                h = h.substring(1, h.length - 1);
              }
              if (h === "localhost" || h === "::1" || /^127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$/.test(h)) {
                return "DIRECT";
              }
              if (h === \(JSONText.quoted(advertised.host))) {
                return "DIRECT";
              }
              return \(JSONText.quoted(proxyDirective));
            }

            """
    }

    /// The host part of a `Host` header, when it names a routable host.
    private static func usableHost(_ hostHeader: String) -> String? {
        guard let parsed = HostPort(authority: hostHeader, defaultPort: 80) else { return nil }
        if let bytes = IPAddress.parse(parsed.host), IPAddress.isUnspecified(bytes) { return nil }
        return parsed.host
    }
}
