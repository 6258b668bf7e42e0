// An in-process stand-in for kube-apiserver (node:http) speaking the JSON the real one
// speaks: discovery, Lists with resourceVersion, ?watch streams of WatchEvents, 410 Gone as
// an ERROR event carrying a Status, server-side apply (fieldManager, force, 409 conflicts),
// the /status subresource, optimistic concurrency on PUT, plus injected 5xx and dropped watches.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";

interface Resource { group: string; version: string; plural: string; kind: string; namespaced: boolean }
const RESOURCES: Resource[] = [
  { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true },
  { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false },
  { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true },
  { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true },
  { group: "metaprotocol.aeraki.io", version: "v1alpha1", plural: "metarouters", kind: "MetaRouter", namespaced: true },
  { group: "metaprotocol.aeraki.io", version: "v1alpha1", plural: "applicationprotocols", kind: "ApplicationProtocol", namespaced: false },
  { group: "networking.istio.io", version: "v1", plural: "serviceentries", kind: "ServiceEntry", namespaced: true },
  { group: "networking.istio.io", version: "v1", plural: "destinationrules", kind: "DestinationRule", namespaced: true },
  { group: "networking.istio.io", version: "v1alpha3", plural: "envoyfilters", kind: "EnvoyFilter", namespaced: true },
  { group: "extensions.istio.io", version: "v1alpha1", plural: "wasmplugins", kind: "WasmPlugin", namespaced: true },
];
const apiVersionOf = (r: Resource) => (r.group ? `${r.group}/${r.version}` : r.version);

interface WatchEvent { rv: number; plural: string; type: string; object: any }
interface Fault { method: string; path: RegExp; status: number; times: number }

export class FakeApiServer {
  private server: Server;
  private rv = 100;
  private store = new Map<string, any>(); // plural/ns/name -> object
  private log: WatchEvent[] = [];
  private compactedBelow = 0;
  private watchers = new Set<{ plural: string; ns?: string; res: ServerResponse }>();
  private faults: Fault[] = [];
  /** Field ownership per object, coarse-grained: which manager applied spec, which status. */
  private owners = new Map<string, Record<string, string>>();
  /** Every request, "METHOD path?query": lets tests see what the client really sent. */
  readonly requests: string[] = [];
  port = 0;

