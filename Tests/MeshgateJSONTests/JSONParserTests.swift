import MeshgateJSON
import Testing

@Suite struct JSONParserTests {
    @Test func buildsAnOrderedTree() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":[true,false,null,"x",{"k":-2.5}],"b":"again"}"#)
        #expect(value == .object([
            (key: "b", value: .number("1")),
            (key: "a", value: .array([.bool(true), .bool(false), .null, .string("x"), .object([(key: "k", value: .number("-2.5"))])])),
            (key: "b", value: .string("again")),
        ]))
        #expect(value["a"]?.arrayValue?.count == 5)
        #expect(value.hasKey("a"))
        #expect(!value.hasKey("c"))
        #expect(value["a"]?[ "k"] == nil)
    }

    @Test func memberOrderMatters() throws {
        #expect(try JSONParser.parse(#"{"a":1,"b":2}"#) != JSONParser.parse(#"{"b":2,"a":1}"#))
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a\"b","arguments":{"q":"\u0001"}}}"#,
        #"[1,"two",{"three":[3]},null,true,false,-1.5E-7]"#,
        #"{"":{"":[]}}"#,
    ])
    func descriptionIsValidJSONThatParsesBackToTheSameTree(text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(try JSONParser.parse(value.description) == value)
    }

    @Test func longArraysParseInLinearTime() throws {
        // 200k elements: quadratic copying would make this test crawl.
        let text = "[" + Array(repeating: "0", count: 200_000).joined(separator: ",") + "]"
        let value = try JSONParser.parse(text)
        #expect(value.arrayValue?.count == 200_000)
    }
}
