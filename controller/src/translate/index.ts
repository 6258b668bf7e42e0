// The pure heart of the controller: observed objects in, desired objects, MetaRouter
// conditions and Events out. No I/O, no clock, sorted output: same input, same bytes.
import {
  ANNOTATION_MODULE_SHA256, ANNOTATION_MODULE_URL, key,
  type Condition, type KubeObject, type ModuleRef, type Observed, type Settings,
} from "../model/types.js";
import { buildCatalog, cmp, type ServicePort } from "./catalog.js";
import { checkMetaRouter, conditionsFor, type Checked, type Issue, type Note, type Router, type World } from "./metarouter.js";
import { connectModeFilter, extensionKindOf, objectName, pluginConfigOf, wasmPlugin } from "./objects.js";
import { inboundService, outboundService, pluginConfig, policyGoesInbound } from "./plugin-config.js";
import { isMeshWide, normalizeExportTo, visibleIn } from "./visibility.js";
import { metaRouterField, type ModuleCheck } from "./module-check.js";
import { createHash } from "node:crypto";
import { consistentHashProblems, hashProblemMessage } from "./destination-rules.js";

export interface ObjectRef { apiVersion: string; kind: string; namespace?: string; name: string; uid?: string }
export interface EventNote { regarding: ObjectRef; type: "Normal" | "Warning"; reason: string; message: string }

export interface Translation {
  /** Objects to apply, sorted by kind, namespace, name. */
  objects: KubeObject[];
  /** Service entries copied from the applied objects because their MetaRouter is bad. */
  kept: Array<{ object: ObjectRef; service: string }>;
  statuses: Array<{ metaRouter: ObjectRef; generation?: number; conditions: Condition[] }>;
  events: EventNote[];
  /** MetaRouters in effect (valid now, or their last valid version), by namespace/name. */
  lastGood: Map<string, KubeObject>;
}

export function refOf(o: KubeObject): ObjectRef {
  const r: ObjectRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name };
  if (o.metadata.namespace) r.namespace = o.metadata.namespace;
  if (o.metadata.uid) r.uid = o.metadata.uid;
  return r;
}

/** One candidate for a host: a usable router, or a bad MetaRouter without a last good version. */
interface Candidate { router?: Router; mr: KubeObject; exportTo: string[]; namespace: string }

/**
 * The module of a protocol. ApplicationProtocol is cluster-scoped in this project's CRD and in
 * Aeraki's kubectl install, Namespaced in Aeraki's Helm chart; either works. Of several for one
 * protocol, a cluster-scoped one wins, then one in the root namespace, then by namespace and name.
 * A namespaced one outside the root namespace declares the protocol but cannot choose its module
 * (annotations): whoever may create objects in one namespace must not pick the code every sidecar runs.
 */
function moduleFor(protocol: string, aps: KubeObject[], settings: Settings, warn: (o: KubeObject, reason: string, message: string) => void): ModuleRef | string {
  const rank = (a: KubeObject) => (!a.metadata.namespace ? 0 : a.metadata.namespace === settings.rootNamespace ? 1 : 2);
  const ap = aps.filter((a) => (a.spec?.protocol ?? a.metadata.name) === protocol)
    .sort((a, b) => rank(a) - rank(b) || cmp(a.metadata.namespace ?? "", b.metadata.namespace ?? "") || cmp(a.metadata.name, b.metadata.name))[0];
  if (!ap) return `protocol "${protocol}" has no ApplicationProtocol`;
  const trusted = rank(ap) < 2;
  const annotated = ap.metadata.annotations?.[ANNOTATION_MODULE_URL];
  if (annotated && !trusted) {
    warn(ap, "ModuleAnnotationIgnored", `${ANNOTATION_MODULE_URL} is read only from a cluster-scoped ApplicationProtocol or one in the root namespace ${settings.rootNamespace}: the module comes from modules.${protocol} in the controller settings`);
  }
  const fromAnnotation = !!annotated && trusted;
  const url = fromAnnotation ? annotated : settings.modules[protocol]?.url;
  if (!url) return `protocol "${protocol}" has no module: set ${ANNOTATION_MODULE_URL} on ApplicationProtocol ${ap.metadata.name} or modules.${protocol} in the controller settings`;
  const sha256 = fromAnnotation ? ap.metadata.annotations?.[ANNOTATION_MODULE_SHA256] : settings.modules[protocol]?.sha256;
  return sha256 ? { url, sha256 } : { url };
}

