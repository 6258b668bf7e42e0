package metaprotocol.peers;

public enum Level { BRONZE, SILVER, GOLD }
