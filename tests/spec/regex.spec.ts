import { Regex, MAX_PROGRAM } from "../../assembly/meta/regex";
import { regexWork, dfaResets, newCacheBudget, REGEX_WORK_BUDGET, resetRegexBudget, setRegexWorkBudget, takeRegexOverBudget } from "../../assembly/meta/regex/dfa";
import { parsePluginConfig, StringMatcher, DEFAULT_MAX_REGEX_INPUT_BYTES } from "../../assembly/meta/config";

// [pattern, input, "y" | "n"]: the whole input must match (Envoy safe_regex / RE2 FullMatch).
const CASES: string[] = [
  // literals, empty
  "", "", "y",
  "", "a", "n",
  "abc", "abc", "y",
  "abc", "abcd", "n",
  "abc", "xabc", "n",
  "abc", "ab", "n",
  "sayHello", "sayHello", "y",
  "sayHello", "sayhello", "n",
  // dot
  "a.c", "abc", "y",
  "a.c", "a\nc", "n",
  "(?s)a.c", "a\nc", "y",
  "a.c", "a😀c", "y",           // one code point, two UTF-16 units
  "a..c", "a😀c", "n",
  "...", "é😀x", "y",
  // alternation and groups
  "cat|dog", "cat", "y",
  "cat|dog", "dog", "y",
  "cat|dog", "cow", "n",
  "cat|dog", "catdog", "n",
  "a(b|c)d", "acd", "y",
  "a(b|c)d", "aed", "n",
  "a(?:b|c)+d", "abcbcd", "y",
  "(?P<m>say|get)[A-Z]\\w*", "getUser", "y",
  "(?P<m>say|get)[A-Z]\\w*", "setUser", "n",
  "(?<m>x)y", "xy", "y",
  "a|", "", "y",
  "a|", "a", "y",
  "|b", "b", "y",
  "()", "", "y",
  "(|a)b", "ab", "y",
  "(|a)b", "b", "y",
  // quantifiers
  "a*", "", "y",
  "a*", "aaaa", "y",
  "a*", "aab", "n",
  "a+", "", "n",
  "a+", "aaa", "y",
  "a?b", "b", "y",
  "a?b", "ab", "y",
  "a?b", "aab", "n",
  "a{3}", "aaa", "y",
  "a{3}", "aa", "n",
  "a{3}", "aaaa", "n",
  "a{2,}", "a", "n",
  "a{2,}", "aaaaaaa", "y",
  "a{2,4}", "aa", "y",
  "a{2,4}", "aaaa", "y",
  "a{2,4}", "aaaaa", "n",
  "a{0}b", "b", "y",
  "a{0,1}b", "ab", "y",
  "(ab){2}", "abab", "y",
  "(ab){2}", "ab", "n",
  "a*?", "aaa", "y",
  "a+?b", "aaab", "y",
  "a??b", "ab", "y",
  "a{2,3}?", "aaa", "y",
  "(a*)*", "aaa", "y",
  "(a*)+b", "b", "y",
  "(a|b)*c", "ababbc", "y",
  "(a|b)*c", "ababb", "n",
  "x{", "x{", "y",               // '{' not starting a repetition is a literal (RE2)
  "x{a}", "x{a}", "y",
  "x{,2}", "x{,2}", "y",
  // classes
  "[abc]", "b", "y",
  "[abc]", "d", "n",
  "[a-z]+", "hello", "y",
  "[a-z]+", "Hello", "n",
  "[^a-z]", "A", "y",
  "[^a-z]", "q", "n",
  "[^a]", "\n", "y",
  "[]a]", "]", "y",
  "[^]a]", "]", "n",
  "[a-]", "-", "y",
  "[-a]", "-", "y",
  "[a\\-z]", "-", "y",
  "[a\\-z]", "m", "n",
  "[\\d.]+", "1.5", "y",
  "[\\w-]+", "x-y_z9", "y",
  "[\\s]", " ", "y",
  "[\\D]", "5", "n",
  "[[:alpha:]]+", "abcXYZ", "y",
  "[[:alpha:]]+", "abc1", "n",
  "[[:^digit:]]", "x", "y",
  "[[:xdigit:]]{2}", "fF", "y",
  "[\\x41-\\x43]", "B", "y",
  "[\\x{1F600}-\\x{1F64F}]", "😀", "y",
  "[é]", "é", "y",
  // perl classes
  "\\d+", "12345", "y",
  "\\d+", "12a45", "n",
  "\\D", "a", "y",
  "\\w+", "abc_123", "y",
  "\\w", "-", "n",
  "\\W", "-", "y",
  "\\s", "\t", "y",
  "\\s", "\v", "n",              // RE2's \s has no \v
  "\\S+", "ab", "y",
  // escapes
  "a\\.b", "a.b", "y",
  "a\\.b", "axb", "n",
  "\\(\\)\\[\\]\\{\\}\\*\\+\\?\\|\\^\\$\\\\", "()[]{}*+?|^$\\", "y",
  "\\t\\n\\r", "\t\n\r", "y",
  "\\x41", "A", "y",
  "\\x{263a}", "☺", "y",
  "\\101", "A", "y",
  "\\0", "\0", "y",
  "\\Qa.b*\\E", "a.b*", "y",
  "\\Qa.b*\\E", "axb", "n",
  "\\Qab\\E+", "abbb", "y",      // the quantifier binds to the last quoted rune
  "\\Qab\\E+", "abab", "n",
  // anchors and assertions
  "^abc$", "abc", "y",
  "^abc", "abc", "y",
  "a^b", "ab", "n",
  "a$b", "ab", "n",
  "(?m)a$\\n^b", "a\nb", "y",
  "a$\\nb", "a\nb", "n",
  "\\Aab\\z", "ab", "y",
  "a\\bb", "ab", "n",
  "a\\b b", "a b", "y",
  "a\\Bb", "ab", "y",
  "\\bfoo\\b", "foo", "y",
  "(^|x)a", "a", "y",
  "(^|x)a", "xa", "y",
  "x(^|y)a", "xa", "n",
  // case-insensitive
  "(?i)hello", "HeLLo", "y",
  "(?i)hello", "HeLLo!", "n",
  "(?i)[a-c]+", "AbC", "y",
  "(?i)[^a]", "A", "n",
  "(?i)k", "\u212a", "y",        // KELVIN SIGN folds to k
  "(?i)σ", "ς", "y",             // Unicode simple case folding, as RE2
  "(?i)ǅ", "ǆ", "y",
  "(?i)\\w", "\u212a", "y",      // named classes fold too, before negation
  "(?P<a>x)(?P<a>y)", "xy", "y", // a name used twice is accepted (RE2 in Envoy 1.40)
  "a\\_", "a_", "y",
  "(?i)é", "É", "y",
  "(?i)\\x41", "a", "y",
  "a(?i)b", "aB", "y",
  "a(?i)b", "AB", "n",
  "(?i:a)b", "Ab", "y",
  "(?i:a)b", "AB", "n",
  "((?i)a)b", "AB", "n",         // flags end with their group
  "(?i)a(?-i)b", "Ab", "y",
  "(?i)a(?-i)b", "AB", "n",
  "(?U)a+", "aaa", "y",
  "(?i)\\W", "k", "n",
  "(?i)[\\W]", "s", "n",
  "(?i)[^\\Wa]", "A", "n",
  "(?i)[^\\Wa]", "b", "y",
  // routing-style patterns
  "greet(ing)?[A-Z][a-z]*", "greetingWorld", "y",
  "greet(ing)?[A-Z][a-z]*", "greetW", "y",
  "greet(ing)?[A-Z][a-z]*", "greetingworld", "n",
  "org\\.apache\\.dubbo\\.samples\\..*", "org.apache.dubbo.samples.DemoService", "y",
  "org\\.apache\\.dubbo\\.samples\\..*", "org.apache.dubbo.other.DemoService", "n",
  "v[0-9]+(\\.[0-9]+){0,2}", "v1.2.3", "y",
  "v[0-9]+(\\.[0-9]+){0,2}", "v1.2.3.4", "n",
  "[a-z0-9]([-a-z0-9]*[a-z0-9])?", "my-service-1", "y",
  "[a-z0-9]([-a-z0-9]*[a-z0-9])?", "my-service-", "n",
];

