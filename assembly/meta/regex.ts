// RE2-syntax regular expressions with Envoy safe_regex semantics: the WHOLE string must match,
// in linear time (Thompson NFA simulated Pike-VM style, no backtracking).
//
// Supported: literals and escapes (\n \t \xHH \x{HHHH} octal, escaped punctuation, \Q...\E),
// `.`, classes [a-z] [^...] with \d \w \s \D \W \S and [:alpha:]-style names inside, anchors
// ^ $ \A \z \b \B, groups ( ) (?: ) (?P<name> ) (?<name> ), alternation, * + ? {n} {n,} {n,m}
// and their lazy forms, flags (?i) (?m) (?s) (?U) and (?flags:re).
// Refused with RE2's reasons: backreferences, lookaround, \p{...} classes, \C.
// Matching is on code points (UTF-16 surrogate pairs are joined), like RE2 on UTF-8 input.
// Case folding under (?i) covers ASCII and Latin-1 (plus K/k/KELVIN SIGN, S/s/LONG S), not all
// of Unicode.
import { Parser } from "./regex/parser";
import { programSize, compile, MAX_PROGRAM } from "./regex/program";
import { Dfa, reserveScratch } from "./regex/dfa";
import { minLength, maxLength, literals } from "./regex/analysis";

export { MAX_PROGRAM } from "./regex/program";

export class Regex {
  /** Why the last compile() returned null, e.g. "missing ')' at offset 3"; "" after success. */
  static lastError: string = "";

  readonly pattern: string;
  private dfa: Dfa;
  // Prefilters: answer without running the automaton when the length or literal ends disagree.
  private minLen: i32 = 0;
  private maxLen: i32 = 0;
  private prefix: string = "";
  private suffix: string = "";
  private whole: bool = false;

  private constructor(pattern: string, dfa: Dfa) {
    this.pattern = pattern;
    this.dfa = dfa;
  }

  /** Compile an RE2 pattern, or return null and set Regex.lastError. */
  static compile(pattern: string): Regex | null {
    Regex.lastError = "";
    const parser = new Parser(pattern);
    const root = parser.parse();
    if (root == null) {
      Regex.lastError = parser.error + " at offset " + parser.errorOffset.toString();
      return null;
    }
    const size = programSize(root) + 1; // + the final match instruction
    if (size > MAX_PROGRAM) {
      Regex.lastError = "pattern too large: compiled program exceeds " + MAX_PROGRAM.toString() + " instructions";
      return null;
    }
    const prog = compile(root);
    reserveScratch(prog.length);
    const re = new Regex(pattern, new Dfa(prog));
    re.minLen = minLength(root);
    re.maxLen = maxLength(root);
    const lit = literals(root);
    re.prefix = lit.prefix;
    re.suffix = lit.suffix;
    re.whole = lit.whole;
    return re;
  }

  /** Number of NFA instructions (for tests and limits). */
  get programLength(): i32 { return this.dfa.length; }

  /** Whether the whole of s matches. Allocates nothing (after the first match sizes the cache). */
  fullMatch(s: string): bool {
    const n = s.length;
    if (n < this.minLen || n > this.maxLen) return false;
    if (this.whole) return s == this.prefix;
    if (this.prefix.length > 0 && !s.startsWith(this.prefix)) return false;
    if (this.suffix.length > 0 && !s.endsWith(this.suffix)) return false;
    return this.dfa.fullMatch(s);
  }
}
