// PAUSE/CONTINUE accumulation, the tail-holding pattern, and buffer access rules, through
// real sockets: client -> proxy listener -> probe.wasm -> tcp_proxy -> echo upstream, in the
// local host and in real Envoy.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import type { Proxy } from "../../envoy-dev/proxy/index.ts";
import { compileFixture, echoServer, client, yamlFor, waitLog, proxyWith, sleep, type Upstream } from "./helpers.ts";

let up: Upstream;
before(async () => { compileFixture("probe"); up = await echoServer(); });
after(async () => { await up.close(); });

eachProxy("data path", (kind) => {
  const withConfig = (config: string): Promise<Proxy> => proxyWith(kind, yamlFor({ wasm: "probe.wasm", config }, { echo: [up.port] }));

  test("PAUSE keeps bytes in the read buffer; the next read appends and CONTINUE forwards them all", async () => {
    const p = await withConfig("accumulate");
    try {
      const c = await client(p.listeners.probe.port);
      c.send("abc");
      await waitLog(p, "probe: downstream size=3 eos=0");
      c.send("defg");
      await waitLog(p, "probe: downstream size=7 eos=0");
      c.send("h\n");
      await c.waitFor((b) => b.toString() === "abcdefgh\n");
      await waitLog(p, "probe: downstream size=9 eos=0");
      c.socket.destroy();
    } finally { await p.close(); }
  });

  test("tail holding: only complete frames are forwarded and every byte arrives intact", async () => {
    const p = await withConfig("tail");
    try {
      const c = await client(p.listeners.probe.port);
      const lines = Array.from({ length: 40 }, (_, i) => `line-${i}-${"x".repeat(i * 7)}`);
      const text = lines.join("\n") + "\n";
      // Split at awkward places, with pauses so the proxy sees separate reads.
      for (let i = 0; i < text.length; i += 37) { c.send(text.slice(i, i + 37)); if (i % 5 === 0) await sleep(2); }
      const expected = lines.map((l) => `<${l}>\n`).join("");
      const got = await c.waitFor((b) => b.length >= expected.length);
      assert.equal(got.toString(), expected);
      c.socket.destroy();
    } finally { await p.close(); }
  });

  // Envoy hands out the data buffer wrapper in every callback (Context::getBuffer): outside its
  // own callback a read is OK and empty (get=0) and a write is BAD_ARGUMENT (2).
  test("buffer access: DOWNSTREAM_DATA writable only inside on_downstream_data; no splice in the middle", async () => {
    const p = await withConfig("probe-turns");
    try {
      const c = await client(p.listeners.probe.port);
      c.send("hello");
      const got = await c.waitFor((b) => b.length >= 5);
      assert.equal(got.toString(), "hello"); // nothing was written out of turn
      await waitLog(p, "probe: upstream set_down=");
      const text = p.logs().join("\n");
      assert.match(text, /probe: new_connection get=0 set=2/);      // no data yet: empty read, refused write
      assert.match(text, /probe: downstream middle=2 set_up=2/);    // no splice in the middle; UPSTREAM_DATA not writable here
      assert.match(text, /probe: upstream set_down=2/);             // DOWNSTREAM_DATA not writable on the write path
      c.socket.destroy();
    } finally { await p.close(); }
  });
});
