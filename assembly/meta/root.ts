// The plugin's root context: owns the parsed config, the codec, stats, the rate limiter and the
// random source; creates one MetaConnection per downstream connection.
import { NetworkContext, RootContext } from "../abi/context";
import { BufferType, LogLevel, bufferString, log, nowNanos, refreshLogLevel, setTickPeriod, getPropertyString } from "../abi/host";
import { Drainer, DRAIN_TICK_MS } from "./drain";
import { UpstreamWatch } from "./upstream-watch";
import { RulesChannel } from "./rules-update";
import { Codec, WantedKeys } from "./codec";
import { BIND_ON_CONNECTION, PluginConfig, Route, parsePluginConfig } from "./config";
import { Stats, Stat } from "./stats";
import { heldBudget } from "./budget";
import { MAX_CONFIG_BYTES } from "./config/limits";
import { RateLimiter } from "./ratelimit";
import { MetaConnection } from "./connection";
import { Features } from "./features";
import { resetRegexBudget } from "./regex/dfa";

export class MetaRoot extends RootContext {
  config: PluginConfig;
  stats: Stats = new Stats();
  limiter: RateLimiter = new RateLimiter("metaprotocol");
  wanted: WantedKeys = WantedKeys.none();
  noKeys: WantedKeys = WantedKeys.none();
  /** The first request picks the cluster, so tcp_proxy is held back until it has (ON_DOWNSTREAM_DATA). */
  needsBinding: bool = false;
  /** tcp_proxy connects at accept (bindOn CONNECTION): the cluster is picked in on_new_connection. */
  bindsAtConnection: bool = false;
  needsAddresses: bool = false;
  /** Every service is identified by address only: a connection to another address is not ours. */
  addressesOnly: bool = false;
  private routes: Route[] = [];
  /** Bumped by every configuration: a route's slot counts only under the config that set it. */
  private slotGen: i32 = 0;
  /** Global rate limit clients and telemetry of this configuration (features.ts). */
  features: Features = Features.none();
  /** This root's connections, and the drain of those newer rules would bind elsewhere (drain.ts). */
  drainer: Drainer = new Drainer();
  upstreamWatch: UpstreamWatch = new UpstreamWatch();
  private rules: RulesChannel | null = null;
  /** The config text as given (compared with newer rules published by other roots). */
  private configText: string = "";
  private tickMs: u32 = 0;
  private budgetWarned: bool = false;
  private rng: u32 = 0x9e3779b9;
  private nowCacheNs: u64 = 0;

  constructor(id: u32, public codec: Codec) {
    super(id);
    // A usable default until on_configure runs (Envoy always configures before traffic).
    const r = parsePluginConfig("{}", codec.name());
    this.config = r.config!;
  }

  onVmStart(vmConfigSize: u32): bool {
    const seed = <u32>(nowNanos() ^ (nowNanos() >> 32));
    this.rng = seed != 0 ? seed : 0x9e3779b9;
    return true;
  }

  onConfigure(size: u32): bool {
    refreshLogLevel();
    if (size > <u32>MAX_CONFIG_BYTES) {
      // Refused before it is read: a huge document must not cost memory (a VM never gives it back).
      log(LogLevel.Error, "metaprotocol: plugin config refused: (root): the configuration is " + size.toString() + " bytes, more than " + MAX_CONFIG_BYTES.toString());
      return false;
    }
    const raw = size > 0 ? bufferString(BufferType.PluginConfiguration, size) : null;
    // Envoy passes no configuration as an empty buffer: that is the empty config.
    const text = raw == null || raw.trim().length == 0 ? "{}" : raw;
    const r = parsePluginConfig(text, this.codec.name());
    if (r.config == null) {
      log(LogLevel.Error, "metaprotocol: plugin config refused: " + r.error);
      return false;
    }
    const cfg = r.config!;
    this.config = cfg;
    this.codec.maxFrameBytes = cfg.maxFrameBytes;
    heldBudget.limit = cfg.maxHeldBytes; // per VM: the newest config of any root in it
    this.wanted = cfg.requestKeys;
    const owner = getPropertyString("plugin_root_id");
    this.limiter = new RateLimiter("metaprotocol/" + (owner != null ? owner : "") + "/" + cfg.statPrefix);
    // Flatten routes into slots: stats and the in-flight table refer to routes by slot.
    // Same-named routes share a slot (and its counter, as in Envoy); the slot's route is the
    // first with that name. Linear in the number of routes (names are hashed).
    this.routes = [];
    this.slotGen++;
    const names: string[] = [];
    const slotByName = new Map<string, i32>();
    this.needsBinding = false;
    this.needsAddresses = false;
    this.addressesOnly = cfg.services.length > 0;
    for (let i = 0; i < cfg.services.length; i++) {
      const svc = cfg.services[i];
      if (svc.addresses.length > 0) this.needsAddresses = true;
      if (svc.addresses.length == 0 || !svc.match.isEmpty()) this.addressesOnly = false;
      if (svc.defaultCluster.length > 0) this.needsBinding = true;
      for (let j = 0; j < svc.routes.length; j++) {
        const route = svc.routes[j];
        if (route.clusters.length > 0) this.needsBinding = true;
        let slot: i32;
        if (slotByName.has(route.name)) {
          slot = slotByName.get(route.name);
        } else {
          slot = names.length;
          names.push(route.name);
          slotByName.set(route.name, slot);
          this.routes.push(route);
        }
        route.statSlot = slot;
        route.slotGen = this.slotGen;
      }
    }
    this.bindsAtConnection = cfg.bindOn == BIND_ON_CONNECTION && cfg.services.length > 0;
    if (this.bindsAtConnection) this.needsBinding = false;
    this.stats.define(cfg.statPrefix, names);
    this.features = Features.configure(cfg, this.codec.name(), names, this.stats);
    this.configText = text;
    this.drainer.newest = null;
    this.drainer.newestText = "";
    const pluginName = getPropertyString("plugin_name");
    this.rules = new RulesChannel(pluginName != null ? pluginName : "", owner != null ? owner : "");
    this.rules!.publish(text);
    this.setTick(cfg.statsFlushIntervalMs);
    log(LogLevel.Info, "metaprotocol: " + this.codec.name() + " configured: " + cfg.services.length.toString() +
      " services, " + names.length.toString() + " routes, stats metaprotocol." + cfg.statPrefix);
    return true;
  }

