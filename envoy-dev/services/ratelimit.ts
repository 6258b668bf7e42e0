// envoyproxy/ratelimit, the global rate limit service Envoy users deploy, with its own Redis:
// rules in its YAML config (domain + descriptors), gRPC RateLimitService/ShouldRateLimit on a
// free loopback port. Built from the Go module proxy on first use (go-tools.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ratelimitBin } from "./go-tools.ts";
import { freePort, startProcess, waitReady, type ServiceProcess } from "./process.ts";
import { startRedis, type Redis } from "./redis.ts";

/** One descriptor rule of the service's config (its YAML field names). */
export interface RateLimitDescriptorRule {
  key: string;
  value?: string;
  rate_limit?: { unit: "second" | "minute" | "hour" | "day"; requests_per_unit: number };
  descriptors?: RateLimitDescriptorRule[];
  shadow_mode?: boolean;
}
export interface RateLimitRules { domain: string; descriptors: RateLimitDescriptorRule[] }

export interface RateLimitService {
  grpcPort: number;
  httpPort: number;
  redis: Redis;
  process: ServiceProcess;
  close(): Promise<void>;
}

export async function startRateLimitService(o: { rules: RateLimitRules | RateLimitRules[]; logLevel?: string }): Promise<RateLimitService> {
  const bin = ratelimitBin();
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "ratelimit-"));
  const configDir = join(dir, "runtime", "ratelimit", "config");
  mkdirSync(configDir, { recursive: true });
  const all = Array.isArray(o.rules) ? o.rules : [o.rules];
  all.forEach((r, i) => writeFileSync(join(configDir, `rules-${i}.yaml`), stringify(r)));
  try {
    for (let attempt = 1; ; attempt++) {
      const [grpcPort, httpPort, debugPort] = [await freePort(), await freePort(), await freePort()];
      const p = startProcess("ratelimit", bin, [], {
        env: {
          HOST: "127.0.0.1", PORT: String(httpPort), GRPC_HOST: "127.0.0.1", GRPC_PORT: String(grpcPort),
          DEBUG_HOST: "127.0.0.1", DEBUG_PORT: String(debugPort),
          RUNTIME_ROOT: join(dir, "runtime"), RUNTIME_SUBDIRECTORY: "ratelimit", RUNTIME_APPDIRECTORY: "config",
          RUNTIME_WATCH_ROOT: "false", HEALTHY_WITH_AT_LEAST_ONE_CONFIG_LOADED: "true",
          BACKEND_TYPE: "redis", REDIS_SOCKET_TYPE: "tcp", REDIS_URL: `127.0.0.1:${redis.port}`,
          USE_STATSD: "false", LOG_LEVEL: o.logLevel ?? "warn",
        },
      });
      try {
        await waitReady(p, "healthy /healthcheck", async () => (await fetch(`http://127.0.0.1:${httpPort}/healthcheck`)).status === 200);
      } catch (e) {
        if (attempt < 3 && p.output().some((l) => /address already in use/i.test(l))) continue;
        throw e;
      }
      return {
        grpcPort, httpPort, redis, process: p,
        async close() { await p.stop(); await redis.close(); rmSync(dir, { recursive: true, force: true }); },
      };
    }
  } catch (e) {
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
