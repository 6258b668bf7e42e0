// PAUSE/CONTINUE accumulation, the tail-holding pattern, and buffer access rules, through
// real sockets: client -> host listener -> probe.wasm -> tcp_proxy -> echo upstream.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHost, type Host } from "../../envoy-dev/host/index.ts";
import { compileFixture, echoServer, client, tmpYaml, yamlFor, waitLog, WASM_DIR, sleep, type Upstream } from "./helpers.ts";

let up: Upstream;
before(async () => { compileFixture("probe"); up = await echoServer(); });
after(async () => { await up.close(); });

async function hostWith(config: string): Promise<Host> {
  return startHost({ configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config }, { echo: [up.port] })), wasmDir: WASM_DIR });
}

test("PAUSE keeps bytes in the read buffer; the next read appends and CONTINUE forwards them all", async () => {
  const host = await hostWith("accumulate");
  try {
    const c = await client(host.listeners.probe.port);
    c.send("abc");
    await waitLog(host, "probe: downstream size=3 eos=0");
    c.send("defg");
    await waitLog(host, "probe: downstream size=7 eos=0");
    c.send("h\n");
    await c.waitFor((b) => b.toString() === "abcdefgh\n");
    await waitLog(host, "probe: downstream size=9 eos=0");
    assert.equal(up.accepted > 0, true);
    c.socket.destroy();
  } finally { await host.close(); }
});

test("tail holding: only complete frames are forwarded and every byte arrives intact", async () => {
  const host = await hostWith("tail");
  try {
    const c = await client(host.listeners.probe.port);
    const lines = Array.from({ length: 40 }, (_, i) => `line-${i}-${"x".repeat(i * 7)}`);
    const text = lines.join("\n") + "\n";
    // Split at awkward places, with pauses so the host sees separate reads.
    for (let i = 0; i < text.length; i += 37) { c.send(text.slice(i, i + 37)); if (i % 5 === 0) await sleep(2); }
    const expected = lines.map((l) => `<${l}>\n`).join("");
    const got = await c.waitFor((b) => b.length >= expected.length);
    assert.equal(got.toString(), expected);
    c.socket.destroy();
  } finally { await host.close(); }
});

test("buffer access: DOWNSTREAM_DATA only inside on_downstream_data; no splice in the middle", async () => {
  const host = await hostWith("probe-turns");
  try {
    const c = await client(host.listeners.probe.port);
    c.send("hello");
    const got = await c.waitFor((b) => b.length >= 5);
    assert.equal(got.toString(), "hello"); // nothing was written out of turn
    await waitLog(host, "probe: upstream set_down=");
    const text = host.logs.join("\n");
    assert.match(text, /probe: new_connection get=1 set=1/);      // NOT_FOUND outside its callback
    assert.match(text, /probe: downstream middle=2 set_up=1/);    // BAD_ARGUMENT; UPSTREAM_DATA NOT_FOUND
    assert.match(text, /probe: upstream set_down=1/);             // NOT_FOUND on the write path
    c.socket.destroy();
  } finally { await host.close(); }
});