  /** The config newer rules say to bind new requests by (this root's own when it is the newest). */
  bindingConfig(): PluginConfig {
    const n = this.drainer.newest;
    return n != null ? n : this.config;
  }

  onTick(): void {
    refreshLogLevel();
    const rules = this.rules;
    if (rules != null) {
      const json = rules.poll();
      if (json != null) this.learn(json);
    }
    const drainer = this.drainer;
    if (drainer.active > 0) drainer.step(this.nowMs(), this.id);
    const watch = this.upstreamWatch;
    if (watch.count > 0) watch.step(this.nowMs(), this.config.upstreamConnectTimeoutMs, this.id, this.config.statPrefix);
    // Draining connections are checked often; otherwise the stats period is the tick.
    this.setTick(drainer.active > 0 ? DRAIN_TICK_MS : this.config.statsFlushIntervalMs);
    this.flush();
    this.endCallback();
  }

  private flush(): void {
    const cfg = this.config;
    const ri = cfg.regexInput;
    if (ri.overLimit != 0) {
      this.stats.add(Stat.RegexInputTooLong, ri.overLimit);
      ri.overLimit = 0;
    }
    if (ri.overBudget != 0) {
      if (!this.budgetWarned) {
        this.budgetWarned = true;
        log(LogLevel.Warn, "metaprotocol." + cfg.statPrefix + ": a callback spent its regex work budget: " + ri.overBudget.toString() +
          " regex matches answered 'no match' (counted in regex_budget_exceeded; logged once)");
      }
      this.stats.add(Stat.RegexBudgetExceeded, ri.overBudget);
      ri.overBudget = 0;
    }
    this.stats.flush();
    this.features.onTick();
  }

  /** Newer (or this root's own again) rules were published for this plugin. */
  private learn(json: string): void {
    const before = this.drainer.newest;
    if (!this.drainer.learn(json, this.configText, this.config, this.codec.name(), this.bindsAtConnection, this.nowMs())) return;
    const newest = this.drainer.newest;
    if (newest === before) return;
    // Requests are decoded for the keys both rule sets read: a connection not yet bound binds
    // by the newer rules.
    this.wanted = newest != null ? WantedKeys.union(this.config.requestKeys, newest.requestKeys) : this.config.requestKeys;
    log(LogLevel.Info, "metaprotocol." + this.config.statPrefix + ": " + (newest != null
      ? "newer rules published for this plugin: " + this.drainer.active.toString() + " open connections they bind elsewhere are draining"
      : "this root's rules are the newest again: " + this.drainer.active.toString() + " open connections bound by the rules in between are draining"));
  }

  private setTick(ms: u32): void {
    if (ms == this.tickMs) return;
    this.tickMs = ms;
    setTickPeriod(ms);
  }
  onDone(): void { this.flush(); this.stats.releaseMemoryName(); }

  newConnection(id: u32): NetworkContext { return new MetaConnection(id, this); }

  slotOf(route: Route): i32 { return route.slotGen == this.slotGen ? route.statSlot : -1; }
  routeAt(slot: i32): Route { return this.routes[slot]; }

  /** xorshift32: weighted picks need speed, not secrecy (Math.random would import env.seed). */
  random(): u32 {
    let x = this.rng;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    this.rng = x;
    return x;
  }

  /** The clock, read from the host at most once per callback. */
  nowNs(): u64 {
    if (this.nowCacheNs == 0) this.nowCacheNs = nowNanos();
    return this.nowCacheNs;
  }
  nowMs(): u64 { return this.nowNs() / 1000000; }
  endCallback(): void { this.nowCacheNs = 0; resetRegexBudget(); }
}
