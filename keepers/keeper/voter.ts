/**
 * The keeper's governance voter (the agent framework asks for agents that vote on the protocol and give their
 * reasoning with each vote, docs/design.md): it votes on the AITBCGovernor's proposals by a policy in its config,
 * and says why in the vote's reason.
 *
 * The policy (policy.ts) is a list of rules over a proposal's actions (target, value, calldata); this file is
 * the loop that applies it to the governor's proposals and casts the votes.
 *
 * When: every `run()` (the keeper's governance cron job) walks the governor's stored proposals
 * (GovernorStorage.proposalCount / proposalDetailsAt) from a cursor kept in the store. A proposal is acted on
 * when it is Active and this agent has not voted (GovernorCountingSimple.hasVoted: the chain is what makes a
 * vote idempotent). Then the safety monitor checks the action (type GOVERN; a refusal means no vote, tried again
 * next run) and castVoteWithReason goes through the TxSender under the key `vote:<proposalId>` (one vote
 * transaction per proposal, ever, even across a kill -9). The vote is recorded in the store (flag
 * `governance-vote:<id>`), logged (`event: "vote"`) and counted (aitbc_keeper_votes_total{support}). The cursor
 * moves past proposals that are final or voted on; a reorg rewinds it to the start.
 * ProposalCreated events (from the keeper's follower) are logged with the vote the policy would cast.
 */
import { type Address, type PublicClient, type Hex } from "viem";

import type { Addresses } from "../../protocol/addresses.js";
import { ACTION_TYPES } from "../../protocol/actions.js";
import { governorAbi } from "../../protocol/abi.js";
import { shortMessage } from "../common/chain.js";
import type { Logger } from "../common/log.js";
import { clip, PolicyEvaluator, type Decision, type GovernancePolicy, type ProposalAction } from "./policy.js";
import { SafetyError, type SafetyMonitor, type SafetyReason } from "../common/safety.js";
import type { Store } from "../common/store.js";
import { TxRevertedError, type TxSender } from "../common/txs.js";
import { PROPOSAL_STATES, SUPPORT_CODES, type ProposalState, type Support } from "../../protocol/enums.js";

/** GovernorCountingSimple.VoteType. */

const GOVERN = ACTION_TYPES.govern;
/** The store flag that holds the index of the first proposal not yet settled (final, or voted on). */
export const CURSOR_FLAG = "governance-cursor";
/** The store flag of this keeper's vote on a proposal (JSON: VoteRecord). */
export const voteFlag = (proposalId: bigint): string => `governance-vote:${proposalId}`;
/** The vote's idempotency key in the TxSender. */
export const voteKey = (proposalId: bigint): string => `vote:${proposalId}`;

// ---------------------------------------------------------------- the voter

/** The chain reads the voter needs. */
export type VoterChain = Pick<PublicClient, "readContract">;

export interface GovernanceVoterOptions {
  publicClient: VoterChain;
  /** The deployment's addresses: the governor's, and the policy's targets by key. */
  addresses: Addresses;
  /** The agent address the keeper votes as. */
  account: Address;
  policy: GovernancePolicy;
  txs: Pick<TxSender, "send" | "retire">;
  safety: Pick<SafetyMonitor, "check" | "record">;
  store: Store;
  logger: Logger;
  metrics?: { vote(support: Support): void };
  /** Gas charged to the daily gas budget per vote (default 300 000). */
  gasEstimate?: bigint;
}

/** What the keeper did about one proposal. */
export type VoteOutcome =
  | {
      kind: "voted";
      proposalId: bigint;
      support: Support;
      rule: string;
      reason: string;
      hash: Hex;
      /** False when the vote transaction was sent before (under the same key) and only awaited now. */
      fresh: boolean;
    }
  | { kind: "already-voted"; proposalId: bigint }
  | { kind: "not-active"; proposalId: bigint; state: ProposalState }
  | { kind: "skipped"; proposalId: bigint; reason: string }
  | { kind: "refused"; proposalId: bigint; safety: SafetyReason; message: string }
  | { kind: "failed"; proposalId: bigint; message: string };

