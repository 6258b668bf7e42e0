package metaprotocol.peers.v33;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.alibaba.com.caucho.hessian.io.Hessian2Output;
import com.alibaba.fastjson2.JSONB;
import com.alibaba.fastjson2.JSONWriter;
import org.apache.dubbo.common.URL;
import org.apache.dubbo.common.Version;
import org.apache.dubbo.common.serialize.ObjectOutput;
import org.apache.dubbo.common.serialize.Serialization;
import org.apache.dubbo.rpc.model.FrameworkModel;

import metaprotocol.peers.Control;
import metaprotocol.peers.GreetingService;
import metaprotocol.peers.Samples;

/**
 * Writes the test vectors of the real Java serializers into DIR (tests/spec/vectors):
 *  - hessian2.hessian-lite.json: Hessian 2 values by hessian-lite, at least one per tag (same
 *    scheme as scripts/gen-hessian-vectors.mjs: the last value of each sequence starts with the tag);
 *  - jsonb.fastjson2.json: JSONB values by fastjson2 with the features Dubbo writes with;
 *  - dubbo-frames.dubbo-3.3.json: whole Dubbo frames whose bodies Dubbo's own Serialization
 *    extensions (hessian2, id 2; fastjson2, id 23) wrote in DubboCodec's order.
 * Deterministic: the same jars write the same files (npm run check:vectors diffs them).
 */
public final class VectorGen {
    private VectorGen() {}

    public static void main(String[] args) throws Exception {
        Control.init();
        Path dir = Paths.get(args[0]);
        write(dir.resolve("hessian2.hessian-lite.json"), "hessian-lite " + jarVersion(Hessian2Output.class) + " (Apache Dubbo " + Version.getVersion() + ")", hessian());
        write(dir.resolve("jsonb.fastjson2.json"), "fastjson2 " + com.alibaba.fastjson2.JSON.VERSION + " (Apache Dubbo " + Version.getVersion() + " features)", jsonb());
        write(dir.resolve("dubbo-frames.dubbo-3.3.json"), "Apache Dubbo " + Version.getVersion(), frames());
        System.exit(0);
    }

    private static String jarVersion(Class<?> c) {
        String p = c.getProtectionDomain().getCodeSource().getLocation().getPath();
        return p.replaceAll(".*/[a-z-]+-([0-9][^/]*)\\.jar$", "$1");
    }

    interface Writes { void to(Hessian2Output h) throws IOException; }

    // ---------------------------------------------------------------- Hessian 2 (hessian-lite)
    private static final List<Map<String, Object>> out = new ArrayList<>();

