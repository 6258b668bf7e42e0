// A fixed set of counters summed in module memory and flushed on the root's tick, like
// stats.ts does for the core counters: the features that are configured (global rate limit,
// tracing, access log) define theirs, so /stats shows only what is in use.
import { MetricType, defineMetric, incrementMetric } from "../abi/host";

export class Counters {
  private ids: StaticArray<u32>;
  private deltas: StaticArray<i64>;

  /** Defines `<base><name>` for each name (allowed in on_configure, not at start-up). */
  constructor(base: string, names: string[]) {
    this.ids = new StaticArray<u32>(names.length);
    this.deltas = new StaticArray<i64>(names.length);
    for (let i = 0; i < names.length; i++) unchecked(this.ids[i] = defineMetric(MetricType.Counter, base + unchecked(names[i])));
  }

  @inline inc(i: i32): void { unchecked(this.deltas[i] += 1); }
  @inline add(i: i32, n: i64): void { unchecked(this.deltas[i] += n); }

  flush(): void {
    for (let i = 0; i < this.deltas.length; i++) {
      const d = unchecked(this.deltas[i]);
      if (d != 0) { incrementMetric(unchecked(this.ids[i]), d); unchecked(this.deltas[i] = 0); }
    }
  }
}
