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
import contextlib
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

    client = sdk_client(args, openai)
    model = args.model or ("text-embedding-3-small" if args.api == "embeddings" else "gpt-4o")
    messages = [{"role": "user", "content": args.prompt}]
    with sdk_errors(result, openai):
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
        if args.extra_body:
            kwargs["extra_body"] = json.loads(args.extra_body)
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


def run_anthropic(args, result):
    import anthropic

    client = sdk_client(args, anthropic)
    kwargs = {"model": args.model or "claude-sonnet-4-5", "max_tokens": args.max_tokens if args.max_tokens is not None else 64,
              "messages": [{"role": "user", "content": args.prompt}]}
    if args.extra_body:
        kwargs["extra_body"] = json.loads(args.extra_body)
    with sdk_errors(result, anthropic):
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


WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"},
                                                   "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                  "required": ["city"]}
TOOL_RESULT = "18 degrees and sunny"


def openai_round_trip(args, result):
    """Asks a question with a get_weather tool, answers the tool call the model makes, prints both turns."""
    import openai

    client = sdk_client(args, openai)
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
                                               "parameters": WEATHER_SCHEMA}}]
    messages = [{"role": "system", "content": "You answer weather questions with the tool."},
                {"role": "user", "content": "What is the weather in Paris?"}]

    def turn(messages):
        kwargs = {"model": args.model or "gpt-4o", "messages": messages, "tools": tools, "max_tokens": args.max_tokens or 64}
        if not args.stream:
            response = client.chat.completions.create(**kwargs)
            choice = response.choices[0]
            calls = [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments, "fragments": 1}
                     for c in choice.message.tool_calls or []]
            return choice.message.content or "", calls, choice.finish_reason, dump(response.usage)
        text, calls, finish, usage = "", {}, None, None
        for chunk in client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs):
            if chunk.usage is not None:
                usage = dump(chunk.usage)
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or []:
                    entry = calls.setdefault(call.index, {"id": None, "name": None, "arguments": "", "fragments": 0})
                    entry["id"] = call.id or entry["id"]
                    if call.function is not None:
                        entry["name"] = call.function.name or entry["name"]
                        if call.function.arguments:
                            entry["arguments"] += call.function.arguments
                            entry["fragments"] += 1
                finish = choice.finish_reason or finish
        return text, [calls[i] for i in sorted(calls)], finish, usage

    with sdk_errors(result, openai):
        _, calls, finish, usage = turn(messages)
        if not calls:
            result.update(ok=False, error="NoToolCall", finish_reason=finish)
            return
        call = calls[0]
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]})
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": TOOL_RESULT})
        text, _, final_finish, final_usage = turn(messages)
        result.update(ok=True, tool_name=call["name"], tool_arguments=json.loads(call["arguments"]),
                      tool_fragments=call["fragments"], tool_finish_reason=finish, text=text,
                      finish_reason=final_finish, usage=final_usage, tool_usage=usage)


def anthropic_round_trip(args, result):
    """The same round trip with the Anthropic SDK."""
    import anthropic

    client = sdk_client(args, anthropic)
    tools = [{"name": "get_weather", "description": "Current weather in a city", "input_schema": WEATHER_SCHEMA}]
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]

    def turn(messages):
        kwargs = {"model": args.model or "claude-sonnet-4-5", "max_tokens": args.max_tokens or 64,
                  "system": "You answer weather questions with the tool.", "messages": messages, "tools": tools}
        if not args.stream:
            response = client.messages.create(**kwargs)
            text = "".join(b.text for b in response.content if b.type == "text")
            calls = [{"id": b.id, "name": b.name, "input": b.input, "fragments": 1} for b in response.content if b.type == "tool_use"]
            return text, calls, response.stop_reason, dump(response.usage)
        text, calls, stop, usage = "", {}, None, {}
        for event in client.messages.create(stream=True, **kwargs):
            if event.type == "message_start":
                usage = dump(event.message.usage)
            elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                calls[event.index] = {"id": event.content_block.id, "name": event.content_block.name, "partial": "", "fragments": 0}
            elif event.type == "content_block_delta":
                if event.delta.type == "text_delta":
                    text += event.delta.text
                elif event.delta.type == "input_json_delta":
                    calls[event.index]["partial"] += event.delta.partial_json
                    calls[event.index]["fragments"] += 1
            elif event.type == "message_delta":
                stop = event.delta.stop_reason
                usage.update(dump(event.usage))
        out = []
        for index in sorted(calls):
            call = calls[index]
            out.append({"id": call["id"], "name": call["name"], "input": json.loads(call["partial"] or "{}"),
                        "fragments": call["fragments"]})
        return text, out, stop, usage

    with sdk_errors(result, anthropic):
        _, calls, stop, usage = turn(messages)
        if not calls:
            result.update(ok=False, error="NoToolCall", finish_reason=stop)
            return
        call = calls[0]
        messages.append({"role": "assistant", "content": [{"type": "tool_use", "id": call["id"], "name": call["name"], "input": call["input"]}]})
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": TOOL_RESULT}]})
        text, _, final_stop, final_usage = turn(messages)
        result.update(ok=True, tool_name=call["name"], tool_arguments=call["input"], tool_fragments=call["fragments"],
                      tool_finish_reason=stop, text=text, finish_reason=final_stop, usage=final_usage, tool_usage=usage)


def sdk_client(args, module):
    """The SDK's client (`openai.OpenAI` or `anthropic.Anthropic`) as every run here configures it."""
    make = module.OpenAI if module.__name__ == "openai" else module.Anthropic
    return make(api_key=args.api_key, base_url=args.base_url, max_retries=args.max_retries,
                http_client=http_client(args, module), default_headers=headers_arg(args))


@contextlib.contextmanager
def sdk_errors(result, module):
    """Records an SDK error in `result`: an HTTP status with its headers and body, or (errors inside
    a stream, such as an SSE `error` event, and connection failures) what the error carries."""
    try:
        yield
    except module.APIStatusError as error:
        failed(result, error, error.status_code, error.response.headers, error.body)
    except module.APIError as error:
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
    parser.add_argument("--extra-body", help="JSON object merged into the request (SDK extra_body)")
    parser.add_argument("--tool-round-trip", action="store_true",
                        help="ask with a get_weather tool, answer its call, report both turns")
    args = parser.parse_args()

    result = {"ok": False, "sdk": args.sdk}
    try:
        if args.tool_round_trip:
            (openai_round_trip if args.sdk == "openai" else anthropic_round_trip)(args, result)
        else:
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
