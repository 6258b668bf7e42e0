// Numeric knobs of the benchmarks, read from the environment: a value that is not an integer of
// at least `min` (1 unless said) stops the run with the variable's name instead of measuring nonsense.
export function envCount(name: string, def: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** A comma-separated list of positive integers. */
export function envCounts(name: string, def: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return def;
  return raw.split(",").map((x, i) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be positive integers separated by commas, got ${JSON.stringify(raw)} (item ${i + 1})`);
    return n;
  });
}
