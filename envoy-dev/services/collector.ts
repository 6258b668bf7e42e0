// An OpenTelemetry Collector (otelcol/main.go, built from the Go module proxy) receiving OTLP
// over gRPC on a free loopback port. Its OTLP/HTTP exporter sends what it received, as OTLP
// JSON, to a sink here, so a test reads back the spans and log records the collector accepted.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { otelcolBin } from "./go-tools.ts";
import { freePort, startProcess, waitReady, type ServiceProcess } from "./process.ts";

/** OTLP AnyValue as JSON, reduced to a plain value. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [k: string]: AttrValue };

export interface ReceivedSpan {
  traceId: string; spanId: string; parentSpanId: string; name: string; kind: number;
  startTimeUnixNano: string; endTimeUnixNano: string;
  attributes: Record<string, AttrValue>; status: { code?: number; message?: string };
  resource: Record<string, AttrValue>; scope: string;
}
export interface ReceivedLog {
  timeUnixNano: string; severityNumber: number; severityText: string; body: AttrValue;
  traceId: string; spanId: string; attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>; scope: string;
}

export interface Collector {
  /** The OTLP/gRPC receiver (TraceService/Export, LogsService/Export). */
  grpcPort: number;
  spans(): ReceivedSpan[];
  logs(): ReceivedLog[];
  /** Waits (bounded) until `pred` holds for the spans received so far. */
  waitForSpans(pred: (s: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  waitForLogs(pred: (l: ReceivedLog[]) => boolean, timeoutMs?: number): Promise<ReceivedLog[]>;
  process: ServiceProcess;
  close(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const bin = otelcolBin();
  const spans: ReceivedSpan[] = [];
  const logs: ReceivedLog[] = [];
  const sink = await startSink(spans, logs);
  const dir = mkdtempSync(join(tmpdir(), "otelcol-"));
  const cleanup = async () => { await new Promise<void>((r) => sink.close(() => r())); rmSync(dir, { recursive: true, force: true }); };
  try {
    for (let attempt = 1; ; attempt++) {
      const grpcPort = await freePort();
      const config = join(dir, "config.yaml");
      writeFileSync(config, stringify({
        receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${grpcPort}` } } } },
        exporters: {
          otlphttp: {
            endpoint: `http://127.0.0.1:${(sink.address() as { port: number }).port}`,
            encoding: "json", compression: "none",
            // Synchronous: the collector answers Export only after the sink has the data.
            sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
          },
        },
        service: {
          pipelines: { traces: { receivers: ["otlp"], exporters: ["otlphttp"] }, logs: { receivers: ["otlp"], exporters: ["otlphttp"] } },
          telemetry: { metrics: { level: "none" } },
        },
      }));
      const p = startProcess("otelcol", bin, ["--config", `file:${config}`]);
      try {
        await waitReady(p, "\"Everything is ready\"", () => p.output().some((l) => l.includes("Everything is ready")));
      } catch (e) {
        if (attempt < 3 && p.output().some((l) => /address already in use/i.test(l))) continue;
        throw e;
      }
      const wait = <T>(list: T[], what: string) => async (pred: (x: T[]) => boolean, timeoutMs = 5000) => {
        const deadline = Date.now() + timeoutMs;
        while (!pred(list)) {
          if (Date.now() > deadline) throw new Error(`collector: ${what} not received within ${timeoutMs} ms; got ${JSON.stringify(list).slice(0, 2000)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        return list.slice();
      };
      return {
        grpcPort, process: p,
        spans: () => spans.slice(),
        logs: () => logs.slice(),
        waitForSpans: wait(spans, "spans"),
        waitForLogs: wait(logs, "logs"),
        async close() { await p.stop(); await cleanup(); },
      };
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
}

function startSink(spans: ReceivedSpan[], logs: ReceivedLog[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        if (req.url === "/v1/traces") spans.push(...flattenSpans(body));
        else if (req.url === "/v1/logs") logs.push(...flattenLogs(body));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

function anyValue(v: any): AttrValue {
  if (!v || typeof v !== "object") return null;
  if ("stringValue" in v) return v.stringValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return v.doubleValue;
  if ("boolValue" in v) return v.boolValue;
  if ("bytesValue" in v) return v.bytesValue;
  if ("arrayValue" in v) return (v.arrayValue.values ?? []).map(anyValue);
  if ("kvlistValue" in v) return attrs(v.kvlistValue.values);
  return null;
}

function attrs(list: any[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

// OTLP/JSON writes trace and span ids as lowercase hex.
function flattenSpans(body: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId ?? "", spanId: s.spanId ?? "", parentSpanId: s.parentSpanId ?? "", name: s.name ?? "",
          kind: s.kind ?? 0, startTimeUnixNano: String(s.startTimeUnixNano ?? "0"), endTimeUnixNano: String(s.endTimeUnixNano ?? "0"),
          attributes: attrs(s.attributes), status: s.status ?? {}, resource, scope: ss.scope?.name ?? "",
        });
      }
    }
  }
  return out;
}

function flattenLogs(body: any): ReceivedLog[] {
  const out: ReceivedLog[] = [];
  for (const rl of body.resourceLogs ?? []) {
    const resource = attrs(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const l of sl.logRecords ?? []) {
        out.push({
          timeUnixNano: String(l.timeUnixNano ?? "0"), severityNumber: l.severityNumber ?? 0, severityText: l.severityText ?? "",
          body: anyValue(l.body), traceId: l.traceId ?? "", spanId: l.spanId ?? "", attributes: attrs(l.attributes),
          resource, scope: sl.scope?.name ?? "",
        });
      }
    }
  }
  return out;
}
