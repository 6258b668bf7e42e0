import {
  parseJson, JsonValue, JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT, JSON_MAX_DEPTH, jsonKindName,
} from "../../assembly/meta/json";

function ok(text: string): JsonValue {
  const r = parseJson(text);
  expect(r.error).toBe("", text);
  return r.value!;
}

function repeat(s: string, n: i32): string {
  let out = "";
  for (let i = 0; i < n; i++) out += s;
  return out;
}

describe("JSON: values", () => {
  it("parses scalars", () => {
    expect(ok("null").kind).toBe(JSON_NULL);
    expect(ok("true").boolValue).toBe(true);
    expect(ok("false").kind).toBe(JSON_BOOL);
    expect(ok("false").boolValue).toBe(false);
    expect(ok(" \t\r\n\"x\" ").stringValue).toBe("x");
  });

  it("parses numbers and remembers integers", () => {
    const a = ok("42");
    expect(a.kind).toBe(JSON_NUMBER);
    expect(a.numberValue).toBe(42.0);
    expect(a.isInteger).toBe(true);
    const b = ok("-0.5");
    expect(b.numberValue).toBe(-0.5);
    expect(b.isInteger).toBe(false);
    expect(ok("1e3").numberValue).toBe(1000.0);
    expect(ok("1e3").isInteger).toBe(false);
    expect(ok("1.0").isInteger).toBe(false);
    expect(ok("-7").numberValue).toBe(-7.0);
    expect(ok("0").numberValue).toBe(0.0);
    expect(ok("1073741824").numberValue).toBe(1073741824.0);
    expect(ok("2.5E-3").numberValue).toBe(0.0025);
  });

  it("parses arrays and objects in order", () => {
    const v = ok("{\"b\": [1, \"two\", null, {}], \"a\": {\"x\": false}, \"c\": []}");
    expect(v.kind).toBe(JSON_OBJECT);
    expect(v.length).toBe(3);
    expect(v.keyAt(0)).toBe("b");
    expect(v.keyAt(1)).toBe("a");
    expect(v.keyAt(2)).toBe("c");
    const b = v.get("b")!;
    expect(b.kind).toBe(JSON_ARRAY);
    expect(b.length).toBe(4);
    expect(b.at(1).stringValue).toBe("two");
    expect(b.at(2).kind).toBe(JSON_NULL);
    expect(b.at(3).kind).toBe(JSON_OBJECT);
    expect(b.at(3).length).toBe(0);
    expect(v.get("a")!.get("x")!.kind).toBe(JSON_BOOL);
    expect(v.get("missing")).toBeNull();
    expect(v.get("c")!.length).toBe(0);
    expect(b.get("0")).toBeNull(); // get() on a list is not an error, just absent
  });

  it("decodes escapes, \\u and surrogate pairs", () => {
    expect(ok("\"a\\\"b\\\\c\\/d\"").stringValue).toBe("a\"b\\c/d");
    expect(ok("\"\\b\\f\\n\\r\\t\"").stringValue).toBe("\b\f\n\r\t");
    expect(ok("\"\\u0041\\u00e9\\u263A\"").stringValue).toBe("Aé☺");
    const s = ok("\"x\\ud83d\\ude00y\"").stringValue;
    expect(s).toBe("x😀y");
    expect(s.length).toBe(4);
    expect(ok("\"raw é 😀\"").stringValue).toBe("raw é 😀");
  });

  it("accepts nesting up to the limit", () => {
    const d = JSON_MAX_DEPTH;
    const v = ok(repeat("[", d) + repeat("]", d));
    expect(v.kind).toBe(JSON_ARRAY);
  });
});

// [input, expected error]
const BAD: string[] = [
  "", "unexpected end of input at offset 0",
  "   ", "unexpected end of input at offset 3",
  "{", "unexpected end of input at offset 1",
  "{\"services\": [", "unexpected end of input at offset 14",
  "[1,]", "unexpected character ']' at offset 3",
  "[1 2]", "expected ',' or ']' at offset 3",
  "{\"a\" 1}", "expected ':' at offset 5",
  "{\"a\":1,}", "expected a string key at offset 7",
  "{a:1}", "expected a string key at offset 1",
  "{\"a\":1 \"b\":2}", "expected ',' or '}' at offset 7",
  "{\"a\":1,\"a\":2}", "duplicate key \"a\" at offset 7",
  "01", "invalid number: leading zero at offset 0",
  "-", "invalid number at offset 0",
  "1.", "invalid number: digits expected after '.' at offset 2",
  "1e", "invalid number: digits expected in the exponent at offset 2",
  ".5", "unexpected character '.' at offset 0",
  "+1", "unexpected character '+' at offset 0",
  "NaN", "unexpected character 'N' at offset 0",
  "tru", "unexpected character 't' at offset 0",
  "nul", "unexpected character 'n' at offset 0",
  "'a'", "unexpected character ''' at offset 0",
  "\"abc", "unterminated string at offset 0",
  "\"a\\", "unterminated string at offset 2",
  "\"a\nb\"", "control character U+000A in a string at offset 2",
  "\"\\x\"", "invalid escape \\x at offset 1",
  "\"\\u12\"", "invalid \\u escape at offset 1",
  "\"\\ud83d\"", "unpaired surrogate in \\u escape at offset 1",
  "\"\\ud83dx\"", "unpaired surrogate in \\u escape at offset 1",
  "\"\\ud83d\\u0041\"", "unpaired surrogate in \\u escape at offset 1",
  "\"\\ude00\"", "unpaired surrogate in \\u escape at offset 1",
  "{} {}", "unexpected character after the JSON value at offset 3",
  "[] x", "unexpected character after the JSON value at offset 3",
  "/* c */ {}", "unexpected character '/' at offset 0",
];

describe("JSON: errors", () => {
  it("refuses bad input with a message and an offset", () => {
    expect(BAD.length % 2).toBe(0);
    for (let i = 0; i < BAD.length; i += 2) {
      const r = parseJson(BAD[i]);
      expect(r.value).toBeNull(BAD[i]);
      expect(r.error).toBe(BAD[i + 1], "input: " + BAD[i]);
    }
  });

  it("reports the offset separately", () => {
    const r = parseJson("[1,\n 2,\n x]");
    expect(r.offset).toBe(9);
    expect(parseJson("[]").offset).toBe(-1);
  });

  it("refuses nesting beyond the limit without recursing further", () => {
    const d = JSON_MAX_DEPTH + 1;
    const r = parseJson(repeat("[", d) + repeat("]", d));
    expect(r.error).toBe("nesting deeper than 64 at offset 64");
    // hostile: a very deep document stops at the limit, not at the end of the stack
    const h = parseJson(repeat("{\"a\":", 20000));
    expect(h.error.startsWith("nesting deeper than 64")).toBe(true);
  });

  it("detects duplicate keys in large objects too", () => {
    let text = "{";
    for (let i = 0; i < 40; i++) text += "\"k" + i.toString() + "\":" + i.toString() + ",";
    const good = parseJson(text + "\"last\":0}");
    expect(good.error).toBe("");
    expect(good.value!.length).toBe(41);
    expect(good.value!.get("k39")!.numberValue).toBe(39.0);
    const dup = parseJson(text + "\"k20\":0}");
    expect(dup.error.startsWith("duplicate key \"k20\"")).toBe(true);
  });

  it("names kinds for messages", () => {
    expect(jsonKindName(ok("\"s\"").kind)).toBe("a string");
    expect(jsonKindName(ok("[]").kind)).toBe("a list");
    expect(jsonKindName(ok("{}").kind)).toBe("an object");
  });
});
