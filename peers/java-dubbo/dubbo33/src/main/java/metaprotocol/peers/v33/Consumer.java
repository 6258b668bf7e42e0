package metaprotocol.peers.v33;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.apache.dubbo.common.Version;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.RpcContext;

import metaprotocol.peers.ConsumerCore;
import metaprotocol.peers.Control;

/** An Apache Dubbo 3.3 consumer driven by control lines (see ConsumerCore), direct URLs, no registry. */
public final class Consumer implements ConsumerCore.Dubbo {
    private Consumer() {}

    public static void main(String[] args) throws Exception {
        Control.init();
        ApplicationConfig app = new ApplicationConfig("peer-consumer-33");
        app.setQosEnable(false);
        app.setMetadataType("local");
        DubboBootstrap.getInstance().application(app).start();
        Control.emit(Control.line("event", "ready", "dubbo", Version.getVersion()));
        Control.serve(new ConsumerCore(new Consumer()));
    }

    @Override public String name() { return "Apache Dubbo " + Version.getVersion(); }

    @Override
    public Object refer(Map<String, Object> o) throws Exception {
        ReferenceConfig<Object> rc = new ReferenceConfig<>();
        @SuppressWarnings("unchecked") Class<Object> iface = (Class<Object>) ConsumerCore.iface(o);
        rc.setInterface(iface);
        rc.setUrl((String) o.get("url"));
        if (ConsumerCore.strOpt(o, "version") != null) rc.setVersion(ConsumerCore.strOpt(o, "version"));
        if (ConsumerCore.strOpt(o, "group") != null) rc.setGroup(ConsumerCore.strOpt(o, "group"));
        rc.setTimeout(ConsumerCore.intOpt(o, "timeout", 5000));
        rc.setRetries(ConsumerCore.intOpt(o, "retries", 0));
        rc.setCheck(false);
        if (o.get("connections") != null) rc.setConnections(ConsumerCore.intOpt(o, "connections", 0));
        Map<String, String> params = new HashMap<>();
        if (o.get("heartbeat") != null) params.put("heartbeat", String.valueOf(o.get("heartbeat")));
        String ser = ConsumerCore.strOpt(o, "serialization");
        if (ser != null) { params.put("serialization", ser); params.put("prefer.serialization", ser); }
        rc.setParameters(params);
        rc.get();
        return rc;
    }

    @Override public Object proxy(Object reference) { return ((ReferenceConfig<?>) reference).get(); }
    @Override public void destroy(Object reference) { ((ReferenceConfig<?>) reference).destroy(); }

    @Override
    public void attach(Map<String, Object> attachments) {
        RpcContext.getClientAttachment().clearAttachments(); // pool threads are reused
        for (Map.Entry<String, Object> e : attachments.entrySet()) RpcContext.getClientAttachment().setAttachment(e.getKey(), String.valueOf(e.getValue()));
    }

    @Override
    public Map<String, Object> serverAttachments() {
        Map<String, Object> m = new TreeMap<>();
        for (Map.Entry<String, Object> e : RpcContext.getServerContext().getObjectAttachments().entrySet()) m.put(e.getKey(), String.valueOf(e.getValue()));
        return m;
    }
}
