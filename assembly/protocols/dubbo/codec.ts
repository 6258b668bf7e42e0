// Dubbo 2 over Hessian2. Header (16 bytes, big-endian): magic 0xdabb, flag, status, request id
// (i64), body length (i32). Requests are parsed lazily: the first four body strings give
// interface/method/version; the attachments sit behind every argument, so they are reached
// (by skipping, not building, the arguments) only when a rule or a mutation needs them.
import { Codec, DecodeStatus, ErrorType, KeyValue, MessageType, ResponseStatus, WantedKeys } from "../../meta/codec";
import { Metadata } from "../../meta/metadata";
import { ByteBuf, u8At, u32be, u64be, utf8Equals } from "../../meta/bytes";
import { HessianReader, countJvmParams } from "./hessian";
import { Fastjson2Body, Wants, writeFastjson2ErrorBody, writeFastjson2NullBody } from "./fastjson2";

const HEADER = 16;
const MAGIC_HI: u32 = 0xda;
const MAGIC_LO: u32 = 0xbb;
const FLAG_REQUEST: u32 = 0x80;
const FLAG_TWOWAY: u32 = 0x40;
const FLAG_EVENT: u32 = 0x20;
const SERIALIZATION_MASK: u32 = 0x1f;
const HESSIAN2: u32 = 2;
// fastjson2 (JSONB): what Dubbo 3.2 providers prefer, and consumers that learn it from a registry send.
const FASTJSON2: u32 = 23;

export const STATUS_OK: u32 = 20;
export const STATUS_BAD_REQUEST: u32 = 40;
export const STATUS_BAD_RESPONSE: u32 = 50;
export const STATUS_SERVICE_NOT_FOUND: u32 = 60;
export const STATUS_SERVER_ERROR: u32 = 80;
export const STATUS_THREADPOOL_EXHAUSTED: u32 = 100;

// Response body flags (Dubbo's DecodeableRpcResult).
const RESPONSE_WITH_EXCEPTION = 0;
const RESPONSE_VALUE = 1;
const RESPONSE_NULL_VALUE = 2;
const RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS = 3;
const RESPONSE_VALUE_WITH_ATTACHMENTS = 4;
const RESPONSE_NULL_VALUE_WITH_ATTACHMENTS = 5;

// md.offset() slots (body-relative offsets found while decoding). md.codecFlags holds the
// serialization id: the frame's variant, which error replies and probes repeat.
const OFF_ATTACH_START = 0; // the attachments map tag
const OFF_ATTACH_END = 1;   // one past its 'Z'
const OFF_ATTACH_KNOWN = 2; // 1 once the two offsets above are set

const HEADER_KEYS: string[] = ["interface", "method", "version"];

export class DubboCodec extends Codec {
  private r: HessianReader = new HessianReader();
  private json: Fastjson2Body = new Fastjson2Body();

  name(): string { return "dubbo"; }

