// A TCP relay in front of a Dubbo listener that notes the serialization id of every request
// and response crossing it (both directions): shows which serialization a real client chose.
import net from "node:net";

export interface DubboTap { port: number; serializations: Set<number>; close(): Promise<void> }

export async function dubboTap(targetPort: number): Promise<DubboTap> {
  const serializations = new Set<number>();
  const sockets = new Set<net.Socket>();
  const watch = (s: net.Socket) => {
    let buf = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 16 && buf.readUInt16BE(0) === 0xdabb) {
        const n = 16 + buf.readUInt32BE(12);
        if (buf.length < n) break;
        if ((buf[2] & 0x20) === 0) serializations.add(buf[2] & 0x1f); // not a heartbeat
        buf = buf.subarray(n);
      }
    });
  };
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, "127.0.0.1");
    for (const s of [down, up]) { sockets.add(s); s.on("error", () => {}); s.on("close", () => sockets.delete(s)); watch(s); }
    down.pipe(up); up.pipe(down);
    down.on("close", () => up.destroy()); up.on("close", () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    serializations,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
