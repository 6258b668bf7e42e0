// `istioctl validate` as a library call: the istio binary's `validate` subcommand is istioctl's
// own NewValidateCommand (go/istio/main.go), so the validators are exactly Istio's.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { istioBin, type IstioRelease } from "./tools.ts";

/** Validates YAML (documents or a kubectl List, split into documents as istioctl wants them). */
export function istioValidate(release: IstioRelease, yamlText: string): Promise<{ code: number; output: string }> {
  const docs = parseAllDocuments(yamlText).flatMap((d) => {
    const o = d.toJS();
    return o && Array.isArray(o.items) && /List$/.test(o.kind ?? "") ? o.items : o ? [o] : [];
  }).map((o: any) => {
    // What the API server adds is not part of the object a user writes.
    if (o.metadata) for (const k of ["managedFields", "resourceVersion", "uid", "generation", "creationTimestamp"]) delete o.metadata[k];
    return o;
  });
  const file = join(mkdtempSync(join(tmpdir(), "metaprotocol-validate-")), "objects.yaml");
  writeFileSync(file, docs.map((d) => stringify(d, { version: "1.1" })).join("---\n"));
  return new Promise((resolve) => {
    execFile(istioBin(release), ["validate", "-f", file], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}
