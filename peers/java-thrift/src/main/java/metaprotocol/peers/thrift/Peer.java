package metaprotocol.peers.thrift;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.thrift.TApplicationException;
import org.apache.thrift.TException;
import org.apache.thrift.TProcessor;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TField;
import org.apache.thrift.protocol.TMessage;
import org.apache.thrift.protocol.TMessageType;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolFactory;
import org.apache.thrift.protocol.TProtocolUtil;
import org.apache.thrift.protocol.TStruct;
import org.apache.thrift.protocol.TType;
import org.apache.thrift.server.TNonblockingServer;
import org.apache.thrift.server.TServer;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.transport.TNonblockingServerSocket;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * The demo Greeter (envoy-dev/apps/thrift/demo.thrift) on Apache Thrift's Java library. The
 * processor and client below do what `thrift --gen java` code does for demo.thrift (read the
 * args struct, call, write the result or a TApplicationException; the client numbers its calls
 * 1, 2, ... as TServiceClient does); servers, transports and protocols are libthrift's.
 *
 *   server PORT LABEL unframed|framed binary|compact   (unframed: TThreadPoolServer; framed: TNonblockingServer)
 *   client PORT unframed|framed binary|compact        (stdin: "ID METHOD ARG..." lines)
 * Output: JSON lines ({"event":"ready"}, {"event":"call",...}, one reply per command).
 */
public final class Peer {
    private static final PrintStream OUT = System.out;

    private Peer() {}

    public static void main(String[] a) throws Exception {
        System.setOut(System.err);
        TProtocolFactory pf = "compact".equals(a[a.length - 1]) ? new TCompactProtocol.Factory() : new TBinaryProtocol.Factory();
        boolean framed = "framed".equals(a[a.length - 2]);
        if ("server".equals(a[0])) server(Integer.parseInt(a[1]), a[2], framed, pf);
        else client(Integer.parseInt(a[1]), framed, pf);
    }

