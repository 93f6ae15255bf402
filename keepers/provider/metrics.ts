/**
 * The provider node's Prometheus metrics, on a registry of its own (so that two nodes in one process, as in
 * tests, do not collide): steps by service and outcome, step durations, steps in flight, requests refused by
 * authentication and rate limits (by reason: auth.ts AUTH_REFUSALS), the chain reads authentication made (by
 * function), the earnings (credits claimable and claimed, claims by outcome), and the process defaults.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** How a step request ended: `ok`, or the error code of the answer (`bad-request`, `busy`, `timeout`...). */
export type Outcome = string;

export interface ProviderMetrics {
  registry: Registry;
  steps: Counter<"service" | "outcome">;
  duration: Histogram<"service" | "outcome">;
  inFlight: Gauge;
  refused: Counter<"reason">;
  chainReads: Counter<"function">;
  /** Earnings (earnings.ts): credits claimable in Workflows, claimed in total (AITBC), claims by outcome. */
  creditsClaimable: Gauge;
  creditsClaimed: Gauge;
  creditClaims: Counter<"outcome">;
}

export function providerMetrics(): ProviderMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    steps: new Counter({
      name: "aitbc_provider_steps_total",
      help: "Step requests answered, by service and outcome",
      labelNames: ["service", "outcome"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "aitbc_provider_step_duration_seconds",
      help: "Time from request to answer, by service and outcome",
      labelNames: ["service", "outcome"],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: "aitbc_provider_steps_in_flight",
      help: "Steps running now",
      registers: [registry],
    }),
    refused: new Counter({
      name: "aitbc_provider_refused_total",
      help: "Step requests refused before any backend: credentials, signature, chain, keeper rate (by reason)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    chainReads: new Counter({
      name: "aitbc_provider_auth_chain_reads_total",
      help: "Chain reads made to authenticate step requests (getExecution, agentAddress)",
      labelNames: ["function"],
      registers: [registry],
    }),
    creditsClaimable: new Gauge({
      name: "aitbc_provider_credits_claimable_aitbc",
      help: "Credits Workflows holds for this provider, claimable now (AITBC)",
      registers: [registry],
    }),
    creditsClaimed: new Gauge({
      name: "aitbc_provider_credits_claimed_aitbc",
      help: "Credits this provider has claimed in total (CreditsClaimed events, AITBC)",
      registers: [registry],
    }),
    creditClaims: new Counter({
      name: "aitbc_provider_credit_claims_total",
      help: "claimCredits attempts by the node's schedule, by outcome (ok, failed)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
  };
}
