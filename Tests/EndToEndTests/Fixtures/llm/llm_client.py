#!/usr/bin/env python3
"""Drives an LLM API with the official `openai` or `anthropic` Python SDK and prints one JSON line.

    PY llm_client.py --sdk openai|anthropic --base-url URL [--api-key KEY] [--proxy URL] [--ca FILE]
                     [--model M] [--api chat|responses|completions|embeddings] [--stream] [--include-usage]
                     [--max-tokens N] [--cancel-after-chunks N] [--extra-header K:V ...]
                     [--prompt TEXT] [--max-retries 0] [--timeout 30]

--base-url is what the SDK is given: `https://host:port/v1` for openai, `https://host:port` for anthropic.
--proxy sends everything through an HTTP proxy (CONNECT), --ca is the CA bundle the client trusts
(meshgate's CA through the proxy, or the test origin CA when talking to the fake provider directly).
No environment variable is read (trust_env=False) and the SDK does not retry unless --max-retries says so.

Prints, and exits 0, either
  {"ok": true, "text": "...", "usage": {...}, "chunks": N, "cancelled": bool, "headers": {...}}
or
  {"ok": false, "error": "RateLimitError", "status": 429, "message": "...", "body": {...},
   "headers": {...}, "text": "text received before the error", "chunks": N}
`usage` is the SDK's own view: the `usage` object of a JSON response, the usage chunk of an OpenAI stream
(null without one), for an Anthropic stream message_start's usage updated by message_delta's.
`headers` holds the response's x-meshgate-*, retry-after, x-request-id and request-id headers.
"""
import argparse
import json
import sys
import traceback

KEPT_HEADERS = ("retry-after", "x-request-id", "request-id")


def kept(headers):
    if headers is None:
        return {}
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-meshgate-") or k.lower() in KEPT_HEADERS}


def dump(obj):
    if obj is None:
        return None
    if hasattr(obj, "model_dump"):
        return obj.model_dump(exclude_none=True)
    return obj


def http_client(args, module):
    import httpx2

    verify = args.ca if args.ca else True
    return module.DefaultHttpxClient(proxy=args.proxy, verify=verify, trust_env=False,
                                     timeout=httpx2.Timeout(args.timeout))


def headers_arg(args):
    out = {}
    for item in args.extra_header:
        name, sep, value = item.partition(":")
        if not sep:
            raise SystemExit("--extra-header must be K:V, got %r" % item)
        out[name.strip()] = value.strip()
    return out


def run_openai(args, result):
    import openai

    client = openai.OpenAI(api_key=args.api_key, base_url=args.base_url, max_retries=args.max_retries,
                           http_client=http_client(args, openai), default_headers=headers_arg(args))
    model = args.model or ("text-embedding-3-small" if args.api == "embeddings" else "gpt-4o")
    messages = [{"role": "user", "content": args.prompt}]
    try:
        if args.api == "embeddings":
            raw = client.embeddings.with_raw_response.create(model=model, input=args.prompt)
            result["headers"] = kept(raw.headers)
            response = raw.parse()
            result.update(ok=True, text="", usage=dump(response.usage), chunks=0)
            return
        kwargs = {"model": model}
        if args.api == "chat":
            kwargs["messages"] = messages
            if args.max_tokens is not None:
                kwargs["max_tokens"] = args.max_tokens
            create = client.chat.completions.with_raw_response.create
        elif args.api == "completions":
            kwargs["prompt"] = args.prompt
            if args.max_tokens is not None:
                kwargs["max_tokens"] = args.max_tokens
            create = client.completions.with_raw_response.create
        else:
            kwargs["input"] = args.prompt
            if args.max_tokens is not None:
                kwargs["max_output_tokens"] = args.max_tokens
            create = client.responses.with_raw_response.create
        if args.stream:
            kwargs["stream"] = True
            if args.include_usage and args.api != "responses":
                kwargs["stream_options"] = {"include_usage": True}
        raw = create(**kwargs)
        result["headers"] = kept(raw.headers)
        response = raw.parse()
        if not args.stream:
            if args.api == "chat":
                text = response.choices[0].message.content or ""
            elif args.api == "completions":
                text = response.choices[0].text
            else:
                text = response.output_text
            result.update(ok=True, text=text, usage=dump(response.usage), chunks=0)
            return
        result.update(text="", usage=None, chunks=0, cancelled=False)
        for event in response:
            if args.api == "responses":
                kind = getattr(event, "type", "")
                if kind == "response.output_text.delta":
                    result["text"] += event.delta
                    result["chunks"] += 1
                elif kind == "response.completed":
                    result["usage"] = dump(event.response.usage)
            else:
                if event.usage is not None:
                    result["usage"] = dump(event.usage)
                for choice in event.choices:
                    piece = choice.delta.content if args.api == "chat" else choice.text
                    if piece:
                        result["text"] += piece
                        result["chunks"] += 1
            if args.cancel_after_chunks is not None and result["chunks"] >= args.cancel_after_chunks:
                result["cancelled"] = True
                response.close()
                break
        result["ok"] = True
    except openai.APIStatusError as error:
        failed(result, error, error.status_code, error.response.headers, error.body)
    except openai.APIError as error:
        # Errors inside a stream (an SSE `error` event) and connection failures.
        failed(result, error, getattr(error, "status_code", None), None, getattr(error, "body", None))


