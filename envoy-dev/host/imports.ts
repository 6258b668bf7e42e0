// The env.proxy_* host functions, with the statuses Envoy returns for a NETWORK filter.
import { deflateSync, inflateSync } from "node:zlib";
import { BufferType, MetricType, Status, StreamType } from "./abi.ts";
import { parseFilterStateArgs } from "./filter-state.ts";
import { grpcImports, grpcReceiveBuffer } from "./grpc.ts";
import { CUSTOM_PREFIX } from "./stats.ts";
import type { DataBuffer, VmContext, WasmVm } from "./vm.ts";

type Fn = (...a: any[]) => unknown;

/** A read-only buffer (VM / plugin configuration, foreign function arguments). */
export function constBuffer(bytes: Uint8Array): DataBuffer {
  return { bytes: () => bytes, set: () => Status.BAD_ARGUMENT };
}

export function proxyImports(vm: WasmVm): Record<string, Fn> {
  const ctx = (): VmContext | null => vm.effective;
  const enc = new TextEncoder();
  let foreignArgs: Uint8Array | null = null;

  const buffer = (type: number): DataBuffer | null => {
    const c = ctx();
    if (type === BufferType.VM_CONFIGURATION) return constBuffer(enc.encode(vm.vmConfiguration));
    if (type === BufferType.PLUGIN_CONFIGURATION) {
      const root = c?.rootContext;
      return root && root.configuring ? constBuffer(enc.encode(root.plugin.configuration)) : null;
    }
    if (type === BufferType.FOREIGN_FUNCTION_ARGUMENTS) return foreignArgs ? constBuffer(foreignArgs) : null;
    if (type === BufferType.GRPC_RECEIVE_BUFFER) return grpcReceiveBuffer(vm);
    return c?.host?.getBuffer(type) ?? null;
  };

  const metricName = (name: string) => CUSTOM_PREFIX + name;

  const fns: Record<string, Fn> = {
    proxy_log(level: number, ptr: number, len: number): number {
      const msg = vm.readString(ptr, len);
      if (msg === null) return Status.INVALID_MEMORY_ACCESS;
      if (level < 0 || level > 5) return Status.BAD_ARGUMENT;
      vm.logVm(level, msg);
      return Status.OK;
    },
    proxy_get_log_level(out: number): number {
      return vm.writeU32(out, vm.env.logLevel) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_set_effective_context(id: number): number {
      const c = vm.contexts.get(id);
      if (!c) return Status.BAD_ARGUMENT;
      vm.effective = c;
      return Status.OK;
    },
    proxy_set_tick_period_milliseconds(ms: number): number {
      const root = ctx()?.rootContext;
      if (!root) return Status.BAD_ARGUMENT;
      if (root.tickTimer) { clearInterval(root.tickTimer); root.tickTimer = null; }
      root.tickPeriodMs = ms >>> 0;
      if (root.tickPeriodMs > 0) {
        root.tickTimer = setInterval(() => {
          if (vm.failed || !vm.contexts.has(root.id)) { clearInterval(root.tickTimer!); root.tickTimer = null; return; }
          vm.call(root, "proxy_on_tick", [root.id]);
        }, root.tickPeriodMs);
        root.tickTimer.unref();
      }
      return Status.OK;
    },
    proxy_get_current_time_nanoseconds(out: number): number {
      return vm.writeU64(out, wallClockNs()) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_get_property(pathPtr: number, pathLen: number, valPtrPtr: number, valLenPtr: number): number {
      const raw = vm.readString(pathPtr, pathLen);
      if (raw === null) return Status.INVALID_MEMORY_ACCESS;
      const path = raw.split("\0").filter((s, i, a) => s.length > 0 || i < a.length - 1);
      const c = ctx();
      const value = c ? pluginProperty(c, path) ?? c.host?.property(path) ?? null : null;
      if (value === null) return Status.NOT_FOUND;
      return vm.copyOut(value, valPtrPtr, valLenPtr);
    },
    proxy_set_property(pathPtr: number, pathLen: number, valPtr: number, valLen: number): number {
      const path = vm.readString(pathPtr, pathLen);
      const val = vm.read(valPtr, valLen);
      if (path === null || val === null) return Status.INVALID_MEMORY_ACCESS;
      const host = ctx()?.host;
      return host ? host.setProperty(path, val) : Status.NOT_FOUND;
    },
    proxy_get_buffer_bytes(type: number, start: number, max: number, ptrPtr: number, sizePtr: number): number {
      if (type < 0 || type > BufferType.MAX) return Status.BAD_ARGUMENT;
      const b = buffer(type);
      if (!b) return Status.NOT_FOUND;
      start >>>= 0; max >>>= 0;
      const bytes = b.bytes();
      // cpp-host exports.cc: reads are clamped to the buffer; nothing to copy (start at or past
      // the end, or max 0) writes 0/0 and returns OK.
      const len = start >= bytes.length ? 0 : Math.min(max, bytes.length - start);
      return vm.copyOut(bytes.subarray(start, start + len), ptrPtr, sizePtr);
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dataPtr: number, dataLen: number): number {
      if (type < 0 || type > BufferType.MAX) return Status.BAD_ARGUMENT;
      const data = vm.read(dataPtr, dataLen);
      if (data === null) return Status.INVALID_MEMORY_ACCESS;
      const b = buffer(type);
      if (!b) return Status.NOT_FOUND;
      return b.set(start >>> 0, length >>> 0, data);
    },
    proxy_get_buffer_status(type: number, lenPtr: number, flagsPtr: number): number {
      if (type < 0 || type > BufferType.MAX) return Status.BAD_ARGUMENT;
      const b = buffer(type);
      if (!b) return Status.NOT_FOUND;
      return vm.writeU32(lenPtr, b.bytes().length) && vm.writeU32(flagsPtr, 0) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    // Header maps exist only in HTTP filters; a network filter has none (pairs: grpc.ts).
    proxy_set_header_map_pairs: () => Status.BAD_ARGUMENT,
    proxy_get_header_map_size: () => Status.BAD_ARGUMENT,
    proxy_get_header_map_value: () => Status.BAD_ARGUMENT,
    proxy_add_header_map_value: () => Status.BAD_ARGUMENT,
    proxy_replace_header_map_value: () => Status.BAD_ARGUMENT,
    proxy_remove_header_map_value: () => Status.BAD_ARGUMENT,
    proxy_continue_stream(type: number): number {
      const host = ctx()?.host;
      if (type === StreamType.REQUEST || type === StreamType.RESPONSE) return Status.OK; // no HTTP stream: no-op
      if (type === StreamType.UPSTREAM) return Status.UNIMPLEMENTED;
      if (type !== StreamType.DOWNSTREAM) return Status.BAD_ARGUMENT;
      return host ? host.continueStream(type) : Status.OK;
    },
    proxy_close_stream(type: number): number {
      const host = ctx()?.host;
      if (type === StreamType.REQUEST || type === StreamType.RESPONSE) return Status.OK;
      if (type !== StreamType.DOWNSTREAM && type !== StreamType.UPSTREAM) return Status.BAD_ARGUMENT;
      return host ? host.closeStream(type) : Status.OK;
    },
    // HTTP only: with no decoder callbacks Envoy does nothing and returns OK.
    proxy_send_local_response: () => Status.OK,
    proxy_http_call: notHere(vm, "proxy_http_call"),
    proxy_grpc_stream: notHere(vm, "proxy_grpc_stream"),
    proxy_grpc_send: () => Status.NOT_FOUND,
    proxy_get_shared_data(keyPtr: number, keyLen: number, valPtrPtr: number, valLenPtr: number, casPtr: number): number {
      const key = vm.readString(keyPtr, keyLen);
      if (key === null) return Status.INVALID_MEMORY_ACCESS;
      const e = vm.env.shared.get(vm.vmId, key);
      if (!e) return Status.NOT_FOUND;
      const st = vm.copyOut(e.value, valPtrPtr, valLenPtr);
      if (st !== Status.OK) return st;
      return vm.writeU32(casPtr, e.cas) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_set_shared_data(keyPtr: number, keyLen: number, valPtr: number, valLen: number, cas: number): number {
      const key = vm.readString(keyPtr, keyLen);
      const val = vm.read(valPtr, valLen);
      if (key === null || val === null) return Status.INVALID_MEMORY_ACCESS;
      return vm.env.shared.set(vm.vmId, key, val, cas >>> 0);
    },
    proxy_register_shared_queue(namePtr: number, nameLen: number, tokenPtr: number): number {
      const name = vm.readString(namePtr, nameLen);
      const root = ctx()?.rootContext;
      if (name === null) return Status.INVALID_MEMORY_ACCESS;
      if (!root) return Status.BAD_ARGUMENT;
      const token = vm.env.shared.registerQueue(vm.vmId, name, (t) => { vm.call(root, "proxy_on_queue_ready", [root.id, t]); });
      return vm.writeU32(tokenPtr, token) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_resolve_shared_queue(vmPtr: number, vmLen: number, namePtr: number, nameLen: number, tokenPtr: number): number {
      const vmId = vm.readString(vmPtr, vmLen), name = vm.readString(namePtr, nameLen);
      if (vmId === null || name === null) return Status.INVALID_MEMORY_ACCESS;
      const token = vm.env.shared.resolveQueue(vmId || vm.vmId, name);
      if (token === null) return Status.NOT_FOUND;
      return vm.writeU32(tokenPtr, token) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_enqueue_shared_queue(token: number, ptr: number, len: number): number {
      const v = vm.read(ptr, len);
      if (v === null) return Status.INVALID_MEMORY_ACCESS;
      return vm.env.shared.enqueue(token >>> 0, v);
    },
    proxy_dequeue_shared_queue(token: number, ptrPtr: number, lenPtr: number): number {
      const r = vm.env.shared.dequeue(token >>> 0);
      return typeof r === "number" ? r : vm.copyOut(r, ptrPtr, lenPtr);
    },
    proxy_done(): number {
      const c = ctx();
      if (!c || !c.pendingDone) return Status.NOT_FOUND;
      c.pendingDone = false;
      return Status.OK;
    },
    proxy_call_foreign_function(namePtr: number, nameLen: number, argsPtr: number, argsLen: number, resPtrPtr: number, resLenPtr: number): number {
      const name = vm.readString(namePtr, nameLen);
      const args = vm.read(argsPtr, argsLen);
      if (name === null || args === null) return Status.INVALID_MEMORY_ACCESS;
      const prev = foreignArgs;
      foreignArgs = args;
      try {
        switch (name) {
          case "set_envoy_filter_state": {
            const parsed = parseFilterStateArgs(args);
            if (!parsed) return Status.BAD_ARGUMENT;
            const host = ctx()?.host;
            if (!host) return Status.NOT_FOUND;
            return host.setFilterState(parsed.path, parsed.value);
          }
          case "compress":
            return vm.copyOut(deflateSync(args), resPtrPtr, resLenPtr);
          case "uncompress": {
            let out: Uint8Array;
            try { out = inflateSync(args); } catch { return Status.SERIALIZATION_FAILURE; }
            return vm.copyOut(out, resPtrPtr, resLenPtr);
          }
          default:
            return Status.NOT_FOUND;
        }
      } finally {
        foreignArgs = prev;
      }
    },
    proxy_define_metric(type: number, namePtr: number, nameLen: number, idPtr: number): number {
      if (type < 0 || type > MetricType.HISTOGRAM) return Status.BAD_ARGUMENT;
      const name = vm.readString(namePtr, nameLen);
      if (name === null) return Status.INVALID_MEMORY_ACCESS;
      const id = (++vm.nextMetric[type] << 2) | type;
      vm.metrics.set(id, { name: metricName(name), type });
      if (type === MetricType.COUNTER) vm.env.stats.ensureCounter(metricName(name));
      else if (type === MetricType.GAUGE) vm.env.stats.ensureGauge(metricName(name));
      else vm.env.stats.histogram(metricName(name));
      return vm.writeU32(idPtr, id) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_increment_metric(id: number, delta: bigint): number {
      const m = vm.metrics.get(id >>> 0);
      const type = (id >>> 0) & 3;
      if (type === MetricType.HISTOGRAM || type === 3) return Status.BAD_ARGUMENT;
      if (!m) return Status.NOT_FOUND;
      const d = Number(BigInt.asIntN(64, BigInt(delta)));
      if (type === MetricType.COUNTER) {
        if (d <= 0) return Status.BAD_ARGUMENT;
        vm.env.stats.inc(m.name, d);
      } else vm.env.stats.gaugeAdd(m.name, d);
      return Status.OK;
    },
    proxy_record_metric(id: number, value: bigint): number {
      const m = vm.metrics.get(id >>> 0);
      if (!m) return Status.NOT_FOUND;
      const v = Number(BigInt.asUintN(64, BigInt(value)));
      if (m.type === MetricType.COUNTER) vm.env.stats.inc(m.name, v);
      else if (m.type === MetricType.GAUGE) vm.env.stats.gaugeSet(m.name, v);
      else vm.env.stats.histogram(m.name).record(v);
      return Status.OK;
    },
    proxy_get_metric(id: number, out: number): number {
      const type = (id >>> 0) & 3;
      if (type !== MetricType.COUNTER && type !== MetricType.GAUGE) return Status.BAD_ARGUMENT;
      const m = vm.metrics.get(id >>> 0);
      if (!m) return Status.NOT_FOUND;
      const v = (type === MetricType.COUNTER ? vm.env.stats.counters : vm.env.stats.gauges).get(m.name) ?? 0;
      return vm.writeU64(out, BigInt(Math.max(0, Math.trunc(v)))) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    // gRPC callouts, get_status and the header map pairs their callbacks read: grpc.ts.
    ...grpcImports(vm),
  };
  return fns;
}

function pluginProperty(c: VmContext, path: string[]): Uint8Array | null {
  if (path.length !== 1) return null;
  const p = c.plugin;
  const v = path[0] === "plugin_name" ? p.name : path[0] === "plugin_root_id" ? p.rootId : path[0] === "plugin_vm_id" ? p.vmId : null;
  return v === null ? null : new TextEncoder().encode(v);
}

/** Callouts the local host does not implement (HTTP calls, gRPC streams): say so instead of pretending. */
function notHere(vm: WasmVm, name: string): Fn {
  return () => {
    vm.logVm(3, `${name} is not implemented by the local host (returns UNIMPLEMENTED); Envoy would perform the callout`);
    return Status.UNIMPLEMENTED;
  };
}

const wallBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export function wallClockNs(): bigint {
  return wallBase + process.hrtime.bigint();
}
