import Foundation
import MeshgateInspection
import MeshgateJSON

/// Translates complete (non-streamed) response bodies and error bodies between the formats.
public enum ResponseTranslator {
    /// A complete success body from the provider (`from`) in the caller's format (`to`); `model` is
    /// what the caller asked for and is what the body names. `from == to` returns the body as is.
    /// Throws when the provider's body is not the JSON it should be (answer 502 with the message).
    public static func translate(_ body: [UInt8], from: LLMFormat, to: LLMFormat, model: String) throws(TranslationError) -> [UInt8] {
        try translate(body, from: from, to: to, model: model, created: Self.now())
    }

    /// As `translate(_:from:to:model:)`, with OpenAI's `created` timestamp given (for tests).
    static func translate(_ body: [UInt8], from: LLMFormat, to: LLMFormat, model: String, created: Int) throws(TranslationError) -> [UInt8] {
        guard from != to else { return body }
        let root = try JSONValue.parseObject(body, what: "the provider's response")
        switch to {
        case .openai: return try openAIResponse(fromAnthropic: root, model: model, created: created).bytes
        case .anthropic: return try anthropicResponse(fromOpenAI: root, model: model).bytes
        }
    }

    /// A provider error body (any status) in the caller's shape (OpenAI `{"error":{message,type,param,code}}`,
    /// Anthropic `{"type":"error","error":{type,message}}`), keeping the provider's message; a body
    /// without one becomes a generic message naming the status. `from == to` returns the body as is.
    public static func translateError(_ body: [UInt8], status: Int, from: LLMFormat, to: LLMFormat) -> [UInt8] {
        guard from != to else { return body }
        let message = errorMessage(body) ?? "the \(from.rawValue) provider answered HTTP \(status)"
        return Array(ProviderError.body(format: to, status: status, message: message).utf8)
    }

    /// The message of an error document in either shape (`{"error":{"message"}}`, both providers use
    /// it; some OpenAI-compatible servers send `{"error":"text"}` or `{"message"}`).
    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let root = try? JSONParser.parse(body, limits: TranslationLimits.json) else { return nil }
        if let message = root["error"]?["message"]?.stringValue { return message }
        if let message = root["error"]?.stringValue { return message }
        return root["message"]?.stringValue
    }

    static func now() -> Int { Int(Date().timeIntervalSince1970) }

    // MARK: Anthropic -> OpenAI

    static func openAIResponse(fromAnthropic root: JSONValue, model: String, created: Int) throws(TranslationError) -> JSONValue {
        guard let blocks = root["content"]?.arrayValue else {
            throw .invalid("content", "of the provider's response is not an array")
        }
        var texts: [String] = []
        var toolCalls: [JSONValue] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text":
                texts.append(block["text"]?.stringValue ?? "")
            case "tool_use":
                toolCalls.append(.object([
                    ("id", .string(block["id"]?.stringValue ?? "")),
                    ("type", .string("function")),
                    ("function", .object([
                        ("name", .string(block["name"]?.stringValue ?? "")),
                        ("arguments", .string((block["input"] ?? .object([])).description)),
                    ])),
                ]))
            default:
                // thinking / redacted_thinking and server-tool blocks: requests asking for them are
                // refused, and the OpenAI message has no place for them.
                continue
            }
        }
        var message = JSONObject()
        message.set("role", .string("assistant"))
        message.set("content", texts.isEmpty ? .null : .string(texts.joined()))
        if !toolCalls.isEmpty { message.set("tool_calls", .array(toolCalls)) }
        message.set("refusal", .null)
        let choice = JSONObject([
            ("index", .int(0)),
            ("message", message.value),
            ("logprobs", .null),
            ("finish_reason", .string(FormatMapping.finishReason(fromStopReason: root["stop_reason"]?.stringValue))),
        ])
        return .object([
            ("id", .string(FormatMapping.openAIID(root["id"]?.stringValue))),
            ("object", .string("chat.completion")),
            ("created", .int(created)),
            ("model", .string(model)),
            ("choices", .array([choice.value])),
            ("usage", FormatMapping.Usage(anthropic: root["usage"]).openAI),
        ])
    }

    // MARK: OpenAI -> Anthropic

    static func anthropicResponse(fromOpenAI root: JSONValue, model: String) throws(TranslationError) -> JSONValue {
        guard let choice = root["choices"]?.arrayValue?.first, let message = choice["message"] else {
            throw .invalid("choices", "of the provider's response has no message")
        }
        var blocks: [JSONValue] = []
        let text = message.present("content")?.stringValue ?? message.present("refusal")?.stringValue
        if let text, !text.isEmpty {
            blocks.append(.object([("type", .string("text")), ("text", .string(text))]))
        }
        for (k, call) in (message.present("tool_calls")?.arrayValue ?? []).enumerated() {
            let field = "choices[0].message.tool_calls[\(k)].function.arguments"
            let input = try OpenAIToAnthropicRequest.arguments(call["function"]?["arguments"]?.stringValue ?? "", field: field)
            blocks.append(.object([
                ("type", .string("tool_use")),
                ("id", .string(call["id"]?.stringValue ?? "call_\(k)")),
                ("name", .string(call["function"]?["name"]?.stringValue ?? "")),
                ("input", input),
            ]))
        }
        return .object([
            ("id", .string(FormatMapping.anthropicID(root["id"]?.stringValue))),
            ("type", .string("message")),
            ("role", .string("assistant")),
            ("model", .string(model)),
            ("content", .array(blocks)),
            ("stop_reason", .string(FormatMapping.stopReason(fromFinishReason: choice["finish_reason"]?.stringValue))),
            ("stop_sequence", .null),
            ("usage", FormatMapping.Usage(openAI: root["usage"]).anthropic),
        ])
    }
}
