// Writes to the cluster: server-side apply with our field manager, pruning of owned objects
// whose source is gone, MetaRouter status through the /status subresource, and Events.
import {
  CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubeConfig,
} from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { GROUP, LABEL_MANAGED_BY, MANAGED_BY, type Condition, type KubeObject } from "../model/types.js";
import type { EventNote, ObjectRef, Translation } from "../translate/index.js";

export const FIELD_MANAGER = "metaprotocol-wasm";
export const OWNED_KINDS = [
  { apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin" },
  // Istio >= 1.30 (settings.extensionKind). Listed whatever the setting, so a switch prunes the other kind.
  { apiVersion: "extensions.istio.io/v1alpha1", kind: "TrafficExtension" },
  { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter" },
];

export interface ApplyStats { applied: number; deleted: number; statuses: number; events: number }

export class Applier {
  private objects: KubernetesObjectApi;
  private custom: CustomObjectsApi;
  private core: CoreV1Api;
  /** Events already recorded (bounded: a forgotten one is re-created under the same name, a 409). */
  private eventsSeen = new Set<string>();

  constructor(kc: KubeConfig, private identity: string) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async listOwned(): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const k of OWNED_KINDS) {
      let list: any;
      try {
        list = await this.objects.list(k.apiVersion, k.kind, undefined, undefined, undefined, undefined, undefined, `${LABEL_MANAGED_BY}=${MANAGED_BY}`);
      } catch (e: any) {
        // An Istio without this kind (TrafficExtension before 1.30) has nothing of ours to prune.
        if (e?.code === 404 || /^Unrecognized API version and kind/.test(String(e?.message))) continue;
        throw e;
      }
      for (const o of list.items ?? []) out.push({ ...o, apiVersion: k.apiVersion, kind: k.kind });
    }
    return out;
  }

  /** Applies desired objects and deletes owned ones that are no longer desired. */
  async sync(t: Translation, owned: KubeObject[], metaRouters: KubeObject[] = []): Promise<ApplyStats> {
    const stats: ApplyStats = { applied: 0, deleted: 0, statuses: 0, events: 0 };
    const id = (o: { kind: string; metadata?: any; namespace?: string; name?: string }) =>
      `${o.kind}/${o.metadata?.namespace ?? o.namespace}/${o.metadata?.name ?? o.name}`;
    // Compared with what the cluster holds now (listed this reconcile), not with what we last
    // sent: an object someone edited or deleted by hand is put back.
    const live = new Map(owned.map((o) => [id(o), o]));
    // One object the server refuses (its namespace missing, a webhook saying no) must not keep
    // the others, the statuses and the Events from being written: every step is tried, and the
    // failures are reported together at the end (the reconcile is then retried with backoff).
    const failures: SyncFailure[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>) => {
      try { await step(); return true; } catch (e) { failures.push({ what, error: e }); return false; }
    };
    for (const o of t.objects) {
      if (upToDate(o, live.get(id(o)))) continue;
      if (await attempt(`apply ${id(o)}`, () => this.objects.patch(structuredClone(o) as any, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply))) stats.applied++;
    }
    const wanted = new Set(t.objects.map(id));
    for (const o of owned) {
      if (wanted.has(id(o))) continue;
      const deleted = await attempt(`delete ${id(o)}`, async () => {
        try {
          await this.objects.delete({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } });
        } catch (e: any) { if (e?.code !== 404) throw e; }
      });
      if (deleted) stats.deleted++;
    }
    for (const s of t.statuses) {
      const current = metaRouters.find((m) => m.metadata.namespace === s.metaRouter.namespace && m.metadata.name === s.metaRouter.name);
      let wrote = false;
      await attempt(`status of MetaRouter ${s.metaRouter.namespace}/${s.metaRouter.name}`, async () => { wrote = await this.status(s.metaRouter, s.conditions, current); });
      if (wrote) stats.statuses++;
    }
    for (const e of t.events) {
      let wrote = false;
      await attempt(`event ${e.reason} for ${e.regarding.kind} ${e.regarding.namespace ?? ""}/${e.regarding.name}`, async () => { wrote = await this.event(e); });
      if (wrote) stats.events++;
    }
    if (failures.length) throw new SyncError(failures, stats);
    return stats;
  }

  /** Server-side apply of status.conditions; lastTransitionTime moves only when status flips. */
  async status(ref: ObjectRef, conditions: Condition[], current?: KubeObject): Promise<boolean> {
    const old: Condition[] = Array.isArray(current?.status?.conditions) ? current!.status.conditions : [];
    // Written when the object's status differs (a recreated MetaRouter, a status someone cleared
    // included), never from memory of an earlier write.
    const strip = (list: Condition[]) => JSON.parse(JSON.stringify(list.map(({ lastTransitionTime: _, ...c }) => c)));
    if (current && isDeepStrictEqual(strip(old), strip(conditions))) return false;
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const withTimes = conditions.map((c) => {
      const prev = old.find((o) => o.type === c.type);
      return { ...c, lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
    });
    try {
      await this.custom.patchNamespacedCustomObjectStatus({
        group: GROUP, version: "v1alpha1", namespace: ref.namespace!, plural: "metarouters", name: ref.name,
        body: { apiVersion: `${GROUP}/v1alpha1`, kind: "MetaRouter", metadata: { name: ref.name, namespace: ref.namespace }, status: { conditions: withTimes } },
        fieldManager: FIELD_MANAGER, force: true,
      }, setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply));
    } catch (e: any) {
      if (e?.code === 404) return false; // deleted meanwhile: nothing to report on
      throw e;
    }
    return true;
  }

  /** One Event per distinct message per object, so a steady problem is not re-reported every reconcile. */
  async event(e: EventNote): Promise<boolean> {
    const sig = hash([e.regarding, e.reason, e.message]);
    if (this.eventsSeen.has(sig)) return false;
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const namespace = e.regarding.namespace ?? "default";
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${e.regarding.name}.${sig.slice(0, 16)}`, namespace },
        involvedObject: { apiVersion: e.regarding.apiVersion, kind: e.regarding.kind, name: e.regarding.name, namespace: e.regarding.namespace, uid: e.regarding.uid },
        type: e.type, reason: e.reason, message: e.message.slice(0, 1024),
        source: { component: MANAGED_BY }, reportingComponent: MANAGED_BY, reportingInstance: this.identity,
        firstTimestamp: now as any, lastTimestamp: now as any, count: 1,
      },
    }).catch((err: any) => { if (err?.code !== 409) throw err; });
    if (this.eventsSeen.size >= 10_000) this.eventsSeen.clear();
    this.eventsSeen.add(sig);
    return true;
  }
}

/** The live object already carries our labels and exactly our spec. */
function upToDate(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live) return false;
  const labels = live.metadata.labels ?? {};
  return Object.entries(desired.metadata.labels ?? {}).every(([k, v]) => labels[k] === v) && isDeepStrictEqual(live.spec, desired.spec);
}

function hash(v: unknown): string {
  return createHash("sha256").update(JSON.stringify(v)).digest("hex");
}

export interface SyncFailure { what: string; error: unknown }

/** Some steps of a sync failed; every other step was carried out. */
export class SyncError extends Error {
  constructor(readonly failures: SyncFailure[], readonly stats: ApplyStats) {
    super(`${failures.length} of the sync's steps failed: ${failures.map((f) => `${f.what}: ${describe(f.error)}`).join("; ")}`);
  }
}

function describe(e: unknown): string {
  const err = e as { code?: number; body?: any; message?: string };
  let body = err?.body;
  if (typeof body === "string") { try { body = JSON.parse(body); } catch { /* plain text */ } }
  const why = body?.message ?? (typeof body === "string" ? body : undefined) ?? String(err?.message ?? e).split("\n")[0];
  return `${err?.code ? `HTTP ${err.code}: ` : ""}${String(why).slice(0, 300)}`;
}