  decode(ptr: usize, len: i32, md: Metadata, fromDownstream: bool, wanted: WantedKeys): DecodeStatus {
    if (len >= 1 && u8At(ptr) != MAGIC_HI) { md.error = "wrong magic"; return DecodeStatus.Error; }
    if (len >= 2 && u8At(ptr + 1) != MAGIC_LO) { md.error = "wrong magic"; return DecodeStatus.Error; }
    if (len < HEADER) return DecodeStatus.WaitForData;
    const body = u32be(ptr + 12);
    if (body > 0x7fffffef) { md.error = "invalid body length"; return DecodeStatus.Error; }
    md.frameSize = HEADER + <i32>body;
    // Over the cap: never cut it, so the framework refuses it before buffering the rest.
    if (len < md.frameSize || md.frameSize > this.maxFrameBytes) return DecodeStatus.WaitForData;
    md.headerSize = HEADER;
    md.bodySize = <i32>body;
    md.requestId = u64be(ptr + 4);
    const flag = u8At(ptr + 2);
    const isRequest = (flag & FLAG_REQUEST) != 0;
    md.isReply = !isRequest;
    md.codecFlags = <i32>(flag & SERIALIZATION_MASK);
    if ((flag & FLAG_EVENT) != 0) {
      md.messageType = MessageType.Heartbeat;
      if (!isRequest) md.responseStatus = u8At(ptr + 3) == STATUS_OK ? ResponseStatus.Ok : ResponseStatus.Error;
      return DecodeStatus.Done;
    }
    const ser = flag & SERIALIZATION_MASK;
    if (!isRequest) {
      md.messageType = MessageType.Response;
      md.responseStatus = u8At(ptr + 3) == STATUS_OK ? ResponseStatus.Ok : ResponseStatus.Error;
      if (wanted.isEmpty() || md.responseStatus != ResponseStatus.Ok) return DecodeStatus.Done;
      if (ser == FASTJSON2) { this.learn(wanted); return this.json.decodeResponse(ptr, md, this.w) ? DecodeStatus.Done : DecodeStatus.Error; }
      if (ser != HESSIAN2) return this.unsupported(md, ser);
      return this.parseResponseAttachments(ptr, md, wanted) ? DecodeStatus.Done : DecodeStatus.Error;
    }
    md.messageType = (flag & FLAG_TWOWAY) != 0 ? MessageType.Request : MessageType.Oneway;
    if (wanted.isEmpty()) return DecodeStatus.Done;
    if (ser == FASTJSON2) { this.learn(wanted); return this.json.decodeRequest(ptr, md, this.w) ? DecodeStatus.Done : DecodeStatus.Error; }
    if (ser != HESSIAN2) return this.unsupported(md, ser);
    return this.parseRequestBody(ptr, md, wanted) ? DecodeStatus.Done : DecodeStatus.Error;
  }

  /** Other serializations (java 3, kryo 8, protobuf 22, ...) pass through unless a rule reads them. */
  private unsupported(md: Metadata, ser: u32): DecodeStatus {
    md.error = "serialization id " + ser.toString() + " is not supported (hessian2 2 and fastjson2 23 are)";
    return DecodeStatus.Error;
  }

  /** Response attachments (flags 3/4/5) as attributes; only when something asks for them. */
  private parseResponseAttachments(ptr: usize, md: Metadata, wanted: WantedKeys): bool {
    this.learn(wanted);
    const r = this.r;
    r.reset(ptr + HEADER, ptr + HEADER + <usize>md.bodySize);
    const kind = <i32>r.readInt();
    if (r.error.length > 0) return this.bad(md, "response flag");
    if (kind < RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS || kind > RESPONSE_NULL_VALUE_WITH_ATTACHMENTS) return true;
    if (kind != RESPONSE_NULL_VALUE_WITH_ATTACHMENTS && !r.skipValue()) return this.bad(md, "response value");
    return this.readAttachments(md);
  }

  private parseRequestBody(ptr: usize, md: Metadata, wanted: WantedKeys): bool {
    this.learn(wanted);
    const r = this.r;
    const bodyStart = ptr + HEADER;
    r.reset(bodyStart, bodyStart + <usize>md.bodySize);
    if (!r.readStringRange()) return this.bad(md, "dubbo version");
    // Only the strings a rule reads are decoded; the others are stepped over in place.
    if (!this.field(md, "interface", this.w.iface, true)) return this.bad(md, "service path");
    if (!this.field(md, "version", this.w.version, false)) return this.bad(md, "service version");
    if (!this.field(md, "method", this.w.method, true)) return this.bad(md, "method name");
    if (!this.w.attachments) return true;
    if (!this.findAttachments(md, false)) return false;
    return this.readAttachments(md, true);
  }

  private field(md: Metadata, key: string, want: bool, required: bool): bool {
    const r = this.r;
    if (!want) {
      const present = r.readStringRange();
      return r.error.length == 0 && (present || !required);
    }
    const v = r.readString();
    if (v == null) { if (required || r.error.length > 0) return false; md.setAttribute(key, ""); return true; }
    md.setAttribute(key, v);
    return true;
  }

  // Which parts of a request the current rules read, worked out once per rule set.
  private learnedFrom: WantedKeys | null = null;
  private w: Wants = new Wants();

  private learn(wanted: WantedKeys): void {
    if (this.learnedFrom === wanted) return;
    this.learnedFrom = wanted;
    const w = this.w;
    w.iface = wanted.has("interface");
    w.method = wanted.has("method");
    w.version = wanted.has("version");
    w.attachments = this.needsAttachments(wanted);
    w.all = wanted.all;
    w.list = wanted.list;
  }

