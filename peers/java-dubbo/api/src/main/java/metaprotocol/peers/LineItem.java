package metaprotocol.peers;

import java.io.Serializable;
import java.math.BigDecimal;

public class LineItem implements Serializable {
    private static final long serialVersionUID = 1L;
    public String sku;
    public int quantity;
    public BigDecimal price;

    public LineItem() {}
    public LineItem(String sku, int quantity, BigDecimal price) { this.sku = sku; this.quantity = quantity; this.price = price; }
    @Override public String toString() { return "LineItem{" + sku + "," + quantity + "," + price + "}"; }
}
