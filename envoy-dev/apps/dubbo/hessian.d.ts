// hessian.js ships no types; this declares the small part the Dubbo peers use.
declare module "hessian.js" {
  export class EncoderV2 {
    write(value: unknown): this;
    get(): Buffer;
  }
  export class DecoderV2 {
    constructor(buf: Buffer);
    read(withType?: boolean): any;
    readInt(): number;
    byteBuffer: { position(): number };
  }
  const hessian: { EncoderV2: typeof EncoderV2; DecoderV2: typeof DecoderV2 };
  export default hessian;
}
