package metaprotocol.peers;

/** A second interface on the same provider address: Java shares one connection for both. */
public interface InventoryService {
    String stock(String sku);
}
