// Entry point: `metaprotocol-wasm render -f <files>` (offline) and `metaprotocol-wasm run` (controller).
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { DEFAULT_SETTINGS, type Settings } from "./model/types.js";
import { moduleFlag, parseSettings } from "./model/settings.js";
import { renderFiles } from "./render.js";
import { moduleCheckFrom } from "./translate/module-check.js";
import { existsSync } from "node:fs";

const USAGE = `usage:
  metaprotocol-wasm render -f <file|dir> [-f ...] [--settings <file>] [--module <protocol>=<url>[@sha256:<hex>]] [--strict] [--wasm-dir <dir>]
      print the objects the controller would apply (YAML); conditions and warnings go to stderr.
      --strict exits 2 when any MetaRouter is not Accepted/ResolvedRefs or any warning is raised.
  metaprotocol-wasm run [--settings <file>] [--namespace <ns>] [--port 8080] [--kubeconfig <file>] [--wasm-dir <dir>]
      run the controller against the cluster (in-cluster config when --kubeconfig is absent).
  --wasm-dir: where <protocol>.wasm modules are (default $METAPROTOCOL_WASM_DIR, else the build/
      folder of this checkout): every pluginConfig is parsed by its module before it is applied.`;

/** The modules' folder: --wasm-dir, $METAPROTOCOL_WASM_DIR, or build/ of the checkout. */
async function moduleCheck(dir: string | undefined) {
  const found = dir ?? process.env.METAPROTOCOL_WASM_DIR ??
    ["../../build", "../build"].map((d) => new URL(d, import.meta.url).pathname).find((d) => existsSync(d));
  if (!found) {
    console.error("metaprotocol-wasm: no module folder (--wasm-dir): pluginConfigs are not checked by the modules");
    return undefined;
  }
  return moduleCheckFrom(found);
}

function reportMissing(m: { missing: Set<string> } | undefined) {
  if (m?.missing.size) console.error(`metaprotocol-wasm: not checked by a module (no <wasm-dir>/<protocol>.wasm): ${[...m.missing].join(", ")}`);
}

function settingsFrom(values: { settings?: string; module?: string[] }): Settings {
  let s = values.settings ? parseSettings(readFileSync(values.settings, "utf8")) : { ...DEFAULT_SETTINGS };
  for (const m of values.module ?? []) s = moduleFlag(s, m);
  return s;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === "render") {
    const { values } = parseArgs({ args: rest, options: {
      file: { type: "string", short: "f", multiple: true }, settings: { type: "string" },
      module: { type: "string", multiple: true }, strict: { type: "boolean" }, "wasm-dir": { type: "string" },
    } });
    if (!values.file?.length) { console.error(USAGE); return 1; }
    const mc = await moduleCheck(values["wasm-dir"]);
    const out = renderFiles(values.file, settingsFrom(values), mc?.check);
    reportMissing(mc);
    process.stdout.write(out.yaml);
    if (out.report) process.stderr.write(out.report + "\n");
    const t = out.translation;
    const bad = t.events.some((e) => e.type === "Warning") || t.statuses.some((s) => s.conditions.some((c) => c.status === "False"));
    return values.strict && bad ? 2 : 0;
  }
  if (cmd === "run") {
    const { values } = parseArgs({ args: rest, options: {
      settings: { type: "string" }, module: { type: "string", multiple: true }, namespace: { type: "string" },
      port: { type: "string" }, kubeconfig: { type: "string" }, identity: { type: "string" }, "wasm-dir": { type: "string" },
    } });
    const { runController } = await import("./controller.js");
    const mc = await moduleCheck(values["wasm-dir"]);
    await runController({
      settings: settingsFrom(values),
      moduleCheck: mc?.check,
      namespace: values.namespace ?? process.env.POD_NAMESPACE ?? "metaprotocol-wasm",
      port: Number(values.port ?? 8080),
      kubeconfig: values.kubeconfig,
      identity: values.identity ?? process.env.POD_NAME ?? `metaprotocol-wasm-${process.pid}`,
    });
    return 0;
  }
  console.error(USAGE);
  return cmd === "help" || cmd === "--help" ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => { if (code !== 0 || process.argv[2] === "render") process.exitCode = code; },
  (e) => { console.error(`metaprotocol-wasm: ${(e as Error).message}`); process.exitCode = 1; });
