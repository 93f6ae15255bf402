/**
 * The validator role: resolves the marketplace's disputes by re-executing the work, and only work it can check.
 * On ResultRejected it takes the dispute (Disputed on chain) through these checks, each of which, failing, makes it
 * decline to rule and say why (logged as `declined`, a `declined` experience in memory with the reason):
 * 1. the marketplace would take its ruling: it holds VALIDATOR_ROLE and is a registered, active Validator agent
 *    (IServiceMarketplace.resolveDispute), not a party to the workload;
 * 2. it can re-execute the work: the workload asks for one of its configured services, with that backend's model
 *    (deterministic work: the Iris model and the data steps);
 * 3. the client's evidence (served at its registered endpoint, GET /v1/disputes/evidence) is the one the client
 *    committed to (its hash is the rejection's reasonHash) and its input is the workload's (valueHash(input, blind)
 *    is the chain's inputHash); a client that serves none within `evidenceTimeoutMs` gets no ruling.
 * Then it recomputes the answer on the backend: the provider wins when the hash of the answer under the blind is the
 * resultHash it submitted, else the client wins (refund and slash: the contract's rule). The ruling goes through the
 * safety layer and is charged to its constitution (RESOLVE_DISPUTE) on chain; a `ruled` experience records it.
 *
 * Each ruling is also posted to the ERC-8004 validation registry (contracts/identity/AgentValidation.sol): a
 * validation request while the workload is still Disputed, then, once ruled, the response (100: the provider's
 * result upheld, 0: the client's rejection upheld; responseHash: the re-executed result's hash), which the registry
 * takes only because the marketplace's state backs it. A failure there is logged and does not hold up the ruling.
 */
import type { Hex } from "viem";

import type { FollowedLog } from "../../keepers/common/follower.js";
import { errorMessage } from "../../keepers/common/http.js";
import { TxRevertedError, type TxSender } from "../../keepers/common/txs.js";
import { marketplaceAbi, registryAbi, validationAbi } from "../../protocol/abi.js";
import { parseBlind, valueHashHex, type Json } from "../../protocol/values.js";
import type { ValidatorConfig } from "../config.js";
import type { SafetyLayer } from "../guard.js";
import { WORKLOAD_STATUS, type Marketplace, type Workload } from "../marketplace.js";
import type { Evidence } from "../memory.js";
import { startAgentServer } from "../server.js";
import {
  followMarketplace,
  marketplaceFor,
  registerAgent,
  safetyLayerFor,
  type RoleContext,
  type RunningAgent,
} from "./context.js";
import { agentEndpoint, evidenceHash, referenceBackend, referenceResult, type DisputeEvidence } from "./work.js";

/** ActionTypes.RESOLVE_DISPUTE. */
const RESOLVE_DISPUTE = 7;
const GAS_RESOLVE = 300_000n;
/** The store's duty kind of a dispute taken and not yet decided. */
const DUTY = "resolve";
/** IAgentValidation.Subject.Dispute, and the registry's tag for it. */
const DISPUTE_SUBJECT = 1;
const DISPUTE_TAG = "aitbc.dispute";

export async function startValidator(ctx: RoleContext): Promise<RunningAgent> {
  const { config, root, logger, chain, account, memory, closers } = ctx;
  const section = config.validator;
  if (section === undefined) throw new Error('role "validator": no validator section');
  const { sender, market } = marketplaceFor(ctx);
  let agentId = 0n;
  // The shared agent API (its health and memory counts; it serves no workloads).
  const server = await startAgentServer({
    ...config.server,
    chainId: chain.chain.id,
    market,
    memory,
    agent: () => ({ address: account.address, agentId }),
    logger: root,
  });
  closers.push(() => server.close());
  agentId = await registerAgent(ctx, "validator", server.url);
  await sender.start();
  const resolver = await market.isValidatorRole(account.address);
  if (!resolver)
    logger.warn(
      { event: "not-a-resolver", address: account.address },
      "no VALIDATOR_ROLE on the marketplace yet: it declines every dispute until an admin grants it",
    );
  const disputes = new Disputes(ctx, section, market, sender, agentId, safetyLayerFor(ctx, [RESOLVE_DISPUTE]));
  await disputes.recover();
  await followMarketplace(ctx, sender, disputes);
  logger.info(
    { event: "agent-ready", role: "validator", url: server.url, address: account.address, agentId, resolver },
    "agent ready",
  );
  return { role: "validator", url: server.url, address: account.address, agentId, close: ctx.closeAll };
}

interface Pending {
  workloadId: bigint;
  reasonHash: Hex;
  since: number;
  evidence: Evidence;
}

/** Why the validator does not rule (yet): `final` declines now, otherwise it waits (for the evidence). */
class Decline extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly final = true,
  ) {
    super(message);
  }
}

class Disputes {
  readonly #pending = new Map<bigint, Pending>();
  readonly #services;
  readonly #logger;
  #ticking: Promise<void> | undefined;

