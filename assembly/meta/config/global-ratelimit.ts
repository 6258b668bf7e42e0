// `services[].globalRateLimit`: Aeraki's MetaRouter GlobalRateLimit (match, domain,
// requestTimeout, denyOnFail, rateLimitService, descriptors[]{property, descriptorKey}), read
// with the same path-aware errors as the rest of the plugin config.
import { JsonValue } from "../json";
import { MAX_RATE_LIMIT_CONDITIONS } from "./limits";
import { Errors, checkObject, childPath, itemPath, readBool, readDuration, readList, readObject, readString } from "./fields";
import { Match, readAttributes } from "../config";
import { WantedKeys } from "../codec";

export const GLOBAL_RATE_LIMIT_FIELDS: string[] = ["match", "domain", "requestTimeout", "denyOnFail", "rateLimitService", "descriptors"];
const DESCRIPTOR_FIELDS: string[] = ["property", "descriptorKey"];
const MATCH_FIELDS: string[] = ["attributes"];

/** Aeraki's default: "If not set, this defaults to 20ms." */
export const DEFAULT_RLS_TIMEOUT_MS: u32 = 20;
/** Longest accepted requestTimeout: a held request must not wait longer than this. */
export const MAX_RLS_TIMEOUT_MS: i64 = 60000;

export class RateLimitDescriptor {
  constructor(public property: string, public key: string) {}
}

export class GlobalRateLimitConfig {
  /** Empty: every request of the service is checked. */
  match: Match = new Match();
  domain: string = "";
  timeoutMs: u32 = DEFAULT_RLS_TIMEOUT_MS;
  denyOnFail: bool = false;
  /** The cluster of the rate limit service (Envoy needs HTTP/2 on it). */
  cluster: string = "";
  descriptors: RateLimitDescriptor[] = [];
}

/** `v` is the globalRateLimit object (already checked against GLOBAL_RATE_LIMIT_FIELDS). */
export function readGlobalRateLimit(e: Errors, v: JsonValue, path: string, keys: WantedKeys): GlobalRateLimitConfig | null {
  const g = new GlobalRateLimitConfig();
  const m = readObject(e, v, "match", path, false, MATCH_FIELDS);
  if (m != null) g.match = readAttributes(e, m, childPath(path, "match"), keys);
  g.domain = readString(e, v, "domain", path, true, true, "");
  g.cluster = readString(e, v, "rateLimitService", path, true, true, "");
  g.denyOnFail = readBool(e, v, "denyOnFail", path, false);
  g.timeoutMs = <u32>readDuration(e, v, "requestTimeout", path, false, "20ms", g.timeoutMs, MAX_RLS_TIMEOUT_MS,
    "must be at most 60s: a held request waits this long at most");
  const list = readList(e, v, "descriptors", path, MAX_RATE_LIMIT_CONDITIONS);
  const dp = childPath(path, "descriptors");
  if (!e.failed && (list == null || list.length == 0)) e.fail(dp, "required: at least one {property, descriptorKey}");
  if (list != null) {
    for (let i = 0; i < list.length && !e.failed; i++) {
      const d = list.at(i);
      const p = itemPath(dp, i);
      if (!checkObject(e, d, p, DESCRIPTOR_FIELDS)) break;
      const property = readString(e, d, "property", p, true, true, "");
      const key = readString(e, d, "descriptorKey", p, true, true, "");
      if (e.failed) break;
      g.descriptors.push(new RateLimitDescriptor(property, key));
      keys.add(property);
    }
  }
  return e.failed ? null : g;
}