// [pattern, start of the expected error]
const ERRORS: string[] = [
  "say(Hello", "missing ')' at offset 3",
  "a)", "unexpected ')' at offset 1",
  "a**", "invalid nested repetition operator: ** at offset 1",
  "a+*", "invalid nested repetition operator",
  "a*??", "invalid nested repetition operator",
  "*a", "missing argument to repetition operator: * at offset 0",
  "a|*", "missing argument to repetition operator: *",
  "(+)", "missing argument to repetition operator: +",
  "{2}", "missing argument to repetition operator: {",
  "a{1001}", "invalid repetition {1001}: counts above 1000 are not allowed",
  "a{5,2}", "invalid repetition {5,2}: min > max",
  "[abc", "missing ']' at offset 0",
  "[z-a]", "invalid character class range: z-a",
  "[a-\\d]", "invalid character class range",
  "[[:foo:]]", "invalid character class range: [:foo:]",
  "a\\", "trailing backslash at end of expression",
  "(a)\\1", "backreferences are not supported (RE2) at offset 3",
  "(?P<n>a)(?P=n)", "backreferences are not supported (RE2)",
  "\\k<n>", "backreferences are not supported (RE2)",
  "a(?=b)", "lookahead and lookbehind are not supported (RE2)",
  "a(?!b)", "lookahead and lookbehind are not supported (RE2)",
  "(?<=a)b", "lookahead and lookbehind are not supported (RE2)",
  "(?<!a)b", "lookahead and lookbehind are not supported (RE2)",
  "(?P<>a)", "invalid named capture group",
  "((a{2}){2}){300}", "invalid repetition size: {300}", // RE2: nested counts multiply to at most 1000
  "(?x)a", "invalid or unsupported Perl syntax: (?x",
  "(?)", "invalid or unsupported Perl syntax",
  "(?i", "missing ')'",
  "\\pL", "Unicode character classes (\\p, \\P) are not supported",
  "\\C", "\\C (any byte) is not supported",
  "\\y", "invalid escape sequence: \\y",
  "\\xZ1", "invalid escape sequence",
  "\\x{110000}", "invalid escape sequence",
  "(a{1000}){1000}", "invalid repetition size: {1000}",
];