  constructor(
    private readonly ctx: RoleContext,
    private readonly section: ValidatorConfig,
    private readonly market: Marketplace,
    private readonly sender: TxSender,
    private readonly agentId: bigint,
    private readonly guard: SafetyLayer,
  ) {
    this.#logger = ctx.root.child({ module: "validator" });
    this.#services = section.services.map((s) => ({
      name: s.name,
      ...referenceBackend(s.name, s.backend, ctx.shared, ctx.env),
    }));
  }

  onLogs(logs: readonly FollowedLog[]): void {
    for (const log of logs) {
      if (log.eventName !== "ResultRejected") continue;
      const args = log.args as { workloadId: bigint; reasonHash: Hex };
      if (this.#pending.has(args.workloadId)) continue;
      this.#pending.set(args.workloadId, {
        workloadId: args.workloadId,
        reasonHash: args.reasonHash,
        since: Date.now(),
        evidence: {
          chain: { transactionHash: log.transactionHash, logIndex: log.logIndex, blockNumber: log.blockNumber },
        },
      });
      this.#logger.info({ event: "dispute", workloadId: args.workloadId }, `dispute on workload ${args.workloadId}`);
    }
  }

  /** Takes up the disputes taken before a restart and not decided (their ResultRejected logs read again). */
  async recover(): Promise<void> {
    for (const duty of this.ctx.store.dueDuties(Number.MAX_SAFE_INTEGER)) {
      if (duty.kind !== DUTY || this.#pending.has(duty.id)) continue;
      const [log] = await this.ctx.client.getContractEvents({
        address: this.ctx.chain.addresses.marketplace,
        abi: marketplaceAbi,
        eventName: "ResultRejected",
        args: { workloadId: duty.id },
        fromBlock: BigInt(this.ctx.config.follower.startBlock ?? 0),
      });
      if (log === undefined) {
        this.ctx.store.removeDuty(DUTY, duty.id);
        continue;
      }
      this.onLogs([log]);
    }
  }

  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    for (const dispute of [...this.#pending.values()]) {
      try {
        await this.#judge(dispute);
      } catch (error) {
        if (error instanceof Decline) {
          if (!error.final && Date.now() - dispute.since < this.section.evidenceTimeoutMs) continue;
          this.#decline(dispute, error.reason, error.message);
        } else if (error instanceof TxRevertedError) {
          this.#decline(dispute, "reverted", `the ruling reverted: ${error.message}`);
        } else throw error;
      }
    }
  }

  async #judge(dispute: Pending): Promise<void> {
    const { workloadId } = dispute;
    const w = await this.market.workload(workloadId);
    if (w.status !== WORKLOAD_STATUS.Disputed) {
      this.#forget(workloadId);
      return;
    }
    // 1. Would the marketplace take the ruling?
    if (!(await this.market.isValidatorRole(this.ctx.account.address)))
      throw new Decline("not-a-resolver", "this agent holds no VALIDATOR_ROLE on the marketplace");
    if (w.providerId === this.agentId || w.client.toLowerCase() === this.ctx.account.address.toLowerCase())
      throw new Decline("a-party", "this agent is a party to the workload");
    // 2. Can it re-execute the work?
    const service = this.#services.find(
      (s) => s.serviceType === w.serviceType && (w.modelHash === s.model || /^0x0+$/.test(w.modelHash)),
    );
    if (service === undefined)
      throw new Decline(
        "cannot-check",
        "no configured service re-executes this workload (service type or model unknown)",
      );
    // 3. The client's evidence, as committed on chain.
    const { evidence, url: evidenceUrl } = await this.#evidence(workloadId, w, dispute.reasonHash);
    let blind: bigint;
    try {
      blind = parseBlind(evidence.blind, "evidence.blind");
    } catch (error) {
      throw new Decline("bad-evidence", errorMessage(error));
    }
    let inputHash: Hex;
    try {
      inputHash = valueHashHex(evidence.input, blind);
    } catch (error) {
      throw new Decline("bad-evidence", `evidence.input: ${errorMessage(error)}`);
    }
    if (inputHash.toLowerCase() !== w.inputHash.toLowerCase())
      throw new Decline("bad-evidence", "the evidence's input is not the workload's (its hash is not the inputHash)");
    let expected: { output: Json; resultHash: Hex };
    try {
      expected = await referenceResult(service.backend, evidence.input, blind);
    } catch (error) {
      throw new Decline("cannot-check", `re-execution failed: ${errorMessage(error)}`);
    }
    const providerWins = expected.resultHash.toLowerCase() === w.resultHash.toLowerCase();
    const action = { actionType: RESOLVE_DISPUTE, value: 0n, gasEstimate: GAS_RESOLVE, label: `resolve:${workloadId}` };
    const verdict = await this.guard.check(action, { bidding: false });
    if (!verdict.allowed) throw new Decline(`safety-${verdict.reason}`, verdict.message, false);
    const requestHash = await this.#requestValidation(workloadId, w.round, evidenceUrl);
    const outcome = await this.market.resolve(workloadId, providerWins);
    if (outcome.fresh) this.guard.record(action);
    this.#forget(workloadId);
    if (requestHash !== undefined)
      await this.#respondValidation(workloadId, requestHash, providerWins, evidenceUrl, expected.resultHash);
    const reason = providerWins
      ? "the re-executed result is the one the provider submitted"
      : "the re-executed result differs from the one the provider submitted";
    this.ctx.memory.remember(
      {
        kind: "ruled",
        workloadId,
        service: service.name,
        context: { provider: String(w.providerId), client: w.client },
        action: { providerWins },
        outcome: reason,
        figures: { expectedResultHash: expected.resultHash, submittedResultHash: w.resultHash, tx: outcome.hash },
        profit: 0n,
      },
      dispute.evidence,
    );
    this.#logger.info(
      { event: "ruled", workloadId, providerWins, reason, tx: outcome.hash },
      `workload ${workloadId}: ruled for the ${providerWins ? "provider" : "client"}: ${reason}`,
    );
  }

  /** Asks the validation registry (while the workload is Disputed); the request's hash, or undefined on failure. */
  async #requestValidation(workloadId: bigint, round: number, requestURI: string): Promise<Hex | undefined> {
    const address = this.ctx.chain.addresses.validation;
    try {
      await this.sender.send({
        key: `validation-request:${workloadId}:${round}`,
        address,
        abi: validationAbi,
        functionName: "requestDisputeValidation",
        args: [workloadId, requestURI],
      });
      return await this.ctx.client.readContract({
        address,
        abi: validationAbi,
        functionName: "requestHashOf",
        args: [this.ctx.account.address, DISPUTE_SUBJECT, workloadId, round],
      });
    } catch (error) {
      this.#logger.warn(
        { event: "validation-failed", workloadId, step: "request", err: errorMessage(error) },
        `workload ${workloadId}: the validation request failed; ruling without it`,
      );
      return undefined;
    }
  }

  /** Posts the ruling as the request's ERC-8004 validation response. */
  async #respondValidation(
    workloadId: bigint,
    requestHash: Hex,
    providerWins: boolean,
    responseURI: string,
    responseHash: Hex,
  ): Promise<void> {
    try {
      const outcome = await this.sender.send({
        key: `validation-response:${requestHash}`,
        address: this.ctx.chain.addresses.validation,
        abi: validationAbi,
        functionName: "validationResponse",
        args: [requestHash, providerWins ? 100 : 0, responseURI, responseHash, DISPUTE_TAG],
      });
      this.#logger.info(
        { event: "validation-posted", workloadId, requestHash, response: providerWins ? 100 : 0, tx: outcome.hash },
        `workload ${workloadId}: ruling posted to the ERC-8004 validation registry`,
      );
    } catch (error) {
      this.#logger.warn(
        { event: "validation-failed", workloadId, step: "response", err: errorMessage(error) },
        `workload ${workloadId}: the validation response failed`,
      );
    }
  }

  async #evidence(
    workloadId: bigint,
    w: Workload,
    reasonHash: Hex,
  ): Promise<{ evidence: DisputeEvidence; url: string }> {
    const clientId = await this.ctx.client.readContract({
      address: this.ctx.chain.addresses.registry,
      abi: registryAbi,
      functionName: "agentIdOf",
      args: [w.client],
    });
    const endpoint = clientId === 0n ? "" : await agentEndpoint(this.ctx.chain, clientId);
    if (endpoint === "") throw new Decline("no-evidence", "the client has no registered endpoint to serve evidence");
    const url = `${endpoint}/v1/disputes/evidence?id=${workloadId}`;
    let body: unknown;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (error) {
      throw new Decline("no-evidence", `the client's evidence is unavailable: ${errorMessage(error)}`, false);
    }
    const evidence = body as DisputeEvidence;
    let hash: Hex | undefined;
    try {
      hash = typeof body === "object" && body !== null ? evidenceHash(evidence) : undefined;
    } catch {
      hash = undefined;
    }
    if (hash?.toLowerCase() !== reasonHash.toLowerCase())
      throw new Decline("bad-evidence", "the served evidence is not the one the client committed to (reasonHash)");
    return { evidence, url };
  }

  #forget(workloadId: bigint): void {
    this.#pending.delete(workloadId);
    this.ctx.store.removeDuty(DUTY, workloadId);
  }

  #decline(dispute: Pending, reason: string, message: string): void {
    this.#forget(dispute.workloadId);
    this.ctx.memory.remember(
      {
        kind: "declined",
        workloadId: dispute.workloadId,
        service: "",
        context: { reasonHash: dispute.reasonHash },
        action: { ruled: false },
        outcome: message,
        figures: { reason },
        profit: 0n,
      },
      dispute.evidence,
    );
    this.#logger.warn(
      { event: "declined", workloadId: dispute.workloadId, reason },
      `workload ${dispute.workloadId}: no ruling (${reason}): ${message}`,
    );
  }
}