/**
 * `previousGood`: the last valid version of each MetaRouter (the controller remembers them).
 * `applied`: the objects this controller owns in the cluster now. A MetaRouter that is bad and
 * has no valid version in memory (say, after a restart) keeps its service's entry from there.
 * `check`: the protocol modules' own parsers (module-check.ts). A MetaRouter whose config a
 * module refuses is treated as invalid (its last good version serves); a whole pluginConfig
 * a module refuses is not applied (the one in the cluster stays).
 */
export function translate(observed: Observed, settings: Settings, previousGood = new Map<string, KubeObject>(),
  applied: KubeObject[] = [], check?: ModuleCheck): Translation {
  const events: EventNote[] = [];
  const warn = (o: KubeObject, reason: string, message: string) => events.push({ regarding: refOf(o), type: "Warning", reason, message });

  // 1. Protocols and the catalog of metaprotocol ports.
  const modules = new Map<string, ModuleRef | string>();
  const { ports: allPorts, problems } = buildCatalog(observed.services, observed.serviceEntries, settings);
  for (const p of problems) warn(p.object, "InvalidPortName", `${p.field}: ${p.message}`);
  for (const p of allPorts) if (!modules.has(p.protocol)) modules.set(p.protocol, moduleFor(p.protocol, observed.applicationProtocols, settings, warn));
  const known = new Set([...modules].filter(([, m]) => typeof m !== "string").map(([p]) => p));
  const warnedUnknown = new Set<string>();
  for (const p of allPorts) {
    if (known.has(p.protocol) || warnedUnknown.has(key(p.source) + p.protocol)) continue;
    warnedUnknown.add(key(p.source) + p.protocol);
    warn(p.source, "UnknownProtocol", `${p.portName}: ${modules.get(p.protocol)}; no config is generated for this port`);
  }

  // 2. One protocol per port number: two modules on one listener would misread each other's bytes.
  const portProtocol = new Map<number, string>();
  for (const p of allPorts) if (known.has(p.protocol) && !portProtocol.has(p.port)) {
    portProtocol.set(p.port, [...new Set(allPorts.filter((q) => q.port === p.port && known.has(q.protocol)).map((q) => q.protocol))].sort()[0]);
  }
  const extraNotes = new Map<string, Note[]>(); // by host
  const addNote = (host: string, n: Note) => extraNotes.set(host, [...(extraNotes.get(host) ?? []), n]);
  const ports = allPorts.filter((p) => {
    if (!known.has(p.protocol)) return false;
    if (portProtocol.get(p.port) === p.protocol) return true;
    const msg = `port ${p.port} already carries protocol "${portProtocol.get(p.port)}" on another service; ${p.host} (${p.protocol}) gets no config on this port`;
    warn(p.source, "PortProtocolConflict", msg);
    addNote(p.host, { type: "PortConflict", reason: "PortProtocolConflict", message: msg });
    return false;
  });

  // DestinationRules: a consistent hash on a request attribute cannot pick a per-connection endpoint.
  for (const dr of [...observed.destinationRules].sort((a, b) => cmp(key(a), key(b)))) {
    const seen = new Set<string>();
    for (const h of consistentHashProblems(dr, ports, settings)) {
      const msg = hashProblemMessage(h);
      if (!seen.has(h.field)) warn(dr, "ConsistentHashNotApplied", msg);
      seen.add(h.field);
      addNote(h.host, { type: "Unsupported", reason: "ConsistentHashNotApplied", message: `DestinationRule ${key(dr)} ${msg}` });
    }
  }

  // 3. MetaRouters: checked against the world; a bad one falls back to its last good version.
  const world: World = { ports: allPorts, services: observed.services, serviceEntries: observed.serviceEntries,
    destinationRules: observed.destinationRules, knownProtocols: known, settings };
  const checked = new Map<string, Checked>();
  const candidates = new Map<string, Candidate[]>(); // by host
  const lastGood = new Map<string, KubeObject>();
  const usingOld = new Map<string, number | undefined>();
  /** What the modules say about a router's config: the first refusal as an Issue. */
  const moduleIssues = (router: Router): Issue[] => {
    if (!check) return [];
    for (const p of allPorts.filter((q) => q.host === router.host && known.has(q.protocol))) {
      const configs = [outboundService(p, router)];
      if (policyGoesInbound(p)) configs.push(inboundService(p, router));
      for (const svc of configs) {
        const why = check(p.protocol, pluginConfig("check", [svc], settings));
        if (why) {
          const path = why.slice(0, Math.max(0, why.indexOf(": ")));
          return [{ type: "Accepted", reason: "RefusedByModule", field: metaRouterField(path), message: `the ${p.protocol} module refuses this rule: ${why}` }];
        }
      }
    }
    return [];
  };
  const checkWithModules = (mr: KubeObject): Checked => {
    const c = safeCheck(mr, world);
    if (!c.issues.length && c.router) c.issues.push(...moduleIssues(c.router));
    return c;
  };
  for (const mr of [...observed.metaRouters].sort((a, b) => cmp(key(a), key(b)))) {
    const c = checkWithModules(mr);
    checked.set(key(mr), c);
    let router = c.issues.length ? undefined : c.router;
    if (router) lastGood.set(key(mr), mr);
    else {
      const old = previousGood.get(key(mr));
      const oc = old && checkWithModules(old);
      if (oc && !oc.issues.length && oc.router) {
        router = oc.router;
        lastGood.set(key(mr), old!);
        usingOld.set(key(mr), old!.metadata.generation);
      }
    }
    const host = router?.host ?? c.router?.host;
    if (!host || (router ?? c.router)?.sidecars === false) continue; // a gateways-only rule configures no sidecar
    const ns = mr.metadata.namespace ?? "default";
    const list = candidates.get(host) ?? [];
    list.push({ router, mr, namespace: ns, exportTo: router?.exportTo ?? normalizeExportTo(mr.spec?.exportTo, ns) });
    candidates.set(host, list);
  }

  const chosenBy = new Map<string, Set<string>>(); // MetaRouter key -> scopes it serves
  /** The MetaRouter for a host as seen from a scope: client namespace, service namespace, root, oldest. */
  const choose = (p: ServicePort, scope: string): Candidate | undefined => {
    const rank = (c: Candidate) => (c.namespace === scope ? 0 : c.namespace === p.namespace ? 1 : c.namespace === settings.rootNamespace ? 2 : 3);
    const list = (candidates.get(p.host) ?? []).filter((c) => visibleIn(c.exportTo, scope) || c.namespace === scope);
    list.sort((a, b) => rank(a) - rank(b) || cmp(a.mr.metadata.creationTimestamp ?? "", b.mr.metadata.creationTimestamp ?? "") || cmp(key(a.mr), key(b.mr)));
    const c = list[0];
    if (c) chosenBy.set(key(c.mr), (chosenBy.get(key(c.mr)) ?? new Set()).add(scope));
    return c;
  };

  const objects: KubeObject[] = [];
  const kept: Translation["kept"] = [];
  const keptHosts = new Set<string>();
  /** The entry for `host` in the applied object kind/ns/name, if there is one. */
  const carrier = extensionKindOf(settings);
  const other = carrier === "WasmPlugin" ? "TrafficExtension" : "WasmPlugin";
  const carried = (kind: string, ns: string, name: string, host: string): Record<string, unknown> | undefined => {
    // Either carrier kind: after a switch of settings.extensionKind the old one still holds the entry.
    const o = applied.filter((a) => a.metadata.namespace === ns && a.metadata.name === name && (a.kind === kind || a.kind === other))
      .sort((a, b) => Number(a.kind !== kind) - Number(b.kind !== kind))[0];
    const svc = (pluginConfigOf(o)?.services ?? []).find((s: any) => s?.name === host);
    if (svc) { kept.push({ object: { apiVersion: o!.apiVersion, kind: o!.kind, namespace: ns, name }, service: host }); keptHosts.add(host); }
    return svc;
  };

  /** Add a WasmPlugin (or TrafficExtension) whose pluginConfig its module accepts; else keep the applied one, if any. */
  const pushChecked = (plugin: KubeObject, protocol: string, from: ServicePort[]) => {
    const why = check?.(protocol, pluginConfigOf(plugin));
    if (!why) { objects.push(plugin); return; }
    const old = applied.find((a) => a.kind === plugin.kind && a.metadata.namespace === plugin.metadata.namespace && a.metadata.name === plugin.metadata.name);
    if (old) objects.push(old);
    const msg = `the ${protocol} module refuses the generated ${plugin.metadata.namespace}/${plugin.metadata.name} pluginConfig (${why}); ${old ? "the applied one is kept" : "it is not applied"}`;
    for (const p of from) warn(p.source, "PluginConfigRefused", msg);
  };

  // 4. Outbound: per port number, one mesh-wide pair in the root namespace, or, when
  // exportTo limits something on that port, one pair per namespace with that namespace's view.
  const namespaces = knownNamespaces(observed, settings);
  for (const port of [...portProtocol.keys()].sort((a, b) => a - b)) {
    const protocol = portProtocol.get(port)!;
    const onPort = ports.filter((p) => p.port === port);
    // A service exported nowhere ("~") is in no sidecar's registry: it neither needs nor blocks a mesh-wide pair.
    const meshWide = onPort.every((p) => !p.exportTo.length || (isMeshWide(p.exportTo) && (candidates.get(p.host) ?? []).every((c) => isMeshWide(c.exportTo))));
    const scopes = meshWide ? ["*"] : namespaces;
    for (const scope of scopes) {
      // Istio's visibility: exportTo alone decides, the service's own namespace included ("." or its name).
      const visible = onPort.filter((p) => visibleIn(p.exportTo, scope));
      if (!visible.length) continue;
      const ns = scope === "*" ? settings.rootNamespace : scope;
      const name = objectName("metaprotocol", protocol, port, "outbound");
      const entries = visible.map((p) => {
        const c = choose(p, scope);
        const svc = (c && !c.router && carried(carrier, ns, name, p.host)) || outboundService(p, c?.router);
        return { p, svc };
      });
      // Services a connection can be told apart by come first; catch-alls last.
      entries.sort((a, b) => Number(!a.svc.match) - Number(!b.svc.match) || cmp(a.p.host, b.p.host));
      const catchAll = entries.filter((e) => !e.svc.match);
      if (catchAll.length > 1) {
        for (const e of catchAll.slice(1)) {
          warn(e.p.source, "ServiceNotDistinguishable", `${e.p.host} port ${port} has no address and no ${"metaprotocol-wasm.io/interface"} annotation; ${catchAll[0].p.host} takes every connection on this port`);
        }
      }
      const cfg = pluginConfig(`${protocol}_outbound_${port}`, entries.map((e) => e.svc), settings,
        { spanKind: "CLIENT", serviceName: `metaprotocol-${protocol}-outbound` });
      const module = modules.get(protocol) as ModuleRef;
      const plugin = wasmPlugin({ name, namespace: ns, protocol, direction: "outbound", module, settings, port, pluginConfig: cfg });
      pushChecked(plugin, protocol, entries.map((e) => e.p));
      objects.push(connectModeFilter({ name, namespace: ns, protocol, port, settings }));
    }
  }

  // 5. Inbound: per service with workloads, on the target port, in the service's namespace.
  const inboundNames = inboundObjectNames(ports);
  const inboundDone = new Set<string>();
  for (const p of ports) {
    if (!p.selector) continue;
    if (!policyGoesInbound(p)) {
      addNote(p.host, { type: "InboundSkipped", reason: "NamedTargetPort",
        message: `${p.host} port ${p.port}: targetPort "${p.targetPort}" is a name, so no inbound plugin is generated (mutations and rate limits run outbound instead)` });
      continue;
    }
    const c = choose(p, p.namespace);
    const protocol = p.protocol;
    const name = inboundNames.get(p)!;
    if (inboundDone.has(`${p.namespace}/${name}`)) continue; // two ports of one Service with one target port
    inboundDone.add(`${p.namespace}/${name}`);
    const svc = (c && !c.router && carried(carrier, p.namespace, name, p.host)) || inboundService(p, c?.router);
    const cfg = pluginConfig(`${protocol}_inbound_${p.targetPort}`, [svc], settings, { spanKind: "SERVER", serviceName: p.host });
    pushChecked(wasmPlugin({ name, namespace: p.namespace, protocol, direction: "inbound", module: modules.get(protocol) as ModuleRef,
      settings, port: p.targetPort as number, selector: p.selector, pluginConfig: cfg }), protocol, [p]);
  }

  // 6. Conditions and Events for every MetaRouter.
  const statuses: Translation["statuses"] = [];
  for (const mr of [...observed.metaRouters].sort((a, b) => cmp(key(a), key(b)))) {
    const c = checked.get(key(mr))!;
    const notes: Note[] = [...(c.router ? extraNotes.get(c.router.host) ?? [] : [])];
    if (usingOld.has(key(mr))) {
      notes.push({ type: "LastGoodConfig", reason: "InvalidSpecKept",
        message: `generation ${usingOld.get(key(mr)) ?? "?"} stays in effect until this generation is fixed` });
    } else if (c.issues.length && c.router && chosenBy.has(key(mr))) {
      notes.push(keptHosts.has(c.router.host)
        ? { type: "LastGoodConfig", reason: "AppliedConfigKept", message: `the config already applied for ${c.router.host} is kept until this MetaRouter is fixed` }
        : { type: "LastGoodConfig", reason: "NoValidVersion", message: `no valid version has been applied: ${c.router.host} keeps the default route until this MetaRouter is fixed` });
    }
    if (!c.issues.length && !chosenBy.has(key(mr)) && c.router?.sidecars && ports.some((p) => p.host === c.router!.host)) {
      notes.push({ type: "Shadowed", reason: "AnotherMetaRouterWins",
        message: `another MetaRouter for ${c.router.host} takes precedence in every namespace that can see this one` });
    }
    const conditions = conditionsFor(mr, c, notes);
    statuses.push({ metaRouter: refOf(mr), generation: mr.metadata.generation, conditions });
    for (const cond of conditions) {
      // A weight split per connection is how weights work here, said once as a Normal Event, not a problem.
      const notice = cond.reason === "WeightsPerConnection";
      const bad = (cond.type === "Accepted" || cond.type === "ResolvedRefs") ? cond.status === "False" : cond.type !== "LastGoodConfig" && !notice;
      if (bad) warn(mr, cond.reason, cond.message);
      else if (notice) events.push({ regarding: refOf(mr), type: "Normal", reason: cond.reason, message: cond.message });
    }
  }

  const order = (o: ObjectRef) => `${o.kind}/${o.namespace ?? ""}/${o.name}`;
  objects.sort((a, b) => cmp(order(refOf(a)), order(refOf(b))));
  return { objects, kept, statuses, events, lastGood };
}

