#!/usr/bin/env python3
"""Sends every case of a corpus file through meshgate's explicit proxy, as an agent would (CONNECT and
TLS for https, absolute-form for http), and prints one JSON line per case: what the client saw.

usage: corpus_client.py CASES PROXY_PORT CA_PEM TIER [MESHGATE CONFIG]

Each request carries `X-Corpus-Case: TIER/ID` so the origin's log says which case reached it.

With MESHGATE and CONFIG it also asks `meshgate rules test` for each case, so that the two decision
paths can be compared. Fields: id, status, action and rule (X-Meshgate-Action / X-Meshgate-Rule),
endpoint (the answer carried the legacy MCP endpoint event), error; rules_action, rules_rule.
"""
import gzip
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
import zlib

cases_path, proxy_port, ca, tier = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
meshgate, config = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else (None, None)


def encode(body, coding):
    for layer in [c.strip() for c in coding.split(",")]:
        body = gzip.compress(body, mtime=0) if layer == "gzip" else zlib.compress(body)
    return body


def pieces(body, count):
    step = max(1, len(body) // count)
    return [body[i:i + step] for i in range(0, len(body), step)]


def send(case):
    url = urllib.parse.urlsplit(case["url"])
    target = url.path + ("?" + url.query if url.query else "") or "/"
    headers = {name: value for name, value in case["headers"]}
    headers["X-Corpus-Case"] = f"{tier}/{case['id']}"
    body = case["body"].encode() if case.get("body") is not None else None
    if body is not None and case.get("encoding"):
        body = encode(body, case["encoding"])
        headers["Content-Encoding"] = case["encoding"]
    if url.scheme == "https":
        context = ssl.create_default_context(cafile=ca)
        conn = http.client.HTTPSConnection("127.0.0.1", proxy_port, context=context, timeout=10)
        conn.set_tunnel(url.hostname, url.port or 443)
        path = target
    else:
        conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=10)
        path = case["url"]
    result = {"id": case["id"]}
    try:
        if body is not None and case.get("chunks"):
            headers["Transfer-Encoding"] = "chunked"
            conn.request(case["method"], path, body=iter(pieces(body, case["chunks"])), headers=headers, encode_chunked=True)
        else:
            conn.request(case["method"], path, body=body, headers=headers)
        response = conn.getresponse()
        result.update(status=response.status, action=response.getheader("X-Meshgate-Action"), rule=response.getheader("X-Meshgate-Rule"))
        try:
            data = response.read()
        except http.client.IncompleteRead as partial:
            data = partial.partial
            result["error"] = "answer cut"
        except OSError as error:
            data = b""
            result["error"] = f"answer cut: {error}"
        result["endpoint"] = b"event: endpoint" in data
    except OSError as error:
        result.update(status=0, error=str(error))
    except http.client.HTTPException as error:
        result.update(status=0, error=f"{type(error).__name__}: {error}")
    finally:
        conn.close()
    return result


def rules_test(case):
    arguments = [meshgate, "rules", "test", "--config", config, "--url", case["url"], "--method", case["method"]]
    for name, value in case["headers"]:
        arguments += ["--header", f"{name}: {value}"]
    body_file = None
    if case.get("body") is not None:
        body = case["body"].encode()
        if case.get("encoding"):
            body = encode(body, case["encoding"])
            arguments += ["--header", f"Content-Encoding: {case['encoding']}"]
        handle, body_file = tempfile.mkstemp()
        os.write(handle, body)
        os.close(handle)
        arguments += ["--body", "@" + body_file]
    try:
        done = subprocess.run(arguments, capture_output=True, timeout=30)
        if done.returncode != 0:
            return {"rules_error": done.stderr.decode(errors="replace")[-500:]}
        decision = json.loads(done.stdout)
        return {"rules_action": decision.get("action"), "rules_rule": decision.get("rule")}
    finally:
        if body_file:
            os.unlink(body_file)


with open(cases_path, encoding="utf-8") as cases:
    for line in cases:
        case = json.loads(line)
        result = send(case)
        if meshgate:
            result.update(rules_test(case))
        print(json.dumps(result), flush=True)
