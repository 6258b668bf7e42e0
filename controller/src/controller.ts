// Wiring: informers feed a debounced queue; the leader reconciles (translate, apply, prune,
// status, events); health and metrics are served by every replica.
import type { ModuleCheck } from "./translate/module-check.js";
import { KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";
import type { Server } from "node:http";
import { type KubeObject, type Observed, type Settings } from "./model/types.js";
import { translate } from "./translate/index.js";
import { Applier, SyncError } from "./kube/apply.js";
import { Informer } from "./kube/informer.js";
import { LeaderElector } from "./kube/leader.js";
import { ReconcileQueue } from "./kube/queue.js";
import { Metrics } from "./server/metrics.js";
import { startHttp } from "./server/http.js";

const WATCHED: Array<{ slot: keyof Observed; apiVersion: string; kind: string; path: string }> = [
  { slot: "applicationProtocols", apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", path: "/apis/metaprotocol.aeraki.io/v1alpha1/applicationprotocols" },
  { slot: "metaRouters", apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", path: "/apis/metaprotocol.aeraki.io/v1alpha1/metarouters" },
  { slot: "services", apiVersion: "v1", kind: "Service", path: "/api/v1/services" },
  { slot: "serviceEntries", apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", path: "/apis/networking.istio.io/v1/serviceentries" },
  { slot: "destinationRules", apiVersion: "networking.istio.io/v1", kind: "DestinationRule", path: "/apis/networking.istio.io/v1/destinationrules" },
  { slot: "namespaces", apiVersion: "v1", kind: "Namespace", path: "/api/v1/namespaces" },
];

export interface ControllerOptions {
  settings: Settings;
  /** The protocol modules' own parsers: no pluginConfig they refuse is applied. */
  moduleCheck?: ModuleCheck;
  namespace: string;
  identity: string;
  port: number;
  kubeconfig?: string;
  kubeConfig?: KubeConfig;
  debounceMs?: number;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
  informerBackoffMs?: number;
  /** Reconcile this often even without events, so owned objects changed by hand are put back (default 5 min). */
  resyncMs?: number;
}

export class Controller {
  readonly metrics = new Metrics();
  readonly informers: Informer[];
  readonly queue: ReconcileQueue;
  readonly elector: LeaderElector;
  private applier: Applier;
  private lastGood = new Map<string, KubeObject>();
  private server?: Server;
  private resync?: NodeJS.Timeout;
  lastError?: unknown;

  constructor(private opts: ControllerOptions) {
    const kc = opts.kubeConfig ?? new KubeConfig();
    if (!opts.kubeConfig) { if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig); else kc.loadFromDefault(); }
    const objects = KubernetesObjectApi.makeApiClient(kc);
    this.queue = new ReconcileQueue(() => this.reconcile(), opts.debounceMs ?? 200);
    this.informers = WATCHED.map((w) => new Informer(kc, objects, {
      apiVersion: w.apiVersion, kind: w.kind, path: w.path, minBackoffMs: opts.informerBackoffMs,
      onChange: () => this.queue.add(), onError: (e) => { this.lastError = e; logError(`watch ${w.kind}`, e); },
    }));
    this.applier = new Applier(kc, opts.identity);
    this.elector = new LeaderElector(kc, {
      namespace: opts.namespace, name: "metaprotocol-wasm-controller", identity: opts.identity,
      leaseDurationSeconds: opts.leaseDurationSeconds, retryPeriodMs: opts.retryPeriodMs,
      onStarted: () => { this.metrics.leader = 1; this.queue.add(0); },
      onStopped: () => { this.metrics.leader = 0; },
    });
  }

  ready(): boolean { return this.informers.every((i) => i.synced); }

  async start(): Promise<void> {
    this.server = await startHttp(this.opts.port, this.metrics, () => this.ready());
    for (const i of this.informers) i.start();
    this.elector.start();
    this.resync = setInterval(() => this.queue.add(), this.opts.resyncMs ?? 300_000);
    this.resync.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    this.queue.close();
    for (const i of this.informers) i.stop();
    await this.elector.stop();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  observed(): Observed {
    const o = {} as Observed;
    WATCHED.forEach((w, i) => { o[w.slot] = this.informers[i].list(); });
    return o;
  }

  /** One reconcile: only the leader writes, and only once every cache is complete. */
  async reconcile(): Promise<void> {
    if (!this.elector.isLeader || !this.ready()) return;
    const started = performance.now();
    this.metrics.reconciles++;
    try {
      const owned = await this.applier.listOwned();
      const observed = this.observed();
      const t = translate(observed, this.opts.settings, this.lastGood, owned, this.opts.moduleCheck);
      this.lastGood = t.lastGood;
      try {
        const stats = await this.applier.sync(t, owned, observed.metaRouters);
        this.metrics.objectsApplied += stats.applied;
        this.metrics.objectsDeleted += stats.deleted;
      } catch (e) {
        // What did get written still counts; the failed steps are logged one per line.
        if (e instanceof SyncError) {
          this.metrics.objectsApplied += e.stats.applied;
          this.metrics.objectsDeleted += e.stats.deleted;
          for (const f of e.failures) logError(f.what, f.error);
        }
        throw e;
      }
    } catch (e) {
      this.metrics.errors++;
      this.lastError = e;
      if (!(e instanceof SyncError)) logError("reconcile", e);
      throw e;
    } finally {
      this.metrics.observe((performance.now() - started) / 1000);
    }
  }
}

/** One line per failure on stderr (the container log): what failed and the API server's answer. */
function logError(what: string, e: unknown): void {
  const err = e as { code?: number; body?: any; message?: string };
  let body = err?.body;
  if (typeof body === "string") { try { body = JSON.parse(body); } catch { /* plain text */ } }
  const why = body?.message ?? (typeof body === "string" ? body : undefined) ?? String(err?.message ?? e).split("\n")[0];
  console.error(`${new Date().toISOString()} error ${what}: ${err?.code ? `HTTP ${err.code}: ` : ""}${String(why).slice(0, 500)}`);
}

export async function runController(opts: ControllerOptions): Promise<void> {
  const c = new Controller(opts);
  await c.start();
  const shutdown = () => void c.stop().catch(() => undefined).then(() => process.exit(0));
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}
