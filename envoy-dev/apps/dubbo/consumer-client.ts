// The real consumer: dubbo2.js DirectlyDubbo (npm dubbo2.js 2.3.9), one TCP connection to
// host:port on which every call is written at once and matched back by request id, i.e. calls
// are pipelined on one socket. Heartbeats go out every 180 s only, with request id 0.
//
// DirectlyDubbo has no close() and reconnects on close (20 retries, 3 s apart), and its public
// API resolves only the value, dropping response attachments that its own decoder reads.
// This wrapper reaches into two internals of 2.3.9 (`_socketWorker`, its `_retry` and
// `_socket`) to (1) turn reconnection off so a closed connection fails pending calls at once
// and close() ends everything, and (2) tap the frames the library decoded, attachments included.
import dubbo2 from "dubbo2.js";
import { DEMO_METHODS, DEMO_SERVICE, type DemoMethod } from "./demo-service.ts";

const { DirectlyDubbo, java } = dubbo2 as unknown as {
  DirectlyDubbo: { from(p: { dubboAddress: string; dubboVersion: string; dubboInvokeTimeout: number }): any };
  java: { String(s: string): unknown };
};

/** One response as dubbo2.js decoded it (dubbo2.js/es7/decode.js). */
export interface DecodedByLibrary {
  requestId: number;
  res: unknown;
  err: Error | null;
  attachments: Record<string, unknown>;
}

export interface CallResult {
  res: unknown;
  err: Error | null;
  ms: number;
}

export interface ConsumerOptions {
  /** "127.0.0.1:20880" */
  address: string;
  interface?: string;
  /** dubbo2.js's dubboInvokeTimeout, in seconds. */
  timeoutSeconds?: number;
  dubboVersion?: string;
}

type Service = Record<DemoMethod, (arg: string) => Promise<{ res: unknown; err: Error | null }>>;

export class DubboConsumer {
  /** Every response frame the library decoded, in arrival order. */
  readonly decoded: DecodedByLibrary[] = [];
  /** Resolves once the socket is connected; rejects if it closes first. */
  readonly connected: Promise<void>;
  private readonly dubbo: any;
  private readonly service: Service;
  private closedFlag = false;
  private readonly closedPromise: Promise<void>;

  constructor(opts: ConsumerOptions) {
    this.dubbo = DirectlyDubbo.from({
      dubboAddress: opts.address,
      dubboVersion: opts.dubboVersion ?? "2.0.2",
      dubboInvokeTimeout: opts.timeoutSeconds ?? 10,
    });
    const worker = this.dubbo._socketWorker;
    worker._retry = 0;
    let onConnected!: () => void;
    let onClosed!: () => void;
    let failConnect!: (e: Error) => void;
    this.connected = new Promise<void>((res, rej) => { onConnected = res; failConnect = rej; });
    this.connected.catch(() => {}); // observed by callers that care
    this.closedPromise = new Promise<void>((res) => { onClosed = res; });
    // Re-subscribe before the socket can connect (connect completes on a later tick).
    worker.subscribe({
      onConnect: (info: unknown) => {
        worker._retry = 0; // the library resets it to 20 on every connect
        this.dubbo.onConnect(info);
        onConnected();
      },
      onData: (json: DecodedByLibrary) => {
        this.decoded.push(json);
        this.dubbo.onData(json);
      },
      onClose: (info: unknown) => {
        this.closedFlag = true;
        this.dubbo.onClose(info);
        failConnect(new Error(`dubbo2.js: connection to ${opts.address} closed`));
        onClosed();
      },
    });
    const methods: Record<string, (arg: string) => unknown[]> = {};
    for (const m of DEMO_METHODS) methods[m] = (arg: string) => [java.String(arg)];
    this.service = this.dubbo.proxyService({
      dubboInterface: opts.interface ?? DEMO_SERVICE,
      version: "1.0.0",
      methods,
    }) as Service;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Calls a method; dubbo2.js reports remote errors and timeouts in `err`, never throws. */
  async call(method: DemoMethod, arg: string): Promise<CallResult> {
    const t0 = performance.now();
    const { res, err } = await this.service[method](arg);
    return { res, err, ms: performance.now() - t0 };
  }

  /** What the library decoded for the response whose value is `res`. */
  decodedFor(res: unknown): DecodedByLibrary | undefined {
    return this.decoded.find((d) => d.res === res);
  }

  async close(): Promise<void> {
    if (!this.closedFlag) {
      this.dubbo._socketWorker._socket.destroy();
      await this.closedPromise;
    }
  }
}
