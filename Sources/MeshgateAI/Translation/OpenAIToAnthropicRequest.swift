import MeshgateInspection
import MeshgateJSON

/// An OpenAI Chat Completions request as an Anthropic Messages request.
///
/// Dropped on purpose (no Anthropic counterpart, no effect on the answer): `stream_options`
/// (Anthropic streams always carry usage), `store` and `metadata` (OpenAI-side stored completions),
/// `service_tier`, `prompt_cache_key` and `prompt_cache_retention` (OpenAI cache routing hints),
/// `parallel_tool_calls: true` (the default), a message's `name`, an image's `detail` and a tool's
/// `strict` (Anthropic validates tool input against `input_schema` anyway).
/// Accepted when neutral, refused otherwise: `n` (1), `logprobs` (false), `frequency_penalty` and
/// `presence_penalty` (0), `response_format` (`text`), `modalities` (`["text"]`), `logit_bias` ({}).
/// Mapped: `user` / `safety_identifier` to `metadata.user_id`. Everything else unknown is refused.
enum OpenAIToAnthropicRequest {
    /// Anthropic requires `max_tokens`; used when the OpenAI request leaves it to the model.
    static let defaultMaxTokens = 4096

    private static let translated: Set<String> = [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "stream",
        "tools", "tool_choice", "parallel_tool_calls", "user", "safety_identifier",
    ]
    private static let dropped: Set<String> = [
        "stream_options", "store", "metadata", "service_tier", "prompt_cache_key", "prompt_cache_retention",
    ]

    static func translate(_ root: JSONValue, model: String) throws(TranslationError) -> JSONValue {
        for (key, value) in root.objectMembers ?? [] where !value.isNull {
            if translated.contains(key) || dropped.contains(key) { continue }
            if isNeutral(key, value) { continue }
            throw .unsupported(key, to: .anthropic, value: neutralHint(key, value))
        }
        var out = JSONObject()
        out.set("model", .string(model))
        let maxTokens = root.present("max_completion_tokens") ?? root.present("max_tokens")
        out.set("max_tokens", maxTokens ?? .int(defaultMaxTokens))
        guard let messages = root.present("messages")?.arrayValue else {
            throw .invalid("messages", "must be an array of messages")
        }
        let conversation = try convertMessages(messages)
        out.set("system", ifPresent: conversation.system)
        out.set("messages", .array(conversation.messages))
        if let stop = root.present("stop") {
            switch stop {
            case .string: out.set("stop_sequences", .array([stop]))
            case .array: out.set("stop_sequences", stop)
            default: throw .invalid("stop", "must be a string or an array of strings")
            }
        }
        if let temperature = root.present("temperature") {
            // OpenAI accepts 0...2, Anthropic 0...1; rescaling would change the sampling the caller chose.
            if let t = temperature.doubleValue, t > 1 {
                throw TranslationError(field: "temperature", message: "field 'temperature' is \(temperature); the anthropic format accepts 0 to 1")
            }
            out.set("temperature", temperature)
        }
        out.set("top_p", ifPresent: root.present("top_p"))
        if let tools = root.present("tools") { out.set("tools", try convertTools(tools)) }
        var toolChoice = try root.present("tool_choice").map { (c) throws(TranslationError) in try convertToolChoice(c) }
        if root.present("parallel_tool_calls")?.boolValue == false {
            var choice = JSONObject(toolChoice?.objectMembers ?? [("type", .string("auto"))])
            if choice.value["type"]?.stringValue != "none" {
                choice.set("disable_parallel_tool_use", .bool(true))
            }
            toolChoice = choice.value
        }
        out.set("tool_choice", ifPresent: toolChoice)
        out.set("stream", ifPresent: root.present("stream"))
        if let user = root.present("safety_identifier") ?? root.present("user") {
            out.set("metadata", .object([("user_id", user)]))
        }
        return out.value
    }

    /// Values of unsupported fields that ask for nothing beyond the default.
    private static func isNeutral(_ key: String, _ value: JSONValue) -> Bool {
        switch key {
        case "n": value.intValue == 1
        case "logprobs": value.boolValue == false
        case "frequency_penalty", "presence_penalty": value.doubleValue == 0
        case "response_format": value["type"]?.stringValue == "text"
        case "modalities": value == .array([.string("text")])
        case "logit_bias": value.objectMembers?.isEmpty == true
        default: false
        }
    }

