// A gRPC server that answers every unary call at once with one fixed message and keeps nothing:
// the benchmark's stand-in for an OpenTelemetry Collector (Export answered with an empty
// response), so that the proxy's own cost is measured, not a collector's on the same 2 cores.
import { createServer, type Http2Server } from "node:http2";

export interface GrpcOk { port: number; calls: number; close(): Promise<void> }

export async function startGrpcOk(message: Buffer = Buffer.alloc(0)): Promise<GrpcOk> {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  const state = { port: 0, calls: 0 };
  const server: Http2Server = createServer();
  server.on("stream", (stream) => {
    stream.on("data", () => {});
    stream.on("error", () => {});
    stream.on("end", () => {
      state.calls++;
      if (stream.destroyed) return;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frame);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  state.port = (server.address() as { port: number }).port;
  return {
    get port() { return state.port; },
    get calls() { return state.calls; },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
