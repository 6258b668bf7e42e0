// Istio's exportTo: "*" everyone, "." the object's own namespace, "~" nobody, or names.

export function normalizeExportTo(list: unknown, ownNamespace: string): string[] {
  const given = Array.isArray(list) ? list.filter((e): e is string => typeof e === "string") : typeof list === "string" ? [list] : [];
  if (given.length === 0) return ["*"];
  const out = new Set<string>();
  for (const e of given) {
    if (e === "~") continue;
    out.add(e === "." ? ownNamespace : e);
  }
  return [...out].sort();
}

/** Scope "*" means "every namespace": only objects exported to "*" are visible there. */
export function visibleIn(exportTo: string[], scope: string): boolean {
  return exportTo.includes("*") || (scope !== "*" && exportTo.includes(scope));
}

export function isMeshWide(exportTo: string[]): boolean {
  return exportTo.includes("*");
}
