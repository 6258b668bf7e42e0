// A debounced, single-flight reconcile queue: bursts of events become one reconcile; a
// failed reconcile is retried with capped exponential backoff.
export class ReconcileQueue {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private failures = 0;
  private closed = false;

  constructor(private work: () => Promise<void>, private debounceMs = 200, private maxBackoffMs = 60_000) {}

  /** Ask for a reconcile; calls within the debounce window collapse into one. */
  add(delayMs = this.debounceMs): void {
    if (this.closed) return;
    if (this.running) { this.again = true; return; }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  close(): void { this.closed = true; clearTimeout(this.timer); }

  private async run(): Promise<void> {
    this.running = true;
    this.again = false;
    let ok = true;
    try { await this.work(); this.failures = 0; } catch { ok = false; this.failures++; }
    this.running = false;
    if (!ok) this.add(Math.min(this.debounceMs * 2 ** this.failures, this.maxBackoffMs));
    else if (this.again) this.add();
  }
}
