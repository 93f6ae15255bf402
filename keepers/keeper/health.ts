/**
 * Which providers the keeper holds unavailable: a provider that cannot be reached (connection refused or reset, an
 * answer without JSON, a 5xx) or does not answer within the step's time is marked down for a back-off, `baseMs`
 * after its first such failure, doubled on each further one in a row, at most `maxMs`. A provider that stops
 * cleanly delists its offers (keepers/provider/node.ts) and leaves the catalog; one killed with SIGKILL, crashed or
 * cut off stays listed on chain, and this mark is what keeps the keeper from trying it first on every step.
 *
 * While marked, a provider comes after every provider not marked (in the catalog's order otherwise), so it is tried
 * only when no other candidate is left: a lone provider that failed once is still used. When its back-off has
 * passed it is a candidate like the others again, and the next attempt on it is the probe: an answer clears the
 * mark, another failure marks it for twice as long. Refusals (401/403/422), "busy" (429) and answers that do not
 * check out (quarantined by the catalog, with evidence) are not marks: the provider is there.
 */
import type { Hex } from "viem";

import type { Logger } from "../common/log.js";
import type { FailureKind } from "./dispatcher.js";

/** The failures that say the provider is not there (or too slow to count as there). */
const DOWN: ReadonlySet<FailureKind> = new Set(["unavailable", "timeout"]);

export interface HealthOptions {
  /** The back-off after a first failure (ms). */
  baseMs: number;
  /** The longest back-off (ms). */
  maxMs: number;
  logger: Logger;
  now?: () => number;
}

interface Mark {
  /** The endpoint that could not be reached. */
  endpoint: string;
  /** Failures in a row. */
  failures: number;
  /** ms since the epoch until which the provider comes last. */
  until: number;
}

export class ProviderHealth {
  readonly #marks = new Map<string, Mark>();
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(private readonly options: HealthOptions) {
    this.#logger = options.logger.child({ module: "health" });
    this.#now = options.now ?? Date.now;
  }

  /** An attempt on `provider` failed with `kind`: a transport failure or a timeout marks it down. */
  failed(provider: Hex, endpoint: string, kind: FailureKind, reason: string): void {
    if (!DOWN.has(kind)) return;
    const key = provider.toLowerCase();
    const before = this.#marks.get(key);
    const failures = (before?.endpoint === endpoint ? before.failures : 0) + 1;
    const backoffMs = Math.min(this.options.maxMs, this.options.baseMs * 2 ** (failures - 1));
    const until = this.#now() + backoffMs;
    this.#marks.set(key, { endpoint, failures, until });
    this.#logger.warn(
      { provider, endpoint, kind, failures, backoffMs, until: new Date(until).toISOString(), reason },
      "provider marked unavailable",
    );
  }

  /** An attempt on `provider` was answered: its mark, if any, is cleared. */
  answered(provider: Hex): void {
    const key = provider.toLowerCase();
    const mark = this.#marks.get(key);
    if (mark === undefined) return;
    this.#marks.delete(key);
    this.#logger.info({ provider, failures: mark.failures }, "provider available again");
  }

  /**
   * Whether `provider` is within a back-off now: at `endpoint` when given. A provider listed at another endpoint than
   * the one that failed is a restarted node (it registered its new address on chain): not down.
   */
  isDown(provider: Hex, endpoint?: string): boolean {
    const mark = this.#marks.get(provider.toLowerCase());
    return mark !== undefined && (endpoint === undefined || mark.endpoint === endpoint) && mark.until > this.#now();
  }

  /**
   * `offers` with the providers within a back-off moved after the others; each group keeps its order. A mark whose
   * provider is now listed at another endpoint is cleared (the node came back elsewhere).
   */
  order<T extends { address: Hex; endpoint: string }>(offers: readonly T[]): T[] {
    for (const o of offers) {
      const key = o.address.toLowerCase();
      const mark = this.#marks.get(key);
      if (mark === undefined || mark.endpoint === o.endpoint) continue;
      this.#marks.delete(key);
      this.#logger.info(
        { provider: o.address, failures: mark.failures, endpoint: o.endpoint, was: mark.endpoint },
        "provider available again",
      );
    }
    const down = (o: T) => this.isDown(o.address, o.endpoint);
    const up = offers.filter((o) => !down(o));
    return up.length === offers.length ? [...offers] : [...up, ...offers.filter(down)];
  }
}
