/**
 * Circuit breakers (the seed's "circuit breakers for market manipulation", turned on the agent itself): bidding
 * stops while the losses, the disputes or the slashes the agent's memory holds for the last `windowMs` pass their
 * limits, and starts again once they age out of the window. Read from memory each time (which holds only outcomes
 * from the chain), so a restart does not reset them. Only new bids stop: awarded work is still delivered and
 * settled (walking away from it would be slashed).
 */
import type { AgentMemory } from "./memory.js";

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

  /** The first breaker that is open, or undefined when bidding may go on. */
  check(): Trip | undefined {
    const { windowMs, maxLoss, maxDisputes, maxSlashes } = this.limits;
    const s = this.memory.summary(this.now() - windowMs);
    const window = `in the last ${Math.round(windowMs / 1000)} s`;
    if (s.losses > maxLoss) return { breaker: "losses", message: `lost ${s.losses} wei ${window} > ${maxLoss}` };
    if (s.disputes > maxDisputes)
      return { breaker: "disputes", message: `${s.disputes} disputes ${window} > ${maxDisputes}` };
    if (s.slashes > maxSlashes)
      return { breaker: "slashes", message: `${s.slashes} slashes ${window} > ${maxSlashes}` };
    return undefined;
  }
}
