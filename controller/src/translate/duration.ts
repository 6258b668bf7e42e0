// MetaRouter durations are Go/protobuf style ("1s", "1m30s", "0.5s"); the plugin config
// takes "<n>ms" or "<n>s". Normalising here keeps the module's parser small.
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
const PART = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/y;

export function durationMs(text: unknown): number | null {
  if (typeof text !== "string" || text === "") return null;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) return null;
    ms += parseFloat(m[1]) * UNIT_MS[m[2]];
  }
  return Number.isFinite(ms) ? ms : null;
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms)}ms`;
}
