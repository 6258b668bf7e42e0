// Istio cluster names: outbound|<port>|<subset>|<host> (subset may be empty) and
// inbound|<port>|<subset>|<host> (Istio >= 1.10 writes inbound|<port>||). A wrong name would
// make tcp_proxy fail the connection at run time, so it is refused at configure time instead.

/** "" when `name` has the Istio shape; otherwise which part is wrong. */
export function clusterNameError(name: string): string {
  if (name.length == 0) return "must not be empty";
  const parts = name.split("|");
  if (parts.length != 4) {
    return "must be outbound|<port>|<subset>|<host> or inbound|<port>||, got " + parts.length.toString() +
      " part" + (parts.length == 1 ? "" : "s") + " separated by '|'";
  }
  const dir = parts[0], port = parts[1], subset = parts[2], host = parts[3];
  const inbound = dir == "inbound";
  if (!inbound && dir != "outbound") return "direction \"" + dir + "\" must be outbound or inbound";
  if (!validPort(port)) return "port \"" + port + "\" must be an integer 1..65535";
  if (!validChars(subset, false)) return "subset \"" + subset + "\" may only contain letters, digits, '-', '_' and '.'";
  if (host.length == 0) return inbound ? "" : "host is empty";
  if (!validChars(host, true)) return "host \"" + host + "\" may only contain letters, digits, '-', '_', '.' and '*'";
  return "";
}

function validPort(p: string): bool {
  if (p.length == 0 || p.length > 5 || p.charCodeAt(0) == 0x30) return false;
  let v = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
    v = v * 10 + (c - 0x30);
  }
  return v >= 1 && v <= 65535;
}

function validChars(s: string, allowStar: bool): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c == 0x2d || c == 0x5f || c == 0x2e || (allowStar && c == 0x2a);
    if (!ok) return false;
  }
  return true;
}
