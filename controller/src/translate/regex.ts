// The module runs RE2 syntax (full match, linear time). JavaScript's RegExp accepts a
// superset, so constructs RE2 refuses are rejected here before they reach a proxy.
const RE2_UNSUPPORTED: Array<[RegExp, string]> = [
  [/\(\?[=!]/, "lookahead is not supported by RE2"],
  [/\(\?<[=!]/, "lookbehind is not supported by RE2"],
  [/\\[1-9]/, "backreferences are not supported by RE2"],
  [/\\k</, "named backreferences are not supported by RE2"],
  [/[*+?}]\+/, "possessive quantifiers are not supported by RE2"],
];

/** null when the pattern is valid RE2 (as far as we can tell), else the reason. */
export function re2Error(pattern: string): string | null {
  try {
    new RegExp(pattern, "u");
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, "");
  }
  for (const [re, why] of RE2_UNSUPPORTED) if (re.test(pattern)) return why;
  return null;
}

/** A regex that matches exactly one of the literal values. */
export function alternation(values: string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
}