  constructor() { this.server = createServer((req, res) => void this.handle(req, res)); }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as any).port;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }], contexts: [{ name: "c", cluster: "fake", user: "u" }], currentContext: "c",
    });
    return kc;
  }

  /** Fail the next `times` requests matching method and path with `status`. */
  inject(method: string, path: RegExp, status: number, times = 1): void { this.faults.push({ method, path, status, times }); }
  /** Ends every open watch stream, as a restarted apiserver or a proxy timeout would. */
  dropWatches(): void { for (const w of this.watchers) w.res.destroy(); this.watchers.clear(); }
  /** Forgets history: watches from an older resourceVersion get 410 Gone. */
  compact(): void { this.compactedBelow = this.rv + 1; this.log = []; }

  get(plural: string, ns: string | undefined, name: string): any { return this.store.get(`${plural}/${ns ?? ""}/${name}`); }
  list(plural: string): any[] { return [...this.store.entries()].filter(([k]) => k.startsWith(plural + "/")).map(([, v]) => v); }

  /** Writes as another client would (kubectl): creates or replaces, bumping generation on spec change. */
  put(obj: any, manager?: string): any {
    const r = RESOURCES.find((x) => x.kind === obj.kind)!;
    const k = `${r.plural}/${r.namespaced ? obj.metadata.namespace ?? "default" : ""}/${obj.metadata.name}`;
    const old = this.store.get(k);
    const o = structuredClone(obj);
    o.apiVersion = apiVersionOf(r);
    if (r.namespaced) o.metadata.namespace ??= "default";
    o.metadata.uid = old?.metadata.uid ?? `uid-${this.rv}`;
    o.metadata.creationTimestamp = old?.metadata.creationTimestamp ?? "2026-01-01T00:00:00Z";
    o.metadata.generation = old ? old.metadata.generation + (JSON.stringify(old.spec) === JSON.stringify(o.spec) ? 0 : 1) : 1;
    if (old?.status && !o.status) o.status = old.status;
    o.metadata.managedFields = o.metadata.managedFields ?? old?.metadata.managedFields;
    if (manager) this.owners.set(k, { ...this.owners.get(k), spec: manager });
    return this.commit(r.plural, k, o, old ? "MODIFIED" : "ADDED");
  }

  remove(plural: string, ns: string | undefined, name: string): boolean {
    const k = `${plural}/${ns ?? ""}/${name}`;
    const o = this.store.get(k);
    if (!o) return false;
    this.store.delete(k);
    this.rv++;
    o.metadata.resourceVersion = String(this.rv);
    this.emit({ rv: this.rv, plural, type: "DELETED", object: o });
    return true;
  }

  private commit(plural: string, k: string, o: any, type: string): any {
    this.rv++;
    o.metadata.resourceVersion = String(this.rv);
    this.store.set(k, o);
    this.emit({ rv: this.rv, plural, type, object: o });
    return o;
  }

  private emit(e: WatchEvent): void {
    this.log.push(e);
    for (const w of this.watchers) {
      if (w.plural === e.plural && (!w.ns || w.ns === e.object.metadata.namespace)) w.res.write(JSON.stringify({ type: e.type, object: e.object }) + "\n");
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, "http://x");
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const body = await new Promise<string>((r) => { let b = ""; req.on("data", (c) => (b += c)); req.on("end", () => r(b)); });
    const send = (code: number, obj: any) => { res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(obj)); };
    const status = (code: number, reason: string, message: string) =>
      send(code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason, message, code });
    const fault = this.faults.find((f) => f.times > 0 && f.method === req.method && f.path.test(url.pathname));
    if (fault) { fault.times--; return status(fault.status, "InternalError", "injected fault"); }

    const p = url.pathname.split("/").filter(Boolean);
    // Discovery: /api/v1, /apis/<group>/<version>
    if ((p[0] === "api" && p.length === 2) || (p[0] === "apis" && p.length === 3)) {
      const [group, version] = p[0] === "api" ? ["", p[1]] : [p[1], p[2]];
      const resources = RESOURCES.filter((r) => r.group === group && r.version === version)
        .map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }));
      return send(200, { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources });
    }
    const base = p[0] === "api" ? 2 : 3;
    const group = p[0] === "api" ? "" : p[1];
    let rest = p.slice(base);
    let ns: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) { ns = rest[1]; rest = rest.slice(2); }
    const r = RESOURCES.find((x) => x.group === group && x.plural === rest[0]);
    if (!r) return status(404, "NotFound", `no resource ${url.pathname}`);
    const name = rest[1];
    const sub = rest[2];
    const k = `${r.plural}/${r.namespaced ? ns ?? "" : ""}/${name}`;

    if (!name && req.method === "GET") {
      const selector = url.searchParams.get("labelSelector");
      const match = (o: any) => (!ns || o.metadata.namespace === ns) && (!selector || selector.split(",").every((s) => {
        const [lk, lv] = s.split("="); return o.metadata.labels?.[lk] === lv;
      }));
      if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") {
        const from = Number(url.searchParams.get("resourceVersion") || this.rv);
        res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
        if (from < this.compactedBelow - 1) {
          res.end(JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure",
            message: `too old resource version: ${from} (${this.compactedBelow - 1})`, reason: "Expired", code: 410 } }) + "\n");
          return;
        }
        for (const e of this.log) if (e.rv > from && e.plural === r.plural && match(e.object)) res.write(JSON.stringify({ type: e.type, object: e.object }) + "\n");
        const w = { plural: r.plural, ns, res };
        this.watchers.add(w);
        req.on("close", () => this.watchers.delete(w));
        return;
      }
      const items = this.list(r.plural).filter(match);
      return send(200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(this.rv) }, items });
    }
    if (!name && req.method === "POST") {
      const o = JSON.parse(body);
      const ck = `${r.plural}/${r.namespaced ? ns ?? "" : ""}/${o.metadata.name}`;
      if (this.store.has(ck)) return status(409, "AlreadyExists", `${r.plural} "${o.metadata.name}" already exists`);
      o.metadata.namespace = r.namespaced ? ns : undefined;
      o.metadata.uid = `uid-${this.rv}`;
      o.metadata.generation = 1;
      return send(201, this.commit(r.plural, ck, { apiVersion: apiVersionOf(r), kind: r.kind, ...o }, "ADDED"));
    }
    const cur = this.store.get(k);
    if (req.method === "GET") return cur ? send(200, cur) : status(404, "NotFound", `${r.plural} "${name}" not found`);
    if (req.method === "DELETE") return this.remove(r.plural, r.namespaced ? ns : undefined, name) ? send(200, { kind: "Status", status: "Success" }) : status(404, "NotFound", `${r.plural} "${name}" not found`);
    if (req.method === "PUT") {
      if (!cur) return status(404, "NotFound", `${r.plural} "${name}" not found`);
      const o = JSON.parse(body);
      if (o.metadata?.resourceVersion !== cur.metadata.resourceVersion) {
        return status(409, "Conflict", `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      o.metadata = { ...cur.metadata, ...o.metadata };
      return send(200, this.commit(r.plural, k, { apiVersion: apiVersionOf(r), kind: r.kind, ...o }, "MODIFIED"));
    }
    if (req.method === "PATCH") {
      if (req.headers["content-type"] !== "application/apply-patch+yaml") return status(415, "UnsupportedMediaType", "only server-side apply is served");
      const manager = url.searchParams.get("fieldManager");
      if (!manager) return status(422, "Invalid", "fieldManager is required for apply patch");
      const force = url.searchParams.get("force") === "true";
      const patch = parseYaml(body);
      const part = sub === "status" ? "status" : "spec";
      const owners: Record<string, string> = this.owners.get(k) ?? {};
      if (cur && owners[part] && owners[part] !== manager && !force) {
        return status(409, "Conflict", `Apply failed with 1 conflict: conflict with "${owners[part]}": .${part}`);
      }
      if (sub === "status") {
        if (!cur) return status(404, "NotFound", `${r.plural} "${name}" not found`);
        this.owners.set(k, { ...owners, status: manager });
        const o = { ...cur, status: patch.status, metadata: { ...cur.metadata } };
        return send(200, this.commit(r.plural, k, o, "MODIFIED"));
      }
      this.owners.set(k, { ...owners, spec: manager });
      const o = {
        apiVersion: apiVersionOf(r), kind: r.kind, ...cur, spec: patch.spec,
        metadata: { ...cur?.metadata, name, namespace: r.namespaced ? ns : undefined, labels: patch.metadata?.labels,
          uid: cur?.metadata.uid ?? `uid-${this.rv}`, generation: (cur?.metadata.generation ?? 0) + (JSON.stringify(cur?.spec) === JSON.stringify(patch.spec) ? 0 : 1),
          managedFields: [{ manager, operation: "Apply", apiVersion: apiVersionOf(r) }] },
      };
      return send(cur ? 200 : 201, this.commit(r.plural, k, o, cur ? "MODIFIED" : "ADDED"));
    }
    return status(405, "MethodNotAllowed", req.method ?? "");
  }
}
