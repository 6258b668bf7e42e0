// Dubbo 2 wire constants and the 16-byte header (Dubbo 2 protocol). Big-endian throughout:
// magic 0xdabb, flag byte, status byte, int64 request id at 4, int32 body length at 12.

export const HEADER_LENGTH = 16;
export const MAGIC = 0xdabb;
export const FLAG_REQUEST = 0x80;
export const FLAG_TWO_WAY = 0x40;
export const FLAG_EVENT = 0x20;
export const SERIALIZATION_MASK = 0x1f;
export const HESSIAN2 = 2;
/** Java Dubbo's default payload cap (Constants.DEFAULT_PAYLOAD), also dubbo2.js's. */
export const DEFAULT_PAYLOAD = 8 * 1024 * 1024;

export const Status = {
  OK: 20, CLIENT_TIMEOUT: 30, SERVER_TIMEOUT: 31, BAD_REQUEST: 40, BAD_RESPONSE: 50,
  SERVICE_NOT_FOUND: 60, SERVICE_ERROR: 70, SERVER_ERROR: 80, CLIENT_ERROR: 90,
  SERVER_THREADPOOL_EXHAUSTED: 100,
} as const;

/** Response body flags (DubboCodec / DecodeableRpcResult). */
export const ResponseFlag = {
  EXCEPTION: 0, VALUE: 1, NULL_VALUE: 2,
  EXCEPTION_WITH_ATTACHMENTS: 3, VALUE_WITH_ATTACHMENTS: 4, NULL_VALUE_WITH_ATTACHMENTS: 5,
} as const;

export interface Header {
  flag: number;
  status: number;
  id: bigint;
  bodyLength: number;
}

export const isRequest = (h: Header): boolean => (h.flag & FLAG_REQUEST) !== 0;
export const isTwoWay = (h: Header): boolean => (h.flag & FLAG_TWO_WAY) !== 0;
export const isEvent = (h: Header): boolean => (h.flag & FLAG_EVENT) !== 0;

export function writeHeader(h: Header): Buffer {
  const b = Buffer.alloc(HEADER_LENGTH);
  b.writeUInt16BE(MAGIC, 0);
  b[2] = h.flag;
  b[3] = h.status;
  b.writeBigInt64BE(h.id, 4);
  b.writeUInt32BE(h.bodyLength, 12);
  return b;
}

/** Reads a header whose magic was already checked; the body length is an unsigned int32. */
export function readHeader(b: Buffer): Header {
  return { flag: b[2], status: b[3], id: b.readBigInt64BE(4), bodyLength: b.readUInt32BE(12) };
}

export function frame(h: Omit<Header, "bodyLength">, body: Buffer): Buffer {
  return Buffer.concat([writeHeader({ ...h, bodyLength: body.length }), body]);
}
