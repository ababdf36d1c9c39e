import Crypto
import MeshgateJSON

/// The digest that pins an MCP tool's definition in the registry (`mcp_servers[].tools[].digest`):
/// SHA-256 over the sorted-keys compact JSON of the tool's `name`, `description`, `inputSchema` and
/// `annotations` (those present), written `sha256:<hex>`. Key order and whitespace in what the
/// server sent do not change it; any change of a value does, which is what a rug pull is.
public enum MCPToolDigest {
    /// The members of a tool definition the digest covers.
    public static let coveredMembers: [String] = ["name", "description", "inputSchema", "annotations"]

    /// The digest of `tool` (one element of a `tools/list` result's `tools`), or nil when it is not
    /// an object with a string `name`.
    public static func digest(of tool: JSONValue) -> String? {
        guard tool["name"]?.stringValue != nil else { return nil }
        return "sha256:" + hex(SHA256.hash(data: definitionText(of: tool)))
    }

    /// The exact bytes the digest is taken over (for `meshgate mcp diff` and for tests).
    public static func definitionText(of tool: JSONValue) -> [UInt8] {
        var covered: [(key: String, value: JSONValue)] = []
        for name in coveredMembers {
            if let value = tool[name] { covered.append((key: name, value: value)) }
        }
        return JSONValue.object(covered).sortedKeysText
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
