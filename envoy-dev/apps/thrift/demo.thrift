// The demo service behind the thrift_outbound listener of envoy-dev/envoy.yaml.
// Regenerate with: thrift --gen js:node -o envoy-dev/apps/thrift envoy-dev/apps/thrift/demo.thrift
// (tests/e2e/thrift-idl.test.ts checks that gen-nodejs/ is what Debian's thrift-compiler makes.)
namespace js demo

service Greeter {
  string sayHello(1: string name),
  string sayBye(1: string name),
  i32 add(1: i32 a, 2: i32 b),
  void ping(),
  // No route in envoy.yaml sends this method anywhere: calls get a TApplicationException.
  string unknownToRouter(1: string name),
}
