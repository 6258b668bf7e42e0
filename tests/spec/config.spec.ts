import {
  BIND_ON_FIRST_REQUEST, BIND_ON_CONNECTION,
  parsePluginConfig, PluginConfig, Route, WeightedCluster, StringMatcher,
  MATCH_EXACT, MATCH_PREFIX, MAX_CONFIG_REGEX_INSTRUCTIONS, MATCH_REGEX, MATCH_PRESENT, ON_MISMATCH_KEEP, ON_MISMATCH_REJECT,
} from "../../assembly/meta/config";
import { Metadata } from "../../assembly/meta/metadata";
import { parseDuration } from "../../assembly/meta/config/duration";
import { clusterNameError } from "../../assembly/meta/config/cluster";
import { isIPv4, isIPv6 } from "../../assembly/meta/config/ip";
import {
  VALID_NAMES, VALID_TEXTS, INVALID_NAMES, INVALID_TEXTS, INVALID_EXPECTS,
} from "./generated/config-fixtures";

function fixture(name: string): string {
  const i = VALID_NAMES.indexOf(name);
  expect(i).toBeGreaterThanOrEqual(0, "fixture " + name);
  return VALID_TEXTS[i];
}

function accept(json: string): PluginConfig {
  const r = parsePluginConfig(json, "dubbo");
  expect(r.error).toBe("", json);
  return r.config!;
}

function refuse(json: string): string {
  const r = parsePluginConfig(json, "dubbo");
  expect(r.config).toBeNull(json);
  return r.error;
}

