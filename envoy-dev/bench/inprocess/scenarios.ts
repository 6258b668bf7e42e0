// What the in-process benchmark runs: frames captured from real peers (frames/peers.json, made
// by `npm run bench:capture`), each batch of 16 calls sent as one data callback per direction,
// under rule sets that need more and more of each frame.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CapturedScenario } from "../capture.ts";
import { hessianAttachments, hessianMethod, hessianResponse, thriftMethod, type RefDecoder } from "./refs.ts";

const PEERS = fileURLToPath(new URL("../frames/peers.json", import.meta.url));
export const CLUSTER = "outbound|20880|v1|bench.default.svc.cluster.local";

export interface Batch {
  /** e.g. "dubbo hessian2 echoOrder" */
  name: string;
  protocol: "dubbo" | "thrift";
  writer: string;
  requests: Buffer[];
  responses: Buffer[];
  /** The 16 requests (responses) back to back: one callback's bytes. */
  down: Buffer;
  up: Buffer;
}

export interface Rules {
  name: string;
  /** Plugin configuration; null runs the floor module. */
  config: object | null;
  /** The request batch is forwarded unchanged (no buffer rewrite). */
  unchanged: boolean;
  /** Substrings the rewritten requests / responses must contain (mutations). */
  expectUp?: string; expectDown?: string;
  /** Route counter that must count every request. */
  route?: string;
}

export interface Reference { name: string; decode: RefDecoder; side: "request" | "response" }

export interface Case { batch: Batch; rules: Rules[]; references: Reference[] }

export function loadBatches(): Batch[] {
  const doc = JSON.parse(readFileSync(PEERS, "utf8")) as { scenarios: CapturedScenario[] };
  return doc.scenarios.map((s) => {
    const requests = s.requests.map((h) => Buffer.from(h, "hex"));
    const responses = s.responses.map((h) => Buffer.from(h, "hex"));
    return { name: s.name, protocol: s.protocol, writer: s.writer, requests, responses, down: Buffer.concat(requests), up: Buffer.concat(responses) };
  });
}

const svc = (extra: object) => ({ services: [{ name: "bench.default.svc.cluster.local", ...extra }] });
const route = (name: string, attributes: object, extra: object = {}) =>
  ({ name, match: { attributes }, route: [{ cluster: CLUSTER, weight: 1 }], ...extra });

export const FLOOR: Rules = { name: "floor: read-only module", config: null, unchanged: true };
const defaultRoute: Rules = { name: "default route (header only)", config: svc({ defaultCluster: CLUSTER }), unchanged: true };
const methodRoute = (m: string): Rules => ({ name: "method route", config: svc({ routes: [route("m", { method: { exact: m } })] }), unchanged: true, route: "route.m.request_total" });
/** The method's route is the last of 200 exact-match routes: the route index, not a scan. */
const manyRoutes = (m: string): Rules => ({
  name: "method route, 1 of 200 exact routes",
  config: svc({ routes: [...Array.from({ length: 199 }, (_, i) => route(`r${i}`, { method: { exact: `other${i}` } })), route("m", { method: { exact: m } })] }),
  unchanged: true, route: "route.m.request_total",
});
const regexRoute = (re: string): Rules => ({ name: `method regex route ${re}`, config: svc({ routes: [route("m", { method: { regex: re } })] }), unchanged: true, route: "route.m.request_total" });
const attachmentRoute = (key: string): Rules => ({ name: "attachment route", config: svc({ routes: [route("t", { [key]: { exact: "acme" } })] }), unchanged: true, route: "route.t.request_total" });
const mutation = (key: string): Rules => ({
  name: "attachment route + request/response mutation",
  config: svc({ routes: [route("t", { [key]: { exact: "acme" } }, { requestMutation: [{ key: "x-canary", value: "true" }], responseMutation: [{ key: "x-route", value: "t" }] })] }),
  unchanged: false, expectUp: "x-canary", expectDown: "x-route", route: "route.t.request_total",
});

function thriftKind(name: string) {
  const transport = name.includes("header") ? "header" : name.includes("unframed") ? "unframed" : "framed";
  const protocol = name.includes("compact") ? "compact" : "binary";
  return { transport, protocol } as const;
}

export function cases(batches: Batch[]): Case[] {
  const out: Case[] = [];
  for (const b of batches) {
    if (b.protocol === "dubbo") {
      const method = b.name.split(" ").pop()!;
      const tenant = method === "echoOrder"; // those calls carry x-tenant=acme
      const rules = [FLOOR, defaultRoute, methodRoute(method)];
      if (b.name.includes("hessian2") && tenant) rules.push(manyRoutes(method), regexRoute("echo(Order|Bytes)"));
      if (tenant) rules.push(attachmentRoute("x-tenant"), mutation("x-tenant"));
      const references: Reference[] = [];
      if (b.name.includes("hessian2")) {
        references.push({ name: "hessian.js: method (4 header strings)", decode: hessianMethod, side: "request" });
        references.push({ name: "hessian.js: attachments (whole body decoded)", decode: hessianAttachments, side: "request" });
        references.push({ name: "hessian.js: response attachments", decode: hessianResponse, side: "response" });
      }
      out.push({ batch: b, rules, references });
    } else {
      const kind = thriftKind(b.name);
      const rules = [FLOOR, defaultRoute, methodRoute("sayHello")];
      if (kind.transport === "header") rules.push(attachmentRoute("x-tenant"), mutation("x-tenant"));
      out.push({ batch: b, rules, references: [{ name: `npm thrift: method (readMessageBegin, skip args)`, decode: thriftMethod(kind), side: "request" }] });
    }
  }
  return out;
}
