// Leader election on a coordination.k8s.io/v1 Lease: only the holder reconciles, so two
// replicas never fight. Updates carry the resourceVersion read, so a race ends in 409 for
// the loser instead of two leaders.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
  onStarted: () => void;
  onStopped: () => void;
}

export class LeaderElector {
  private api: CoordinationV1Api;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** The lease record last seen and when, on our clock: expiry never compares two machines' clocks. */
  private observed?: { version: string; at: number };
  isLeader = false;

  constructor(kc: KubeConfig, private opts: LeaderOptions) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  start(): void { this.stopped = false; void this.loop(); }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.isLeader) {
      this.setLeader(false);
      // Hand over at once instead of making the other replica wait out the lease.
      await this.tryUpdate((l) => { l.spec!.holderIdentity = undefined; l.spec!.leaseDurationSeconds = 1; }).catch(() => undefined);
    }
  }

  private setLeader(v: boolean) {
    if (v === this.isLeader) return;
    this.isLeader = v;
    if (v) this.opts.onStarted(); else this.opts.onStopped();
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    try { this.setLeader(await this.tryAcquireOrRenew()); } catch { this.setLeader(false); }
    if (!this.stopped) this.timer = setTimeout(() => void this.loop(), this.opts.retryPeriodMs ?? 2000);
  }

  /** One round of the algorithm: create, renew ours, or take over an expired lease. */
  async tryAcquireOrRenew(now = new Date()): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const duration = this.opts.leaseDurationSeconds ?? 15;
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (e: any) {
      if (e?.code !== 404) throw e;
      try {
        await this.api.createNamespacedLease({ namespace, body: {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: duration, acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now), leaseTransitions: 0 },
        } });
        return true;
      } catch (err: any) { if (err?.code === 409) return false; throw err; }
    }
    const spec = lease.spec ?? {};
    // As client-go does: a lease is expired when its record has not changed for a lease
    // duration as measured here, whatever renewTime the holder's (maybe skewed) clock wrote.
    const version = lease.metadata?.resourceVersion ?? `${spec.holderIdentity}|${String(spec.renewTime)}`;
    if (this.observed?.version !== version) this.observed = { version, at: now.getTime() };
    const expired = this.observed.at + (spec.leaseDurationSeconds ?? duration) * 1000 < now.getTime();
    const ours = spec.holderIdentity === identity;
    if (!ours && spec.holderIdentity && !expired) return false;
    lease.spec = {
      ...spec, holderIdentity: identity, leaseDurationSeconds: duration, renewTime: new V1MicroTime(now),
      acquireTime: ours ? spec.acquireTime : new V1MicroTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
    };
    try {
      await this.api.replaceNamespacedLease({ namespace, name, body: lease });
      return true;
    } catch (e: any) {
      if (e?.code === 409) return false; // someone else wrote first
      throw e;
    }
  }

  private async tryUpdate(change: (l: V1Lease) => void): Promise<void> {
    const lease = await this.api.readNamespacedLease({ namespace: this.opts.namespace, name: this.opts.name });
    if (lease.spec?.holderIdentity !== this.opts.identity) return;
    change(lease);
    await this.api.replaceNamespacedLease({ namespace: this.opts.namespace, name: this.opts.name, body: lease });
  }
}