function repeat(s: string, n: i32): string { return s.repeat(n); }

describe("Regex: match table", () => {
  it("agrees with RE2 full-match semantics on every case", () => {
    expect(CASES.length % 3).toBe(0);
    for (let i = 0; i < CASES.length; i += 3) {
      const pattern = CASES[i], input = CASES[i + 1], want = CASES[i + 2] == "y";
      const re = Regex.compile(pattern);
      expect(re).not.toBeNull("compile " + pattern + ": " + Regex.lastError);
      if (re == null) continue;
      expect(re.fullMatch(input)).toBe(want, "/" + pattern + "/ on \"" + input + "\"");
    }
  });

  it("gives the same answer when a compiled regex is reused", () => {
    const re = Regex.compile("(a|b)*c")!;
    expect(re.fullMatch("abc")).toBe(true);
    expect(re.fullMatch("abd")).toBe(false);
    expect(re.fullMatch("c")).toBe(true);
    expect(re.fullMatch("")).toBe(false);
    // another regex using the shared scratch in between must not disturb the first
    const other = Regex.compile("x+")!;
    expect(other.fullMatch("xxx")).toBe(true);
    expect(re.fullMatch("bbbac")).toBe(true);
  });
});

describe("Regex: errors", () => {
  it("refuses bad or unsupported syntax with a clear reason", () => {
    expect(ERRORS.length % 2).toBe(0);
    for (let i = 0; i < ERRORS.length; i += 2) {
      const re = Regex.compile(ERRORS[i]);
      expect(re).toBeNull("should refuse " + ERRORS[i]);
      expect(Regex.lastError.startsWith(ERRORS[i + 1])).toBe(true, ERRORS[i] + " gave: " + Regex.lastError);
    }
  });

  it("clears lastError after a successful compile", () => {
    expect(Regex.compile("(")).toBeNull();
    expect(Regex.lastError.length).toBeGreaterThan(0);
    expect(Regex.compile("a")).not.toBeNull();
    expect(Regex.lastError).toBe("");
  });

  it("refuses deep nesting instead of overflowing the stack", () => {
    const deep = repeat("(", 200) + "a" + repeat(")", 200);
    expect(Regex.compile(deep)).toBeNull();
    expect(Regex.lastError.startsWith("expression nests too deeply")).toBe(true);
    const ok = repeat("(", 50) + "a" + repeat(")", 50);
    expect(Regex.compile(ok)!.fullMatch("a")).toBe(true);
  });

  it("caps the expanded program size", () => {
    const big = Regex.compile("[a-z]{1000}");
    expect(big).not.toBeNull();
    expect(big!.programLength).toBe(1001);
    expect(big!.fullMatch(repeat("q", 1000))).toBe(true);
    expect(Regex.compile("(ab){1000}x{1000}x{1000}x{1000}")).toBeNull();
    expect(Regex.lastError).toBe("pattern too large: compiled program exceeds " + MAX_PROGRAM.toString() + " instructions");
    // nested counts are multiplied before anything is expanded
    expect(Regex.compile("((a{1000}){1000}){1000}")).toBeNull();
  });

  it("refuses overlong patterns", () => {
    expect(Regex.compile(repeat("a", 20001))).toBeNull();
    expect(Regex.lastError.startsWith("pattern too long")).toBe(true);
  });
});

