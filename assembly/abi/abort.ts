// AssemblyScript's runtime calls abort() on a failed assertion or bounds check. Envoy refuses
// modules that import env.abort, so asconfig.json routes it here (--use abort=...): the reason
// goes to Envoy's log before the trap, so a bug is diagnosable. Bad input must never get here:
// codecs and the config parser check every length and return errors instead.
import { proxy_log } from "./imports";

export function onAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text = "metaprotocol: abort: " + (message ? message : "") + " at " +
    (fileName ? fileName : "?") + ":" + line.toString() + ":" + column.toString();
  const bytes = String.UTF8.encode(text);
  proxy_log(5, changetype<usize>(bytes), <usize>bytes.byteLength);
  unreachable();
}