  private needsAttachments(wanted: WantedKeys): bool {
    if (wanted.all) return true;
    const keys = wanted.keys.values();
    for (let i = 0; i < keys.length; i++) if (!HEADER_KEYS.includes(keys[i])) return true;
    return false;
  }

  /**
   * Skip the parameter types and arguments; note where the attachments map lies. With
   * `walkMap` false the caller reads the map next (readAttachments notes its end), so it is not
   * walked twice.
   */
  private findAttachments(md: Metadata, walkMap: bool = true): bool {
    const r = this.r;
    if (!r.readStringRange()) return this.bad(md, "parameter types");
    const nargs = r.strChunked ? -1 : countJvmParams(r.strStart, r.strBytes);
    if (nargs < 0) return this.bad(md, "parameter types");
    for (let i = 0; i < nargs; i++) if (!r.skipValue()) return this.bad(md, "argument " + i.toString());
    const base = r.end - <usize>md.bodySize;
    const start = <i32>(r.p - base);
    md.setOffset(OFF_ATTACH_START, start);
    if (!walkMap) return true;
    if (r.p >= r.end) {
      md.setOffset(OFF_ATTACH_END, start);
    } else {
      const at = r.p;
      if (!r.skipValue()) return this.bad(md, "attachments");
      md.setOffset(OFF_ATTACH_END, <i32>(r.p - base));
      r.p = at;
    }
    md.setOffset(OFF_ATTACH_KNOWN, 1);
    return true;
  }

  /**
   * String-valued attachments become attributes (group, application, user keys, ...). Keys are
   * compared in place; only the values of keys a rule reads are decoded.
   */
  private readAttachments(md: Metadata, noteEnd: bool = false): bool {
    const r = this.r;
    const base = r.end - <usize>md.bodySize;
    if (r.p >= r.end) return this.attachmentsEnd(md, noteEnd, <i32>(r.p - base));
    const t = r.peek();
    if (t == 0x4e) return this.attachmentsEnd(md, noteEnd, <i32>(r.p + 1 - base)); // null map
    if (t != 0x48 && t != 0x4d) return this.bad(md, "attachments are not a map");
    r.p += 1;
    if (t == 0x4d && !r.skipType()) return this.bad(md, "attachments map type");
    while (r.p < r.end && u8At(r.p) != 0x5a) {
      const keyAt = r.p;
      if (!r.readStringRange()) {
        if (r.error.length > 0) return this.bad(md, "attachment key");
        if (!r.skipValue()) return this.bad(md, "attachment value");
        continue;
      }
      const key = this.wantedKey(keyAt);
      const vt = r.peek();
      const isString = (vt >= 0 && vt <= 0x1f) || (vt >= 0x30 && vt <= 0x33) || vt == 0x53 || vt == 0x52;
      if (key != null && isString) {
        const v = r.readString();
        if (v == null) return this.bad(md, "attachment value");
        md.setAttribute(key, v);
      } else if (!r.skipValue()) return this.bad(md, "attachment value");
    }
    if (!noteEnd) return true;
    if (r.p >= r.end) return this.bad(md, "attachments: truncated hessian value"); // no 'Z'
    return this.attachmentsEnd(md, true, <i32>(r.p + 1 - base));
  }

  /** Notes where a request's attachments end (the map was read, not skipped: see findAttachments). */
  private attachmentsEnd(md: Metadata, note: bool, end: i32): bool {
    if (!note) return true;
    md.setOffset(OFF_ATTACH_END, end);
    md.setOffset(OFF_ATTACH_KNOWN, 1);
    return true;
  }

  /** The attribute name for the key string just read at `at`, or null when no rule reads it. */
  private wantedKey(at: usize): string | null {
    const r = this.r;
    if (this.w.all || r.strChunked) {
      const end = r.p;
      r.p = at;
      const k = r.readString();
      r.p = end;
      return this.w.all || (k != null && this.w.list.includes(k)) ? k : null;
    }
    const list = this.w.list;
    for (let i = 0; i < list.length; i++) {
      const k = unchecked(list[i]);
      if (utf8Equals(r.strStart, r.strBytes, k)) return k;
    }
    return null;
  }

