// Exact binomial acceptance bounds for weighted-split checks: with n trials of probability p,
// the count falls outside [lo, hi] with probability below `miss` (split evenly between tails).
// Exact sums, not a normal approximation, so the stated miss rate is the real one.

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

export function binomialPmf(n: number, p: number, k: number): number {
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
}

export function binomialBounds(n: number, p: number, miss: number): { lo: number; hi: number } {
  const tail = miss / 2;
  let lo = 0;
  for (let acc = binomialPmf(n, p, 0); acc < tail && lo < n; acc += binomialPmf(n, p, ++lo));
  let hi = n;
  for (let acc = binomialPmf(n, p, n); acc < tail && hi > 0; acc += binomialPmf(n, p, --hi));
  return { lo, hi };
}
