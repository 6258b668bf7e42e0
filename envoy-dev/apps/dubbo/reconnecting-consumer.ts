// A dubbo2.js consumer that reconnects the way Java Dubbo does: a call made while the connection
// is closed opens a new one (dubbo2.js itself would refuse it for 3 s and then retry the socket).
// Each connection is one DubboConsumer (dubbo2.js DirectlyDubbo, reconnection off). Calls the
// library refused locally ("SocketWorker had closed.": never written) are sent again on the new
// connection; calls that were on the wire when it closed are reported as lost, never retried.
import { DubboConsumer, type CallResult } from "./consumer-client.ts";
import type { DemoMethod } from "./demo-service.ts";

export interface TrackedCall extends CallResult {
  /** Which connection (1, 2, ...) carried the call (its last attempt). */
  connection: number;
  /** The call was written and its connection closed before the answer came (the last attempt). */
  lostInFlight: boolean;
  /**
   * Earlier attempts whose connection closed while they were written (resent on a new
   * connection when `resendClosedInFlight`): a close by the server races with a request the
   * client is writing at that instant, as with any server-side close of a connection.
   */
  closedInFlight: number;
}

const REFUSED_LOCALLY = /SocketWorker had closed/;
const CLOSED_IN_FLIGHT = /socket-worker was closed/;

export class ReconnectingConsumer {
  private current: DubboConsumer | null = null;
  connections = 0;

  constructor(private readonly address: string, private readonly timeoutSeconds = 10, private readonly resendClosedInFlight = false) {}

  private consumer(): DubboConsumer {
    if (this.current === null || this.current.closed) {
      this.current = new DubboConsumer({ address: this.address, timeoutSeconds: this.timeoutSeconds });
      this.connections++;
    }
    return this.current;
  }

  async call(method: DemoMethod, arg: string): Promise<TrackedCall> {
    let closedInFlight = 0;
    for (let attempt = 0; ; attempt++) {
      const c = this.consumer();
      const connection = this.connections;
      const r = await c.call(method, arg);
      const msg = r.err?.message ?? "";
      if (REFUSED_LOCALLY.test(msg) && attempt < 5) continue; // never left this client
      const lost = CLOSED_IN_FLIGHT.test(msg);
      if (lost && this.resendClosedInFlight && closedInFlight < 3) { closedInFlight++; continue; }
      return { ...r, connection, lostInFlight: lost, closedInFlight };
    }
  }

  async close(): Promise<void> { await this.current?.close(); }
}
