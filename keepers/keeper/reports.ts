/**
 * Slash reports: a provider answer that did not check out (dispatcher.ts: AttemptError "invalid") is evidence
 * against the provider. Each is stored with its evidence sealed to the keeper (it holds the step's input and output;
 * `GET /v1/reports` opens it for the operator), counted
 * (aitbc_keeper_slash_reports_total) and logged (`event: "slash-report"`).
 */
import type { TypedDataDomain } from "viem";

import { seal, sealContext, type EncryptionKeys } from "../../protocol/sealed.js";
import type { Logger } from "../common/log.js";
import type { Store } from "../common/store.js";
import type { KeeperMetrics } from "./metrics.js";
import type { OrchestratorOptions } from "./orchestrator.js";

/** The orchestrator's `onInvalid`: stores, counts and logs the report. */
export function slashReporter(options: {
  store: Pick<Store, "addReport">;
  metrics: Pick<KeeperMetrics, "slashReport">;
  logger: Logger;
  keys: Pick<EncryptionKeys, "publicKey">;
  domain: TypedDataDomain;
}): OrchestratorOptions["onInvalid"] {
  const { store, metrics, keys, domain } = options;
  const logger = options.logger.child({ module: "reports" });
  return (offer, executionId, step, error) => {
    const context = sealContext(domain, "keeper-store", reportSubject(executionId, step));
    seal(keys.publicKey, error.evidence, context)
      .then((evidence) => {
        store.addReport({ provider: offer.address, executionId, step, reason: error.message, evidence });
      })
      .catch((e: unknown) => {
        logger.error({ err: (e as Error).message, executionId: executionId.toString(), step }, "report not stored");
      });
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

/** The sealing subject of a report's evidence: "report/<executionId>/<step>". */
export function reportSubject(executionId: bigint, step: number): string {
  return `report/${executionId.toString()}/${step}`;
}
