// What the fuzzer runs: every codec variant with rules that make its codec parse as much as it
// can (attributes, attachments, headers, mutations both ways, rejections with probes, limits,
// a small frame cap), and the plugin configuration itself. Inputs start from real peers' bytes
// (tests/fuzz/corpus, see capture.ts) and the config fixtures.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CORPUS_DIR } from "./capture.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const REGRESSIONS_DIR = join(ROOT, "tests/fuzz/regressions");

export interface StreamTarget {
  kind: "stream";
  name: string;
  module: "dubbo" | "thrift" | "awesomerpc";
  /** Corpus folder (tests/fuzz/corpus/<variant>). */
  variant: string;
  /** Plugin configurations the cases rotate through. */
  configs: string[];
}

export interface ConfigTarget {
  kind: "config";
  name: string;
  module: "dubbo";
  /** Seed documents. */
  configs: string[];
  /** The config the VM starts with (every case configures a new root after it). */
  base: string;
}

export type FuzzTarget = StreamTarget | ConfigTarget;

const C = (subset: string, host: string, port: number) => `outbound|${port}|${subset}|${host}`;

function dubboConfigs(): string[] {
  const host = "dubbo-demo.default.svc.cluster.local";
  const rich = {
    statPrefix: "fuzz", maxFrameBytes: 65536, methodStats: true, onRouteMismatch: "REJECT", statsFlushIntervalMs: 10,
    services: [{
      name: host, defaultCluster: C("", host, 20880),
      routes: [
        { name: "by-group", match: { attributes: { group: { exact: "g1" }, application: { prefix: "fu" } } }, route: [{ cluster: C("v2", host, 20880), weight: 1 }],
          requestMutation: [{ key: "x-canary", value: "true" }, { key: "group", value: "g2" }], responseMutation: [{ key: "x-route", value: "by-group" }] },
        { name: "hello", match: { attributes: { method: { regex: "say(Hello|Bye)" }, version: { present: true } } }, route: [{ cluster: C("v1", host, 20880), weight: 3 }, { cluster: C("v2", host, 20880), weight: 1 }],
          responseMutation: [{ key: "x-served", value: "ü€𝄞" }] },
        { name: "iface", match: { attributes: { interface: { exact: "org.apache.dubbo.samples.DemoService" } } }, route: [{ cluster: C("v1", host, 20880), weight: 1 }] },
      ],
      localRateLimit: { tokenBucket: { maxTokens: 50, tokensPerFill: 50, fillInterval: "1s" },
        conditions: [{ match: { attributes: { method: { exact: "echo" } } }, tokenBucket: { maxTokens: 5, fillInterval: "1s" } }] },
    }],
  };
  return [JSON.stringify(rich), JSON.stringify({ maxFrameBytes: 4096, bindOn: "CONNECTION", services: [{ name: host, routes: [{ name: "all", route: [{ cluster: C("v1", host, 20880), weight: 1 }], requestMutation: [{ key: "k", value: "v" }] }] }] })];
}

function thriftConfigs(): string[] {
  const host = "thrift-demo.default.svc.cluster.local";
  const rich = {
    statPrefix: "fuzz", maxFrameBytes: 65536, methodStats: true, onRouteMismatch: "REJECT", statsFlushIntervalMs: 10,
    services: [{
      name: host, defaultCluster: C("", host, 9090),
      routes: [
        { name: "hdr", match: { attributes: { "x-user": { exact: "fuzz" } } }, route: [{ cluster: C("v2", host, 9090), weight: 1 }],
          requestMutation: [{ key: "x-canary", value: "true" }], responseMutation: [{ key: "x-route", value: "hdr" }] },
        { name: "m", match: { attributes: { method: { regex: "say.*|add" } } }, route: [{ cluster: C("v1", host, 9090), weight: 1 }],
          requestMutation: [{ key: "x-m", value: "1" }] },
      ],
      localRateLimit: { tokenBucket: { maxTokens: 50, tokensPerFill: 50, fillInterval: "1s" } },
    }],
  };
  return [JSON.stringify(rich), JSON.stringify({ maxFrameBytes: 4096, services: [{ name: host, routes: [{ name: "all", route: [{ cluster: C("v1", host, 9090), weight: 1 }] }] }] })];
}

function awesomeConfigs(): string[] {
  const host = "awesome-demo.default.svc.cluster.local";
  return [JSON.stringify({
    statPrefix: "fuzz", maxFrameBytes: 65536, methodStats: true, onRouteMismatch: "REJECT", statsFlushIntervalMs: 10,
    services: [{ name: host, routes: [
      { name: "c1", match: { attributes: { cmd: { exact: "1" } } }, route: [{ cluster: C("v1", host, 8090), weight: 1 }] },
      { name: "rest", route: [{ cluster: C("v2", host, 8090), weight: 1 }] },
    ], localRateLimit: { tokenBucket: { maxTokens: 20, fillInterval: "1s" } } }],
  })];
}

const thrift = (v: string): StreamTarget => ({ kind: "stream", name: `thrift-${v}`, module: "thrift", variant: `thrift-${v}`, configs: thriftConfigs() });

export function targets(): FuzzTarget[] {
  return [
    { kind: "stream", name: "dubbo", module: "dubbo", variant: "dubbo", configs: dubboConfigs() },
    thrift("framed-binary"), thrift("framed-compact"), thrift("unframed-binary"), thrift("unframed-compact"),
    thrift("header-binary"), thrift("header-compact"),
    { kind: "stream", name: "awesomerpc", module: "awesomerpc", variant: "awesomerpc", configs: awesomeConfigs() },
    { kind: "config", name: "config", module: "dubbo", configs: configSeeds(), base: dubboConfigs()[0] },
  ];
}

function configSeeds(): string[] {
  const dir = join(ROOT, "tests/fixtures/plugin-config");
  const fixtures = readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => readFileSync(join(dir, f), "utf8"));
  return [...fixtures, ...dubboConfigs(), ...thriftConfigs()];
}

/** A variant's corpus: every capture in its folder (any peer), as (client -> server, server -> client). */
export function corpusOf(variant: string): { down: Buffer[]; up: Buffer[] } {
  const dir = join(CORPUS_DIR, variant);
  const down: Buffer[] = [], up: Buffer[] = [];
  if (!existsSync(dir)) return { down, up };
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith(".down.bin")) down.push(readFileSync(join(dir, f)));
    else if (f.endsWith(".up.bin")) up.push(readFileSync(join(dir, f)));
  }
  return { down, up };
}
