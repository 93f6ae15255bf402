/**
 * Circuit breakers (the seed's "circuit breakers for market manipulation", turned on the agent itself): bidding
 * stops while the losses, the disputes or the slashes the agent's memory holds for the last `windowMs` pass their
 * limits, and starts again once they age out of the window. Read from memory each time (which holds only outcomes
 * from the chain), so a restart does not reset them. Only new bids stop: awarded work is still delivered and
 * settled (walking away from it would be slashed).
 */
import type { AgentMemory, BidRow } from "./memory.js";

export interface BreakerLimits {
  windowMs: number;
  /** Most wei the agent may lose in the window (the sum of negative profits, slashes included). */
  maxLoss: bigint;
  maxDisputes: number;
  maxSlashes: number;
}

export interface Trip {
  breaker: "losses" | "disputes" | "slashes";
  message: string;
}

export class CircuitBreakers {
  constructor(
    private readonly memory: AgentMemory,
    readonly limits: BreakerLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The first breaker that is open, or undefined when bidding may go on. `atRisk` (wei) is what the agent could
   * still lose on work it has bid on or taken and that is not settled, this bid included (openLossExposure): with
   * it the loss breaker opens before a loss happens, not after, so realised losses stay within `maxLoss`.
   */
  check(atRisk = 0n): Trip | undefined {
    const { windowMs, maxLoss, maxDisputes, maxSlashes } = this.limits;
    const s = this.memory.summary(this.now() - windowMs);
    const window = `in the last ${Math.round(windowMs / 1000)} s`;
    if (s.losses > maxLoss) return { breaker: "losses", message: `lost ${s.losses} wei ${window} > ${maxLoss}` };
    if (atRisk > 0n && s.losses + atRisk > maxLoss)
      return {
        breaker: "losses",
        message: `lost ${s.losses} wei ${window}, and up to ${atRisk} more on open work: over ${maxLoss}`,
      };
    if (s.disputes > maxDisputes)
      return { breaker: "disputes", message: `${s.disputes} disputes ${window} > ${maxDisputes}` };
    if (s.slashes > maxSlashes)
      return { breaker: "slashes", message: `${s.slashes} slashes ${window} > ${maxSlashes}` };
    return undefined;
  }
}

/**
 * What the agent loses at worst on open work if it is paid what it bid (bid × units less the fee) and the work
 * costs what its service says: the sum over `bids` of (cost − net pay) where that is positive. A bid priced above
 * its cost risks nothing here (a slash is the slash breaker's).
 */
export function openLossExposure(
  bids: readonly Pick<BidRow, "service" | "units" | "pricePerUnit">[],
  costPerUnit: (service: string) => bigint,
  feeBps: number,
): bigint {
  let atRisk = 0n;
  for (const bid of bids) {
    const pay = (bid.pricePerUnit * bid.units * (10_000n - BigInt(feeBps))) / 10_000n;
    const cost = costPerUnit(bid.service) * bid.units;
    if (cost > pay) atRisk += cost - pay;
  }
  return atRisk;
}
