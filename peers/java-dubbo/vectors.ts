// Writes (or with --check, compares) the committed vectors of the real Java serializers in
// tests/spec/vectors: hessian-lite Hessian 2 values, fastjson2 JSONB values, whole Dubbo frames.
// Run by scripts/check-vectors.mjs (npm run check:vectors) and npm run vectors.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../build-cache.ts";
import { javaPeersDir } from "./driver.ts";

export const JAVA_VECTOR_FILES = ["hessian2.hessian-lite.json", "jsonb.fastjson2.json", "dubbo-frames.dubbo-3.3.json"];
const COMMITTED = join(REPO, "tests/spec/vectors");

const check = process.argv.includes("--check");
const dir = await javaPeersDir();
const out = check ? mkdtempSync(join(tmpdir(), "java-vectors-")) : COMMITTED;
const cp = `${join(dir, "dubbo33", "classes")}:${join(dir, "dubbo33", "lib", "*")}`;
const r = spawnSync("java", ["-Ddubbo.network.interface.ignored=.*", "-cp", cp, "metaprotocol.peers.v33.VectorGen", out], { encoding: "utf8" });
if (r.status !== 0) { console.error(r.stderr.slice(-4000)); process.exit(1); }
let bad = 0;
if (check) {
  for (const f of JAVA_VECTOR_FILES) {
    if (readFileSync(join(out, f), "utf8") !== readFileSync(join(COMMITTED, f), "utf8")) {
      console.error(`check-vectors: tests/spec/vectors/${f} differs from what the Java serializers write now: npm run vectors`);
      bad++;
    }
  }
  rmSync(out, { recursive: true, force: true });
  if (!bad) console.log(`check-vectors: ${JAVA_VECTOR_FILES.join(", ")} match the Java serializers`);
} else {
  console.log(`vectors: wrote ${JAVA_VECTOR_FILES.join(", ")}`);
}
process.exit(bad ? 1 : 0);
