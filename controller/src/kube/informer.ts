// List + watch for one resource, keeping a cache: resumes from the last resourceVersion,
// relists on 410 Gone, reconnects with capped exponential backoff, and reports changes.
import { KubernetesObjectApi, Watch, type KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "../model/types.js";

export interface InformerOptions {
  apiVersion: string;
  kind: string;
  /** URL path of the collection, e.g. /apis/networking.istio.io/v1/destinationrules */
  path: string;
  labelSelector?: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Server-side end of each watch request (default 300 s). */
  watchTimeoutSeconds?: number;
  onChange: () => void;
  onError?: (e: unknown) => void;
}

export class Informer {
  readonly cache = new Map<string, KubeObject>();
  synced = false;
  resourceVersion = "";
  relists = 0;
  private stopped = false;
  private abort?: AbortController;
  private backoff: number;
  private timer?: NodeJS.Timeout;

  constructor(private kc: KubeConfig, private objects: KubernetesObjectApi, readonly opts: InformerOptions) {
    this.backoff = opts.minBackoffMs ?? 200;
  }

  list(): KubeObject[] { return [...this.cache.values()]; }

  start(): void { this.stopped = false; void this.run(); }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  private async relist(): Promise<void> {
    const list: any = await this.objects.list(this.opts.apiVersion, this.opts.kind, undefined, undefined, undefined, undefined, undefined, this.opts.labelSelector);
    this.relists++;
    this.cache.clear();
    for (const o of list.items ?? []) this.cache.set(cacheKey(o), plain(o, this.opts));
    this.resourceVersion = list.metadata?.resourceVersion ?? "";
    this.synced = true;
    this.opts.onChange();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.relist();
        const gone = await this.watchOnce();
        if (gone) this.resourceVersion = ""; // 410: our version is too old, start over
        this.backoff = this.opts.minBackoffMs ?? 200;
        if (gone) continue;
      } catch (e: any) {
        if (this.stopped) return;
        if (e?.code === 410 || e?.statusCode === 410) { this.resourceVersion = ""; continue; }
        this.opts.onError?.(e);
      }
      if (this.stopped) return;
      // Reconnect after a dropped watch or an error, never in a tight loop.
      await new Promise<void>((r) => { this.timer = setTimeout(r, this.backoff); });
      this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 30_000);
    }
  }

  /** Resolves when the watch ends: true when the server said 410 Gone. */
  private watchOnce(): Promise<boolean> {
    return new Promise((resolve, reject) => {
      let gone = false;
      // timeoutSeconds: the server ends the watch after a while, so a connection that died
      // without a reset cannot leave the cache silently stale; the next watch resumes.
      const params: Record<string, string | boolean | number> = {
        resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
      };
      if (this.opts.labelSelector) params.labelSelector = this.opts.labelSelector;
      new Watch(this.kc).watch(this.opts.path, params, (type, obj) => {
        if (type === "ERROR") {
          if (obj?.code === 410) gone = true;
          return;
        }
        if (obj?.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        if (type === "BOOKMARK") return;
        const k = cacheKey(obj);
        if (type === "DELETED") this.cache.delete(k);
        else this.cache.set(k, plain(obj, this.opts));
        this.opts.onChange();
      }, (err) => (err && !gone ? reject(err) : resolve(gone)))
        .then((ac) => { this.abort = ac; if (this.stopped) ac.abort(); }, reject);
    });
  }
}

function cacheKey(o: any): string { return `${o.metadata?.namespace ?? ""}/${o.metadata?.name}`; }

/** Watch events carry no apiVersion/kind on list items; the translation wants both. */
function plain(o: any, opts: InformerOptions): KubeObject {
  const copy = JSON.parse(JSON.stringify(o));
  copy.apiVersion ??= opts.apiVersion;
  copy.kind ??= opts.kind;
  return copy;
}