def run_anthropic(args, result):
    import anthropic

    client = anthropic.Anthropic(api_key=args.api_key, base_url=args.base_url, max_retries=args.max_retries,
                                 http_client=http_client(args, anthropic), default_headers=headers_arg(args))
    kwargs = {"model": args.model or "claude-sonnet-4-5", "max_tokens": args.max_tokens if args.max_tokens is not None else 64,
              "messages": [{"role": "user", "content": args.prompt}]}
    try:
        if args.stream:
            kwargs["stream"] = True
        raw = client.messages.with_raw_response.create(**kwargs)
        result["headers"] = kept(raw.headers)
        response = raw.parse()
        if not args.stream:
            text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
            result.update(ok=True, text=text, usage=dump(response.usage), chunks=0)
            return
        result.update(text="", usage=None, chunks=0, cancelled=False)
        for event in response:
            kind = getattr(event, "type", "")
            if kind == "message_start":
                result["usage"] = dump(event.message.usage)
            elif kind == "message_delta":
                usage = dict(result["usage"] or {})
                usage.update(dump(event.usage))
                result["usage"] = usage
            elif kind == "content_block_delta" and getattr(event.delta, "type", "") == "text_delta":
                result["text"] += event.delta.text
                result["chunks"] += 1
                if args.cancel_after_chunks is not None and result["chunks"] >= args.cancel_after_chunks:
                    result["cancelled"] = True
                    response.close()
                    break
        result["ok"] = True
    except anthropic.APIStatusError as error:
        failed(result, error, error.status_code, error.response.headers, error.body)
    except anthropic.APIError as error:
        failed(result, error, getattr(error, "status_code", None), None, getattr(error, "body", None))


def failed(result, error, status, headers, body):
    result.update(ok=False, error=type(error).__name__, status=status, message=str(error))
    if body is not None:
        result["body"] = body
    if headers is not None:
        result["headers"] = kept(headers)


def main():
    parser = argparse.ArgumentParser(description="official LLM SDK driver for meshgate's tests")
    parser.add_argument("--sdk", choices=["openai", "anthropic"], required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", default="sk-test-caller")
    parser.add_argument("--proxy")
    parser.add_argument("--ca")
    parser.add_argument("--model")
    parser.add_argument("--api", choices=["chat", "responses", "completions", "embeddings"], default="chat",
                        help="OpenAI endpoint (ignored for anthropic)")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--include-usage", action="store_true",
                        help="OpenAI streams: send stream_options.include_usage (meshgate injects it when absent)")
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--cancel-after-chunks", type=int)
    parser.add_argument("--extra-header", action="append", default=[])
    parser.add_argument("--prompt", default="Say hello.")
    parser.add_argument("--max-retries", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    result = {"ok": False, "sdk": args.sdk}
    try:
        (run_openai if args.sdk == "openai" else run_anthropic)(args, result)
    except Exception as error:  # noqa: BLE001 - report anything as JSON, the test reads it
        result.update(ok=False, error=type(error).__name__, status=None, message=str(error))
        # A dropped connection mid-stream is an expected outcome; anything else is a bug worth a trace.
        if not type(error).__module__.startswith(("httpx", "httpcore")):
            result["traceback"] = traceback.format_exc(limit=5)
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