    private static func neutralHint(_ key: String, _ value: JSONValue) -> String? {
        switch key {
        case "n", "response_format", "modalities", "reasoning_effort": "\(value)"
        default: nil
        }
    }

    // MARK: messages

    private static func convertMessages(_ messages: [JSONValue]) throws(TranslationError) -> (system: JSONValue?, messages: [JSONValue]) {
        var systemBlocks: [JSONValue] = []
        var systemString: String?
        var systemCount = 0
        var out: [JSONValue] = []
        var toolResults: [JSONValue] = []

        func flushToolResults() {
            guard !toolResults.isEmpty else { return }
            out.append(.object([("role", .string("user")), ("content", .array(toolResults))]))
            toolResults = []
        }

        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            guard let role = message["role"]?.stringValue else { throw .invalid(path + ".role", "is missing") }
            try checkMessageKeys(message, role: role, path: path)
            if role != "tool" { flushToolResults() }
            switch role {
            case "system", "developer":
                // Anthropic has one top-level system prompt; system messages are gathered there in order.
                systemCount += 1
                let content = message.present("content")
                if case .string(let s) = content { systemString = s }
                systemBlocks += try textBlocks(content, path: path + ".content", allowRefusal: false)
            case "user":
                out.append(.object([("role", .string("user")), ("content", try userContent(message.present("content"), path: path + ".content"))]))
            case "assistant":
                out.append(.object([("role", .string("assistant")), ("content", try assistantContent(message, path: path))]))
            case "tool":
                toolResults.append(try toolResult(message, path: path))
            default:
                throw .unsupported(path + ".role", to: .anthropic, value: "'\(role)'")
            }
        }
        flushToolResults()
        let system: JSONValue? = switch systemCount {
        case 0: nil
        case 1 where systemString != nil: .string(systemString ?? "")
        default: .array(systemBlocks)
        }
        return (system, out)
    }

    private static func checkMessageKeys(_ message: JSONValue, role: String, path: String) throws(TranslationError) {
        let allowed: Set<String> = switch role {
        case "assistant": ["role", "content", "name", "tool_calls", "refusal"]
        case "tool": ["role", "content", "tool_call_id"]
        default: ["role", "content", "name"]
        }
        for (key, value) in message.objectMembers ?? [] where !value.isNull && !allowed.contains(key) {
            throw .unsupported("\(path).\(key)", to: .anthropic)
        }
    }

    /// Text parts (or a plain string) as Anthropic text blocks.
    private static func textBlocks(_ content: JSONValue?, path: String, allowRefusal: Bool) throws(TranslationError) -> [JSONValue] {
        switch content {
        case nil: return []
        case .string(let s)?: return s.isEmpty ? [] : [textBlock(s)]
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for (j, part) in parts.enumerated() {
                let type = part["type"]?.stringValue
                if type == "text", let text = part["text"]?.stringValue {
                    blocks.append(textBlock(text))
                } else if allowRefusal, type == "refusal", let text = part["refusal"]?.stringValue {
                    blocks.append(textBlock(text))
                } else {
                    throw .unsupported("\(path)[\(j)].type", to: .anthropic, value: "'\(type ?? "missing")' here")
                }
            }
            return blocks
        case let other?:
            throw .invalid(path, "must be a string or an array of content parts, not \(other.kindName)")
        }
    }

    private static func textBlock(_ text: String) -> JSONValue {
        .object([("type", .string("text")), ("text", .string(text))])
    }

    private static func userContent(_ content: JSONValue?, path: String) throws(TranslationError) -> JSONValue {
        switch content {
        case .string(let s)?: return .string(s)
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for (j, part) in parts.enumerated() {
                let partPath = "\(path)[\(j)]"
                switch part["type"]?.stringValue {
                case "text":
                    guard let text = part["text"]?.stringValue else { throw .invalid(partPath + ".text", "is missing") }
                    blocks.append(textBlock(text))
                case "image_url":
                    guard let url = part["image_url"]?["url"]?.stringValue else { throw .invalid(partPath + ".image_url.url", "is missing") }
                    let source = try FormatMapping.imageSource(fromURL: url, field: partPath + ".image_url.url")
                    blocks.append(.object([("type", .string("image")), ("source", source)]))
                case let type:
                    throw .unsupported(partPath + ".type", to: .anthropic, value: "'\(type ?? "missing")'")
                }
            }
            return .array(blocks)
        case nil: throw .invalid(path, "is missing")
        case let other?: throw .invalid(path, "must be a string or an array of content parts, not \(other.kindName)")
        }
    }

    private static func assistantContent(_ message: JSONValue, path: String) throws(TranslationError) -> JSONValue {
        let content = message.present("content")
        let toolCalls = message.present("tool_calls")?.arrayValue ?? []
        if toolCalls.isEmpty, case .string(let s)? = content { return .string(s) }
        var blocks = try textBlocks(content, path: path + ".content", allowRefusal: true)
        if blocks.isEmpty, let refusal = message.present("refusal")?.stringValue { blocks.append(textBlock(refusal)) }
        for (k, call) in toolCalls.enumerated() {
            let callPath = "\(path).tool_calls[\(k)]"
            guard call["type"]?.stringValue ?? "function" == "function" else {
                throw .unsupported(callPath + ".type", to: .anthropic, value: "'\(call["type"]?.stringValue ?? "")'")
            }
            guard let id = call["id"]?.stringValue else { throw .invalid(callPath + ".id", "is missing") }
            guard let name = call["function"]?["name"]?.stringValue else { throw .invalid(callPath + ".function.name", "is missing") }
            let input = try arguments(call["function"]?["arguments"]?.stringValue ?? "", field: callPath + ".function.arguments")
            blocks.append(.object([("type", .string("tool_use")), ("id", .string(id)), ("name", .string(name)), ("input", input)]))
        }
        return .array(blocks)
    }

    /// A tool call's JSON-string arguments as the object Anthropic's `input` wants.
    static func arguments(_ text: String, field: String) throws(TranslationError) -> JSONValue {
        if text.allSatisfy(\.isWhitespace) { return .object([]) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(text.utf8), limits: TranslationLimits.json)
        } catch {
            throw .invalid(field, "is not valid JSON (\(error.description))")
        }
        guard value.isObject else { throw .invalid(field, "must be a JSON object, not \(value.kindName)") }
        return value
    }

    private static func toolResult(_ message: JSONValue, path: String) throws(TranslationError) -> JSONValue {
        guard let id = message["tool_call_id"]?.stringValue else { throw .invalid(path + ".tool_call_id", "is missing") }
        let content: JSONValue = switch message.present("content") {
        case .string(let s)?: .string(s)
        case let other: .array(try textBlocks(other, path: path + ".content", allowRefusal: false))
        }
        return .object([("type", .string("tool_result")), ("tool_use_id", .string(id)), ("content", content)])
    }

    // MARK: tools

    private static func convertTools(_ tools: JSONValue) throws(TranslationError) -> JSONValue {
        guard let list = tools.arrayValue else { throw .invalid("tools", "must be an array") }
        var out: [JSONValue] = []
        for (i, tool) in list.enumerated() {
            let path = "tools[\(i)]"
            guard tool["type"]?.stringValue == "function", let function = tool["function"] else {
                throw .unsupported(path + ".type", to: .anthropic, value: "'\(tool["type"]?.stringValue ?? "missing")'")
            }
            guard let name = function["name"]?.stringValue else { throw .invalid(path + ".function.name", "is missing") }
            var converted = JSONObject()
            converted.set("name", .string(name))
            converted.set("description", ifPresent: function.present("description"))
            converted.set("input_schema", function.present("parameters") ?? .object([("type", .string("object")), ("properties", .object([]))]))
            out.append(converted.value)
        }
        return .array(out)
    }

    private static func convertToolChoice(_ choice: JSONValue) throws(TranslationError) -> JSONValue {
        switch choice {
        case .string("auto"): return .object([("type", .string("auto"))])
        case .string("none"): return .object([("type", .string("none"))])
        case .string("required"): return .object([("type", .string("any"))])
        default:
            if choice["type"]?.stringValue == "function", let name = choice["function"]?["name"]?.stringValue {
                return .object([("type", .string("tool")), ("name", .string(name))])
            }
            throw .unsupported("tool_choice", to: .anthropic, value: "\(choice)")
        }
    }
}
