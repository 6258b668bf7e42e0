package metaprotocol.peers;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The peers' control channel: one JSON object per line. Stdout carries only these lines (the
 * frameworks' own logging is sent to stderr); stdin carries commands, each answered by a line
 * with the same "id", on a pool thread so several calls can be in flight together.
 */
public final class Control {
    private static final PrintStream OUT = out();

    private static PrintStream out() {
        try {
            return new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        } catch (java.io.UnsupportedEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    static { System.setOut(System.err); }

    private Control() {}

    /** Call first in main: moves System.out to stderr before any framework logs. */
    public static void init() {}

    public interface Handler { Map<String, Object> handle(Map<String, Object> cmd) throws Exception; }

    public static String jsonString(String s) { return Json.write(s); }

    public static synchronized void emit(Map<String, Object> line) { OUT.println(Json.write(line)); }

    public static Map<String, Object> line(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** Reads commands until stdin closes or {"op":"exit"}. */
    @SuppressWarnings("unchecked")
    public static void serve(Handler h) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String text;
        while ((text = in.readLine()) != null) {
            if (text.trim().isEmpty()) continue;
            final Map<String, Object> cmd = (Map<String, Object>) Json.parse(text);
            if ("exit".equals(cmd.get("op"))) break;
            pool.execute(() -> {
                Map<String, Object> reply;
                try {
                    reply = h.handle(cmd);
                } catch (Throwable e) {
                    e.printStackTrace();
                    java.util.List<String> causes = new java.util.ArrayList<>();
                    for (Throwable x = e.getCause(); x != null && causes.size() < 5; x = x.getCause()) causes.add(x.getClass().getName() + ": " + x.getMessage());
                    reply = line("ok", false, "error", e.getClass().getName(), "message", String.valueOf(e.getMessage()), "causes", causes);
                }
                reply.put("id", cmd.get("id"));
                emit(reply);
            });
        }
        pool.shutdownNow();
        System.exit(0);
    }
}
