/**
 * Slash reports: a provider answer that did not check out (dispatcher.ts: AttemptError "invalid") is evidence
 * against the provider. Each is stored with its evidence (served by `GET /v1/reports`), counted
 * (aitbc_keeper_slash_reports_total) and logged (`event: "slash-report"`).
 */
import type { Logger } from "../common/log.js";
import type { Store } from "../common/store.js";
import type { KeeperMetrics } from "./metrics.js";
import type { OrchestratorOptions } from "./orchestrator.js";

/** The orchestrator's `onInvalid`: stores, counts and logs the report. */
export function slashReporter(options: {
  store: Pick<Store, "addReport">;
  metrics: Pick<KeeperMetrics, "slashReport">;
  logger: Logger;
}): OrchestratorOptions["onInvalid"] {
  const { store, metrics } = options;
  const logger = options.logger.child({ module: "reports" });
  return (offer, executionId, step, error) => {
    store.addReport({ provider: offer.address, executionId, step, reason: error.message, evidence: error.evidence });
    metrics.slashReport();
    logger.warn(
      {
        event: "slash-report",
        provider: offer.address,
        agentId: offer.agentId.toString(),
        executionId: executionId.toString(),
        step,
      },
      `provider reported for slashing: ${error.message}`,
    );
  };
}