describe("Regex: linear time on pathological patterns", () => {
  // A backtracking engine needs exponential or quadratic time for these; the Pike VM visits
  // each (position, state) pair at most once. Each runs many times over 5,000+ characters.
  it("(a+)+$ on a^5000 followed by b", () => {
    const re = Regex.compile("(a+)+$")!;
    const bad = repeat("a", 5000) + "b";
    const good = repeat("a", 5000);
    for (let i = 0; i < 20; i++) {
      expect(re.fullMatch(bad)).toBe(false);
      expect(re.fullMatch(good)).toBe(true);
    }
  });

  it("(a|aa)*b on a^5000 without and with the b", () => {
    const re = Regex.compile("(a|aa)*b")!;
    for (let i = 0; i < 20; i++) {
      expect(re.fullMatch(repeat("a", 5000))).toBe(false);
      expect(re.fullMatch(repeat("a", 5000) + "b")).toBe(true);
    }
  });

  it("(x+x+)+y, (a*)*b and a?^n a^n", () => {
    const s = repeat("x", 6000);
    expect(Regex.compile("(x+x+)+y")!.fullMatch(s)).toBe(false);
    expect(Regex.compile("(a*)*b")!.fullMatch(repeat("a", 6000))).toBe(false);
    const n = 30; // a?{n}a{n} is the classic exponential case for backtracking
    const re = Regex.compile(repeat("a?", n) + repeat("a", n))!;
    expect(re.fullMatch(repeat("a", n))).toBe(true);
    expect(re.fullMatch(repeat("a", n - 1))).toBe(false);
  });

  it(".*.*.*=.* on a long line", () => {
    const re = Regex.compile(".*.*.*=.*")!;
    expect(re.fullMatch(repeat("x", 8000))).toBe(false);
    expect(re.fullMatch(repeat("x", 4000) + "=" + repeat("y", 4000))).toBe(true);
  });
});

/** Deterministic a/b text (xorshift), for inputs a DFA cannot summarize with few states. */
function abText(n: i32, seed: u32): string {
  let x = seed;
  const codes = new Array<i32>(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    codes[i] = (x & 1) != 0 ? 0x61 : 0x62;
  }
  return String.fromCharCodes(codes);
}

