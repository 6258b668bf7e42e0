package metaprotocol.peers;

import java.io.Serializable;

public class Customer implements Serializable {
    private static final long serialVersionUID = 1L;
    public String name;
    public Level level;
    public Address address;

    public Customer() {}
    public Customer(String name, Level level, Address address) { this.name = name; this.level = level; this.address = address; }
    @Override public String toString() { return "Customer{" + name + "," + level + "," + address + "}"; }
}
