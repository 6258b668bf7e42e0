// The plugin config of the global rate limit and telemetry, the W3C traceparent, and the rate
// limit service's messages, without a proxy.
import { parsePluginConfig, PluginConfig } from "../../assembly/meta/config";
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER } from "../../assembly/meta/config/telemetry";
import { Metadata } from "../../assembly/meta/metadata";
import { ByteBuf } from "../../assembly/meta/bytes";
import { TraceContext, TraceparentText, parseTraceparent } from "../../assembly/meta/telemetry/trace";
import { beginRequest, encodeDescriptors, readResponse } from "../../assembly/meta/globalratelimit/rls";

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
function hex(b: ByteBuf): string {
  let s = "";
  for (let i = 0; i < b.len; i++) s += (<u32>load<u8>(b.ptr + <usize>i)).toString(16).padStart(2, "0");
  return s;
}

describe("plugin config: globalRateLimit, tracing, accessLog", () => {
  it("reads Aeraki's globalRateLimit fields with their defaults", () => {
    const c = accept("{\"services\":[{\"name\":\"a\",\"globalRateLimit\":{\"domain\":\"production\",\"rateLimitService\":\"rls\"," +
      "\"descriptors\":[{\"property\":\"x-tenant\",\"descriptorKey\":\"tenant\"}]}}]}");
    const g = c.services[0].globalRateLimit!;
    expect(g.domain).toBe("production");
    expect(g.cluster).toBe("rls");
    expect(g.timeoutMs).toBe(20); // Aeraki's default
    expect(g.denyOnFail).toBe(false);
    expect(g.match.isEmpty()).toBe(true);
    expect(g.descriptors[0].property).toBe("x-tenant");
    expect(c.requestKeys.has("x-tenant")).toBe(true, "a descriptor's property is decoded");
  });

  it("reads tracing and accessLog; tracing wants the trace context and the names", () => {
    const c = accept("{\"statPrefix\":\"p\",\"tracing\":{\"collectorCluster\":\"otel\",\"spanKind\":\"SERVER\"},\"accessLog\":{\"collectorCluster\":\"otel\",\"randomSamplingPercentage\":12.5}}");
    expect(c.tracing!.spanKind).toBe(SPAN_KIND_SERVER);
    expect(c.tracing!.samplingPercent).toBe(100);
    expect(c.tracing!.serviceName).toBe("metaprotocol-p");
    expect(c.tracing!.exportTimeoutMs).toBe(5000);
    expect(c.accessLog!.samplingPercent).toBe(12.5);
    expect(c.requestKeys.has("traceparent")).toBe(true);
    expect(c.requestKeys.has("method")).toBe(true);
    expect(accept("{\"tracing\":{\"collectorCluster\":\"otel\"}}").tracing!.spanKind).toBe(SPAN_KIND_CLIENT);
    expect(accept("{}").tracing).toBeNull();
  });

  it("refuses bad values with the field's path", () => {
    expect(refuse("{\"services\":[{\"name\":\"a\",\"globalRateLimit\":{\"rateLimitService\":\"rls\",\"descriptors\":[{\"property\":\"m\",\"descriptorKey\":\"m\"}]}}]}"))
      .toBe("services[0].globalRateLimit.domain: required");
    expect(refuse("{\"services\":[{\"name\":\"a\",\"globalRateLimit\":{\"domain\":\"d\",\"rateLimitService\":\"rls\",\"descriptors\":[{\"property\":\"m\"}]}}]}"))
      .toBe("services[0].globalRateLimit.descriptors[0].descriptorKey: required");
    expect(refuse("{\"services\":[{\"name\":\"a\",\"globalRateLimit\":{\"domain\":\"d\",\"rateLimitService\":\"rls\",\"requestTimeout\":20,\"descriptors\":[{\"property\":\"m\",\"descriptorKey\":\"m\"}]}}]}"))
      .toBe("services[0].globalRateLimit.requestTimeout: must be a duration string such as \"20ms\", got a number");
    expect(refuse("{\"services\":[{\"name\":\"a\",\"globalRateLimit\":{\"domain\":\"d\",\"rateLimitService\":\"rls\",\"failureModeDeny\":true,\"descriptors\":[]}}]}"))
      .toBe("services[0].globalRateLimit.failureModeDeny: unknown field (known here: match, domain, requestTimeout, denyOnFail, rateLimitService, descriptors)");
    expect(refuse("{\"tracing\":{\"collectorCluster\":\"otel\",\"spanKind\":\"PRODUCER\"}}"))
      .toBe("tracing.spanKind: must be \"CLIENT\" (outbound) or \"SERVER\" (inbound), got \"PRODUCER\"");
    expect(refuse("{\"accessLog\":{\"collectorCluster\":\"otel\",\"exportTimeout\":\"2m\"}}"))
      .toBe("accessLog.exportTimeout: must be at most 60s, got \"2m\"");
    expect(refuse("{\"latencyHistogram\":1}")).toBe("latencyHistogram: must be true or false, got a number");
  });
});

