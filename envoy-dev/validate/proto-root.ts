// Loads Envoy's v3 API protos (as shipped in @grpc/grpc-js-xds) into one protobufjs Root, so
// that every type URL a config can name (typed_config, Any payloads) resolves like it does in
// Envoy's descriptor pool. The npm copy predates Envoy 1.37: envoy-api-additions.ts adds the
// newer fields this project uses, in one place.
import protobuf from "protobufjs";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { applyEnvoyApiAdditions } from "./envoy-api-additions.ts";

const require = createRequire(import.meta.url);
const xdsDeps = join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");
const protobufjsDir = dirname(require.resolve("protobufjs/package.json"));

// Search order for imports. protobufjs bundles the well-known types (any, duration, struct,
// wrappers, ...) itself; descriptor.proto, needed by validate.proto's options, sits beside them.
const INCLUDE_DIRS = [
  join(xdsDeps, "envoy-api"),
  join(xdsDeps, "xds"),
  join(xdsDeps, "googleapis"),
  join(xdsDeps, "protoc-gen-validate"),
  protobufjsDir,
];
const BUNDLED = new Set(
  ["any", "duration", "empty", "field_mask", "struct", "timestamp", "wrappers"].map((n) => `google/protobuf/${n}.proto`),
);
// Loaded besides every envoy/**/v3 file: the TypedStruct wrappers Envoy also accepts in Any.
const EXTRA_ENTRY_FILES = ["udpa/type/v1/typed_struct.proto", "xds/type/v3/typed_struct.proto"];

function findFile(importPath: string): string | undefined {
  if (BUNDLED.has(importPath)) return importPath;
  for (const dir of INCLUDE_DIRS) {
    const p = join(dir, importPath);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function listV3Files(): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const e of readdirSync(abs)) {
      const p = join(abs, e);
      if (statSync(p).isDirectory()) walk(p, `${rel}${e}/`);
      else if (e.endsWith(".proto") && rel.includes("/v3/")) out.push(rel + e);
    }
  };
  walk(join(xdsDeps, "envoy-api", "envoy"), "envoy/");
  return out.sort();
}

// A few shipped files import protos the npm package leaves out (opencensus, opentelemetry,
// prometheus). They are skipped: their types then count as unresolvable, which is reported.
function loadable(files: string[]): { ok: string[]; skipped: string[] } {
  const memo = new Map<string, boolean>();
  const check = (f: string, visiting: Set<string>): boolean => {
    const known = memo.get(f);
    if (known !== undefined) return known;
    if (visiting.has(f)) return true;
    const abs = findFile(f);
    if (!abs) return memo.set(f, false), false;
    if (BUNDLED.has(f)) return memo.set(f, true), true;
    visiting.add(f);
    const imports = [...readFileSync(abs, "utf8").matchAll(/^import\s+(?:public\s+|weak\s+)?"([^"]+)"/gm)];
    const ok = imports.every((m) => check(m[1], visiting));
    memo.set(f, ok);
    return ok;
  };
  const ok: string[] = [], skipped: string[] = [];
  for (const f of files) (check(f, new Set()) ? ok : skipped).push(f);
  return { ok, skipped };
}

let cached: { root: protobuf.Root; skippedFiles: string[] } | undefined;

/** The shared Root (built once per process, ~0.4 s). */
export function envoyProtoRoot(): { root: protobuf.Root; skippedFiles: string[] } {
  if (cached) return cached;
  const { ok, skipped } = loadable([...listV3Files(), ...EXTRA_ENTRY_FILES]);
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => findFile(target) ?? target;
  root.loadSync(ok, { keepCase: true });
  applyEnvoyApiAdditions(root);
  root.resolveAll();
  cached = { root, skippedFiles: skipped };
  return cached;
}

/** Looks a message type up by full name ("envoy.config.bootstrap.v3.Bootstrap"). */
export function lookupMessage(typeName: string): protobuf.Type | undefined {
  const found = envoyProtoRoot().root.lookup(typeName.replace(/^\./, ""));
  return found instanceof protobuf.Type ? found : undefined;
}