describe("plugin config: shared fixtures (tests/fixtures/plugin-config)", () => {
  it("accepts every valid-*.json", () => {
    expect(VALID_NAMES.length).toBeGreaterThan(0);
    for (let i = 0; i < VALID_NAMES.length; i++) {
      const r = parsePluginConfig(VALID_TEXTS[i], "dubbo");
      expect(r.error).toBe("", VALID_NAMES[i]);
      expect(r.config).not.toBeNull(VALID_NAMES[i]);
    }
  });

  it("refuses every invalid-*.json naming the field path of its .expect", () => {
    expect(INVALID_NAMES.length).toBeGreaterThan(0);
    for (let i = 0; i < INVALID_NAMES.length; i++) {
      const r = parsePluginConfig(INVALID_TEXTS[i], "dubbo");
      expect(r.config).toBeNull(INVALID_NAMES[i]);
      expect(r.error.startsWith(INVALID_EXPECTS[i] + ": ")).toBe(true, INVALID_NAMES[i] + " gave: " + r.error);
    }
  });

  it("accepts the largest frame cap with a budget that holds it", () => {
    const c = accept("{\"maxFrameBytes\":134217728,\"maxHeldBytes\":536870912}");
    expect(c.maxFrameBytes).toBe(134217728);
    expect(c.maxHeldBytes).toBe(536870912);
  });

  it("reads valid-dubbo-demo into the model", () => {
    const c = accept(fixture("valid-dubbo-demo"));
    expect(c.statPrefix).toBe("dubbo_demo");
    expect(c.maxFrameBytes).toBe(8388608);
    expect(c.onRouteMismatch).toBe(ON_MISMATCH_KEEP);
    expect(c.statsFlushIntervalMs).toBe(1000);
    expect(c.services.length).toBe(1);
    const s = c.services[0];
    expect(s.name).toBe("dubbo-demo.default.svc.cluster.local");
    expect(s.index).toBe(0);
    expect(s.addresses.length).toBe(1);
    expect(s.addresses[0]).toBe("10.96.0.20");
    expect(s.match.attrs.length).toBe(1);
    expect(s.match.attrs[0].key).toBe("interface");
    expect(s.match.attrs[0].matcher.kind).toBe(MATCH_PREFIX);
    expect(s.defaultCluster).toBe("outbound|20880||dubbo-demo.default.svc.cluster.local");
    expect(s.routes.length).toBe(3);

    const hello = s.routes[0];
    expect(hello.name).toBe("hello-v2");
    expect(hello.index).toBe(0);
    expect(hello.match.attrs[0].matcher.kind).toBe(MATCH_EXACT);
    expect(hello.match.attrs[0].matcher.value).toBe("sayHello");
    expect(hello.clusters.length).toBe(1);
    expect(hello.totalWeight).toBe(100);
    expect(hello.requestMutation.length).toBe(1);
    expect(hello.requestMutation[0].key).toBe("x-canary");
    expect(hello.requestMutation[0].value).toBe("true");
    expect(hello.responseMutation[0].key).toBe("x-served-by-route");

    const split = s.routes[1];
    expect(split.index).toBe(1);
    expect(split.match.attrs.length).toBe(2);
    expect(split.match.attrs[0].matcher.kind).toBe(MATCH_REGEX);
    expect(split.match.attrs[0].matcher.regex).not.toBeNull();
    expect(split.match.attrs[1].key).toBe("x-tenant");
    expect(split.match.attrs[1].matcher.kind).toBe(MATCH_PRESENT);
    expect(split.clusters[0].weight).toBe(20);
    expect(split.clusters[1].weight).toBe(80);
    expect(split.totalWeight).toBe(100);

    const rest = s.routes[2];
    expect(rest.match.isEmpty()).toBe(true);

    const rl = s.localRateLimit!;
    expect(rl.bucket!.maxTokens).toBe(1000);
    expect(rl.bucket!.tokensPerFill).toBe(1000);
    expect(rl.bucket!.fillIntervalMs).toBe(1000);
    expect(rl.conditions.length).toBe(1);
    expect(rl.conditions[0].bucket.maxTokens).toBe(2);
    expect(rl.conditions[0].bucket.fillIntervalMs).toBe(500);
    expect(rl.conditions[0].match.attrs[0].matcher.value).toBe("heavy");

    // every key any match reads, and nothing else
    expect(c.requestKeys.has("interface")).toBe(true);
    expect(c.requestKeys.has("method")).toBe(true);
    expect(c.requestKeys.has("x-tenant")).toBe(true);
    expect(c.requestKeys.has("x-canary")).toBe(false); // a mutation is written, not read
    expect(c.requestKeys.keys.size).toBe(3);
  });

  it("reads valid-inbound-policy: REJECT, a route without destinations", () => {
    const c = accept(fixture("valid-inbound-policy"));
    expect(c.statPrefix).toBe("thrift_inbound");
    expect(c.onRouteMismatch).toBe(ON_MISMATCH_REJECT);
    const r = c.services[0].routes[0];
    expect(r.name).toBe("all");
    expect(r.clusters.length).toBe(0);
    expect(r.pickCluster(12345)).toBe("");
    expect(c.services[0].defaultCluster).toBe("");
    expect(c.requestKeys.isEmpty()).toBe(true);
  });

  it("fills defaults from valid-minimal", () => {
    const c = accept(fixture("valid-minimal"));
    expect(c.statPrefix).toBe("dubbo");
    expect(c.maxFrameBytes).toBe(8388608);
    expect(c.maxHeldBytes).toBe(268435456);
    expect(c.onRouteMismatch).toBe(ON_MISMATCH_KEEP);
    expect(c.bindOn).toBe(BIND_ON_FIRST_REQUEST);
    expect(c.statsFlushIntervalMs).toBe(1000);
    expect(c.services.length).toBe(0);
    expect(parsePluginConfig("{\"bindOn\":\"CONNECTION\"}", "dubbo").config!.bindOn).toBe(BIND_ON_CONNECTION);
    expect(c.requestKeys.isEmpty()).toBe(true);
    expect(parsePluginConfig("{}", "thrift").config!.statPrefix).toBe("thrift");
  });
});

