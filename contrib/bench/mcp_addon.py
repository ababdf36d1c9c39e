"""mitmproxy addon for contrib/bench: the shadow-mcp ruleset's four MCP regexes over request bodies.

The same patterns as rulesets/shadow-mcp.yaml's `mcp-jsonrpc` DLP profile; a match is refused with
403, like meshgate's `block`. Bodies are decoded (gzip/deflate) by mitmproxy's get_content().
"""
import re

from mitmproxy import http

PATTERNS = [
    re.compile(rb'"method"\s{0,5}:\s{0,5}"initialize"'),
    re.compile(rb'"method"\s{0,5}:\s{0,5}"tools/call"'),
    re.compile(rb'"method"\s{0,5}:\s{0,5}"resources/read"'),
    re.compile(rb'"protocolVersion"\s{0,5}:\s{0,5}"202[4-9]'),
]


class MCPBodyScan:
    def request(self, flow: http.HTTPFlow) -> None:
        body = flow.request.get_content(strict=False) or b""
        if not body:
            return
        for pattern in PATTERNS:
            if pattern.search(body):
                flow.response = http.Response.make(403, b'{"error":{"code":"blocked"}}',
                                                   {"Content-Type": "application/json"})
                return


addons = [MCPBodyScan()]
