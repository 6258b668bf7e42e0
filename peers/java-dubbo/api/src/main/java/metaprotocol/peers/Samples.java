package metaprotocol.peers;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/** Arguments built from the short text a test sends, and results described as text a test compares. */
public final class Samples {
    private Samples() {}

    public static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + 7);
        return b;
    }

    public static Order order(String note) {
        Order o = new Order();
        o.id = 42;
        o.customer = new Customer("ada", Level.GOLD, new Address("London", "1 Analytical Way"));
        o.shipTo = new Address("Paris", "2 Rue du Calcul");
        o.items = new ArrayList<>(Arrays.asList(
            new LineItem("sku-1", 2, new BigDecimal("19.99")), new LineItem("sku-2", 1, new BigDecimal("5.00"))));
        o.tags = new LinkedHashMap<>();
        o.tags.put("channel", "web");
        o.total = new BigDecimal("44.98");
        o.created = new Date(1700000000123L);
        o.signature = bytes(64);
        o.note = note;
        return o;
    }

    /** The argument a method takes, from the test's text (null stays null). */
    public static Object arg(String method, String text) {
        if (text == null) return null;
        switch (method) {
            case "echoBytes": return bytes(Integer.parseInt(text));
            case "echoOrder": return order(text);
            case "echoList": return new ArrayList<>(Arrays.asList(text.split(",")));
            case "echoMap": {
                Map<String, Long> m = new LinkedHashMap<>();
                for (String kv : text.split(",")) { String[] p = kv.split("="); m.put(p[0], Long.parseLong(p[1])); }
                return m;
            }
            case "echoEnum": return Level.valueOf(text);
            case "echoDecimal": return new BigDecimal(text);
            case "echoDate": return new Date(Long.parseLong(text));
            default: return text;
        }
    }

    public static String describe(Object v) {
        if (v == null) return null;
        if (v instanceof byte[]) {
            byte[] b = (byte[]) v;
            CRC32 crc = new CRC32();
            crc.update(b);
            return "bytes:" + b.length + ":" + Long.toHexString(crc.getValue());
        }
        if (v instanceof Date) return "date:" + ((Date) v).getTime();
        if (v instanceof BigDecimal) return "decimal:" + ((BigDecimal) v).toPlainString();
        return String.valueOf(v);
    }

    public static List<String> argsText(Object[] args) {
        List<String> out = new ArrayList<>();
        if (args != null) for (Object a : args) out.add(describe(a));
        return out;
    }
}