  private bad(md: Metadata, what: string): bool {
    md.error = "broken hessian in " + what + (this.r.error.length > 0 ? ": " + this.r.error : "");
    return false;
  }

  encode(md: Metadata, mutation: KeyValue[], ptr: usize, len: i32, out: ByteBuf): bool {
    const flag = u8At(ptr + 2);
    const ser = flag & SERIALIZATION_MASK;
    if ((flag & FLAG_EVENT) != 0) return false;
    if (ser == FASTJSON2) {
      if ((flag & FLAG_REQUEST) != 0) return this.json.encodeRequest(md, mutation, ptr, len, out);
      return u8At(ptr + 3) == STATUS_OK && this.json.encodeResponse(mutation, ptr, len, out);
    }
    if (ser != HESSIAN2) return false;
    if ((flag & FLAG_REQUEST) != 0) return this.encodeRequest(md, mutation, ptr, len, out);
    return this.encodeResponse(mutation, ptr, len, out);
  }

  private encodeRequest(md: Metadata, mutation: KeyValue[], ptr: usize, len: i32, out: ByteBuf): bool {
    if (md.offset(OFF_ATTACH_KNOWN) == 0) {
      const r = this.r;
      r.reset(ptr + HEADER, ptr + <usize>len);
      for (let i = 0; i < 4; i++) { if (!r.readStringRange() && r.error.length > 0) return false; }
      if (!this.findAttachments(md)) return false;
    }
    const aStart = md.offset(OFF_ATTACH_START);
    const aEnd = md.offset(OFF_ATTACH_END);
    return this.rewriteWithMap(ptr, len, HEADER + aStart, HEADER + aEnd, mutation, out, -1, 0);
  }

  /** Value responses get an attachments map (flag 1/2/0 -> 4/5/3); error statuses have no place. */
  private encodeResponse(mutation: KeyValue[], ptr: usize, len: i32, out: ByteBuf): bool {
    if (u8At(ptr + 3) != STATUS_OK || len <= HEADER) return false;
    const r = this.r;
    r.reset(ptr + HEADER, ptr + <usize>len);
    const kind = <i32>r.readInt();
    if (r.error.length > 0) return false;
    const flagEnd = <i32>(r.p - ptr);
    if (kind == RESPONSE_VALUE || kind == RESPONSE_WITH_EXCEPTION || kind == RESPONSE_NULL_VALUE) {
      // No attachments yet: the value is the last thing in the body, so the new map goes at the
      // end and the value need not be skipped. The flag becomes its "with attachments" twin
      // (only its one-byte int form is rewritten).
      if (flagEnd != HEADER + 1) return false;
      return this.rewriteWithMap(ptr, len, len, len, mutation, out, kind + 3, flagEnd);
    }
    if (kind < RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS || kind > RESPONSE_NULL_VALUE_WITH_ATTACHMENTS) return false;
    // Attachments already: skip the value (if any), then merge into the map, which stays where it is.
    if (kind != RESPONSE_NULL_VALUE_WITH_ATTACHMENTS && !r.skipValue()) return false;
    const mapStart = <i32>(r.p - ptr);
    if (!r.skipValue()) return false;
    return this.rewriteWithMap(ptr, len, mapStart, <i32>(r.p - ptr), mutation, out, -1, flagEnd);
  }