describe("Regex: work is linear in the input and bounded per character", () => {
  // Counted in NFA instructions visited while building DFA states (regexWork), not in time.
  it("a pattern whose DFA would need 2^21 states: work grows linearly, the cache is refilled, not grown", () => {
    const re = Regex.compile("[ab]*a[ab]{20}")!;
    const short = abText(2000, 7), long = abText(8000, 9);
    re.fullMatch(abText(100, 3)); // size the cache
    const resets0 = dfaResets;
    let w0 = regexWork;
    re.fullMatch(short);
    const wShort = regexWork - w0;
    w0 = regexWork;
    re.fullMatch(long);
    const wLong = regexWork - w0;
    expect(dfaResets).toBeGreaterThan(resets0);
    expect(<f64>wLong / <f64>wShort).toBeLessThan(4.6);
    expect(<f64>wLong / <f64>wShort).toBeGreaterThan(3.4);
    // at most every instruction once per character
    expect(wLong).toBeLessThanOrEqual(<i64>re.programLength * 8000);
  });

  it("a routing pattern builds its few states once; later inputs cost no NFA work", () => {
    const re = Regex.compile("(get|set|list)[A-Z]\\w*")!;
    expect(re.fullMatch("getUser" + repeat("x", 100))).toBe(true);
    const w0 = regexWork;
    expect(re.fullMatch("listOrders" + repeat("y", 10000))).toBe(true);
    expect(re.fullMatch("setZ" + repeat("Q", 10000) + "-")).toBe(false);
    expect(regexWork - w0).toBeLessThan(100);
  });

  it("answers by length or literal ends without running the automaton", () => {
    const re = Regex.compile("com\\.example\\.[a-z]+Service")!;
    const w0 = regexWork;
    expect(re.fullMatch("org.example.fooService")).toBe(false);
    expect(re.fullMatch("com.example.fooServic")).toBe(false);
    expect(Regex.compile("[a-z]{1,8}")!.fullMatch(repeat("a", 100000))).toBe(false);
    expect(regexWork - w0).toBe(0);
    expect(Regex.compile("^abc$")!.fullMatch("abc")).toBe(true);
    expect(Regex.compile("\\Aabc\\z")!.fullMatch("abcd")).toBe(false);
  });
});

function regexMatcherOf(json: string): StringMatcher {
  const r = parsePluginConfig(json, "dubbo");
  expect(r.error).toBe("");
  return r.config!.services[0].routes[0].match.attrs[0].matcher;
}

describe("Regex: maxRegexInputBytes", () => {
  const route = "\"services\":[{\"name\":\"s\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"method\":{\"regex\":\".*\"}}}}]}]";

  it("refuses invalid values naming the field", () => {
    const bad = ["0", "1048577", "\"4k\"", "-1", "1.5"];
    for (let i = 0; i < bad.length; i++) {
      const r = parsePluginConfig("{\"maxRegexInputBytes\":" + bad[i] + "," + route + "}", "dubbo");
      expect(r.config).toBeNull(bad[i]);
      expect(r.error.startsWith("maxRegexInputBytes: ")).toBe(true, r.error);
    }
  });

  it("defaults to " + DEFAULT_MAX_REGEX_INPUT_BYTES.toString() + " UTF-8 bytes: longer values match no regex and are counted", () => {
    const m = regexMatcherOf("{" + route + "}");
    const limit = m.regexLimit!;
    expect(limit.maxBytes).toBe(DEFAULT_MAX_REGEX_INPUT_BYTES);
    expect(m.matches(repeat("a", DEFAULT_MAX_REGEX_INPUT_BYTES))).toBe(true);
    expect(limit.overLimit).toBe(0);
    expect(m.matches(repeat("a", DEFAULT_MAX_REGEX_INPUT_BYTES + 1))).toBe(false);
    expect(limit.overLimit).toBe(1);
    // counted in UTF-8 bytes: é is two
    expect(m.matches(repeat("é", DEFAULT_MAX_REGEX_INPUT_BYTES / 2))).toBe(true);
    expect(m.matches(repeat("é", DEFAULT_MAX_REGEX_INPUT_BYTES / 2 + 1))).toBe(false);
    expect(limit.overLimit).toBe(2);
  });

  it("is configurable up to 1 MiB", () => {
    const m = regexMatcherOf("{\"maxRegexInputBytes\":1048576," + route + "}");
    expect(m.matches(repeat("a", 1048576))).toBe(true);
    expect(m.matches(repeat("a", 1048577))).toBe(false);
    const small = regexMatcherOf("{\"maxRegexInputBytes\":3," + route + "}");
    expect(small.matches("abc")).toBe(true);
    expect(small.matches("abcd")).toBe(false);
  });
});

