import { parsePluginConfig, PluginConfig, Route } from "../../assembly/meta/config";
import { Metadata } from "../../assembly/meta/metadata";
import { ipOf, matchRoute, routeSendsTo, selectService } from "../../assembly/meta/router";

function cfg(json: string): PluginConfig {
  const r = parsePluginConfig(json, "dubbo");
  if (r.config == null) throw new Error(r.error);
  return r.config!;
}
function md(iface: string, method: string): Metadata {
  const m = new Metadata();
  m.setAttribute("interface", iface);
  m.setAttribute("method", method);
  return m;
}

const SHARED = `{"services":[
  {"name":"a.svc","match":{"addresses":["10.0.0.1"]},"routes":[{"name":"a","route":[{"cluster":"outbound|20880||a.svc","weight":1}]}]},
  {"name":"b.svc","match":{"attributes":{"interface":{"prefix":"com.b."}}},"routes":[
     {"name":"b-hello","match":{"attributes":{"method":{"exact":"sayHello"}}},"route":[{"cluster":"outbound|20880|v2|b.svc","weight":1}]},
     {"name":"b-greet","match":{"attributes":{"method":{"regex":"greet.*"}}},"route":[{"cluster":"outbound|20880|v1|b.svc","weight":1},{"cluster":"outbound|20880|v2|b.svc","weight":3}]},
     {"name":"b-rest","route":[{"cluster":"outbound|20880|v1|b.svc","weight":1}]}]},
  {"name":"c.svc","match":{"addresses":["10.0.0.3"],"attributes":{"interface":{"exact":"com.c.Api"}}},"routes":[{"name":"c"}]}
]}`;

describe("router: which service owns a connection", () => {
  it("selects by the dialed address, then by attributes, first match wins", () => {
    const c = cfg(SHARED);
    expect(selectService(c, md("com.b.Api", "x"), "10.0.0.1")!.name).toBe("a.svc");
    expect(selectService(c, md("com.b.Api", "x"), "10.9.9.9")!.name).toBe("b.svc");
    expect(selectService(c, md("com.b.Api", "x"), null)!.name).toBe("b.svc");
  });
  it("is claimed by either its address or its attributes when a service lists both", () => {
    const c = cfg(SHARED);
    expect(selectService(c, md("com.c.Api", "x"), "10.0.0.3")!.name).toBe("c.svc");
    expect(selectService(c, md("com.c.Other", "x"), "10.0.0.3")!.name).toBe("c.svc"); // dialed its VIP
    expect(selectService(c, md("com.c.Api", "x"), "10.244.0.7")!.name).toBe("c.svc"); // dialed a pod IP
    expect(selectService(c, md("com.c.Other", "x"), "10.244.0.7")).toBeNull();
  });
  it("lets a service with no match claim every connection", () => {
    const c = cfg(`{"services":[{"name":"a","match":{"addresses":["10.0.0.1"]}},{"name":"any"}]}`);
    expect(selectService(c, md("i", "m"), "10.0.0.9")!.name).toBe("any");
    expect(selectService(c, md("i", "m"), "10.0.0.1")!.name).toBe("a");
  });
  it("strips the port from Envoy's ip:port addresses", () => {
    expect(ipOf("10.0.0.1:20880")).toBe("10.0.0.1");
    expect(ipOf("[fd00::1]:20880")).toBe("fd00::1");
    expect(ipOf("fd00::1")).toBe("fd00::1");
  });
});