/** The store's record of a vote (flag `governance-vote:<id>`). */
export interface VoteRecord {
  support: Support | "unknown";
  rule: string;
  reason: string;
  hash: Hex | null;
  blockNumber: string | null;
  at: number;
}

export class GovernanceVoter {
  readonly evaluator: PolicyEvaluator;
  readonly #o: GovernanceVoterOptions;
  readonly #logger: Logger;
  readonly #gas: bigint;
  /** Proposals the policy skips, logged once per process. */
  readonly #skipped = new Set<bigint>();
  /** Descriptions seen in ProposalCreated events, for the vote's log line. */
  readonly #titles = new Map<bigint, string>();
  #running: Promise<unknown> = Promise.resolve();

  constructor(options: GovernanceVoterOptions) {
    this.#o = options;
    this.#logger = options.logger.child({ module: "voter" });
    this.#gas = options.gasEstimate ?? 300_000n;
    this.evaluator = new PolicyEvaluator(options.policy, options.addresses);
  }

  get governor(): Address {
    return this.#o.addresses.governor;
  }

  /** The vote the policy would cast on `actions`. */
  decide(actions: readonly ProposalAction[]): Decision {
    return this.evaluator.decide(actions);
  }

  /** A ProposalCreated event: logs the proposal and the vote the policy would cast (the vote waits for Active). */
  onProposalCreated(args: {
    proposalId: bigint;
    proposer: Address;
    targets: readonly Address[];
    values: readonly bigint[];
    calldatas: readonly Hex[];
    voteStart: bigint;
    voteEnd: bigint;
    description: string;
  }): Decision {
    const title = clip(args.description.split("\n")[0] ?? "", 120);
    this.#titles.set(args.proposalId, title);
    const decision = this.decide(toActions(args.targets, args.values, args.calldatas));
    this.#logger.info(
      {
        event: "proposal",
        proposalId: args.proposalId.toString(),
        proposer: args.proposer,
        title,
        voteStart: args.voteStart.toString(),
        voteEnd: args.voteEnd.toString(),
        intended: decision.support,
        rule: decision.rule,
        reason: decision.reason,
      },
      `governance: proposal seen; the policy says ${decision.support}`,
    );
    return decision;
  }

  /** After a reorg: walk every proposal again (a vote may have been orphaned). */
  onReorg(): void {
    this.#o.store.setFlag(CURSOR_FLAG, undefined);
    this.#skipped.clear();
  }

  /** This keeper's recorded vote on `proposalId`, if any. */
  voteRecord(proposalId: bigint): VoteRecord | undefined {
    const raw = this.#o.store.flag(voteFlag(proposalId));
    return raw === undefined ? undefined : (JSON.parse(raw) as VoteRecord);
  }

  /**
   * Walks the proposals from the cursor and votes on each Active one not yet voted on. Runs one at a time (a
   * second call waits for the first). Throws only when the chain cannot be read.
   */
  run(): Promise<VoteOutcome[]> {
    const next = this.#running.then(() => this.#scan());
    this.#running = next.catch(() => undefined);
    return next;
  }

  /** Resolves when no run is in progress (for shutdown). */
  async idle(): Promise<void> {
    await this.#running;
  }

  async #scan(): Promise<VoteOutcome[]> {
    const { publicClient: client, store } = this.#o;
    const count = await client.readContract({
      address: this.governor,
      abi: governorAbi,
      functionName: "proposalCount",
    });
    let cursor = BigInt(store.flag(CURSOR_FLAG) ?? "0");
    if (cursor > count) cursor = 0n; // another chain, or a reorg took proposals away
    const outcomes: VoteOutcome[] = [];
    let advancing = true;
    for (let index = cursor; index < count; index++) {
      const [proposalId, targets, values, calldatas] = await client.readContract({
        address: this.governor,
        abi: governorAbi,
        functionName: "proposalDetailsAt",
        args: [index],
      });
      const outcome = await this.consider(proposalId, toActions(targets, values, calldatas));
      outcomes.push(outcome);
      const settled =
        outcome.kind === "voted" ||
        outcome.kind === "already-voted" ||
        (outcome.kind === "not-active" && outcome.state !== "pending");
      if (advancing && settled) store.setFlag(CURSOR_FLAG, (index + 1n).toString());
      else advancing = false;
    }
    return outcomes;
  }

  /** Votes on one proposal if it is Active, not yet voted on, the policy votes and the safety monitor allows it. */
  async consider(proposalId: bigint, actions: readonly ProposalAction[]): Promise<VoteOutcome> {
    const { publicClient: client, account } = this.#o;
    const id = proposalId.toString();
    const stateCode = await client.readContract({
      address: this.governor,
      abi: governorAbi,
      functionName: "state",
      args: [proposalId],
    });
    const state = PROPOSAL_STATES[stateCode] ?? "pending";
    if (state !== "active") return { kind: "not-active", proposalId, state };
    const voted = await client.readContract({
      address: this.governor,
      abi: governorAbi,
      functionName: "hasVoted",
      args: [proposalId, account],
    });
    if (voted) {
      if (this.voteRecord(proposalId) === undefined) {
        this.#remember(proposalId, { support: "unknown", rule: "", reason: "voted outside this keeper's store" });
      }
      return { kind: "already-voted", proposalId };
    }

    const decision = this.decide(actions);
    const fields = { proposalId: id, title: this.#titles.get(proposalId), rule: decision.rule };
    if (decision.support === "skip") {
      if (!this.#skipped.has(proposalId)) {
        this.#skipped.add(proposalId);
        this.#logger.info({ ...fields, event: "vote-skipped", reason: decision.reason }, "governance: not voting");
      }
      return { kind: "skipped", proposalId, reason: decision.reason };
    }
    const support = decision.support;
    const key = voteKey(proposalId);
    try {
      await this.#o.safety.check({ actionType: GOVERN, value: 0n, gasEstimate: this.#gas, label: key });
    } catch (error) {
      if (!(error instanceof SafetyError)) throw error;
      this.#logger.warn(
        { ...fields, event: "vote-refused", support, safety: error.reason, err: error.message },
        "governance: the safety monitor refused the vote",
      );
      return { kind: "refused", proposalId, safety: error.reason, message: error.message };
    }
    try {
      const tx = await this.#o.txs.send({
        key,
        address: this.governor,
        abi: governorAbi,
        functionName: "castVoteWithReason",
        args: [proposalId, SUPPORT_CODES[support], decision.reason],
      });
      this.#o.safety.record({ actionType: GOVERN, value: 0n });
      this.#remember(proposalId, {
        support,
        rule: decision.rule,
        reason: decision.reason,
        hash: tx.hash,
        blockNumber: tx.blockNumber.toString(),
      });
      this.#o.metrics?.vote(support);
      this.#logger.info(
        { ...fields, event: "vote", support, reason: decision.reason, tx: tx.hash, fresh: tx.fresh },
        `governance: voted ${support} on proposal ${id}`,
      );
      return {
        kind: "voted",
        proposalId,
        support,
        rule: decision.rule,
        reason: decision.reason,
        hash: tx.hash,
        fresh: tx.fresh,
      };
    } catch (error) {
      // A mined revert keeps its key taken: free it, the next run re-checks the chain and decides again.
      if (error instanceof TxRevertedError && error.hash !== undefined) this.#o.txs.retire(key);
      const message = shortMessage(error);
      this.#logger.warn({ ...fields, event: "vote-failed", support, err: message }, "governance: vote not cast");
      return { kind: "failed", proposalId, message };
    }
  }

  #remember(
    proposalId: bigint,
    record: Pick<VoteRecord, "support" | "rule" | "reason"> & Partial<Pick<VoteRecord, "hash" | "blockNumber">>,
  ): void {
    const full: VoteRecord = { hash: null, blockNumber: null, ...record, at: Date.now() };
    this.#o.store.setFlag(voteFlag(proposalId), JSON.stringify(full));
  }
}

function toActions(
  targets: readonly Address[],
  values: readonly bigint[],
  calldatas: readonly Hex[],
): ProposalAction[] {
  return targets.map((target, i) => ({ target, value: values[i] ?? 0n, calldata: calldatas[i] ?? "0x" }));
}
