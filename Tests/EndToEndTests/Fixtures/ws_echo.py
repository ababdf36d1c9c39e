"""WebSocket echo origin and client for meshgate's end-to-end tests (uses the `websockets` package).

serve CERT KEY        -> TLS echo server on 127.0.0.1, prints its port, runs until stdin closes
client URL PROXY CA   -> connects through the HTTP proxy, trusting CA, sends 3 messages, prints the echoes
"""
import asyncio
import ssl
import sys


async def serve(cert, key):
    from websockets.asyncio.server import serve as ws_serve

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    async with ws_serve(echo, "127.0.0.1", 0, ssl=ctx) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


async def client(url, proxy, ca):
    from websockets.asyncio.client import connect

    ctx = ssl.create_default_context(cafile=ca)
    async with connect(url, ssl=ctx, proxy=proxy, open_timeout=10) as ws:
        for text in ["one", "two", "three"]:
            await ws.send(text)
            print(await asyncio.wait_for(ws.recv(), 10), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        asyncio.run(serve(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(client(sys.argv[2], sys.argv[3], sys.argv[4]))
