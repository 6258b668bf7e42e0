// Bad bytes from a client, through build/dubbo.wasm with a small frame cap (maxFrameBytes 4096).
// Each case must close only its own connection, be counted, never fail the VM, and leave a real
// consumer (dubbo2.js) on another connection working during and after.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { encodeRequest } from "../../envoy-dev/apps/dubbo/codec.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { writeHeader, FLAG_REQUEST, FLAG_TWO_WAY, HESSIAN2 } from "../../envoy-dev/apps/dubbo/protocol.ts";
import { STATS, demoPluginConfig, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";
import { within } from "../../envoy-dev/apps/dubbo/deadline.ts";

const P = STATS;
const CAP = 4096;
const REQ = FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2;
const CLOSE_DEADLINE_MS = 5000;

eachProxy("dubbo e2e: bad input", (proxy) => {
  let mesh: DubboMesh;
  let consumer: DubboConsumer;
  let calls = 0;
  // The bystander: one long-lived dubbo2.js connection, called before and after every case.
  const bystanderWorks = async () => {
    const arg = `bystander-${++calls}`;
    const r = await consumer.call("echo", arg);
    assert.equal(r.err, null, `bystander call failed: ${r.err?.message}`);
    assert.equal(r.res, `${arg} (echo from v1)`);
  };

  /**
   * Opens a raw connection, sends `bytes` (then half-closes if asked) and expects the proxy to
   * close it. Closing is immediate when it works; the deadline only turns a hang into a failure.
   */
  const expectClosed = async (bytes: Buffer, opts: { end?: boolean } = {}) => {
    const raw = await RawDubboConnection.connect(mesh.port);
    raw.write(bytes);
    if (opts.end) raw.end();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<"hung">((r) => { timer = setTimeout(() => r("hung"), CLOSE_DEADLINE_MS); });
    const outcome = await Promise.race([raw.closed.then(() => "closed" as const), hung]);
    clearTimeout(timer);
    if (outcome === "hung") {
      await raw.close();
      assert.fail(`the proxy left the connection open ${CLOSE_DEADLINE_MS} ms after ${bytes.length} bad bytes` +
        `${opts.end ? " and the client's FIN" : ""} (${bytes.subarray(0, 24).toString("hex")}); ` +
        `downstream_cx_active=${await mesh.stat(P + "downstream_cx_active")}`);
    }
    return raw;
  };

  before(async () => {
    mesh = await startDubboMesh({ proxy, pluginConfig: JSON.stringify({ ...demoPluginConfig(), maxFrameBytes: CAP }) });
    consumer = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
    await bystanderWorks();
  });
  after(async () => {
    await consumer?.close();
    await mesh?.close();
  });

  test("garbage bytes: closed and counted as a request decoding error", async () => {
    const errors = await mesh.counter(P + "request_decoding_error");
    const raw = await expectClosed(Buffer.from("this is not dubbo at all, just some text\r\n"));
    assert.equal(raw.responses.length, 0);
    assert.equal(await errors.waitFor(1), 1);
    await bystanderWorks();
  });

  test("wrong magic in an otherwise valid frame: closed and counted", async () => {
    const errors = await mesh.counter(P + "request_decoding_error");
    const frame = encodeRequest({ id: 5n, path: DEMO_SERVICE, method: "echo", args: ["m"] });
    frame.writeUInt16BE(0xdabc, 0);
    const raw = await expectClosed(frame);
    assert.equal(raw.responses.length, 0);
    assert.equal(await errors.waitFor(1), 1);
    assert.equal(mesh.providers.v1.calls.some((k) => k.args[0] === "m"), false);
    await bystanderWorks();
  });

  test("truncated header, then the client closes: connection ends, counted as request_truncated, nothing reaches a provider", async () => {
    const truncated = await mesh.counter(P + "request_truncated");
    const cx = await mesh.counter(P + "downstream_cx_total");
    const active = await mesh.stat(P + "downstream_cx_active");
    const before = Object.values(mesh.providers).reduce((n, p) => n + p.calls.length + p.heartbeats, 0);
    await expectClosed(Buffer.from("dabbc2000000", "hex"), { end: true });
    assert.equal(await cx.waitFor(1), 1);
    assert.equal(await truncated.waitFor(1), 1);
    await waitForActive(mesh, active);
    assert.equal(Object.values(mesh.providers).reduce((n, p) => n + p.calls.length + p.heartbeats, 0), before);
    await bystanderWorks();
  });

  test(`body length over maxFrameBytes (${CAP}): closed as soon as the header is read, counted as frame_too_large`, async () => {
    const tooLarge = await mesh.counter(P + "frame_too_large");
    // Only the header: the proxy must not wait for a body it will never accept.
    const raw = await expectClosed(writeHeader({ flag: REQ, status: 0, id: 6n, bodyLength: CAP + 1 }));
    assert.equal(raw.responses.length, 0);
    assert.equal(await tooLarge.waitFor(1), 1);
    await bystanderWorks();
  });

  // maxFrameBytes bounds the whole frame, header included (README: "frames larger than this").
  const frameOfLength = (id: bigint, total: number) => {
    const empty = encodeRequest({ id, path: DEMO_SERVICE, method: "echo", args: [""] });
    // "" has a 1-byte Hessian length prefix, a string of 1024..65535 chars a 3-byte one.
    const arg = "y".repeat(total - empty.length - 2);
    const frame = encodeRequest({ id, path: DEMO_SERVICE, method: "echo", args: [arg] });
    assert.equal(frame.length, total);
    return { frame, arg };
  };

  test("a frame of exactly maxFrameBytes passes; one byte more is refused", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const { frame, arg } = frameOfLength(7n, CAP);
      const answer = raw.response(7n);
      raw.write(frame);
      assert.equal((await within(answer, 5000, "answer to a frame at the cap")).value, `${arg} (echo from v1)`);
    } finally {
      await raw.close();
    }
    const tooLarge = await mesh.counter(P + "frame_too_large");
    const over = await expectClosed(frameOfLength(17n, CAP + 1).frame);
    assert.equal(over.responses.length, 0);
    assert.equal(await tooLarge.waitFor(1), 1);
    await bystanderWorks();
  });

  test("broken Hessian inside a valid header: closed and counted, never forwarded", async () => {
    const errors = await mesh.counter(P + "request_decoding_error");
    const body = Buffer.from([0x05, 0x32, 0x2e]); // "dubbo version": a 5-char string cut after 2
    const raw = await expectClosed(Buffer.concat([writeHeader({ flag: REQ, status: 0, id: 8n, bodyLength: body.length }), body]));
    assert.equal(raw.responses.length, 0);
    assert.equal(await errors.waitFor(1), 1);
    await bystanderWorks();
  });

  test("peer closes mid-frame (after a good call on the same connection): the connection ends, counted as request_truncated", async () => {
    const truncated = await mesh.counter(P + "request_truncated");
    const cx = await mesh.counter(P + "downstream_cx_total");
    const active = await mesh.stat(P + "downstream_cx_active");
    const raw = await RawDubboConnection.connect(mesh.port);
    const ok = await raw.request({ id: 9n, path: DEMO_SERVICE, method: "echo", args: ["before-cut"] });
    assert.equal(ok.value, "before-cut (echo from v1)");
    const frame = encodeRequest({ id: 10n, path: DEMO_SERVICE, method: "echo", args: ["cut"] });
    raw.write(frame.subarray(0, 16 + 10));
    raw.end();
    await within(raw.closed, CLOSE_DEADLINE_MS, "the proxy closing a connection whose peer sent FIN mid-frame");
    assert.equal(await cx.waitFor(1), 1);
    assert.equal(await truncated.waitFor(1), 1);
    await waitForActive(mesh, active);
    assert.equal(mesh.providers.v1.calls.some((k) => k.args[0] === "cut"), false, "a partial frame is never forwarded");
    await bystanderWorks();
  });

  test("bystander calls in flight while bad connections come and go all succeed; the VM never failed", async () => {
    const inFlight = Array.from({ length: 20 }, (_, i) => consumer.call("echo", `during-${i}`));
    await Promise.all([
      expectClosed(Buffer.from("garbage".repeat(10))),
      expectClosed(writeHeader({ flag: REQ, status: 0, id: 11n, bodyLength: CAP * 4 })),
      expectClosed(Buffer.from("dabb", "hex"), { end: true }),
    ]);
    const results = await Promise.all(inFlight);
    assert.deepEqual(results.map((r) => r.res), results.map((_, i) => `during-${i} (echo from v1)`));
    await bystanderWorks();
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

/** The module's active-connections gauge (flushed on its tick) back to `n`. */
async function waitForActive(mesh: DubboMesh, n: number): Promise<void> {
  await mesh.proxy.waitForStat(STATS + "downstream_cx_active", (v) => v <= n, 5000);
}
