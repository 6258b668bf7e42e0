// Dubbo bodies in serialization 23 (fastjson2), which Dubbo 3.2 providers prefer. Dubbo's
// FastJson2ObjectOutput writes every value as its own block: a 4-byte big-endian length, then
// one JSONB value. A request is the blocks dubbo version, service, service version, method,
// parameter descriptor, one per argument, attachments (a JSONB object, usually typed "LM");
// a response is the flag (an int8), the value or exception when the flag has one, and the
// attachments for flags 3/4/5. Arguments are stepped over by their lengths, never parsed.
import { Metadata } from "../../meta/metadata";
import { ByteBuf, u32be, utf8Equals } from "../../meta/bytes";
import { KeyValue } from "../../meta/codec";
import { JsonbReader, JSONB_OBJECT, JSONB_OBJECT_END, JSONB_NULL, STR_LATIN1, STR_UTF8, writeJsonbString } from "./jsonb";
import { countJvmParams } from "./hessian";

const HEADER = 16;
// md.offset() slots, shared with the Hessian2 path: body-relative extent of the attachments
// block (its length field included); start == end when the request has none.
const OFF_ATTACH_START = 0;
const OFF_ATTACH_END = 1;
const OFF_ATTACH_KNOWN = 2;

/** What the rules read, worked out by the codec once per rule set. */
export class Wants {
  iface: bool = false;
  version: bool = false;
  method: bool = false;
  attachments: bool = false;
  all: bool = false;
  list: string[] = [];
}

export class Fastjson2Body {
  r: JsonbReader = new JsonbReader();
  private bodyEnd: usize = 0;
  private next: usize = 0; // the next block's length field

  /** The last error, for md.error. */
  get error(): string { return this.r.error; }

  private start(p: usize, end: usize): void { this.next = p; this.bodyEnd = end; this.r.reset(p, p); }

  /** Positions the reader on the next block's value; false at the end of the body or if broken. */
  private block(): bool {
    const r = this.r;
    if (this.next + 4 > this.bodyEnd) { r.reset(this.next, this.next); if (this.next != this.bodyEnd) r.error = "truncated block length"; return false; }
    const n = <usize>u32be(this.next);
    if (n > this.bodyEnd - this.next - 4) { r.reset(this.next, this.next); r.error = "block longer than the body"; return false; }
    r.reset(this.next + 4, this.next + 4 + n);
    this.next += 4 + n;
    return true;
  }

  private bad(md: Metadata, what: string): bool {
    md.error = "broken fastjson2 body in " + what + (this.r.error.length > 0 ? ": " + this.r.error : "");
    return false;
  }

  /** A header string block; the attribute is set when wanted. */
  private field(md: Metadata, key: string, want: bool, required: bool): bool {
    if (!this.block()) return false;
    const r = this.r;
    if (!want) { const present = r.readStringRange(); return r.error.length == 0 && (present || !required); }
    const v = r.readString();
    if (v == null) { if (required || r.error.length > 0) return false; md.setAttribute(key, ""); return true; }
    md.setAttribute(key, v);
    return true;
  }

  decodeRequest(ptr: usize, md: Metadata, w: Wants): bool {
    this.start(ptr + HEADER, ptr + HEADER + <usize>md.bodySize);
    if (!this.block()) return this.bad(md, "dubbo version");
    if (!this.field(md, "interface", w.iface, true)) return this.bad(md, "service path");
    if (!this.field(md, "version", w.version, false)) return this.bad(md, "service version");
    if (!this.field(md, "method", w.method, true)) return this.bad(md, "method name");
    if (!w.attachments) return true;
    if (!this.findAttachments(ptr, md)) return false;
    return this.readAttachments(md, w);
  }

  /** Steps over the descriptor and argument blocks; notes the attachments block's extent. */
  private findAttachments(ptr: usize, md: Metadata): bool {
    const r = this.r;
    if (!this.block() || !r.readStringRange()) return this.bad(md, "parameter types");
    if (r.strKind != STR_LATIN1 && r.strKind != STR_UTF8) return this.bad(md, "parameter types");
    const nargs = countJvmParams(r.strStart, r.strBytes);
    if (nargs < 0) return this.bad(md, "parameter types");
    for (let i = 0; i < nargs; i++) if (!this.block()) return this.bad(md, "argument " + i.toString());
    const base = ptr + HEADER;
    md.setOffset(OFF_ATTACH_START, <i32>(this.next - base));
    if (this.next < this.bodyEnd && !this.block()) return this.bad(md, "attachments");
    md.setOffset(OFF_ATTACH_END, <i32>(this.next - base));
    md.setOffset(OFF_ATTACH_KNOWN, 1);
    return true;
  }

