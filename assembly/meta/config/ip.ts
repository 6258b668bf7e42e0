// IP address literals for services[].match.addresses (the VIP a client dialed).

export function isIPv4(s: string): bool {
  let parts = 0, i = 0;
  const n = s.length;
  while (true) {
    const start = i;
    let v = 0;
    while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39 && i - start < 3) {
      v = v * 10 + (s.charCodeAt(i) - 0x30);
      i++;
    }
    const len = i - start;
    if (len == 0 || v > 255 || (len > 1 && s.charCodeAt(start) == 0x30)) return false; // no leading zeros
    parts++;
    if (i == n) return parts == 4;
    if (s.charCodeAt(i) != 0x2e || parts == 4) return false;
    i++;
  }
}

/** RFC 4291 text form: 8 groups of 1-4 hex digits, one optional "::", optional IPv4 tail. */
export function isIPv6(s: string): bool {
  const n = s.length;
  if (n < 2) return false;
  let groups = 0, i = 0, compressed = false;
  if (s.startsWith("::")) { compressed = true; i = 2; if (i == n) return true; }
  else if (s.charCodeAt(0) == 0x3a) return false;
  while (i < n) {
    const start = i;
    while (i < n && isHex(s.charCodeAt(i)) && i - start < 4) i++;
    if (i < n && s.charCodeAt(i) == 0x2e) { // IPv4 tail takes two groups
      if (!isIPv4(s.substring(start))) return false;
      groups += 2;
      i = n;
      break;
    }
    if (i == start) return false;
    groups++;
    if (i == n) break;
    if (s.charCodeAt(i) != 0x3a) return false;
    i++;
    if (i < n && s.charCodeAt(i) == 0x3a) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i == n) break;
    } else if (i == n) {
      return false; // trailing single ':'
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

@inline function isHex(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}
