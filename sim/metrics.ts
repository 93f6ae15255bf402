/**
 * The named figures of a run (the KPIs, kept apart from the agents as in tokenspice's netlists): one row per
 * simulated day, every value a number (AITBC as floats, for charts and CSV), plus the concentration measures.
 */

/** One simulated day's figures. Keys with a dot are families: `volume.<service>`, `pnl.<agent>`. */
export type DayRow = Record<string, number>;

/** The series every run reports (the families add one column per service or agent). */
export const SERIES = [
  "day",
  "posted",
  "awarded",
  "fillRate",
  "bidsPerWorkload",
  "hoursToAward",
  "settled",
  "failures",
  "disputes",
  "slashed",
  "reputationGini",
  "reputationNakamoto",
  "votingGini",
  "votingNakamoto",
  "tokenSupply",
  "treasury",
  "escrow",
  "gasPerDay",
  "txPerDay",
] as const;

/** Families of series, one column per service (`volume.gpu`) or agent (`pnl.fixed-0`). */
export const FAMILIES = ["volume", "price", "pnl"] as const;

/** Gini coefficient of non-negative values (0: equal; → 1: one holds all). 0 for an empty or all-zero list. */
export function gini(values: readonly number[]): number {
  const xs = values.filter((v) => v > 0).sort((a, b) => a - b);
  const n = values.length;
  const total = xs.reduce((s, v) => s + v, 0);
  if (n === 0 || total === 0) return 0;
  // With the zeros first: G = (2 Σ i·x_i) / (n Σ x) − (n + 1) / n, i from 1 over all n sorted values.
  const zeros = n - xs.length;
  const weighted = xs.reduce((s, v, i) => s + (zeros + i + 1) * v, 0);
  return (2 * weighted) / (n * total) - (n + 1) / n;
}

/** Nakamoto coefficient: the fewest holders who together hold more than half (0 when nobody holds anything). */
export function nakamoto(values: readonly number[]): number {
  const xs = values.filter((v) => v > 0).sort((a, b) => b - a);
  const total = xs.reduce((s, v) => s + v, 0);
  if (total === 0) return 0;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    sum += xs[i] as number;
    if (sum > total / 2) return i + 1;
  }
  return xs.length;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
}