describe("router: routes", () => {
  it("takes the first route that matches, in order", () => {
    const svc = cfg(SHARED).services[1];
    expect(matchRoute(svc, md("com.b.Api", "sayHello"))!.name).toBe("b-hello");
    expect(matchRoute(svc, md("com.b.Api", "greeting"))!.name).toBe("b-greet");
    expect(matchRoute(svc, md("com.b.Api", "agreet"))!.name).toBe("b-rest"); // regex is a full match
  });
  it("returns null when nothing matches and there is no catch-all", () => {
    const svc = cfg(`{"services":[{"name":"s","routes":[{"name":"r","match":{"attributes":{"method":{"exact":"a"}}}}]}]}`).services[0];
    expect(matchRoute(svc, md("i", "b"))).toBeNull();
  });
  it("tells whether a route may send to the connection's bound cluster", () => {
    const svc = cfg(SHARED).services[1];
    const greet = svc.routes[1];
    expect(routeSendsTo(greet, "outbound|20880|v1|b.svc")).toBe(true);
    expect(routeSendsTo(greet, "outbound|20880|v2|b.svc")).toBe(true);
    expect(routeSendsTo(svc.routes[0], "outbound|20880|v1|b.svc")).toBe(false);
    expect(routeSendsTo(cfg(SHARED).services[2].routes[0], "anything")).toBe(true); // no destination: keeps the connection's
  });
  it("picks weighted clusters in exact proportion over consecutive random values", () => {
    const greet = cfg(SHARED).services[1].routes[1];
    let v2 = 0;
    const n: u32 = 4000;
    for (let i: u32 = 0; i < n; i++) {
      if (greet.pickCluster(0x9e3779b9 + i) == "outbound|20880|v2|b.svc") v2++;
    }
    expect(v2).toBe(3000);
  });
});

// 300 routes: exact methods, some with a second attribute, regex and prefix routes between
// them, one catch-all near the end; first match must win exactly as a linear scan decides.
function bigService(): string {
  let routes = "";
  for (let i = 0; i < 300; i++) {
    let m: string;
    if (i % 50 == 7) m = `{"method":{"regex":"m1[0-9]"}}`;
    else if (i % 50 == 9) m = `{"method":{"prefix":"m2"}}`;
    else if (i % 10 == 3) m = `{"method":{"exact":"m${i - 1}"},"version":{"exact":"2"}}`;
    else m = `{"method":{"exact":"m${i}"}}`;
    if (i == 290) m = `{"version":{"exact":"9"}}`;
    routes += (i ? "," : "") + `{"name":"r${i}","match":{"attributes":${m}},"route":[{"cluster":"outbound|1||x.svc","weight":1}]}`;
  }
  return `{"services":[{"name":"x.svc","routes":[${routes}]}]}`;
}
function scan(routes: Route[], m: Metadata): Route | null {
  for (let i = 0; i < routes.length; i++) if (routes[i].match.matches(m)) return routes[i];
  return null;
}

describe("router: exact-match route index", () => {
  it("picks the same route as a linear scan for every request", () => {
    const svc = cfg(bigService()).services[0];
    const methods = ["m0", "m1", "m12", "m2", "m22", "m21", "m150", "m299", "m301", "zzz", "", "m10"];
    const versions = ["", "2", "9"];
    for (let i = 0; i < methods.length; i++) {
      for (let j = 0; j < versions.length; j++) {
        const m = new Metadata();
        if (methods[i].length > 0) m.setAttribute("method", methods[i]);
        if (versions[j].length > 0) m.setAttribute("version", versions[j]);
        const want = scan(svc.routes, m), got = matchRoute(svc, m);
        expect(got == null ? "none" : got!.name).toBe(want == null ? "none" : want!.name, methods[i] + "/" + versions[j]);
      }
    }
    for (let i = 0; i < 300; i++) {
      const m = md("x", "m" + i.toString());
      const want = scan(svc.routes, m), got = matchRoute(svc, m);
      expect(got == null ? "none" : got!.name).toBe(want == null ? "none" : want!.name);
    }
  });

  it("tries only the routes keyed by the request's value and the unkeyed ones", () => {
    const svc = cfg(bigService()).services[0];
    matchRoute(svc, md("x", "m1"));
    const idx = svc.routeIndex!;
    expect(idx.key).toBe("method");
    expect(idx.rest.length).toBe(13); // 6 regex + 6 prefix routes + the catch-all on version
    const m150 = idx.byValue.get("m150");
    expect(idx.next[m150]).toBe(-1); // one route for m150
    const m12 = idx.byValue.get("m12");
    expect(m12).toBe(12); // r12, then r13 (m12 with version 2)
    expect(idx.next[m12]).toBe(13);
    expect(idx.next[13]).toBe(-1);
  });
});
