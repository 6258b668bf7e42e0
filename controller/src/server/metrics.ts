// A few Prometheus metrics in text exposition format; no dependency needed for counters
// and one histogram.
const BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

export class Metrics {
  reconciles = 0;
  errors = 0;
  objectsApplied = 0;
  objectsDeleted = 0;
  leader = 0;
  private durations = new Array(BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;

  observe(seconds: number): void {
    BUCKETS.forEach((b, i) => { if (seconds <= b) this.durations[i]++; });
    this.sum += seconds;
    this.count++;
  }

  text(): string {
    const lines = [
      "# HELP metaprotocol_wasm_reconciles_total Reconciles run.", "# TYPE metaprotocol_wasm_reconciles_total counter",
      `metaprotocol_wasm_reconciles_total ${this.reconciles}`,
      "# HELP metaprotocol_wasm_reconcile_errors_total Reconciles that failed.", "# TYPE metaprotocol_wasm_reconcile_errors_total counter",
      `metaprotocol_wasm_reconcile_errors_total ${this.errors}`,
      "# HELP metaprotocol_wasm_objects_applied_total Objects written with server-side apply.", "# TYPE metaprotocol_wasm_objects_applied_total counter",
      `metaprotocol_wasm_objects_applied_total ${this.objectsApplied}`,
      "# HELP metaprotocol_wasm_objects_deleted_total Stale owned objects deleted.", "# TYPE metaprotocol_wasm_objects_deleted_total counter",
      `metaprotocol_wasm_objects_deleted_total ${this.objectsDeleted}`,
      "# HELP metaprotocol_wasm_leader 1 when this replica holds the lease.", "# TYPE metaprotocol_wasm_leader gauge",
      `metaprotocol_wasm_leader ${this.leader}`,
      "# HELP metaprotocol_wasm_reconcile_duration_seconds Reconcile duration.", "# TYPE metaprotocol_wasm_reconcile_duration_seconds histogram",
      ...BUCKETS.map((b, i) => `metaprotocol_wasm_reconcile_duration_seconds_bucket{le="${b}"} ${this.durations[i]}`),
      `metaprotocol_wasm_reconcile_duration_seconds_bucket{le="+Inf"} ${this.count}`,
      `metaprotocol_wasm_reconcile_duration_seconds_sum ${this.sum}`,
      `metaprotocol_wasm_reconcile_duration_seconds_count ${this.count}`,
    ];
    return lines.join("\n") + "\n";
  }
}