describe("Regex: the work one callback may spend is bounded", () => {
  // ~1,000 live NFA states per character: the slowest kind of accepted pattern.
  const worst = "[ab]*a[ab]{999}";

  it("a match that would go over the budget answers no match, spending at most the budget", () => {
    resetRegexBudget();
    takeRegexOverBudget();
    const re = Regex.compile(worst)!;
    const text = abText(9000, 11) + "a" + repeat("b", 999); // matches, but needs ~10M units
    const w0 = regexWork;
    expect(re.fullMatch(text)).toBe(false);
    expect(takeRegexOverBudget()).toBe(true);
    expect(regexWork - w0).toBeLessThanOrEqual(REGEX_WORK_BUDGET + <i64>re.programLength * 2);
    // the rest of the callback: work is refused at once
    const w1 = regexWork;
    expect(Regex.compile("[ab]*a[ab]{998}")!.fullMatch(text)).toBe(false);
    expect(regexWork - w1).toBeLessThanOrEqual(<i64>re.programLength * 2);
    expect(takeRegexOverBudget()).toBe(true);
  });

  it("the next callback has the whole budget again; a match within it is answered exactly", () => {
    resetRegexBudget();
    const re = Regex.compile("[ab]*a[ab]{99}")!; // ~100 live states x 10,000 characters: within
    expect(re.fullMatch(abText(9900, 5) + "a" + repeat("b", 99))).toBe(true);
    expect(re.fullMatch(abText(9900, 5) + "b" + repeat("b", 99))).toBe(false);
    expect(takeRegexOverBudget()).toBe(false);
  });

  it("is counted by the matcher (regex_budget_exceeded) as a no match", () => {
    resetRegexBudget();
    const m = regexMatcherOf("{\"maxRegexInputBytes\":1048576,\"services\":[{\"name\":\"s\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"method\":{\"regex\":\"" + worst + "\"}}}}]}]}");
    expect(m.matches(abText(9000, 3) + "a" + repeat("a", 999))).toBe(false);
    expect(m.regexLimit!.overBudget).toBe(1);
    resetRegexBudget();
    expect(m.matches("a" + repeat("b", 999))).toBe(true);
    expect(m.regexLimit!.overBudget).toBe(1);
  });

  it("lifted (-1) for benchmarks and differential tests", () => {
    setRegexWorkBudget(-1);
    resetRegexBudget();
    const re = Regex.compile(worst)!;
    expect(re.fullMatch(abText(9000, 11) + "a" + repeat("b", 999))).toBe(true);
    expect(takeRegexOverBudget()).toBe(false);
    setRegexWorkBudget(REGEX_WORK_BUDGET);
  });
});

describe("Regex: cache memory of a config is bounded", () => {
  it("regexes beyond the config's cache budget run uncached, with the same answers", () => {
    // Each regex's cache takes about 32 KiB at its first match; 8 MiB hold about 250 of them.
    newCacheBudget();
    resetRegexBudget(); // a fresh callback: the specs before spent the work budget
    const res: Regex[] = [];
    for (let i = 0; i < 400; i++) res.push(Regex.compile("(get|set)" + i.toString() + "[A-Z]\\w*")!);
    for (let i = 0; i < 400; i++) {
      expect(res[i].fullMatch("get" + i.toString() + "User")).toBe(true);
      expect(res[i].fullMatch("put" + i.toString() + "User")).toBe(false);
    }
    res[0].fullMatch("set0Xxx"); // builds the states this shape needs
    const w0 = regexWork;
    expect(res[0].fullMatch("set0X" + repeat("x", 1000))).toBe(true); // cached: no NFA work
    const cached = regexWork - w0;
    const w1 = regexWork;
    expect(res[399].fullMatch("set399X" + repeat("x", 1000))).toBe(true); // over budget: steps state sets
    const uncached = regexWork - w1;
    expect(cached).toBe(0);
    expect(uncached).toBeGreaterThan(1000);
  });
});
