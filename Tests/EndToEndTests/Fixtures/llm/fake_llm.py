#!/usr/bin/env python3
"""Fake OpenAI + Anthropic provider over TLS for meshgate's AI gateway tests (stdlib only).

    python3 fake_llm.py --cert LEAF.pem --key LEAF.key [--port 0] [--host 127.0.0.1]
                        [--log REQUESTS.jsonl] [--fail-file PATH] [--require-key KEY]

Prints the bound port on the first stdout line, then serves until terminated or stdin closes.

Endpoints (HTTP/1.1, keep-alive; streams use chunked transfer encoding and text/event-stream):
  POST /v1/chat/completions   OpenAI chat, JSON or SSE (`stream: true`)
  POST /v1/completions        OpenAI legacy completions, JSON or SSE
  POST /v1/responses          OpenAI Responses, JSON or SSE (typed events, usage in response.completed)
  POST /v1/embeddings         OpenAI embeddings (input tokens only)
  POST /v1/messages           Anthropic Messages, JSON or SSE
  GET  /v1/models             a model list

Usage is deterministic, so tests can assert exact charges:
  input tokens   `x-fake-input-tokens` header, else 12 (embeddings: else 8)
  output tokens  N = `x-fake-output-tokens` header, else min(max_tokens, 10) where max_tokens is
                 `max_tokens`, `max_completion_tokens` or `max_output_tokens` from the body (10 when absent);
                 the text is "tok " repeated N times, one "tok " per stream chunk.
  cached         `x-fake-cached-tokens` (default 0): OpenAI `prompt_tokens_details.cached_tokens`
                 (part of prompt_tokens, as OpenAI counts), Anthropic `cache_read_input_tokens`
                 (in addition to input_tokens, as Anthropic counts)
  cache writes   `x-fake-cache-creation-tokens` (default 0): Anthropic `cache_creation_input_tokens`
OpenAI streams carry a usage chunk (choices: []) only when the request has
`stream_options.include_usage: true`, like the real API. Anthropic streams report input usage in
`message_start` (with output_tokens 1) and the final output_tokens in `message_delta`.

Tools: a chat or messages request that offers tools and does not end with a tool result is answered
with one call of the first tool, arguments {"city": "Paris", "unit": "celsius"} (streamed in 4 argument
fragments: OpenAI `tool_calls[].function.arguments` chunks, Anthropic `input_json_delta` events); a
request that ends with a tool result is answered with the text "The tool said: RESULT".

Controls (request headers):
  x-fake-chunk-delay-ms: MS        sleep between stream chunks
  x-fake-fail: 500|429|503|...     answer that status with the provider's error shape (429 has retry-after: 7)
  x-fake-fail-after-chunks: K      stream K content chunks, then drop the connection (no usage, no end event)
  x-fake-retry-after: S            the retry-after of an x-fake-fail: 429 answer (default 7)
  x-fake-hang-before-headers-ms: MS  wait MS before answering anything (a stalled provider)
  x-fake-hang-after-chunks: K      stream K content chunks, then stall (up to 10 min) without closing
  x-fake-invalid-json: 1           answer 200 with a body that is not JSON (streams: an SSE event whose data is not JSON)
  x-fake-body-bytes: N             a non-streamed answer whose text is about N bytes (for huge responses)
While it hangs, the fake watches the connection: when the client (meshgate) goes away, it logs
{"kind": "client_gone", "seq", "path", "waited_ms"} at once, so tests can see an upstream call was cancelled.
A file named by --fail-file containing a status code (e.g. "500") fails every request while it exists.
--require-key KEY answers 401 unless `Authorization: Bearer KEY` or `x-api-key: KEY` is presented.

--log writes one JSON line per request as it arrives, before answering:
  {"kind": "request", "seq", "method", "path", "headers": {lower-case name: value}, "body": parsed JSON or text}
and one per finished stream: {"kind": "stream_end", "seq", "path", "chunks_sent", "aborted": bool}.
"""
import argparse
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_INPUT = 12
DEFAULT_EMBEDDING_INPUT = 8
DEFAULT_OUTPUT = 10
WORD = "tok "


