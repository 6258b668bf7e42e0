/// <reference path="./hessian.d.ts" />
// Dubbo 2 bodies in Hessian2, written and read with hessian.js (the serializer dubbo2.js uses).
// Layouts follow Java Dubbo's DubboCodec: a request is dubbo version, path, service version,
// method, parameter descriptor, arguments, attachments; a response starts with a flag int.
import hessian from "hessian.js";
import {
  FLAG_EVENT, FLAG_REQUEST, FLAG_TWO_WAY, HESSIAN2, ResponseFlag, Status, frame, isEvent,
  type Header,
} from "./protocol.ts";

export type Attachments = Record<string, unknown>;

export interface RequestBody {
  dubboVersion: string;
  path: string;
  version: string | null;
  method: string;
  parameterTypes: string;
  args: unknown[];
  attachments: Attachments;
}

export interface DecodedResponse {
  id: bigint;
  status: number;
  event: boolean;
  /** Response body flag (status 20 only). */
  flag?: number;
  value?: unknown;
  exception?: unknown;
  attachments?: Attachments;
  /** The error string of a non-OK status. */
  error?: string;
}

function hessianBytes(values: unknown[]): Buffer {
  const enc = new hessian.EncoderV2();
  for (const v of values) enc.write(v);
  return enc.get();
}

/** Counts the arguments a JVM descriptor such as `Ljava/lang/String;I[J` announces. */
export function countParameters(descriptor: string): number {
  let n = 0;
  for (let i = 0; i < descriptor.length; n++) {
    while (descriptor[i] === "[") i++;
    const c = descriptor[i];
    if (c === "L") {
      const end = descriptor.indexOf(";", i);
      if (end < 0) throw new Error(`bad parameter descriptor ${JSON.stringify(descriptor)}`);
      i = end + 1;
    } else if (c !== undefined && "ZBCDFIJS".includes(c)) {
      i++;
    } else {
      throw new Error(`bad parameter descriptor ${JSON.stringify(descriptor)}`);
    }
  }
  return n;
}

function expectString(v: unknown, what: string, nullable = false): string | null {
  if (typeof v === "string" || (nullable && v === null)) return v as string | null;
  throw new Error(`${what}: expected a string, got ${v === null ? "null" : typeof v}`);
}

/** Decodes a request body; throws on broken Hessian or a body that is not a Dubbo request. */
export function decodeRequestBody(body: Buffer): RequestBody {
  const dec = new hessian.DecoderV2(body);
  const dubboVersion = expectString(dec.read(), "dubbo version")!;
  const path = expectString(dec.read(), "path")!;
  const version = expectString(dec.read(), "service version", true);
  const method = expectString(dec.read(), "method")!;
  const parameterTypes = expectString(dec.read(), "parameter types")!;
  const args: unknown[] = [];
  const count = countParameters(parameterTypes);
  for (let i = 0; i < count; i++) args.push(dec.read());
  const attachments = dec.read();
  if (attachments === null || typeof attachments !== "object" || Array.isArray(attachments)) {
    throw new Error("attachments: expected a map");
  }
  return { dubboVersion, path, version, method, parameterTypes, args, attachments };
}

export interface RequestSpec {
  id: bigint;
  dubboVersion?: string;
  path: string;
  version?: string | null;
  method: string;
  /** String arguments only: enough for the demo service. */
  args: string[];
  attachments?: Record<string, string>;
  twoWay?: boolean;
}

export function encodeRequest(r: RequestSpec): Buffer {
  const attachments = { path: r.path, interface: r.path, version: r.version ?? "0.0.0", ...r.attachments };
  const body = hessianBytes([
    r.dubboVersion ?? "2.0.2", r.path, r.version ?? null, r.method,
    "Ljava/lang/String;".repeat(r.args.length), ...r.args, attachments,
  ]);
  const flag = FLAG_REQUEST | HESSIAN2 | (r.twoWay === false ? 0 : FLAG_TWO_WAY);
  return frame({ flag, status: 0, id: r.id }, body);
}

export function encodeHeartbeatRequest(id: bigint): Buffer {
  return frame({ flag: FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | HESSIAN2, status: 0, id }, hessianBytes([null]));
}

export function encodeHeartbeatResponse(id: bigint): Buffer {
  return frame({ flag: FLAG_EVENT | HESSIAN2, status: Status.OK, id }, hessianBytes([null]));
}

/** An OK response: flag 4 (value with attachments) when attachments are given, else flag 1. */
export function encodeValueResponse(id: bigint, value: unknown, attachments?: Attachments): Buffer {
  const body = attachments
    ? hessianBytes([ResponseFlag.VALUE_WITH_ATTACHMENTS, value, attachments])
    : hessianBytes([ResponseFlag.VALUE, value]);
  return frame({ flag: HESSIAN2, status: Status.OK, id }, body);
}

/** A non-OK status: the body is the error message as one Hessian string. */
export function encodeErrorResponse(id: bigint, status: number, message: string): Buffer {
  return frame({ flag: HESSIAN2, status, id }, hessianBytes([message]));
}

export function decodeResponse(header: Header, body: Buffer): DecodedResponse {
  const dec = new hessian.DecoderV2(body);
  const out: DecodedResponse = { id: header.id, status: header.status, event: isEvent(header) };
  if (out.event) {
    out.value = body.length ? dec.read() : null;
    return out;
  }
  if (header.status !== Status.OK) {
    out.error = String(dec.read());
    return out;
  }
  const flag = dec.readInt();
  if (!(flag >= 0 && flag <= 5)) throw new Error(`unknown response flag ${flag}`);
  out.flag = flag;
  const withAttachments = flag >= ResponseFlag.EXCEPTION_WITH_ATTACHMENTS;
  switch (flag % 3) {
    case ResponseFlag.EXCEPTION: out.exception = dec.read(); break;
    case ResponseFlag.VALUE: out.value = dec.read(); break;
    default: out.value = null;
  }
  if (withAttachments) out.attachments = dec.read();
  return out;
}
