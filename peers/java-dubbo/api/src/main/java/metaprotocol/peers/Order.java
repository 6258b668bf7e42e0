package metaprotocol.peers;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** A graph of four classes (Order, Customer, Address, LineItem) plus an enum, as Java business DTOs look. */
public class Order implements Serializable {
    private static final long serialVersionUID = 1L;
    public long id;
    public Customer customer;
    public Address shipTo;
    public List<LineItem> items;
    public Map<String, String> tags;
    public BigDecimal total;
    public Date created;
    public byte[] signature;
    public String note;

    @Override public String toString() {
        return "Order{" + id + "," + customer + "," + shipTo + "," + items + "," + tags + "," + total + ","
            + (created == null ? null : created.getTime()) + "," + Samples.describe(signature) + "," + note + "}";
    }
}