class Log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.seq = 0

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def write(self, record):
        if not self.path:
            return
        line = json.dumps(record, sort_keys=True) + "\n"
        with self.lock:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()


class ClientGone(Exception):
    pass


HANG_LIMIT_SECONDS = 600


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm/1"

    def log_message(self, *args):
        pass

    # Head and body leave in one write (the handlers flush explicitly): two small unbuffered writes
    # meet the client's delayed ACK (Nagle) and added ~40 ms to every answer.
    wbufsize = 1 << 16

    def setup(self):
        # The handshake runs here, on the connection's thread, so a slow client cannot stall accept().
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.do_handshake()
        super().setup()

    # ---- plumbing -------------------------------------------------------------------------

    def read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def header_int(self, name, default):
        value = self.headers.get(name)
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default

    def request_id(self):
        return "req_fake_%d" % self.seq

    def send_json(self, status, obj, extra=()):
        payload = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.send_header("x-request-id", self.request_id())
        self.send_header("request-id", self.request_id())
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def start_stream(self):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-request-id", self.request_id())
        self.send_header("request-id", self.request_id())
        self.end_headers()

    def chunk(self, text):
        data = text.encode()
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError) as error:
            raise ClientGone() from error

    def end_stream(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError) as error:
            raise ClientGone() from error

    def sse(self, obj, event=None):
        prefix = "event: %s\n" % event if event else ""
        self.chunk(prefix + "data: " + json.dumps(obj) + "\n\n")

    def wait_or_gone(self, seconds):
        """Stalls up to `seconds` while watching the connection; logs and raises ClientGone when the peer leaves."""
        started = time.monotonic()
        deadline = started + seconds
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], min(0.05, max(0, deadline - time.monotonic())))
            if not readable:
                continue
            try:
                data = self.connection.recv(1)
            except (ssl.SSLWantReadError,):
                continue
            except (ssl.SSLError, OSError):
                data = b""
            if not data:
                self.server.log.write({"kind": "client_gone", "seq": self.seq, "path": self.path,
                                       "waited_ms": int((time.monotonic() - started) * 1000)})
                self.close_connection = True
                raise ClientGone()
        return True

    def pause(self):
        delay = self.header_int("x-fake-chunk-delay-ms", 0)
        if delay > 0:
            time.sleep(delay / 1000.0)

    def abort(self):
        """Drops the connection mid-stream, as a provider crash would."""
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    # ---- dispatch -------------------------------------------------------------------------

    def do_GET(self):
        self.seq = self.server.log.next_seq()
        self.body = None
        self.record(b"")
        if self.path.split("?")[0] == "/v1/models":
            models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "text-embedding-3-small"]
            return self.send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in models]})
        self.send_json(404, {"error": {"message": "no such endpoint %s" % self.path, "type": "invalid_request_error"}})

    def do_POST(self):
        self.seq = self.server.log.next_seq()
        raw = self.read_body()
        self.record(raw)
        path = self.path.split("?")[0]
        anthropic = path == "/v1/messages"
        try:
            hang = self.header_int("x-fake-hang-before-headers-ms", 0)
            if hang > 0:
                self.wait_or_gone(min(hang / 1000.0, HANG_LIMIT_SECONDS))
        except ClientGone:
            return
        if self.refuse_key(anthropic) or self.fail_if_asked(anthropic):
            return
        if self.headers.get("x-fake-invalid-json"):
            return self.invalid_json()
        if not isinstance(self.body, dict):
            return self.error(400, anthropic, "request body must be a JSON object")
        routes = {
            "/v1/chat/completions": self.chat,
            "/v1/completions": self.completions,
            "/v1/responses": self.openai_responses,
            "/v1/embeddings": self.embeddings,
            "/v1/messages": self.messages,
        }
        handler = routes.get(path)
        if handler is None:
            return self.error(404, anthropic, "no such endpoint %s" % path)
        try:
            handler()
        except ClientGone:
            # The client went away mid-stream (e.g. a cancelled SDK stream).
            self.close_connection = True
            self.stream_end(getattr(self, "sent", 0), True)

    def invalid_json(self):
        """A 200 that is not what the format promises: truncated JSON, or an SSE event with garbage data."""
        if isinstance(self.body, dict) and self.body.get("stream"):
            self.start_stream()
            self.chunk("data: {this is not json\n\n")
            self.chunk("data: [DONE]\n\n")
            self.end_stream()
            return self.stream_end(1, False)
        payload = b'{"id": "broken", "choices": [{"message": '
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def record(self, raw):
        try:
            self.body = json.loads(raw) if raw else None
        except ValueError:
            self.body = raw.decode("utf-8", "replace")
        self.server.log.write({
            "kind": "request", "seq": self.seq, "method": self.command, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()}, "body": self.body,
        })

    def stream_end(self, sent, aborted):
        self.server.log.write({"kind": "stream_end", "seq": self.seq, "path": self.path,
                               "chunks_sent": sent, "aborted": aborted})

    # ---- errors ---------------------------------------------------------------------------

    def error(self, status, anthropic, message):
        extra = [("retry-after", self.headers.get("x-fake-retry-after") or "7")] if status == 429 else []
        if anthropic:
            kind = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                    429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
            return self.send_json(status, {"type": "error", "error": {"type": kind, "message": message}}, extra)
        kind, code = {400: ("invalid_request_error", None), 401: ("invalid_request_error", "invalid_api_key"),
                      404: ("invalid_request_error", "unknown_url"),
                      429: ("requests", "rate_limit_exceeded")}.get(status, ("server_error", None))
        self.send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, extra)

    def refuse_key(self, anthropic):
        want = self.server.require_key
        if not want:
            return False
        bearer = self.headers.get("authorization", "")
        presented = bearer[7:] if bearer.lower().startswith("bearer ") else self.headers.get("x-api-key")
        if presented == want:
            return False
        self.error(401, anthropic, "fake provider: wrong or missing API key")
        return True

    def fail_if_asked(self, anthropic):
        status = self.headers.get("x-fake-fail")
        if not status and self.server.fail_file and os.path.exists(self.server.fail_file):
            with open(self.server.fail_file, encoding="utf-8") as f:
                status = f.read().strip() or "500"
        if not status:
            return False
        try:
            code = int(status)
        except ValueError:
            code = 500
        self.error(code, anthropic, "fake provider failure %d (asked for)" % code)
        return True

    # ---- usage ----------------------------------------------------------------------------

    def counts(self, default_input=DEFAULT_INPUT):
        body = self.body
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens")
        output = min(int(limit), DEFAULT_OUTPUT) if isinstance(limit, int) and limit > 0 else DEFAULT_OUTPUT
        output = self.header_int("x-fake-output-tokens", output)
        return (self.header_int("x-fake-input-tokens", default_input), output,
                self.header_int("x-fake-cached-tokens", 0), self.header_int("x-fake-cache-creation-tokens", 0))

    def finish_reason(self, output):
        body = self.body
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens")
        return "length" if isinstance(limit, int) and output >= limit else "stop"

    @staticmethod
    def openai_usage(inp, out, cached):
        return {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}

    def stream_chunks(self, count, emit):
        """Emits `count` content chunks via `emit(i)`, honouring delay and fail-after; returns False if aborted."""
        fail_after = self.header_int("x-fake-fail-after-chunks", -1)
        hang_after = self.header_int("x-fake-hang-after-chunks", -1)
        self.sent = 0
        for i in range(count):
            if i == hang_after:
                self.wfile.flush()
                self.wait_or_gone(HANG_LIMIT_SECONDS)
            if i == fail_after:
                self.stream_end(i, True)
                self.abort()
                return False
            if i > 0:
                self.pause()
            emit(i)
            self.sent = i + 1
        return True

    # ---- tools ----------------------------------------------------------------------------

    TOOL_ARGUMENTS = '{"city": "Paris", "unit": "celsius"}'

    def tool_turn(self, anthropic):
        """("call", tool name) when the request offers tools and awaits a call, ("result", text) when
        it ends with a tool result, None otherwise."""
        messages = self.body.get("messages") or []
        last = messages[-1] if messages else {}
        if anthropic:
            content = last.get("content") if isinstance(last, dict) else None
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    return ("result", self.text_of(block.get("content")))
            tools = self.body.get("tools") or []
            return ("call", tools[0].get("name", "tool")) if tools else None
        if isinstance(last, dict) and last.get("role") == "tool":
            return ("result", self.text_of(last.get("content")))
        tools = self.body.get("tools") or []
        return ("call", (tools[0].get("function") or {}).get("name", "tool")) if tools else None

    @staticmethod
    def text_of(content):
        """A tool result's text: a string as is, a list of text parts joined."""
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return str(content)

    @classmethod
    def argument_fragments(cls):
        text = cls.TOOL_ARGUMENTS
        size = (len(text) + 3) // 4
        return [text[i:i + size] for i in range(0, len(text), size)]

    def openai_tool_call(self, name):
        inp, out, cached, _ = self.counts()
        model = str(self.body.get("model", "gpt-4o"))
        ident, created, call_id = "chatcmpl-fake-%d" % self.seq, int(time.time()), "call_fake_%d" % self.seq
        if not self.body.get("stream"):
            message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": self.TOOL_ARGUMENTS}}]}
            return self.send_json(200, {"id": ident, "object": "chat.completion", "created": created, "model": model,
                                        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls"}],
                                        "usage": self.openai_usage(inp, out, cached), "system_fingerprint": None})
        include_usage = bool((self.body.get("stream_options") or {}).get("include_usage"))

        def frame(choices, usage=None):
            frame = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                     "system_fingerprint": None, "choices": choices}
            if include_usage:
                frame["usage"] = usage
            return frame

        self.start_stream()
        self.sse(frame([{"index": 0, "delta": {"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]},
            "logprobs": None, "finish_reason": None}]))
        for fragment in self.argument_fragments():
            self.pause()
            self.sse(frame([{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]},
                             "logprobs": None, "finish_reason": None}]))
        self.sse(frame([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}]))
        if include_usage:
            self.sse(frame([], self.openai_usage(inp, out, cached)))
        self.chunk("data: [DONE]\n\n")
        self.end_stream()
        self.stream_end(len(self.argument_fragments()), False)

    def anthropic_tool_call(self, name):
        inp, out, cached, created_cache = self.counts()
        model = str(self.body.get("model", "claude-sonnet-4-5"))
        ident, call_id = "msg_fake_%d" % self.seq, "toolu_fake_%d" % self.seq
        usage = {"input_tokens": inp, "output_tokens": out, "cache_creation_input_tokens": created_cache,
                 "cache_read_input_tokens": cached}
        if not self.body.get("stream"):
            return self.send_json(200, {"id": ident, "type": "message", "role": "assistant", "model": model,
                                        "content": [{"type": "tool_use", "id": call_id, "name": name,
                                                     "input": json.loads(self.TOOL_ARGUMENTS)}],
                                        "stop_reason": "tool_use", "stop_sequence": None, "usage": usage})
        self.start_stream()
        self.sse({"type": "message_start", "message": {
            "id": ident, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": dict(usage, output_tokens=1)}}, "message_start")
        self.sse({"type": "content_block_start", "index": 0,
                  "content_block": {"type": "tool_use", "id": call_id, "name": name, "input": {}}}, "content_block_start")
        for fragment in self.argument_fragments():
            self.pause()
            self.sse({"type": "content_block_delta", "index": 0,
                      "delta": {"type": "input_json_delta", "partial_json": fragment}}, "content_block_delta")
        self.sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        self.sse({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                  "usage": {"output_tokens": out}}, "message_delta")
        self.sse({"type": "message_stop"}, "message_stop")
        self.end_stream()
        self.stream_end(len(self.argument_fragments()), False)

    # ---- OpenAI ---------------------------------------------------------------------------

    def chat(self):
        turn = self.tool_turn(False)
        if turn and turn[0] == "call":
            return self.openai_tool_call(turn[1])
        self.reply_text = "The tool said: %s" % turn[1] if turn else None
        self.openai_text("chat.completion", "chatcmpl")

    def completions(self):
        self.openai_text("text_completion", "cmpl")

    def openai_text(self, obj, prefix):
        inp, out, cached, _ = self.counts()
        model = str(self.body.get("model", "gpt-4o"))
        ident, created = "%s-fake-%d" % (prefix, self.seq), int(time.time())
        chat = obj == "chat.completion"
        reason = self.finish_reason(out)
        if not self.body.get("stream"):
            choice = {"index": 0, "logprobs": None, "finish_reason": reason}
            if chat:
                choice["message"] = {"role": "assistant", "content": self.text(out), "refusal": None}
            else:
                choice["text"] = WORD * out
            return self.send_json(200, {"id": ident, "object": obj, "created": created, "model": model,
                                        "choices": [choice], "usage": self.openai_usage(inp, out, cached),
                                        "system_fingerprint": None})
        include_usage = bool((self.body.get("stream_options") or {}).get("include_usage"))
        chunk_object = "chat.completion.chunk" if chat else "text_completion"

        def frame(choices, usage=None):
            frame = {"id": ident, "object": chunk_object, "created": created, "model": model,
                     "system_fingerprint": None, "choices": choices}
            if include_usage:
                frame["usage"] = usage
            return frame

        def choice(i, text, finish=None):
            if chat:
                delta = {"content": text}
                if i == 0:
                    delta["role"] = "assistant"
                return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}

        self.start_stream()
        pieces = self.pieces(out)
        if not self.stream_chunks(len(pieces), lambda i: self.sse(frame([choice(i, pieces[i])]))):
            return
        self.sse(frame([choice(out, "", reason)]))
        if include_usage:
            self.sse(frame([], self.openai_usage(inp, out, cached)))
        self.chunk("data: [DONE]\n\n")
        self.end_stream()
        self.stream_end(out, False)

    def openai_responses(self):
        inp, out, cached, _ = self.counts()
        model = str(self.body.get("model", "gpt-4o"))
        ident, item = "resp_fake_%d" % self.seq, "msg_fake_%d" % self.seq
        usage = {"input_tokens": inp, "input_tokens_details": {"cached_tokens": cached},
                 "output_tokens": out, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": inp + out}

        def response(status, text, with_usage):
            content = [{"type": "output_text", "text": text, "annotations": []}]
            output = [{"id": item, "type": "message", "status": status, "role": "assistant", "content": content}] \
                if text is not None else []
            return {"id": ident, "object": "response", "created_at": int(time.time()), "status": status,
                    "model": model, "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
                    "tools": [], "error": None, "incomplete_details": None, "instructions": None,
                    "metadata": {}, "temperature": 1.0, "top_p": 1.0,
                    "usage": usage if with_usage else None}

        if not self.body.get("stream"):
            return self.send_json(200, response("completed", WORD * out, True))
        seq = iter(range(1_000_000))
        self.start_stream()
        self.sse({"type": "response.created", "sequence_number": next(seq),
                  "response": response("in_progress", None, False)}, "response.created")
        self.sse({"type": "response.output_item.added", "sequence_number": next(seq), "output_index": 0,
                  "item": {"id": item, "type": "message", "status": "in_progress", "role": "assistant", "content": []}},
                 "response.output_item.added")
        self.sse({"type": "response.content_part.added", "sequence_number": next(seq), "item_id": item,
                  "output_index": 0, "content_index": 0,
                  "part": {"type": "output_text", "text": "", "annotations": []}}, "response.content_part.added")
        ok = self.stream_chunks(out, lambda i: self.sse(
            {"type": "response.output_text.delta", "sequence_number": next(seq), "item_id": item,
             "output_index": 0, "content_index": 0, "delta": WORD, "logprobs": []}, "response.output_text.delta"))
        if not ok:
            return
        self.sse({"type": "response.output_text.done", "sequence_number": next(seq), "item_id": item,
                  "output_index": 0, "content_index": 0, "text": WORD * out, "logprobs": []}, "response.output_text.done")
        self.sse({"type": "response.completed", "sequence_number": next(seq),
                  "response": response("completed", WORD * out, True)}, "response.completed")
        self.end_stream()
        self.stream_end(out, False)

    def embeddings(self):
        inp = self.header_int("x-fake-input-tokens", DEFAULT_EMBEDDING_INPUT)
        raw = self.body.get("input", "")
        inputs = raw if isinstance(raw, list) and raw and not isinstance(raw[0], int) else [raw]
        data = [{"object": "embedding", "index": i, "embedding": [0.0, 0.5, 1.0]} for i in range(len(inputs))]
        self.send_json(200, {"object": "list", "data": data, "model": str(self.body.get("model", "text-embedding-3-small")),
                             "usage": {"prompt_tokens": inp, "total_tokens": inp}})

    # ---- Anthropic ------------------------------------------------------------------------

    def text(self, out):
        size = self.header_int("x-fake-body-bytes", 0)
        if size > 0:
            return WORD * (size // len(WORD))
        return getattr(self, "reply_text", None) or WORD * out

    def pieces(self, out):
        reply = getattr(self, "reply_text", None)
        if not reply:
            return [WORD] * out
        words = reply.split(" ")
        return [word + " " for word in words[:-1]] + [words[-1]]

    def messages(self):
        turn = self.tool_turn(True)
        if turn and turn[0] == "call":
            return self.anthropic_tool_call(turn[1])
        self.reply_text = "The tool said: %s" % turn[1] if turn else None
        inp, out, cached, created_cache = self.counts()
        model = str(self.body.get("model", "claude-sonnet-4-5"))
        ident = "msg_fake_%d" % self.seq
        limit = self.body.get("max_tokens")
        stop = "max_tokens" if isinstance(limit, int) and out >= limit else "end_turn"
        usage = {"input_tokens": inp, "output_tokens": out, "cache_creation_input_tokens": created_cache,
                 "cache_read_input_tokens": cached, "service_tier": "standard"}
        if not self.body.get("stream"):
            return self.send_json(200, {"id": ident, "type": "message", "role": "assistant", "model": model,
                                        "content": [{"type": "text", "text": self.text(out)}],
                                        "stop_reason": stop, "stop_sequence": None, "usage": usage})
        start_usage = dict(usage, output_tokens=1)
        self.start_stream()
        self.sse({"type": "message_start", "message": {
            "id": ident, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}}, "message_start")
        self.sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                 "content_block_start")
        self.sse({"type": "ping"}, "ping")
        pieces = self.pieces(out)
        ok = self.stream_chunks(len(pieces), lambda i: self.sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": pieces[i]}},
            "content_block_delta"))
        if not ok:
            return
        self.sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        self.sse({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                  "usage": {"output_tokens": out}}, "message_delta")
        self.sse({"type": "message_stop"}, "message_stop")
        self.end_stream()
        self.stream_end(out, False)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 turned bursts of concurrent connects into 1 s SYN retries.
    request_queue_size = 512

    def handle_error(self, request, client_address):
        # Failed handshakes and dropped connections are routine in tests; anything else is a bug here.
        error = sys.exc_info()[1]
        if not isinstance(error, (ssl.SSLError, ConnectionError, ClientGone)):
            super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description="fake OpenAI + Anthropic provider over TLS")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", help="append one JSON line per request here")
    parser.add_argument("--fail-file", help="while this file exists, answer every request with the status it contains")
    parser.add_argument("--require-key", help="answer 401 unless this key is presented")
    args = parser.parse_args()

    server = Server((args.host, args.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["http/1.1"])
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.log = Log(args.log)
    server.fail_file = args.fail_file
    server.require_key = args.require_key
    print(server.server_address[1], flush=True)

    def watch_stdin():
        # The Swift tests close stdin to stop us; a shell that leaves stdin on a tty is unaffected.
        try:
            while sys.stdin.read(4096):
                pass
        except (OSError, ValueError):
            return
        server.shutdown()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