  /**
   * Emit the frame with [mapStart, mapEnd) replaced by a map holding the old entries whose keys
   * the mutation does not set, then the mutation. Fixes the body length. When newKind >= 0 the
   * response flag (a one-byte int ending at flagEnd) is rewritten too.
   */
  private rewriteWithMap(ptr: usize, len: i32, mapStart: i32, mapEnd: i32, mutation: KeyValue[], out: ByteBuf, newKind: i32, flagEnd: i32): bool {
    const r = this.r;
    const begin = out.len;
    out.writeBytes(ptr, HEADER);
    if (newKind >= 0) {
      out.writeU8(<u32>(0x90 + newKind));
      out.writeBytes(ptr + <usize>flagEnd, mapStart - flagEnd);
    } else {
      out.writeBytes(ptr + HEADER, mapStart - HEADER);
    }
    out.writeU8(0x48); // 'H' untyped map
    if (mapEnd > mapStart) {
      r.reset(ptr + <usize>mapStart, ptr + <usize>mapEnd);
      const t = r.peek();
      if (t == 0x48 || t == 0x4d) {
        r.p += 1;
        if (t == 0x4d && !r.skipType()) { out.len = begin; return false; }
        while (r.p < r.end && u8At(r.p) != 0x5a) {
          const entry = r.p;
          const keyIsString = r.readStringRange();
          if (r.error.length > 0) { out.len = begin; return false; }
          const replaced = keyIsString && this.mutationHasKey(mutation, entry);
          if (!r.skipValue()) { out.len = begin; return false; }
          if (replaced) continue;
          out.writeBytes(entry, <i32>(r.p - entry));
        }
      } else if (t != 0x4e) { out.len = begin; return false; }
    }
    for (let i = 0; i < mutation.length; i++) {
      writeHessianString(out, mutation[i].key);
      writeHessianString(out, mutation[i].value);
    }
    out.writeU8(0x5a); // 'Z'
    out.writeBytes(ptr + <usize>mapEnd, len - mapEnd);
    out.setU32BE(begin + 12, <u32>(out.len - begin - HEADER));
    return true;
  }

  /** Does the mutation set the key string just read (starting at `at`)? Compared in place. */
  private mutationHasKey(m: KeyValue[], at: usize): bool {
    const r = this.r;
    if (r.strChunked) {
      const end = r.p;
      r.p = at;
      const k = r.readString();
      r.p = end;
      for (let i = 0; i < m.length; i++) if (k != null && m[i].key == k) return true;
      return false;
    }
    for (let i = 0; i < m.length; i++) if (utf8Equals(r.strStart, r.strBytes, unchecked(m[i]).key)) return true;
    return false;
  }

  onError(md: Metadata, error: ErrorType, message: string, out: ByteBuf): void {
    let status = STATUS_SERVER_ERROR;
    if (error == ErrorType.RouteNotFound || error == ErrorType.ClusterNotFound) status = STATUS_SERVICE_NOT_FOUND;
    else if (error == ErrorType.OverLimit) status = STATUS_THREADPOOL_EXHAUSTED;
    else if (error == ErrorType.BadResponse) status = STATUS_BAD_RESPONSE;
    const begin = out.len;
    // In the request's serialization: Dubbo reads the message with the response's, and 3.x checks it.
    const json = <u32>md.codecFlags == FASTJSON2;
    out.writeU16BE(0xdabb);
    out.writeU8(json ? FASTJSON2 : HESSIAN2); // a response
    out.writeU8(status);
    out.writeU64BE(md.requestId);
    out.writeU32BE(0);
    if (json) writeFastjson2ErrorBody(out, "metaprotocol: " + message);
    else writeHessianString(out, "metaprotocol: " + message);
    out.setU32BE(begin + 12, <u32>(out.len - begin - HEADER));
  }

  /** A heartbeat with the rejected request's id: every Dubbo server answers it at once. */
  probe(md: Metadata, out: ByteBuf): bool {
    const json = <u32>md.codecFlags == FASTJSON2;
    out.writeU16BE(0xdabb);
    out.writeU8(FLAG_REQUEST | FLAG_TWOWAY | FLAG_EVENT | (json ? FASTJSON2 : HESSIAN2));
    out.writeU8(0);
    out.writeU64BE(md.requestId);
    if (json) { out.writeU32BE(5); writeFastjson2NullBody(out); return true; }
    out.writeU32BE(1);
    out.writeU8(0x4e); // null
    return true;
  }
}


/** Hessian2 string: the length counts UTF-16 units; long strings are chunked by 65535. */
export function writeHessianString(out: ByteBuf, s: string): void {
  let units = s.length;
  let from = 0;
  while (units > 0xffff) {
    out.writeU8(0x52); out.writeU16BE(0xffff);
    out.writeUtf8(s.substring(from, from + 0xffff));
    from += 0xffff; units -= 0xffff;
  }
  if (units < 32) out.writeU8(<u32>units);
  else if (units < 1024) { out.writeU8(<u32>(0x30 + (units >> 8))); out.writeU8(<u32>(units & 0xff)); }
  else { out.writeU8(0x53); out.writeU16BE(<u32>units); }
  out.writeUtf8(from == 0 ? s : s.substring(from));
}
