package metaprotocol.peers.v33;

import java.math.BigDecimal;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.dubbo.common.URL;
import org.apache.dubbo.common.Version;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.RpcContext;

import metaprotocol.peers.Control;
import metaprotocol.peers.GreetingService;
import metaprotocol.peers.InventoryService;
import metaprotocol.peers.Level;
import metaprotocol.peers.Order;
import metaprotocol.peers.Samples;

/**
 * An Apache Dubbo 3.3 provider on the dubbo protocol, no registry. Args: --port N --label NAME.
 * Exports GreetingService as version 1.0.0, version 2.0.0 and group "canary" (1.0.0), and
 * InventoryService 1.0.0, all on the one port. Prints {"event":"ready",...} once serving and one
 * {"event":"call",...} line per invocation with what RpcContext showed it; attaches x-provider=LABEL
 * to every response. Exits when stdin closes.
 */
public final class Provider {
    private Provider() {}

    public static void main(String[] args) throws Exception {
        Control.init();
        Map<String, String> o = options(args);
        int port = Integer.parseInt(o.get("port"));
        String label = o.getOrDefault("label", "provider");

        ApplicationConfig app = new ApplicationConfig("peer-provider-" + label);
        app.setQosEnable(false);
        app.setMetadataType("local");
        ProtocolConfig protocol = new ProtocolConfig("dubbo", port);
        protocol.setHost("127.0.0.1");
        // Accept both serializations a Dubbo 3 consumer may pick; hessian2 first, as 3.3 prefers.
        protocol.setPreferSerialization("hessian2,fastjson2");
        DubboBootstrap boot = DubboBootstrap.getInstance()
            .application(app).registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE)).protocol(protocol);
        boot.service(service(GreetingService.class, new Greeting(label), "1.0.0", null));
        boot.service(service(GreetingService.class, new Greeting(label), "2.0.0", null));
        boot.service(service(GreetingService.class, new Greeting(label), "1.0.0", "canary"));
        boot.service(service(InventoryService.class, new Inventory(label), "1.0.0", null));
        boot.start();
        Control.emit(Control.line("event", "ready", "port", port, "label", label, "dubbo", Version.getVersion()));
        while (System.in.read() >= 0) { /* until the test closes stdin */ }
        boot.stop();
        System.exit(0);
    }

    private static <T> ServiceConfig<T> service(Class<T> iface, T impl, String version, String group) {
        ServiceConfig<T> s = new ServiceConfig<>();
        s.setInterface(iface);
        s.setRef(impl);
        s.setVersion(version);
        if (group != null) s.setGroup(group);
        return s;
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        return o;
    }

    /** One line per call: what the provider's RpcContext shows, then the response attachment. */
    static void record(String label, String method, Object... args) {
        URL url = RpcContext.getServiceContext().getUrl();
        Map<String, Object> att = new TreeMap<>();
        for (Map.Entry<String, Object> e : RpcContext.getServerAttachment().getObjectAttachments().entrySet()) {
            att.put(e.getKey(), String.valueOf(e.getValue()));
        }
        Control.emit(Control.line("event", "call", "label", label,
            "interface", url.getServiceInterface(), "method", method,
            "version", url.getVersion(), "group", url.getGroup(),
            "remote", RpcContext.getServiceContext().getRemoteAddressString(),
            "attachments", att, "args", Samples.argsText(args)));
        RpcContext.getServerContext().setAttachment("x-provider", label);
    }

    static final class Greeting implements GreetingService {
        private final String label;
        Greeting(String label) { this.label = label; }

        @Override public String sayHello(String name) { record(label, "sayHello", name); return "Hello " + name + ", from " + label; }
        @Override public String sayBye(String name) { record(label, "sayBye", name); return "Bye " + name + ", from " + label; }
        @Override public byte[] echoBytes(byte[] data) { record(label, "echoBytes", (Object) data); return data; }
        @Override public Order echoOrder(Order order) { record(label, "echoOrder", order); return order; }
        @Override public List<String> echoList(List<String> list) { record(label, "echoList", list); return list; }
        @Override public Map<String, Long> echoMap(Map<String, Long> map) { record(label, "echoMap", map); return map; }
        @Override public Level echoEnum(Level level) { record(label, "echoEnum", level); return level; }
        @Override public BigDecimal echoDecimal(BigDecimal value) { record(label, "echoDecimal", value); return value; }
        @Override public Date echoDate(Date date) { record(label, "echoDate", date); return date; }
        @Override public String echoNull(String value) { record(label, "echoNull", value); return value; }
        @Override public String slow(String name) {
            record(label, "slow", name);
            try { Thread.sleep(300); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            return "Slow " + name + ", from " + label;
        }
    }

    static final class Inventory implements InventoryService {
        private final String label;
        Inventory(String label) { this.label = label; }
        @Override public String stock(String sku) { record(label, "stock", sku); return "7 of " + sku + ", from " + label; }
    }
}
