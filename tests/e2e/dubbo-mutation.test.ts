// Request and response mutation of the demo route hello-v2 (x-canary=true on the request,
// x-route=hello-v2 on the response), through build/dubbo.wasm in the local host and real Envoy.
// dubbo2.js resolves calls with the value only and drops response attachments, so the response
// mutation is shown twice: from the frames dubbo2.js's own decoder produced (tapped by
// DubboConsumer), and from a raw socket whose response is decoded with hessian.js.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

eachProxy("dubbo e2e: mutations", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy }); });
  after(async () => { await mesh?.close(); });

  test("dubbo2.js sayHello: the v2 provider sees x-canary=true, the consumer's decoder sees x-route=hello-v2", async () => {
    const c = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
    try {
      const { res, err } = await c.call("sayHello", "carol");
      assert.equal(err, null);
      assert.equal(res, "Hello carol, from v2");
      const call = mesh.providers.v2.calls.find((k) => k.args[0] === "carol");
      assert.ok(call, "v2 received the call");
      assert.equal(call.attachments["x-canary"], "true");
      // The consumer's own attachments arrive untouched next to the added one.
      assert.equal(call.attachments.interface, DEMO_SERVICE);
      assert.equal(call.attachments.application, "dubbo2.js");
      const decoded = c.decodedFor(res);
      assert.ok(decoded, "dubbo2.js decoded the response");
      assert.equal(decoded.attachments["x-route"], "hello-v2");
      assert.equal(decoded.attachments["x-provider-version"], "v2", "the provider's attachments are kept");
    } finally {
      await c.close();
    }
  });

  test("raw socket + hessian.js: the response to sayHello carries x-route=hello-v2 with the same id and value", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const r = await raw.request({ id: 0x0102_0304_0506_0708n, path: DEMO_SERVICE, method: "sayHello", args: ["dave"] });
      assert.equal(r.status, 20);
      assert.equal(r.flag, 4);
      assert.equal(r.value, "Hello dave, from v2");
      assert.deepEqual(r.attachments, { dubbo: "2.0.2", "x-provider-version": "v2", "x-route": "hello-v2" });
    } finally {
      await raw.close();
    }
  });

  test("a route without mutations changes nothing: echo reaches v1 without x-canary, its response without x-route", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const r = await raw.request({ id: 77n, path: DEMO_SERVICE, method: "echo", args: ["plain"] });
      assert.equal(r.value, "plain (echo from v1)");
      assert.deepEqual(r.attachments, { dubbo: "2.0.2", "x-provider-version": "v1" });
      const call = mesh.providers.v1.calls.find((k) => k.args[0] === "plain");
      assert.ok(call);
      assert.deepEqual(call.attachments, {
        path: DEMO_SERVICE, interface: DEMO_SERVICE, version: "0.0.0",
      });
    } finally {
      await raw.close();
    }
    assert.deepEqual(mesh.vmFailures(), []);
  });
});