describe("plugin config: defaults and model behaviour", () => {
  it("adds a default route when a service has none", () => {
    const c = accept("{\"services\":[{\"name\":\"a\",\"defaultCluster\":\"outbound|9090||a.ns.svc.cluster.local\"},{\"name\":\"b\",\"routes\":[]}]}");
    const a = c.services[0];
    expect(a.routes.length).toBe(1);
    expect(a.routes[0].name).toBe("default");
    expect(a.routes[0].match.isEmpty()).toBe(true);
    expect(a.routes[0].pickCluster(7)).toBe("outbound|9090||a.ns.svc.cluster.local");
    const b = c.services[1];
    expect(b.index).toBe(1);
    expect(b.routes.length).toBe(1);
    expect(b.routes[0].pickCluster(7)).toBe(""); // keep the connection's cluster
    expect(b.localRateLimit).toBeNull();
  });

  it("matches metadata: every attribute, absent attributes never match", () => {
    const c = accept("{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{" +
      "\"method\":{\"regex\":\"say(Hello|Bye)\"},\"version\":{\"prefix\":\"1.\"},\"x-tenant\":{\"present\":true}}}}]}]}");
    const m = c.services[0].routes[0].match;
    const md = new Metadata();
    md.setAttribute("method", "sayHello");
    md.setAttribute("version", "1.2.0");
    expect(m.matches(md)).toBe(false); // x-tenant absent
    md.setAttribute("x-tenant", "");
    expect(m.matches(md)).toBe(true);  // present with an empty value still counts
    md.setAttribute("method", "sayHelloWorld");
    expect(m.matches(md)).toBe(false); // regex is a full match
    md.setAttribute("method", "sayBye");
    md.setAttribute("version", "2.0");
    expect(m.matches(md)).toBe(false);
    expect(new Metadata().getAttribute("x")).toBeNull();
  });

  it("exact \"\" checks presence, as Envoy's HeaderMatcher exact_match that Aeraki's rules reach", () => {
    const c = accept("{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"group\":{\"exact\":\"\"}}}}]}]}");
    const m = c.services[0].routes[0].match;
    const md = new Metadata();
    expect(m.matches(md)).toBe(false); // absent
    md.setAttribute("group", "canary");
    expect(m.matches(md)).toBe(true);  // any value
    md.setAttribute("group", "");
    expect(m.matches(md)).toBe(true);  // an empty value is present too
  });

  it("string matchers", () => {
    const ex = new StringMatcher();
    ex.kind = MATCH_EXACT; ex.value = "a";
    expect(ex.matches("a")).toBe(true);
    expect(ex.matches("ab")).toBe(false);
    expect(ex.matches(null)).toBe(false);
    const pre = new StringMatcher();
    pre.kind = MATCH_PREFIX; pre.value = "";
    expect(pre.matches("anything")).toBe(true);
    expect(pre.matches(null)).toBe(false);
    const pr = new StringMatcher();
    pr.kind = MATCH_PRESENT;
    expect(pr.matches("")).toBe(true);
    expect(pr.matches(null)).toBe(false);
  });

  it("pickCluster distributes by weight", () => {
    const r = new Route();
    r.clusters.push(new WeightedCluster("outbound|1|v1|a", 20));
    r.clusters.push(new WeightedCluster("outbound|1|v2|a", 0));  // weight 0: never picked
    r.clusters.push(new WeightedCluster("outbound|1|v3|a", 80));
    r.totalWeight = 100;
    // Every residue 0..99 exactly once: the split must be exactly 20/0/80.
    let v1 = 0, v2 = 0, v3 = 0;
    for (let i: u32 = 0; i < 100; i++) {
      const c = r.pickCluster(i * 7919 + 3); // 7919 is prime to 100: a permutation of residues
      if (c == "outbound|1|v1|a") v1++; else if (c == "outbound|1|v2|a") v2++; else if (c == "outbound|1|v3|a") v3++;
    }
    expect(v1).toBe(20);
    expect(v2).toBe(0);
    expect(v3).toBe(80);
    // A deterministic pseudo-random stream (xorshift32) lands close to the weights.
    let x: u32 = 2463534242;
    v1 = 0; v3 = 0;
    for (let i = 0; i < 10000; i++) {
      x ^= x << 13; x ^= x >> 17; x ^= x << 5;
      if (r.pickCluster(x) == "outbound|1|v1|a") v1++; else v3++;
    }
    expect(v1).toBeGreaterThan(1800);
    expect(v1).toBeLessThan(2200);
    // boundaries
    expect(r.pickCluster(19)).toBe("outbound|1|v1|a");
    expect(r.pickCluster(20)).toBe("outbound|1|v3|a");
    expect(r.pickCluster(0xffffffff)).toBe("outbound|1|v3|a"); // 4294967295 % 100 = 95
  });

  it("parses weights from config into a working split", () => {
    const c = accept("{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[" +
      "{\"cluster\":\"outbound|1|v1|a\",\"weight\":1},{\"cluster\":\"outbound|1|v2|a\",\"weight\":3}]}]}]}");
    const r = c.services[0].routes[0];
    expect(r.totalWeight).toBe(4);
    expect(r.pickCluster(0)).toBe("outbound|1|v1|a");
    expect(r.pickCluster(1)).toBe("outbound|1|v2|a");
    expect(r.pickCluster(4)).toBe("outbound|1|v1|a");
  });
});

