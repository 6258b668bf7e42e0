package metaprotocol.peers;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Java Dubbo consumer driven by control lines; the Dubbo-version-specific calls sit behind
 * {@link Dubbo}. Commands:
 *   {"op":"ref","name":..,"interface":..,"url":"dubbo://host:port",["version","group","timeout",
 *    "connections","heartbeat","serialization","retries"]}          -> {"ok":true}
 *   {"op":"call","ref":..,"method":..,"arg":text|null,"attachments":{..}}
 *      -> {"ok":true,"value":text,"ms":..,"serverAttachments":{..}} or {"ok":false,"error":class,"message":..,"causes":[..],"ms":..}
 *   {"op":"destroy","ref":..}
 */
public final class ConsumerCore implements Control.Handler {
    public interface Dubbo {
        String name();
        /** A reference (its config object) for the options of a "ref" command. */
        Object refer(Map<String, Object> opts) throws Exception;
        Object proxy(Object reference);
        void destroy(Object reference);
        /** User attachments for the next call on this thread (RpcContext), replacing earlier ones. */
        void attach(Map<String, Object> attachments);
        /** What the provider attached to the last response on this thread. */
        Map<String, Object> serverAttachments();
    }

    private final Dubbo dubbo;
    private final Map<String, Object> refs = new ConcurrentHashMap<>();

    public ConsumerCore(Dubbo dubbo) { this.dubbo = dubbo; }

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, Object> handle(Map<String, Object> cmd) throws Exception {
        String op = (String) cmd.get("op");
        switch (op) {
            case "ref": {
                refs.put((String) cmd.get("name"), dubbo.refer(cmd));
                return Control.line("ok", true);
            }
            case "destroy": {
                Object r = refs.remove(cmd.get("ref"));
                if (r != null) dubbo.destroy(r);
                return Control.line("ok", true);
            }
            case "call": {
                Object r = refs.get(cmd.get("ref"));
                if (r == null) throw new IllegalArgumentException("no reference " + cmd.get("ref"));
                Object proxy = dubbo.proxy(r);
                String method = (String) cmd.get("method");
                Method m = find(proxy.getClass(), method);
                Object arg = Samples.arg(method, (String) cmd.get("arg"));
                Map<String, Object> att = (Map<String, Object>) cmd.get("attachments");
                long t0 = System.nanoTime();
                try {
                    dubbo.attach(att != null ? att : java.util.Collections.emptyMap());
                    Object v = m.invoke(proxy, arg);
                    return Control.line("ok", true, "value", Samples.describe(v), "ms", ms(t0), "serverAttachments", dubbo.serverAttachments());
                } catch (InvocationTargetException e) {
                    Throwable c = e.getCause();
                    List<String> causes = new ArrayList<>();
                    for (Throwable x = c.getCause(); x != null && causes.size() < 5; x = x.getCause()) causes.add(x.getClass().getName() + ": " + x.getMessage());
                    return Control.line("ok", false, "error", c.getClass().getName(), "message", String.valueOf(c.getMessage()),
                        "causes", causes, "ms", ms(t0));
                }
            }
            case "info":
                return Control.line("ok", true, "dubbo", dubbo.name());
            default:
                throw new IllegalArgumentException("unknown op " + op);
        }
    }

    private static long ms(long t0) { return (System.nanoTime() - t0) / 1_000_000; }

    private static Method find(Class<?> c, String name) {
        for (Method m : c.getMethods()) if (m.getName().equals(name) && m.getParameterCount() == 1) return m;
        throw new IllegalArgumentException("no method " + name);
    }

    public static Class<?> iface(Map<String, Object> opts) throws ClassNotFoundException {
        return Class.forName((String) opts.get("interface"));
    }

    public static int intOpt(Map<String, Object> opts, String k, int dflt) {
        Object v = opts.get(k);
        return v == null ? dflt : ((Number) v).intValue();
    }

    public static String strOpt(Map<String, Object> opts, String k) {
        Object v = opts.get(k);
        return v == null || "".equals(v) ? null : (String) v;
    }
}