  /** The string values of the attachments object (the reader is on its block) become attributes. */
  private readAttachments(md: Metadata, w: Wants): bool {
    const r = this.r;
    if (md.offset(OFF_ATTACH_START) == md.offset(OFF_ATTACH_END)) return true; // none
    if (r.peek() == <i32>JSONB_NULL) return true;
    if (!r.skipTypePrefix()) return this.bad(md, "attachments type");
    if (r.peek() != <i32>JSONB_OBJECT) return this.bad(md, "attachments are not an object");
    r.p += 1;
    while (true) {
      const t = r.peek();
      if (t < 0) return this.bad(md, "attachments");
      if (t == <i32>JSONB_OBJECT_END) return true;
      if (!JsonbReader.isString(t)) {
        if (!r.skipValue() || !r.skipValue()) return this.bad(md, "attachment");
        continue;
      }
      if (!r.readStringRange()) return this.bad(md, "attachment key");
      const key = this.wantedKey(w);
      if (key != null && JsonbReader.isString(r.peek())) {
        const v = r.readString();
        if (v == null) return this.bad(md, "attachment value");
        md.setAttribute(key, v);
      } else if (!r.skipValue()) return this.bad(md, "attachment value");
    }
  }

  /** The attribute name for the key just read, or null when no rule reads it. */
  private wantedKey(w: Wants): string | null {
    const r = this.r;
    if (w.all || (r.strKind != STR_LATIN1 && r.strKind != STR_UTF8)) {
      const k = r.decodeRange();
      return k != null && (w.all || w.list.includes(k)) ? k : null;
    }
    for (let i = 0; i < w.list.length; i++) {
      const k = unchecked(w.list[i]);
      if (utf8Equals(r.strStart, r.strBytes, k)) return k;
    }
    return null;
  }

  /** Response attachments (flags 3/4/5) as attributes. */
  decodeResponse(ptr: usize, md: Metadata, w: Wants): bool {
    this.start(ptr + HEADER, ptr + HEADER + <usize>md.bodySize);
    const r = this.r;
    if (!this.block()) return this.bad(md, "response flag");
    const kind = <i32>r.readInt();
    if (r.error.length > 0) return this.bad(md, "response flag");
    if (kind < 3 || kind > 5) return true;
    if (kind != 5 && !this.block()) return this.bad(md, "response value");
    if (this.next >= this.bodyEnd) return true;
    if (!this.block()) return this.bad(md, "response attachments");
    md.setOffset(OFF_ATTACH_START, 1); md.setOffset(OFF_ATTACH_END, 2); // present
    return this.readAttachments(md, w);
  }

  /** The request with the mutation merged into its attachments (a new block if it had none). */
  encodeRequest(md: Metadata, mutation: KeyValue[], ptr: usize, len: i32, out: ByteBuf): bool {
    if (md.offset(OFF_ATTACH_KNOWN) == 0) {
      this.start(ptr + HEADER, ptr + <usize>len);
      for (let i = 0; i < 4; i++) if (!this.block()) return false;
      if (!this.findAttachments(ptr, md)) return false;
    }
    const begin = out.len;
    const aStart = HEADER + md.offset(OFF_ATTACH_START);
    const aEnd = HEADER + md.offset(OFF_ATTACH_END);
    out.writeBytes(ptr, aStart);
    if (!this.writeMerged(ptr + <usize>aStart, ptr + <usize>aEnd, mutation, out)) { out.len = begin; return false; }
    out.writeBytes(ptr + <usize>aEnd, len - aEnd);
    out.setU32BE(begin + 12, <u32>(out.len - begin - HEADER));
    return true;
  }

