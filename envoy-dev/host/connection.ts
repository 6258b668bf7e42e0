// A downstream connection with Envoy's network filter manager (FilterManagerImpl):
// read filters in order, onNewConnection before the first onData of each filter,
// StopIteration ends the pass, continueReading resumes after the caller, the read buffer is
// shared by all read filters, and reading stops above the connection buffer limit.
import type { Socket } from "node:net";
import { ByteQueue } from "./byte-queue.ts";

export const CONTINUE = 0;
export const STOP = 1;
export type FilterStatus = typeof CONTINUE | typeof STOP;

export interface ReadFilter {
  onNewConnection(): FilterStatus;
  onData(buf: ByteQueue, endStream: boolean): FilterStatus;
}
export interface WriteFilter {
  onWrite(buf: ByteQueue, endStream: boolean): FilterStatus;
}
export type CloseEvent = "local" | "remote";

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly readBuffer = new ByteQueue();
  readonly filterState = new Map<string, Uint8Array | string>();
  upstreamAddress: string | null = null;
  upstreamPort = 0;
  clusterName: string | null = null;
  private readEnd = false;
  private readEndRaised = false;
  private readFilters: { f: ReadFilter; initialized: boolean }[] = [];
  private writeFilters: WriteFilter[] = [];
  private readDisables = 0;
  private aboveLimit = false;
  private closeListeners: ((e: CloseEvent) => void)[] = [];
  private destroyListeners: (() => void)[] = [];
  private writeDrainListeners: ((above: boolean) => void)[] = [];
  private localClose = false;
  state: "open" | "closing" | "closed" = "open";
  private wroteEnd = false;

  constructor(readonly socket: Socket, readonly bufferLimit: number) {}

  addReadFilter(f: ReadFilter): void { this.readFilters.push({ f, initialized: false }); }
  addWriteFilter(f: WriteFilter): void { this.writeFilters.push(f); }
  onClose(cb: (e: CloseEvent) => void): void { this.closeListeners.push(cb); }
  onDestroy(cb: () => void): void { this.destroyListeners.push(cb); }
  /** Write-buffer watermark callbacks (tcp_proxy stops reading the upstream). */
  onWriteWatermark(cb: (above: boolean) => void): void { this.writeDrainListeners.push(cb); }

  start(): void {
    const s = this.socket;
    s.on("data", (chunk: Buffer) => {
      this.readBuffer.append(chunk);
      // Like Envoy, the read that crosses the limit is still dispatched; reading stops after.
      this.onRead();
      this.checkReadLimit();
    });
    s.on("end", () => { this.readEnd = true; this.onRead(); });
    s.on("error", () => { /* 'close' follows; the event carries the outcome */ });
    s.on("drain", () => { for (const cb of this.writeDrainListeners) cb(false); });
    s.on("close", () => this.onSocketClosed());
    this.onContinueReading(null);
  }

  get endOfStream(): boolean { return this.readEnd; }
  isClosed(): boolean { return this.state === "closed"; }

  /** A read event: data arrived (or end of stream, raised once). */
  private onRead(): void {
    if (this.state !== "open" || this.readDisables > 0) return;
    if (this.readBuffer.length === 0 && !this.readEnd) return;
    if (this.readEnd && this.readBuffer.length === 0) {
      if (this.readEndRaised) return;
    }
    if (this.readEnd) this.readEndRaised = true;
    this.onContinueReading(null);
  }

  /** Envoy ReadFilterCallbacks::continueReading(): resume with the filter after `from`. */
  continueReading(from: ReadFilter): void {
    if (this.state !== "open") return;
    this.onContinueReading(from);
  }

  private onContinueReading(from: ReadFilter | null): void {
    let i = from ? this.readFilters.findIndex((e) => e.f === from) + 1 : 0;
    for (; i < this.readFilters.length; i++) {
      if (this.state !== "open") return;
      const e = this.readFilters[i];
      if (!e.initialized) {
        e.initialized = true;
        if (e.f.onNewConnection() === STOP || this.state !== "open") return;
      }
      if (this.readBuffer.length > 0 || this.readEnd) {
        if (e.f.onData(this.readBuffer, this.readEnd) === STOP) break;
      }
    }
    this.checkReadLimit();
  }

  /** Above the buffer limit Envoy stops reading the socket; below half it reads again. */
  private checkReadLimit(): void {
    if (!this.aboveLimit && this.readBuffer.length > this.bufferLimit) {
      this.aboveLimit = true;
      this.readDisable(true);
    } else if (this.aboveLimit && this.readBuffer.length <= this.bufferLimit / 2) {
      this.aboveLimit = false;
      this.readDisable(false);
    }
  }

  readDisable(disable: boolean): void {
    if (this.state === "closed") return;
    if (disable) {
      if (this.readDisables++ === 0) this.socket.pause();
      return;
    }
    if (this.readDisables === 0) return;
    if (--this.readDisables === 0) {
      this.socket.resume();
      // Envoy re-dispatches what is already buffered when reading is enabled again.
      if (this.readBuffer.length > 0 || (this.readEnd && !this.readEndRaised)) {
        setImmediate(() => {
          if (this.state === "open" && this.readDisables === 0) {
            if (this.readEnd) this.readEndRaised = true;
            this.onContinueReading(null);
          }
        });
      }
    }
  }

  /**
   * Envoy Connection::write: write filters see the buffer first; StopIteration keeps it. A filter
   * that closes the connection (FilterManagerImpl::onWrite checks state != Open) stops the pass,
   * so none of that write's bytes reach the client.
   */
  write(buf: ByteQueue, endStream: boolean): void {
    if (this.state !== "open") return;
    for (let i = this.writeFilters.length - 1; i >= 0; i--) {
      if (this.writeFilters[i].onWrite(buf, endStream) === STOP) return;
      if (this.state !== "open") return;
    }
    const data = buf.take();
    if (this.wroteEnd) return;
    if (data.length && !this.socket.write(data)) for (const cb of this.writeDrainListeners) cb(true);
    if (endStream) {
      this.wroteEnd = true;
      // Envoy closes a connection whose both sides are half-closed as it finishes the write
      // (ConnectionImpl::onWriteReady, closeConnectionImmediately): a LocalClose when the peer's
      // FIN came first, as when a client half-closes and tcp_proxy relays the upstream's FIN.
      if (this.readEnd) this.localClose = true;
      this.socket.end();
    }
  }

  /** Close; "flush" writes what is queued first (Envoy FlushWrite, 1 s delayed-close bound). */
  close(mode: "flush" | "noflush"): void {
    if (this.state !== "open") return;
    this.state = "closing";
    this.localClose = true;
    const s = this.socket;
    if (mode === "noflush" || s.writableFinished) { s.destroy(); return; }
    const timer = setTimeout(() => s.destroy(), 1000);
    timer.unref();
    s.once("finish", () => { clearTimeout(timer); s.destroy(); });
    if (!s.writableEnded) s.end();
  }

  private onSocketClosed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    const ev: CloseEvent = this.localClose ? "local" : "remote";
    for (const cb of this.closeListeners) {
      try { cb(ev); } catch { /* a listener must not stop the others */ }
    }
    for (const cb of this.destroyListeners) {
      try { cb(); } catch { /* same */ }
    }
  }
}
