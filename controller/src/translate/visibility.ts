// Istio's exportTo: "*" everyone, "." the object's own namespace, "~" nobody, or names.

export function normalizeExportTo(list: string[] | undefined, ownNamespace: string): string[] {
  if (!list || list.length === 0) return ["*"];
  const out = new Set<string>();
  for (const e of list) {
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
