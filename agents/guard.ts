/**
 * The safety layer every action goes through before it is taken (the seed's three checks, in order):
 * 1. for a bid, the circuit breakers (breakers.ts): losses, disputes, slashes in the window;
 * 2. the safety monitor of keepers/common/safety.ts: safe mode, the humans' controls (emergency stop, freeze,
 *    denial), the on-chain constitution (action type allowed, human approval, daily volume and gas), and the
 *    anomaly rules over the agent's action log (which puts the agent in safe mode).
 * The chain enforces the constitution again when the transaction runs (AgentConstitution.enforce, called by the
 * marketplace), and charges the action to it; checking first means a refused action costs nothing and says why.
 */
import type { Logger } from "../keepers/common/log.js";
import { SafetyError, type ProposedAction, type SafetyMonitor } from "../keepers/common/safety.js";
import type { CircuitBreakers } from "./breakers.js";

export type Verdict = { allowed: true } | { allowed: false; reason: string; message: string };

export class SafetyLayer {
  readonly #logger: Logger;

  constructor(
    readonly monitor: SafetyMonitor,
    readonly breakers: CircuitBreakers,
    logger: Logger,
  ) {
    this.#logger = logger.child({ module: "guard" });
  }

  /** `atRisk`: for a bid, what the agent could lose at worst on its open work with this bid (breakers.ts). */
  async check(action: ProposedAction, options: { bidding: boolean; atRisk?: bigint }): Promise<Verdict> {
    if (options.bidding) {
      const trip = this.breakers.check(options.atRisk);
      if (trip !== undefined) {
        const message = `${action.label}: refused (breaker ${trip.breaker}): ${trip.message}`;
        this.#logger.warn({ event: "breaker-open", label: action.label, breaker: trip.breaker }, message);
        return { allowed: false, reason: `breaker-${trip.breaker}`, message };
      }
    }
    try {
      await this.monitor.check(action);
      return { allowed: true };
    } catch (error) {
      if (error instanceof SafetyError) return { allowed: false, reason: error.reason, message: error.message };
      throw error;
    }
  }

  /** Appends a taken action to the monitor's log (what its anomaly rules read). */
  record(action: ProposedAction): void {
    this.monitor.record({ actionType: action.actionType, value: action.value });
  }
}