function repeat(item: string, n: i32): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(item);
  return parts.join(",");
}
function manyAttributes(n: i32): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push("\"k" + i.toString() + "\":{\"present\":true}");
  return parts.join(",");
}

// [config JSON, expected error (exact)]
const REFUSED: string[] = [
  "[]", "(root): must be an object, got a list",
  "", "(root): invalid JSON: unexpected end of input at offset 0",
  "{\"statPrefix\":\"\"}", "statPrefix: must not be empty",
  "{\"statPrefix\":\"a.b\"}", "statPrefix: must match [a-zA-Z0-9_]+, got \"a.b\"",
  "{\"statPrefix\":7}", "statPrefix: must be a string, got a number",
  "{\"maxFrameBytes\":134217729}", "maxFrameBytes: must be an integer between 16 and 134217728, got 134217729",
  // 512 MiB was accepted once and trapped the VM (Envoy caps a VM's memory at 1 GiB).
  "{\"maxFrameBytes\":536870912}", "maxFrameBytes: must be an integer between 16 and 134217728, got 536870912",
  "{\"maxFrameBytes\":1024.5}", "maxFrameBytes: must be an integer between 16 and 134217728, got a fraction or exponent",
  "{\"services\":[{\"name\":\"a\",\"match\":{\"attributes\":{" + manyAttributes(33) + "}}}]}", "services[0].match.attributes: at most 32 attributes, got 33",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[" + repeat("{\"cluster\":\"outbound|1|v1|a\",\"weight\":1}", 65) + "]}]}]}", "services[0].routes[0].route: at most 64 entries, got 65",
  "{\"services\":[" + repeat("{\"name\":\"a\"}", 4097) + "]}", "services: at most 4096 entries, got 4097",
  "{\"services\":[{\"name\":\"a\",\"routes\":[" + repeat("{\"name\":\"r\"}", 1025) + "]}]}", "services[0].routes: at most 1024 entries, got 1025",
  "{\"services\":[" + repeat("{\"name\":\"a\",\"routes\":[" + repeat("{\"name\":\"r\"}", 1000) + "]}", 9) + "]}", "services[8].routes: the config's services together have more than 8192 routes",
  "{\"statPrefix\":\"" + "x".repeat(2 << 20) + "\"}", "(root): the configuration is 2097169 bytes, more than 2097152",
  "{\"maxHeldBytes\":1000}", "maxHeldBytes: must be an integer between 1048576 and 805306368, got 1000",
  "{\"maxHeldBytes\":1048576,\"maxFrameBytes\":2097152}", "maxFrameBytes: 2097152 cannot be held within maxHeldBytes 1048576 (a partial frame is held whole, in at most 7/8 of the budget): lower maxFrameBytes or raise maxHeldBytes",
  "{\"maxHeldBytes\":1048576,\"maxFrameBytes\":917505}", "maxFrameBytes: 917505 cannot be held within maxHeldBytes 1048576 (a partial frame is held whole, in at most 7/8 of the budget): lower maxFrameBytes or raise maxHeldBytes",
  "{\"maxHeldBytes\":805306368}", "maxHeldBytes: maxHeldBytes + 2 x maxFrameBytes is 822083584, more than 805306368 (a VM's memory is capped at 1 GiB; a callback may copy a frame twice besides what is held)",
  "{\"statsFlushIntervalMs\":9}", "statsFlushIntervalMs: must be an integer between 10 and 60000, got 9",
  "{\"onRouteMismatch\":\"keep\"}", "onRouteMismatch: must be \"KEEP\" or \"REJECT\", got \"keep\"",
  "{\"bindOn\":\"ACCEPT\"}", "bindOn: must be \"FIRST_REQUEST\" or \"CONNECTION\", got \"ACCEPT\"",
  "{\"services\":{}}", "services: must be a list, got an object",
  "{\"services\":[1]}", "services[0]: must be an object, got a number",
  "{\"services\":[{\"name\":\"\"}]}", "services[0].name: must not be empty",
  "{\"services\":[{\"name\":\"a\",\"port\":1}]}", "services[0].port: unknown field (known here: name, match, defaultCluster, routes, localRateLimit, globalRateLimit)",
  "{\"services\":[{\"name\":\"a\",\"match\":{\"addresses\":[\"10.0.0.256\"]}}]}", "services[0].match.addresses[0]: must be an IPv4 or IPv6 address, got \"10.0.0.256\"",
  "{\"services\":[{\"name\":\"a\",\"match\":{\"addresses\":\"10.0.0.1\"}}]}", "services[0].match.addresses: must be a list, got a string",
  "{\"services\":[{\"name\":\"a\",\"match\":{\"hosts\":[]}}]}", "services[0].match.hosts: unknown field (known here: addresses, attributes)",
  "{\"services\":[{\"name\":\"a\",\"defaultCluster\":\"a.b.svc\"}]}", "services[0].defaultCluster: must be outbound|<port>|<subset>|<host> or inbound|<port>||, got 1 part separated by '|' (cluster \"a.b.svc\")",
  "{\"services\":[{\"name\":\"a\",\"defaultCluster\":\"\"}]}", "services[0].defaultCluster: must not be empty (cluster \"\")",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{}]}]}", "services[0].routes[0].name: required",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"mirror\":{}}]}]}", "services[0].routes[0].mirror: unknown field (known here: name, match, route, requestMutation, responseMutation)",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"m\":{}}}}]}]}", "services[0].routes[0].match.attributes.m: must have exactly one of exact, prefix, regex, present; got 0",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"m\":{\"suffix\":\"x\"}}}}]}]}", "services[0].routes[0].match.attributes.m.suffix: unknown field (known here: exact, prefix, regex, present)",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"m\":{\"present\":false}}}}]}]}", "services[0].routes[0].match.attributes.m.present: must be true",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"m\":{\"exact\":1}}}}]}]}", "services[0].routes[0].match.attributes.m.exact: must be a string, got a number",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"a.b\":{\"regex\":\"(a)\\\\1\"}}}}]}]}", "services[0].routes[0].match.attributes[\"a.b\"].regex: backreferences are not supported (RE2) at offset 3",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":[]}}]}]}", "services[0].routes[0].match.attributes: must be an object, got a list",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"\":{\"exact\":\"x\"}}}}]}]}", "services[0].routes[0].match.attributes[\"\"]: attribute name must not be empty",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[{\"weight\":1}]}]}]}", "services[0].routes[0].route[0].cluster: required",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[{\"cluster\":\"outbound|1|v1|a\"}]}]}]}", "services[0].routes[0].route[0].weight: required",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[{\"cluster\":\"outbound|1|v1|a\",\"weight\":4294967295},{\"cluster\":\"outbound|1|v2|a\",\"weight\":1}]}]}]}", "services[0].routes[0].route: weights add up to more than 4294967295",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[{\"cluster\":\"sideways|1|v1|a\",\"weight\":1}]}]}]}", "services[0].routes[0].route[0].cluster: direction \"sideways\" must be outbound or inbound (cluster \"sideways|1|v1|a\")",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[{\"cluster\":\"outbound|0|v1|a\",\"weight\":1}]}]}]}", "services[0].routes[0].route[0].cluster: port \"0\" must be an integer 1..65535 (cluster \"outbound|0|v1|a\")",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[{\"cluster\":\"outbound|80|v 1|a\",\"weight\":1}]}]}]}", "services[0].routes[0].route[0].cluster: subset \"v 1\" may only contain letters, digits, '-', '_' and '.' (cluster \"outbound|80|v 1|a\")",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"route\":[{\"cluster\":\"outbound|80|v1|\",\"weight\":1}]}]}]}", "services[0].routes[0].route[0].cluster: host is empty (cluster \"outbound|80|v1|\")",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"requestMutation\":[{\"key\":\"\",\"value\":\"v\"}]}]}]}", "services[0].routes[0].requestMutation[0].key: must not be empty",
  "{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"responseMutation\":[{\"key\":\"k\"}]}]}]}", "services[0].routes[0].responseMutation[0].value: required",
  "{\"services\":[{\"name\":\"a\",\"localRateLimit\":{\"tokenBucket\":{\"maxTokens\":0,\"fillInterval\":\"1s\"}}}]}", "services[0].localRateLimit.tokenBucket.maxTokens: must be an integer between 1 and 4294967295, got 0",
  "{\"services\":[{\"name\":\"a\",\"localRateLimit\":{\"tokenBucket\":{\"maxTokens\":1}}}]}", "services[0].localRateLimit.tokenBucket.fillInterval: required",
  "{\"services\":[{\"name\":\"a\",\"localRateLimit\":{\"tokenBucket\":{\"maxTokens\":1,\"fillInterval\":1000}}}]}", "services[0].localRateLimit.tokenBucket.fillInterval: must be a duration string such as \"1s\", got a number",
  "{\"services\":[{\"name\":\"a\",\"localRateLimit\":{\"tokenBucket\":{\"maxTokens\":1,\"fillInterval\":\"0s\"}}}]}", "services[0].localRateLimit.tokenBucket.fillInterval: must be greater than zero, got \"0s\"",
  "{\"services\":[{\"name\":\"a\",\"localRateLimit\":{\"conditions\":[{\"tokenBucket\":{\"maxTokens\":1,\"fillInterval\":\"1s\"}}]}}]}", "services[0].localRateLimit.conditions[0].match: required",
  "{\"services\":[{\"name\":\"a\",\"localRateLimit\":{\"conditions\":[{\"match\":{}}]}}]}", "services[0].localRateLimit.conditions[0].tokenBucket: required",
  "{\"services\":[{\"name\":\"a\",\"localRateLimit\":{\"conditions\":[{\"match\":{\"attributes\":{\"m\":{\"regex\":\"a{2,1}\"}}},\"tokenBucket\":{\"maxTokens\":1,\"fillInterval\":\"1s\"}}]}}]}", "services[0].localRateLimit.conditions[0].match.attributes.m.regex: invalid repetition {2,1}: min > max at offset 1",
  "{\"services\":[{\"name\":\"a\",\"localRateLimit\":{\"burst\":1}}]}", "services[0].localRateLimit.burst: unknown field (known here: tokenBucket, conditions)",
  "{\"services\":[{\"name\":\"a\"},{\"name\":\"b\",\"routes\":[{\"name\":\"r\",\"route\":[{\"cluster\":\"outbound|1|v1|a\",\"weight\":-1}]}]}]}", "services[1].routes[0].route[0].weight: must be an integer between 0 and 4294967295, got -1",
];

describe("plugin config: refusals name the field", () => {
  it("refuses bad values with the exact path and reason", () => {
    expect(REFUSED.length % 2).toBe(0);
    for (let i = 0; i < REFUSED.length; i += 2) {
      expect(refuse(REFUSED[i])).toBe(REFUSED[i + 1], REFUSED[i]);
    }
  });

  it("accepts the optional forms", () => {
    const c = accept("{\"services\":[{\"name\":\"a\",\"match\":{\"addresses\":[\"10.0.0.1\",\"fd00::1\"]}," +
      "\"defaultCluster\":\"inbound|20880||\",\"routes\":[{\"name\":\"r\",\"route\":[]}]," +
      "\"localRateLimit\":{\"tokenBucket\":{\"maxTokens\":3,\"fillInterval\":\"1m30s\"}}}]}");
    const s = c.services[0];
    expect(s.addresses[1]).toBe("fd00::1");
    expect(s.routes[0].clusters.length).toBe(0);
    expect(s.localRateLimit!.bucket!.tokensPerFill).toBe(1); // Envoy's default
    expect(s.localRateLimit!.bucket!.fillIntervalMs).toBe(90000);
  });
});

describe("plugin config: resource limits", () => {
  it("caps the total size of the config's compiled regexes", () => {
    // each regex compiles to 4001 instructions: 24 fit in the budget, 25 do not
    let routes = "";
    for (let i = 0; i < 25; i++) {
      if (i > 0) routes += ",";
      routes += "{\"name\":\"r" + i.toString() + "\",\"match\":{\"attributes\":{\"m\":{\"regex\":\"[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}\"}}}}";
    }
    const err = refuse("{\"services\":[{\"name\":\"a\",\"routes\":[" + routes + "]}]}");
    expect(err).toBe("services[0].routes[24].match.attributes.m.regex: the config's regexes together exceed " +
      MAX_CONFIG_REGEX_INSTRUCTIONS.toString() + " compiled instructions");
    // the budget is per config: a fresh parse starts from zero
    accept("{\"services\":[{\"name\":\"a\",\"routes\":[{\"name\":\"r\",\"match\":{\"attributes\":{\"m\":{\"regex\":\"[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}\"}}}}]}]}");
  });
});

describe("plugin config: durations, cluster names, addresses", () => {
  it("parses durations to milliseconds", () => {
    expect(parseDuration("1s").ms).toBe(1000);
    expect(parseDuration("500ms").ms).toBe(500);
    expect(parseDuration("1.5s").ms).toBe(1500);
    expect(parseDuration("0.001s").ms).toBe(1);
    expect(parseDuration("2m").ms).toBe(120000);
    expect(parseDuration("1h").ms).toBe(3600000);
    expect(parseDuration("1h30m").ms).toBe(5400000);
    expect(parseDuration("soon").error).toBe("must be a duration such as \"1s\", \"500ms\", \"1.5s\", \"2m\", \"1h\", got \"soon\" (a number must come first)");
    expect(parseDuration("").error.length).toBeGreaterThan(0);
    expect(parseDuration("5").error.endsWith("(the unit must be ms, s, m or h)")).toBe(true);
    expect(parseDuration("1.s").error.endsWith("(digits must follow '.')")).toBe(true);
    expect(parseDuration("s").error.endsWith("(a number must come first)")).toBe(true);
    expect(parseDuration("1s5").error.endsWith("(the unit must be ms, s, m or h)")).toBe(true);
    expect(parseDuration("-1s").error).toBe("must be greater than zero, got \"-1s\"");
    expect(parseDuration("0ms").error).toBe("must be greater than zero, got \"0ms\"");
    expect(parseDuration("1.5ms").error).toBe("must be a whole number of milliseconds, got \"1.5ms\"");
    expect(parseDuration("600h").error).toBe("must be at most 2147483647ms, got \"600h\"");
    expect(parseDuration("99999999999999s").error.endsWith("(too large)")).toBe(true);
  });

  it("checks Istio cluster names", () => {
    expect(clusterNameError("outbound|20880|v2|dubbo-demo.default.svc.cluster.local")).toBe("");
    expect(clusterNameError("outbound|20880||dubbo-demo.default.svc.cluster.local")).toBe("");
    expect(clusterNameError("outbound|443||*.example.com")).toBe("");
    expect(clusterNameError("inbound|9080||")).toBe("");
    expect(clusterNameError("outbound|65536|v1|a")).toBe("port \"65536\" must be an integer 1..65535");
    expect(clusterNameError("outbound|08|v1|a")).toBe("port \"08\" must be an integer 1..65535");
    expect(clusterNameError("outbound||v1|a")).toBe("port \"\" must be an integer 1..65535");
    expect(clusterNameError("outbound|1|v1|a|b")).toBe("must be outbound|<port>|<subset>|<host> or inbound|<port>||, got 5 parts separated by '|'");
    expect(clusterNameError("outbound|1|v1|a/b")).toBe("host \"a/b\" may only contain letters, digits, '-', '_', '.' and '*'");
  });

  it("checks IP addresses", () => {
    expect(isIPv4("10.96.0.20")).toBe(true);
    expect(isIPv4("0.0.0.0")).toBe(true);
    expect(isIPv4("255.255.255.255")).toBe(true);
    expect(isIPv4("256.1.1.1")).toBe(false);
    expect(isIPv4("1.2.3")).toBe(false);
    expect(isIPv4("1.2.3.4.5")).toBe(false);
    expect(isIPv4("01.2.3.4")).toBe(false);
    expect(isIPv4("1.2.3.")).toBe(false);
    expect(isIPv4("1..3.4")).toBe(false);
    expect(isIPv4("1234.1.1.1")).toBe(false);
    expect(isIPv6("::")).toBe(true);
    expect(isIPv6("::1")).toBe(true);
    expect(isIPv6("fe80::1")).toBe(true);
    expect(isIPv6("2001:db8:0:0:0:0:2:1")).toBe(true);
    expect(isIPv6("2001:db8::")).toBe(true);
    expect(isIPv6("::ffff:10.0.0.1")).toBe(true);
    expect(isIPv6("2001:db8:0:0:0:0:2")).toBe(false);
    expect(isIPv6("1:2:3:4:5:6:7:8:9")).toBe(false);
    expect(isIPv6("1::2::3")).toBe(false);
    expect(isIPv6(":1:2")).toBe(false);
    expect(isIPv6("1:2:")).toBe(false);
    expect(isIPv6("12345::")).toBe(false);
    expect(isIPv6("g::1")).toBe(false);
    expect(isIPv6("10.0.0.1")).toBe(false);
  });
});
