// The npm `thrift` library ships no types; the apps use it through a few untyped entry points.
declare module "thrift" {
  const thrift: any;
  export default thrift;
}