  /** Value responses gain attachments (flag 1/2/0 -> 4/5/3); flags 3/4/5 get theirs merged. */
  encodeResponse(mutation: KeyValue[], ptr: usize, len: i32, out: ByteBuf): bool {
    this.start(ptr + HEADER, ptr + <usize>len);
    const r = this.r;
    if (!this.block()) return false;
    const flagBlock = <i32>(r.p - 4 - ptr);
    const kind = <i32>r.readInt();
    if (r.error.length > 0 || kind < 0 || kind > 5) return false;
    if (kind != 2 && kind != 5 && !this.block()) return false; // the value or exception
    const valueEnd = <i32>(this.next - ptr);
    let aStart = valueEnd, aEnd = valueEnd;
    if (kind >= 3 && this.next < this.bodyEnd) {
      if (!this.block()) return false;
      aEnd = <i32>(this.next - ptr);
    }
    const begin = out.len;
    out.writeBytes(ptr, flagBlock);
    // The flag as Dubbo writes it (writeByte: an int8).
    out.writeU32BE(2); out.writeU8(0xbd); out.writeU8(<u32>(kind < 3 ? kind + 3 : kind));
    const afterFlag = <i32>(this.flagEnd(ptr, flagBlock));
    out.writeBytes(ptr + <usize>afterFlag, aStart - afterFlag);
    if (!this.writeMerged(ptr + <usize>aStart, ptr + <usize>aEnd, mutation, out)) { out.len = begin; return false; }
    out.writeBytes(ptr + <usize>aEnd, len - aEnd);
    out.setU32BE(begin + 12, <u32>(out.len - begin - HEADER));
    return true;
  }

  private flagEnd(ptr: usize, flagBlock: i32): i32 { return flagBlock + 4 + <i32>u32be(ptr + <usize>flagBlock); }

  /**
   * One attachments block: the old one's type prefix and the entries the mutation does not set,
   * then the mutation. [start, end) is the old block with its length (empty: none).
   */
  private writeMerged(start: usize, end: usize, mutation: KeyValue[], out: ByteBuf): bool {
    const lenAt = out.len;
    out.writeU32BE(0);
    const r = this.r;
    let entries: usize = 0;
    if (end > start) {
      r.reset(start + 4, end);
      const typeAt = r.p;
      if (r.peek() != <i32>JSONB_NULL) {
        if (!r.skipTypePrefix()) return false;
        if (r.peek() != <i32>JSONB_OBJECT) return false;
        out.writeBytes(typeAt, <i32>(r.p - typeAt) + 1); // type prefix and 0xa6
        r.p += 1;
        entries = r.p;
        while (r.peek() != <i32>JSONB_OBJECT_END) {
          const entry = r.p;
          const isKey = JsonbReader.isString(r.peek()) && r.readStringRange();
          if (r.error.length > 0) return false;
          if (!isKey && !r.skipValue()) return false;
          const replaced = isKey && this.mutationHasKey(mutation);
          if (!r.skipValue()) return false;
          if (!replaced) out.writeBytes(entry, <i32>(r.p - entry));
        }
      }
    }
    if (entries == 0) out.writeU8(JSONB_OBJECT);
    for (let i = 0; i < mutation.length; i++) {
      writeJsonbString(out, mutation[i].key);
      writeJsonbString(out, mutation[i].value);
    }
    out.writeU8(JSONB_OBJECT_END);
    out.setU32BE(lenAt, <u32>(out.len - lenAt - 4));
    return true;
  }

  private mutationHasKey(m: KeyValue[]): bool {
    const r = this.r;
    if (r.strKind != STR_LATIN1 && r.strKind != STR_UTF8) {
      const k = r.decodeRange();
      for (let i = 0; i < m.length; i++) if (k != null && m[i].key == k) return true;
      return false;
    }
    for (let i = 0; i < m.length; i++) if (utf8Equals(r.strStart, r.strBytes, unchecked(m[i]).key)) return true;
    return false;
  }
}

/** An error reply's body: the message as one string block (Dubbo reads it with readUTF). */
export function writeFastjson2ErrorBody(out: ByteBuf, message: string): void {
  const at = out.len;
  out.writeU32BE(0);
  writeJsonbString(out, message);
  out.setU32BE(at, <u32>(out.len - at - 4));
}

/** A heartbeat's body: null, as one block. */
export function writeFastjson2NullBody(out: ByteBuf): void {
  out.writeU32BE(1);
  out.writeU8(JSONB_NULL);
}
