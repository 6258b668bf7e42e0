"""A Greeter client on Apache Thrift's Python library (PyPI `thrift`) with the code Debian's
thrift-compiler generates for envoy-dev/apps/thrift/demo.thrift (gen-py/, checked by
scripts/check-thrift-gen.mjs). That generated client sends sequence id 0 on every call, as the
Thrift spec allows a client that does not rely on ids; its send_<method>/recv_<method> halves
let several calls be in flight on one connection, answered in order.

    python client.py PORT framed|buffered binary|compact
stdin: {"id":1,"calls":[["sayHello","ann"],["add",1,2]]}  (sent all, then received in order)
stdout: {"id":1,"results":[{"ok":true,"value":"..."},{"ok":false,"error":"TApplicationException","type":1,"message":"..."}]}
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-py"))

from thrift.Thrift import TApplicationException  # noqa: E402
from thrift.protocol import TBinaryProtocol, TCompactProtocol  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402
from demo import Greeter  # noqa: E402


def main():
    port, transport, protocol = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(30000)
    trans = TTransport.TFramedTransport(sock) if transport == "framed" else TTransport.TBufferedTransport(sock)
    proto = (TCompactProtocol.TCompactProtocol if protocol == "compact" else TBinaryProtocol.TBinaryProtocol)(trans)
    client = Greeter.Client(proto)
    trans.open()
    emit({"event": "ready", "thrift": thrift_version()})
    for line in sys.stdin:
        cmd = json.loads(line)
        t0 = time.monotonic()
        for call in cmd["calls"]:
            getattr(client, "send_" + call[0])(*call[1:])
        results = []
        for call in cmd["calls"]:
            try:
                results.append({"ok": True, "value": getattr(client, "recv_" + call[0])()})
            except TApplicationException as x:
                results.append({"ok": False, "error": "TApplicationException", "type": x.type, "message": x.message})
            except Exception as x:  # a closed connection, a timeout
                results.append({"ok": False, "error": type(x).__name__, "message": str(x)})
        emit({"id": cmd["id"], "results": results, "ms": int((time.monotonic() - t0) * 1000)})


def thrift_version():
    try:
        from importlib.metadata import version
        return version("thrift")
    except Exception:
        return "unknown"


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
