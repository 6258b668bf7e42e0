// npm run validate:envoy [files...]: checks envoy-dev/envoy.yaml against Envoy's API and the
// istio/ samples against Istio's CRDs (EnvoyFilter patches against Envoy's API too).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { validateBootstrapYaml, validateIstioResource } from "./index.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);
const files = args.length ? args : [
  join(root, "envoy-dev", "envoy.yaml"),
  ...readdirSync(join(root, "istio")).filter((f) => f.endsWith(".yaml")).map((f) => join(root, "istio", f)),
];

let failed = 0;
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const docs = parseAllDocuments(text).map((d) => d.toJS());
  const isIstio = docs.some((d) => typeof d?.apiVersion === "string" && d.apiVersion.includes("istio.io"));
  const errors = isIstio ? docs.filter(Boolean).flatMap((d) => validateIstioResource(d)) : validateBootstrapYaml(file);
  const name = relative(process.cwd(), file);
  if (errors.length) { failed++; console.error(`${name}: ${errors.length} error(s)`); for (const e of errors) console.error(`  ${e}`); }
  else console.log(`${name}: ok`);
}
process.exit(failed ? 1 : 0);
