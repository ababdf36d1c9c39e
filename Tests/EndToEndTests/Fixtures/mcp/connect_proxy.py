"""A tiny asyncio HTTP CONNECT tunnel for checking the MCP fixtures without meshgate.

    python3 connect_proxy.py [--map HOST=127.0.0.1] ... [--deny HOST] ...

Listens on 127.0.0.1 with an ephemeral port, prints the port on the first stdout line, and logs one
line per tunnel to stderr. Only CONNECT is supported (what an HTTPS client sends to an explicit
proxy); anything else gets 405. --map sends CONNECT HOST:PORT to another address (like meshgate's
test resolver), so a URL such as https://mcp.shadow.test:PORT/mcp reaches a server on 127.0.0.1.
--deny HOST answers CONNECT HOST:* with 403 (as meshgate does for a host-level block on a
non-inspected CONNECT), to check the client's failure JSON.
Runs until stdin closes. Standard library only.
"""
import argparse
import asyncio
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer, host_map, denied):
    try:
        head = await asyncio.wait_for(client_reader.readuntil(b"\r\n\r\n"), 10)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError):
        client_writer.close()
        return
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split()
    if len(parts) != 3 or parts[0] != "CONNECT":
        client_writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await client_writer.drain()
        client_writer.close()
        return
    host, _, port = parts[1].rpartition(":")
    host = host.strip("[]")
    target = host_map.get(host, host)
    if host in denied:
        print(f"CONNECT {parts[1]}: denied", file=sys.stderr, flush=True)
        client_writer.write(
            b"HTTP/1.1 403 Forbidden\r\nX-Meshgate-Rule: test-deny\r\nX-Meshgate-Action: block\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        await client_writer.drain()
        client_writer.close()
        return
    try:
        upstream_reader, upstream_writer = await asyncio.wait_for(asyncio.open_connection(target, int(port)), 10)
    except (OSError, ValueError, asyncio.TimeoutError) as exc:
        print(f"CONNECT {parts[1]} -> {target}: failed: {exc}", file=sys.stderr, flush=True)
        client_writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await client_writer.drain()
        client_writer.close()
        return
    headers = head.decode("latin-1").split("\r\n")[1:-2]
    print(f"CONNECT {parts[1]} -> {target}:{port} {parts[2]} {headers}", file=sys.stderr, flush=True)
    client_writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
    await client_writer.drain()
    await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", action="append", default=[], help="HOST=ADDRESS, repeatable")
    parser.add_argument("--deny", action="append", default=[], help="HOST to answer with 403, repeatable")
    args = parser.parse_args()
    host_map = dict(item.split("=", 1) for item in args.map)
    denied = set(args.deny)
    server = await asyncio.start_server(lambda r, w: handle(r, w, host_map, denied), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    async with server:
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