    private static void hv(String name, int values, Writes w) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Hessian2Output h = new Hessian2Output(b);
        w.to(h);
        h.flush();
        out.add(Control.line("name", name, "values", values, "hex", hex(b.toByteArray())));
    }

    private static String str(int n) {
        StringBuilder s = new StringBuilder();
        while (s.length() < n) s.append("ab\u00e9\u4e2d");
        return s.substring(0, n);
    }

    @SuppressWarnings("serial")
    public static class C implements Serializable { public int id; C(int id) { this.id = id; } }
    // Seventeen classes: objects of the first sixteen class definitions get tags 0x60-0x6f, the 17th 'O'.
    public static class C0 extends C { C0() { super(0); } } public static class C1 extends C { C1() { super(1); } }
    public static class C2 extends C { C2() { super(2); } } public static class C3 extends C { C3() { super(3); } }
    public static class C4 extends C { C4() { super(4); } } public static class C5 extends C { C5() { super(5); } }
    public static class C6 extends C { C6() { super(6); } } public static class C7 extends C { C7() { super(7); } }
    public static class C8 extends C { C8() { super(8); } } public static class C9 extends C { C9() { super(9); } }
    public static class C10 extends C { C10() { super(10); } } public static class C11 extends C { C11() { super(11); } }
    public static class C12 extends C { C12() { super(12); } } public static class C13 extends C { C13() { super(13); } }
    public static class C14 extends C { C14() { super(14); } } public static class C15 extends C { C15() { super(15); } }
    public static class C16 extends C { C16() { super(16); } }

    private static C obj(int k) {
        try {
            return (C) Class.forName(VectorGen.class.getName() + "$C" + k).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Map<String, Object>> hessian() throws IOException {
        out.clear();
        for (int n = 0; n < 32; n++) { final int k = n; hv("string " + n + " chars", 1, h -> h.writeString(str(k))); }
        for (int n : new int[] {32, 300, 600, 1000, 2000}) hv("string " + n + " chars", 1, h -> h.writeString(str(n)));
        hv("string 40000 chars, R chunk then S", 1, h -> h.writeString(str(40000)));
        hv("string with a surrogate pair", 1, h -> h.writeString("x\ud83d\ude00y"));
        for (int n = 0; n < 16; n++) { final int k = n; hv("binary " + n + " bytes", 1, h -> h.writeBytes(Samples.bytes(k))); }
        for (int n : new int[] {16, 300, 600, 1000, 2000, 5000, 10240, 4093 * 2 + 14, 4500}) hv("binary " + n + " bytes", 1, h -> h.writeBytes(Samples.bytes(n)));
        hv("binary 5000 bytes after a string (chunk sizes follow the 4 KiB buffer)", 2, h -> { h.writeString(str(700)); h.writeBytes(Samples.bytes(5000)); });
        for (int t = 0x80; t <= 0xbf; t++) { final int v = t - 0x90; hv("int " + v, 1, h -> h.writeInt(v)); }
        for (int t = 0xc0; t <= 0xcf; t++) { final int v = ((t - 0xc8) << 8) | (t == 0xc8 ? 0x40 : 0x11); hv("int tag 0x" + Integer.toHexString(t), 1, h -> h.writeInt(v)); }
        for (int t = 0xd0; t <= 0xd7; t++) { final int v = ((t - 0xd4) << 16) | (t == 0xd4 ? 0x1234 : 0x11); hv("int tag 0x" + Integer.toHexString(t), 1, h -> h.writeInt(v)); }
        hv("int 0x7fffffff", 1, h -> h.writeInt(Integer.MAX_VALUE));
        hv("int -0x80000000", 1, h -> h.writeInt(Integer.MIN_VALUE));
        for (int t = 0xd8; t <= 0xef; t++) { final long v = t - 0xe0; hv("long " + v, 1, h -> h.writeLong(v)); }
        for (int t = 0xf0; t <= 0xff; t++) { final long v = ((t - 0xf8) << 8) | (t == 0xf8 ? 0x40 : 0x11); hv("long tag 0x" + Integer.toHexString(t), 1, h -> h.writeLong(v)); }
        for (int t = 0x38; t <= 0x3f; t++) { final long v = ((t - 0x3c) << 16) | (t == 0x3c ? 0x1234 : 0x11); hv("long tag 0x" + Integer.toHexString(t), 1, h -> h.writeLong(v)); }
        hv("long as int32 (Y)", 1, h -> h.writeLong(0x12345678L));
        hv("long 64-bit (L)", 1, h -> h.writeLong(1234567890123456789L));
        Object[][] doubles = {{"0.0", 0.0}, {"1.0", 1.0}, {"byte", -7.0}, {"short", 1000.0}, {"milli", 12.25}, {"IEEE", Math.PI}};
        for (Object[] d : doubles) hv("double " + d[0], 1, h -> h.writeDouble((Double) d[1]));
        hv("date millis", 1, h -> h.writeUTCDate(1700000000123L));
        hv("date minutes", 1, h -> h.writeUTCDate(1700000040000L));
        hv("date as object (java.util.Date)", 1, h -> h.writeObject(new Date(1700000000123L)));
        hv("null", 1, Hessian2Output::writeNull);
        hv("true", 1, h -> h.writeBoolean(true));
        hv("false", 1, h -> h.writeBoolean(false));
        for (int n = 0; n < 8; n++) { final int k = n; hv("typed list " + n, 1, h -> h.writeObject(intArray(k))); }
        for (int n = 0; n < 8; n++) { final int k = n; hv("untyped list " + n, 1, h -> { h.writeListBegin(k, null); for (int i = 0; i < k; i++) h.writeInt(i); }); }
        hv("typed list 9 (V)", 1, h -> h.writeObject(new String[] {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"}));
        hv("untyped list 9 (X)", 1, h -> { h.writeListBegin(9, null); for (int i = 0; i < 9; i++) h.writeInt(i); });
        hv("java.util.ArrayList of 3", 1, h -> h.writeObject(new ArrayList<>(Arrays.asList("a", "b", "c"))));
        hv("typed variable list (U)", 1, h -> { h.writeListBegin(-1, "java.util.ArrayList"); h.writeString("a"); h.writeInt(1); h.writeListEnd(); });
        hv("untyped variable list (W)", 1, h -> { h.writeListBegin(-1, null); h.writeString("a"); h.writeNull(); h.writeListEnd(); });
        hv("untyped map (H)", 1, h -> { Map<String, Object> m = new LinkedHashMap<>(); m.put("a", 1); m.put("b", "two"); h.writeObject(new java.util.HashMap<>(m)); });
        hv("typed map (M)", 1, h -> { TreeMap<String, Object> m = new TreeMap<>(); m.put("k", "v"); m.put("n", 99L); h.writeObject(m); });
        hv("typed map whose type is a reference (M int)", 2, h -> { TreeMap<String, String> a = new TreeMap<>(); a.put("a", "1"); TreeMap<String, String> b = new TreeMap<>(); b.put("b", "2"); h.writeObject(a); h.writeObject(b); });
        hv("object (C then 0x60)", 1, h -> h.writeObject(obj(0)));
        for (int k = 0; k < 16; k++) {
            final int c = k;
            hv("object of class " + k + " (0x" + Integer.toHexString(0x60 + k) + ")", k + 2, h -> { for (int i = 0; i <= c; i++) h.writeObject(obj(i)); h.writeObject(obj(c)); });
        }
        hv("object of class 16 (O)", 18, h -> { for (int i = 0; i <= 16; i++) h.writeObject(obj(i)); h.writeObject(obj(16)); });
        hv("reference to an earlier object (Q)", 2, h -> { C shared = obj(1); h.writeObject(shared); h.writeObject(shared); });
        hv("the peers' Order graph (4 classes, enum, BigDecimal, Date, byte[], null)", 1, h -> h.writeObject(Samples.order(null)));
        hv("BigDecimal", 1, h -> h.writeObject(new BigDecimal("12345.6789")));
        hv("enum", 1, h -> h.writeObject(metaprotocol.peers.Level.SILVER));
        return new ArrayList<>(out);
    }

    private static int[] intArray(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    // ---------------------------------------------------------------- JSONB (fastjson2)
    /** The writer features of Dubbo's FastJson2ObjectOutput (3.3). */
    static final JSONWriter.Feature[] DUBBO_FEATURES = {
        JSONWriter.Feature.WriteClassName, JSONWriter.Feature.FieldBased, JSONWriter.Feature.ErrorOnNoneSerializable,
        JSONWriter.Feature.ReferenceDetection, JSONWriter.Feature.WriteNulls, JSONWriter.Feature.NotWriteDefaultValue,
        JSONWriter.Feature.NotWriteHashMapArrayListClassName, JSONWriter.Feature.WriteNameAsSymbol};

    private static void jv(String name, Object v) {
        out.add(Control.line("name", name, "values", 1, "hex", hex(JSONB.toBytes(v, DUBBO_FEATURES))));
    }

    private static List<Map<String, Object>> jsonb() {
        out.clear();
        for (int v : new int[] {-16, 0, 47, 48, -2048, 2047, 2048, -262144, 262143, 262144, Integer.MAX_VALUE, Integer.MIN_VALUE}) jv("int " + v, v);
        for (long v : new long[] {-8, 15, 16, -2048, 2047, 2048, 262143, 262144, 0x7fffffffL, 0x80000000L, Long.MIN_VALUE}) jv("long " + v, v);
        jv("byte", (byte) 7);
        jv("short", (short) 300);
        jv("char", 'x');
        jv("float", 1.5f);
        jv("float integral", 3.0f);
        jv("double 0", 0.0);
        jv("double 1", 1.0);
        jv("double integral", 1234.0);
        jv("double", Math.PI);
        jv("BigDecimal small", new BigDecimal("12.34"));
        jv("BigDecimal large", new BigDecimal("123456789012345678901234567890.5"));
        jv("BigInteger small", BigInteger.valueOf(77));
        jv("BigInteger large", new BigInteger("123456789012345678901234567890"));
        jv("null", null);
        jv("true", true);
        jv("false", false);
        for (int n : new int[] {0, 1, 47, 48, 300}) jv("ascii string " + n, "abcdefghij".substring(0, 0) + repeat('a', n));
        jv("latin-1 string", "caf\u00e9");
        jv("utf-8 string", "\u4e2d\u6587");
        jv("surrogate pair", "x\ud83d\ude00y");
        jv("byte[] 16", Samples.bytes(16));
        jv("byte[] 10240", Samples.bytes(10240));
        for (int n : new int[] {0, 1, 15, 16}) { List<Object> l = new ArrayList<>(); for (int i = 0; i < n; i++) l.add(i); jv("list " + n, l); }
        jv("String[]", new String[] {"a", "b"});
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("k", "v");
        m.put("n", 3);
        m.put("nested", new LinkedHashMap<>(m));
        jv("map", m);
        jv("java.util.Date", new Date(1700000000123L));
        jv("java.util.Date on a second", new Date(1700000000000L));
        jv("java.util.Date on a minute", new Date(1700000040000L));
        jv("LocalDate", LocalDate.of(2026, 11, 30));
        jv("LocalTime", LocalTime.of(4, 5, 6, 7000));
        jv("LocalDateTime", LocalDateTime.of(2026, 11, 30, 4, 5, 6, 7000));
        jv("Instant", Instant.ofEpochSecond(1700000000L, 123456789));
        jv("ZonedDateTime", ZonedDateTime.of(2026, 11, 30, 4, 5, 6, 0, ZoneId.of("Europe/Paris")));
        jv("enum", metaprotocol.peers.Level.GOLD);
        jv("the peers' Order graph (typed, names as symbols)", Samples.order(null));
        List<Object> twice = new ArrayList<>();
        metaprotocol.peers.Address a = new metaprotocol.peers.Address("Oslo", "x");
        twice.add(a);
        twice.add(a);
        jv("reference to an earlier object", twice);
        return new ArrayList<>(out);
    }

    private static String repeat(char c, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append(c);
        return b.toString();
    }

    // ---------------------------------------------------------------- Dubbo frames
    private static List<Map<String, Object>> frames() throws IOException {
        out.clear();
        for (String ser : new String[] {"hessian2", "fastjson2"}) {
            Serialization s = FrameworkModel.defaultModel().getExtensionLoader(Serialization.class).getExtension(ser);
            URL url = URL.valueOf("dubbo://127.0.0.1:20880/" + GreetingService.class.getName() + "?serialization=" + ser);
            byte id = s.getContentTypeId();
            frame("request sayHello (" + ser + ")", ser, id, true, 101, b -> request(s, url, b, "sayHello", "Ljava/lang/String;", new Object[] {"alice"}));
            frame("request echoOrder (" + ser + ")", ser, id, true, 102, b -> request(s, url, b, "echoOrder", "Lmetaprotocol/peers/Order;", new Object[] {Samples.order("n")}));
            frame("request echoBytes 10240 (" + ser + ")", ser, id, true, 103, b -> request(s, url, b, "echoBytes", "[B", new Object[] {Samples.bytes(10240)}));
            frame("request echoNull (" + ser + ")", ser, id, true, 104, b -> request(s, url, b, "echoNull", "Ljava/lang/String;", new Object[] {null}));
            frame("request echoMap (" + ser + ")", ser, id, true, 105, b -> request(s, url, b, "echoMap", "Ljava/util/Map;", new Object[] {Samples.arg("echoMap", "a=1,b=2")}));
            frame("response value with attachments (" + ser + ")", ser, id, false, 101, b -> response(s, url, b, "Hello alice, from v1", true));
            frame("response value (" + ser + ")", ser, id, false, 101, b -> response(s, url, b, "Hello alice, from v1", false));
            frame("response null with attachments (" + ser + ")", ser, id, false, 104, b -> response(s, url, b, null, true));
            frame("response Order with attachments (" + ser + ")", ser, id, false, 102, b -> response(s, url, b, Samples.order("n"), true));
        }
        return new ArrayList<>(out);
    }

    interface Body { void write(OutputStream b) throws IOException; }

    private static void frame(String name, String ser, byte id, boolean request, long reqId, Body body) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        body.write(b);
        byte[] payload = b.toByteArray();
        byte[] h = new byte[16];
        h[0] = (byte) 0xda; h[1] = (byte) 0xbb;
        h[2] = (byte) (request ? 0xc0 | id : id);
        h[3] = request ? 0 : (byte) 20;
        for (int i = 0; i < 8; i++) h[4 + i] = (byte) (reqId >>> (56 - 8 * i));
        for (int i = 0; i < 4; i++) h[12 + i] = (byte) (payload.length >>> (24 - 8 * i));
        out.add(Control.line("name", name, "serialization", (int) id, "request", request, "hex", hex(h) + hex(payload)));
    }

    /** DubboCodec.encodeRequestData's order: version, service, service version, method, descriptor, arguments, attachments. */
    private static void request(Serialization s, URL url, OutputStream b, String method, String desc, Object[] args) throws IOException {
        ObjectOutput o = s.serialize(url, b);
        o.writeUTF("2.0.2");
        o.writeUTF(GreetingService.class.getName());
        o.writeUTF("1.0.0");
        o.writeUTF(method);
        o.writeUTF(desc);
        for (Object a : args) o.writeObject(a);
        Map<String, Object> att = new LinkedHashMap<>();
        att.put("path", GreetingService.class.getName());
        att.put("remote.application", "peer-consumer-33");
        att.put("interface", GreetingService.class.getName());
        att.put("version", "1.0.0");
        att.put("group", "canary");
        att.put("timeout", 5000);
        att.put("x-user", "vip");
        o.writeAttachments(att);
        o.flushBuffer();
    }

    /** DubboCodec.encodeResponseData: flag byte, value, then attachments when the flag says so. */
    private static void response(Serialization s, URL url, OutputStream b, Object value, boolean attach) throws IOException {
        ObjectOutput o = s.serialize(url, b);
        if (value == null) o.writeByte((byte) (attach ? 5 : 2));
        else { o.writeByte((byte) (attach ? 4 : 1)); o.writeObject(value); }
        if (attach) {
            Map<String, Object> att = new LinkedHashMap<>();
            att.put("x-provider", "v1");
            att.put("dubbo", "2.0.2");
            o.writeAttachments(att);
        }
        o.flushBuffer();
    }

    // ---------------------------------------------------------------- output
    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder(b.length * 2);
        for (byte x : b) s.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        return s.toString();
    }

    private static void write(Path file, String writer, List<Map<String, Object>> vectors) throws IOException {
        StringBuilder s = new StringBuilder("{\n \"writer\": ").append(Control.jsonString(writer)).append(",\n \"vectors\": [");
        for (int i = 0; i < vectors.size(); i++) s.append(i == 0 ? "\n  " : ",\n  ").append(metaprotocol.peers.Json.write(vectors.get(i)));
        s.append("\n ]\n}\n");
        Files.write(file, s.toString().getBytes(StandardCharsets.UTF_8));
        System.err.println("VectorGen: wrote " + vectors.size() + " vectors to " + file);
    }
}