describe("W3C traceparent", () => {
  it("reads a valid header and refuses malformed ones", () => {
    const c = new TraceContext();
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", c)).toBe(true);
    expect(c.traceHi).toBe(0x4bf92f3577b34da6);
    expect(c.traceLo).toBe(0xa3ce929d0e0e4736);
    expect(c.spanId).toBe(0x00f067aa0ba902b7);
    expect(c.sampled).toBe(true);
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later", c)).toBe(true, "a later version is read by its first fields");
    expect(c.sampled).toBe(false);
    const bad: string[] = [
      "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ];
    for (let i = 0; i < bad.length; i++) expect(parseTraceparent(bad[i], c)).toBe(false, bad[i]);
    expect(parseTraceparent(null, c)).toBe(false);
  });

  it("writes one reused string in place", () => {
    const t = new TraceparentText();
    const a = t.set(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736, 0x00f067aa0ba902b7, 1);
    expect(a).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(t.set(1, 2, 3, 0)).toBe("00-00000000000000010000000000000002-0000000000000003-00");
    expect(changetype<usize>(t.text)).toBe(changetype<usize>(a), "no allocation per request");
  });
});

describe("rate limit service messages", () => {
  it("encodes one descriptor per present property, in order", () => {
    const c = parsePluginConfig("{\"services\":[{\"name\":\"a\",\"globalRateLimit\":{\"domain\":\"d\",\"rateLimitService\":\"rls\"," +
      "\"descriptors\":[{\"property\":\"method\",\"descriptorKey\":\"m\"},{\"property\":\"absent\",\"descriptorKey\":\"x\"}]}}]}", "dubbo").config!;
    const md = new Metadata();
    md.setAttribute("method", "hi");
    const out = new ByteBuf();
    expect(encodeDescriptors(c.services[0].globalRateLimit!, md, out)).toBe(1);
    // descriptors{entries{key "m", value "hi"}}
    expect(hex(out)).toBe("1209" + "0a07" + "0a016d" + "12026869");
    const req = new ByteBuf();
    beginRequest("d", req);
    expect(hex(req)).toBe("0a0164");
  });

  it("reads overall_code and a status per descriptor; malformed reads as UNKNOWN", () => {
    const b = new ByteBuf();
    b.writeU8(0x08); b.writeU8(0x02);
    b.writeU8(0x12); b.writeU8(0x02); b.writeU8(0x08); b.writeU8(0x01);
    b.writeU8(0x12); b.writeU8(0x04); b.writeU8(0x08); b.writeU8(0x02); b.writeU8(0x18); b.writeU8(0x05);
    const codes: u32[] = [];
    expect(readResponse(b.ptr, b.len, codes)).toBe(2);
    expect(codes.length).toBe(2);
    expect(codes[0]).toBe(1);
    expect(codes[1]).toBe(2);
    expect(readResponse(b.ptr, b.len - 1, codes)).toBe(0, "truncated");
    expect(codes.length).toBe(0);
  });
});
