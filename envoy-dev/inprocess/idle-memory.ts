// Bytes of VM memory per idle connection, for every codec variant: N connections each carry the
// captured exchange of a real peer (tests/fuzz/corpus) through the demo rules, so each is bound,
// has answered everything and holds nothing in flight; then the live heap (after a full
// collection) is compared with a VM that has no connection.
//   npx tsx envoy-dev/inprocess/idle-memory.ts [connections]     prints the table (README)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InProcessProxy } from "./driver.ts";
import { liveHeapBytes, measureBuild } from "./heap.ts";
import { pluginConfigOf } from "../apps/mesh-config.ts";
import { CORPUS_DIR } from "../fuzz/capture.ts";

export interface Variant {
  name: string;
  module: "dubbo" | "thrift" | "awesomerpc";
  /** Plugin configuration: the demo rules of envoy-dev/envoy.yaml. */
  config: () => string;
  /** Corpus capture whose exchange each connection carries. */
  capture: string;
}

const thrift = (v: string): Variant => ({ name: `thrift-${v}`, module: "thrift", config: () => JSON.stringify(pluginConfigOf("thrift_outbound")), capture: `thrift-${v}/nodejs-thrift` });
export const VARIANTS: Variant[] = [
  { name: "dubbo", module: "dubbo", config: () => JSON.stringify(pluginConfigOf("dubbo_outbound")), capture: "dubbo/dubbo2js" },
  thrift("framed-binary"), thrift("framed-compact"), thrift("unframed-binary"), thrift("unframed-compact"),
  thrift("header-binary"), thrift("header-compact"),
  { name: "awesomerpc", module: "awesomerpc", config: () => AWESOME_CONFIG, capture: "awesomerpc/sample" },
];

const AWESOME_CONFIG = JSON.stringify({
  statPrefix: "awesome_demo",
  services: [{ name: "awesome-demo.default.svc.cluster.local", routes: [
    { name: "cmd1", match: { attributes: { cmd: { exact: "1" } } }, route: [{ cluster: "outbound|8090|v1|awesome-demo.default.svc.cluster.local", weight: 1 }] },
    { name: "rest", route: [{ cluster: "outbound|8090|v2|awesome-demo.default.svc.cluster.local", weight: 1 }] },
  ] }],
});

export function exchangeOf(capture: string): { down: Buffer; up: Buffer } {
  return { down: readFileSync(join(CORPUS_DIR, `${capture}.down.bin`)), up: readFileSync(join(CORPUS_DIR, `${capture}.up.bin`)) };
}

/** Live heap with `n` idle connections open (a fresh VM each time). */
function liveWith(v: Variant, n: number): { live: number; open: number } {
  const p = InProcessProxy.start({ wasm: measureBuild(v.module), config: v.config() });
  try {
    const { down, up } = exchangeOf(v.capture);
    let open = 0;
    for (let i = 0; i < n; i++) {
      const c = p.connect();
      c.downstream(down);
      c.upstream(up);
      c.takeUpstream(); c.takeClient();
      if (!c.closed) open++;
    }
    if (p.failed) throw new Error(`${v.name}: the VM failed: ${p.failReason}`);
    return { live: liveHeapBytes(p), open };
  } finally {
    p.dispose();
  }
}

export function bytesPerIdleConnection(v: Variant, n = 2000): number {
  const base = liveWith(v, 0).live;
  const { live, open } = liveWith(v, n);
  if (open !== n) throw new Error(`${v.name}: ${n - open} of ${n} connections were closed by the module`);
  return Math.round((live - base) / n);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 2000);
  console.log(`| variant | bytes per idle connection (${n} connections) |\n|---|---|`);
  for (const v of VARIANTS) console.log(`| ${v.name} | ${bytesPerIdleConnection(v, n)} |`);
}
