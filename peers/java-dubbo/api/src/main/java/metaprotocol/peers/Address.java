package metaprotocol.peers;

import java.io.Serializable;

public class Address implements Serializable {
    private static final long serialVersionUID = 1L;
    public String city;
    public String street;

    public Address() {}
    public Address(String city, String street) { this.city = city; this.street = street; }
    @Override public String toString() { return "Address{" + city + "," + street + "}"; }
}