    static synchronized void emit(Map<String, Object> m) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (b.length() > 1) b.append(',');
            b.append(quote(e.getKey())).append(':');
            Object v = e.getValue();
            if (v == null || v instanceof Number || v instanceof Boolean) b.append(v);
            else b.append(quote(String.valueOf(v)));
        }
        OUT.println(b.append('}'));
        OUT.flush();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static Map<String, Object> line(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    // ------------------------------------------------------------ server

    static void server(int port, String label, boolean framed, TProtocolFactory pf) throws Exception {
        TProcessor p = (in, out) -> process(label, in, out);
        TServer s;
        if (framed) {
            TNonblockingServer.Args args = new TNonblockingServer.Args(new TNonblockingServerSocket(new java.net.InetSocketAddress("127.0.0.1", port)));
            s = new TNonblockingServer(args.processor(p).protocolFactory(pf));
        } else {
            TThreadPoolServer.Args args = new TThreadPoolServer.Args(new TServerSocket(new java.net.InetSocketAddress("127.0.0.1", port)));
            s = new TThreadPoolServer(args.processor(p).protocolFactory(pf).minWorkerThreads(2).maxWorkerThreads(16));
        }
        Thread t = new Thread(s::serve, "thrift-server");
        t.setDaemon(true);
        t.start();
        while (!s.isServing()) Thread.sleep(10);
        emit(line("event", "ready", "port", port, "label", label, "server", s.getClass().getSimpleName()));
        while (System.in.read() >= 0) { /* until the test closes stdin */ }
        s.stop();
        System.exit(0);
    }

    static void process(String label, TProtocol in, TProtocol out) throws TException {
        TMessage msg = in.readMessageBegin();
        List<Object> args = readStruct(in);
        in.readMessageEnd();
        Object result;
        byte type;
        switch (msg.name) {
            case "sayHello": result = "Hello " + args.get(0) + ", from " + label; type = TType.STRING; break;
            case "sayBye": result = "Bye " + args.get(0) + ", from " + label; type = TType.STRING; break;
            case "unknownToRouter": result = "unknownToRouter " + args.get(0) + ", from " + label; type = TType.STRING; break;
            case "add": result = (Integer) args.get(0) + (Integer) args.get(1); type = TType.I32; break;
            case "ping": result = null; type = TType.VOID; break;
            default: {
                TApplicationException x = new TApplicationException(TApplicationException.UNKNOWN_METHOD, "Invalid method name: '" + msg.name + "'");
                out.writeMessageBegin(new TMessage(msg.name, TMessageType.EXCEPTION, msg.seqid));
                x.write(out);
                out.writeMessageEnd();
                out.getTransport().flush();
                return;
            }
        }
        emit(line("event", "call", "label", label, "method", msg.name, "seqid", msg.seqid, "arg", args.isEmpty() ? null : String.valueOf(args.get(0))));
        out.writeMessageBegin(new TMessage(msg.name, TMessageType.REPLY, msg.seqid));
        out.writeStructBegin(new TStruct("result"));
        if (type != TType.VOID) {
            out.writeFieldBegin(new TField("success", type, (short) 0));
            if (type == TType.STRING) out.writeString((String) result); else out.writeI32((Integer) result);
            out.writeFieldEnd();
        }
        out.writeFieldStop();
        out.writeStructEnd();
        out.writeMessageEnd();
        out.getTransport().flush();
    }

    /** The string and i32 fields of a struct, in field-id order (1, 2, ...); others skipped. */
    static List<Object> readStruct(TProtocol in) throws TException {
        Map<Short, Object> byId = new java.util.TreeMap<>();
        in.readStructBegin();
        while (true) {
            TField f = in.readFieldBegin();
            if (f.type == TType.STOP) break;
            if (f.type == TType.STRING) byId.put(f.id, in.readString());
            else if (f.type == TType.I32) byId.put(f.id, in.readI32());
            else TProtocolUtil.skip(in, f.type);
            in.readFieldEnd();
        }
        in.readStructEnd();
        return new ArrayList<>(byId.values());
    }

    // ------------------------------------------------------------ client

    static void client(int port, boolean framed, TProtocolFactory pf) throws Exception {
        TTransport t = new TSocket("127.0.0.1", port, 30_000);
        if (framed) t = new TFramedTransport(t);
        t.open();
        TProtocol p = pf.getProtocol(t);
        int seqid = 0;
        emit(line("event", "ready"));
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String text;
        while ((text = r.readLine()) != null) {
            String[] w = text.split(" ");
            String id = w[0], method = w[1];
            long t0 = System.nanoTime();
            try {
                // TServiceClient.sendBase: the next sequence id, the args struct.
                p.writeMessageBegin(new TMessage(method, TMessageType.CALL, ++seqid));
                p.writeStructBegin(new TStruct(method + "_args"));
                for (int i = 2; i < w.length; i++) {
                    boolean num = w[i].matches("-?\\d+");
                    p.writeFieldBegin(new TField("f" + (i - 1), num ? TType.I32 : TType.STRING, (short) (i - 1)));
                    if (num) p.writeI32(Integer.parseInt(w[i])); else p.writeString(w[i]);
                    p.writeFieldEnd();
                }
                p.writeFieldStop();
                p.writeStructEnd();
                p.writeMessageEnd();
                p.getTransport().flush();
                // TServiceClient.receiveBase: an EXCEPTION message is a TApplicationException.
                TMessage m = p.readMessageBegin();
                if (m.type == TMessageType.EXCEPTION) {
                    TApplicationException x = TApplicationException.readFrom(p);
                    p.readMessageEnd();
                    throw x;
                }
                if (m.seqid != seqid) throw new TApplicationException(TApplicationException.BAD_SEQUENCE_ID, method + " failed: out of sequence response");
                List<Object> res = readStruct(p);
                p.readMessageEnd();
                emit(line("id", Integer.parseInt(id), "ok", true, "value", res.isEmpty() ? null : res.get(0), "ms", (System.nanoTime() - t0) / 1_000_000));
            } catch (TApplicationException x) {
                emit(line("id", Integer.parseInt(id), "ok", false, "error", "TApplicationException", "type", x.getType(), "message", x.getMessage(), "ms", (System.nanoTime() - t0) / 1_000_000));
            } catch (TException x) {
                emit(line("id", Integer.parseInt(id), "ok", false, "error", x.getClass().getName(), "message", String.valueOf(x.getMessage()), "ms", (System.nanoTime() - t0) / 1_000_000));
            }
        }
        System.exit(0);
    }
}
