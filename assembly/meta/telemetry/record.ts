// What is remembered of one request between its decoding and its end (response, local reply,
// or connection close): enough for its span, its access log record and its duration. Records
// are pooled per connection, so a request costs no allocation once a connection is warm.
import { TraceContext } from "./trace";

/** How a request ended. */
export const enum Outcome { Ok = 0, Error = 1, Oneway = 2, NoResponse = 3, LocalReply = 4 }

export class RequestRecord {
  requestId: u64 = 0;
  startNs: u64 = 0;
  requestSize: i32 = 0;
  oneway: bool = false;
  service: string | null = null;
  method: string | null = null;
  routeSlot: i32 = -1;
  methodSlot: i32 = -1;
  /** Span recorded (sampled). */
  traced: bool = false;
  /** Trace context known (ids set): written on the request and on its log record. */
  hasTrace: bool = false;
  /** The request arrived with a traceparent: parentSpanId is the caller's span. */
  hasParent: bool = false;
  /** The traceparent must be (re)written on the request. */
  propagate: bool = false;
  logged: bool = false;
  /** Our span: trace id, span id and flags. */
  trace: TraceContext = new TraceContext();
  parentSpanId: u64 = 0;
  /** Local replies: the ErrorType (codec.ts). */
  error: i32 = 0;

  reset(): void {
    this.requestId = 0; this.startNs = 0; this.requestSize = 0; this.oneway = false;
    this.service = null; this.method = null; this.routeSlot = -1; this.methodSlot = -1;
    this.traced = false; this.hasTrace = false; this.hasParent = false; this.propagate = false; this.logged = false;
    this.parentSpanId = 0; this.error = 0;
  }
}