/**
 * The inbound WasmPlugin name of each port: metaprotocol-<protocol>-<targetPort>-inbound-<object>
 * (plus the host for a ServiceEntry with several hosts). A Service and a ServiceEntry may share a
 * name in one namespace (and "a" with host "b-c" meets "a-b" with host "c"): names that two
 * sources would share each get a hash of their source, so no object overwrites another.
 */
function inboundObjectNames(ports: ServicePort[]): Map<ServicePort, string> {
  const plain = new Map<ServicePort, string>();
  const sources = new Map<string, Set<string>>(); // namespace/name -> source identities
  const identity = (p: ServicePort) => `${p.source.kind}/${p.namespace}/${p.source.metadata.name}/${p.host}`;
  for (const p of ports) {
    if (!p.selector || typeof p.targetPort !== "number") continue;
    const name = objectName("metaprotocol", p.protocol, p.targetPort, "inbound", p.source.metadata.name,
      p.source.kind === "ServiceEntry" && (p.source.spec?.hosts?.length ?? 0) > 1 ? p.host : "");
    plain.set(p, name);
    const k = `${p.namespace}/${name}`;
    sources.set(k, (sources.get(k) ?? new Set()).add(identity(p)));
  }
  const out = new Map<ServicePort, string>();
  for (const [p, name] of plain) {
    const shared = sources.get(`${p.namespace}/${name}`)!.size > 1;
    out.set(p, shared ? objectName(name, createHash("sha256").update(identity(p)).digest("hex").slice(0, 8)) : name);
  }
  return out;
}

/** checkMetaRouter on objects the apiserver may not have validated (Aeraki's own CRD): never throws. */
function safeCheck(mr: KubeObject, world: World): Checked {
  try {
    return checkMetaRouter(mr, world);
  } catch (e) {
    return { issues: [{ type: "Accepted", reason: "InvalidSpec", field: "spec", message: `cannot be read: ${(e as Error).message}` }], notes: [] };
  }
}

/** Namespaces with workloads that may be clients; the root namespace is excluded because a
 * WasmPlugin there applies to the whole mesh. */
function knownNamespaces(observed: Observed, settings: Settings): string[] {
  const set = new Set<string>();
  for (const list of Object.values(observed)) for (const o of list as KubeObject[]) {
    if (o.kind === "Namespace") set.add(o.metadata.name);
    else if (o.metadata.namespace) set.add(o.metadata.namespace);
  }
  set.delete(settings.rootNamespace);
  return [...set].sort();
}
