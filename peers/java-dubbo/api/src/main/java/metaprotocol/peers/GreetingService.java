package metaprotocol.peers;

import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** The service the Java peers export and call: strings, a DTO graph, byte[], collections, enum, decimal, date, null. */
public interface GreetingService {
    String sayHello(String name);
    String sayBye(String name);
    byte[] echoBytes(byte[] data);
    Order echoOrder(Order order);
    List<String> echoList(List<String> list);
    Map<String, Long> echoMap(Map<String, Long> map);
    Level echoEnum(Level level);
    BigDecimal echoDecimal(BigDecimal value);
    Date echoDate(Date date);
    String echoNull(String value);
    /** Sleeps, then answers: keeps calls in flight together. */
    String slow(String name);
}
