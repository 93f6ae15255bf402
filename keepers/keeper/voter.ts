/**
 * The keeper's governance voter (seed 000's `voteOnProposal(proposalId, support, reasoning)`): it votes on the
 * AITBCGovernor's proposals by a policy in its config, and says why in the vote's reason.
 *
 * The policy is a list of rules over a proposal's actions (target, value, calldata). Each action is decoded with
 * the ABI of the protocol contract it calls (protocol/abi.ts) and given to the rules in order; the first
 * rule whose target, function and parameter bounds all match decides that action (`vote`). A rule whose target
 * and function match but whose bounds do not decides with `otherwise` when it has one, else the next rule is
 * tried. An action no rule decides gets the policy's `default` (abstain, against, or skip: no vote at all).
 * The proposal's vote is then the strictest of its actions' verdicts: against, else skip, else abstain, else
 * for (every action allowed). The reason names the rule (or the default) that decided and the figures, e.g.
 * `against (rule "min-stake-range"): registry.setMinStake(9000…): minStake_ 9000… above max 5000…`.
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
import {
  decodeFunctionData,
  isAddress,
  toFunctionSelector,
  type Abi,
  type AbiFunction,
  type Address,
  type PublicClient,
  type Hex,
} from "viem";

import type { Addresses, ContractKey } from "../../protocol/addresses.js";
import { ACTION_TYPES } from "../../protocol/actions.js";
import {
  agentVotesAbi,
  constitutionAbi,
  governorAbi,
  humanOverrideAbi,
  marketplaceAbi,
  receiptMinterAbi,
  registryAbi,
  timelockAbi,
  tokenAbi,
  workflowsAbi,
} from "../../protocol/abi.js";
import { shortMessage } from "../common/chain.js";
import type { Logger } from "../common/log.js";
import type { GovernanceConfig, GovernanceRule } from "./config.js";
import { SafetyError, type SafetyMonitor, type SafetyReason } from "../common/safety.js";
import type { Store } from "../common/store.js";
import { TxRevertedError, type TxSender } from "../common/txs.js";
import { PROPOSAL_STATES, SUPPORT_CODES, type ProposalState, type Support } from "../../protocol/enums.js";

export type Verdict = Support | "skip";
export type GovernancePolicy = Pick<GovernanceConfig, "rules" | "default">;

/** GovernorCountingSimple.VoteType. */

const GOVERN = ACTION_TYPES.govern;
/** The store flag that holds the index of the first proposal not yet settled (final, or voted on). */
export const CURSOR_FLAG = "governance-cursor";
/** The store flag of this keeper's vote on a proposal (JSON: VoteRecord). */
export const voteFlag = (proposalId: bigint): string => `governance-vote:${proposalId}`;
/** The vote's idempotency key in the TxSender. */
export const voteKey = (proposalId: bigint): string => `vote:${proposalId}`;

const MAX_REASON = 1000;
const MAX_CALL = 200;

/** The ABIs of the protocol contracts a proposal may call, by their deployment key. */
export const PROTOCOL_ABIS: Partial<Record<ContractKey, Abi>> = {
  token: tokenAbi,
  registry: registryAbi,
  constitution: constitutionAbi,
  humanOverride: humanOverrideAbi,
  marketplace: marketplaceAbi,
  workflows: workflowsAbi,
  receiptMinter: receiptMinterAbi,
  agentVotes: agentVotesAbi,
  timelock: timelockAbi,
  governor: governorAbi,
};

// ---------------------------------------------------------------- ABI helpers (shared with config.ts)

/** The functions of `abi` that `ref` names: a name, a signature ("setMinStake(uint256)") or a selector. */
export function functionsOf(abi: Abi, ref: string): AbiFunction[] {
  const functions = abi.filter((item): item is AbiFunction => item.type === "function");
  if (/^0x[0-9a-fA-F]{8}$/.test(ref)) return functions.filter((f) => toFunctionSelector(f) === ref.toLowerCase());
  if (ref.includes("(")) {
    const selector = toFunctionSelector(ref);
    return functions.filter((f) => toFunctionSelector(f) === selector);
  }
  return functions.filter((f) => f.name === ref);
}

/**
 * The index of the input `name` names: an index ("0"), the exact name, or the name without Solidity's
 * conventional underscore ("minStake" for `minStake_`, "amount" for `_amount`).
 */
export function inputIndex(fn: AbiFunction, name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name) < fn.inputs.length ? Number(name) : undefined;
  for (const candidate of [name, `${name}_`, `_${name}`]) {
    const i = fn.inputs.findIndex((input) => input.name === candidate);
    if (i >= 0) return i;
  }
  return undefined;
}

/** An integer written as a decimal string ("-5", "5000000") or an amount of AITBC ("2500 AITBC"), in wei. */
export function parseInteger(value: string | number | boolean): bigint | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (typeof value === "boolean") return undefined;
  const text = value.trim();
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const amount = /^(\d+)(?:\.(\d{1,18}))? ?AITBC$/i.exec(text);
  if (!amount) return undefined;
  return BigInt(amount[1] ?? "0") * 10n ** 18n + BigInt((amount[2] ?? "").padEnd(18, "0"));
}

// ---------------------------------------------------------------- the policy

/** One action of a proposal (GovernorStorage.proposalDetails: targets[i], values[i], calldatas[i]). */
export interface ProposalAction {
  target: Address;
  value: bigint;
  calldata: Hex;
}

/** What the policy says about one action. */
export interface ActionVerdict {
  index: number;
  /** The call, readable: `registry.setMinStake(1000000000000000000000)`. */
  call: string;
  vote: Verdict;
  /** The rule that decided, or undefined for the default. */
  rule: string | undefined;
  /** Why, with the figures. */
  detail: string;
}

/** The vote on a whole proposal: the strictest of its actions' verdicts. */
export interface Decision {
  support: Verdict;
  /** The deciding rule's name(s), or "default". */
  rule: string;
  /** The vote's reason, as cast on chain. */
  reason: string;
  actions: ActionVerdict[];
}

type Bound = NonNullable<GovernanceRule["params"]>[string];
type Plain = string | number | boolean;

interface Decoded {
  fn: AbiFunction;
  args: readonly unknown[];
}

/** Evaluates a policy over proposals' actions: pure, no chain access. */
export class PolicyEvaluator {
  readonly policy: GovernancePolicy;
  readonly #addresses: Partial<Record<ContractKey, Address>>;
  readonly #keys = new Map<string, ContractKey>();

  constructor(policy: GovernancePolicy, addresses: Partial<Record<ContractKey, Address>>) {
    this.policy = policy;
    this.#addresses = addresses;
    for (const [key, address] of Object.entries(addresses) as [ContractKey, Address][]) {
      this.#keys.set(address.toLowerCase(), key);
    }
    for (const rule of policy.rules) {
      if (rule.target !== undefined && this.#resolve(rule.target) === undefined) {
        throw new Error(`governance rule ${rule.name}: target ${rule.target} is not in the deployment's addresses`);
      }
    }
  }

  decide(actions: readonly ProposalAction[]): Decision {
    const verdicts = actions.map((action, index) => this.evaluate(action, index));
    const many = verdicts.length > 1;
    for (const vote of ["against", "skip", "abstain"] as const) {
      const hit = verdicts.find((v) => v.vote === vote);
      if (!hit) continue;
      const by = hit.rule === undefined ? "default: no rule matches" : `rule "${hit.rule}"`;
      const where = many ? `, action #${hit.index} of ${verdicts.length}` : "";
      return {
        support: vote,
        rule: hit.rule ?? "default",
        reason: clip(`${vote} (${by}${where}): ${hit.call}: ${hit.detail}`, MAX_REASON),
        actions: verdicts,
      };
    }
    // Every action is allowed by a rule (the default is never "for").
    const rules = [...new Set(verdicts.map((v) => v.rule ?? "default"))];
    const by = `${rules.length > 1 ? "rules" : "rule"} ${rules.map((r) => `"${r}"`).join(", ")}`;
    const details = verdicts.map((v) => `${many ? `#${v.index} ` : ""}${v.call}: ${v.detail}`).join("; ");
    return {
      support: "for",
      rule: rules.join(", "),
      reason: clip(`for (${by}): ${details}`, MAX_REASON),
      actions: verdicts,
    };
  }

  /** The verdict on one action: the first rule that decides it, else the default. */
  evaluate(action: ProposalAction, index = 0): ActionVerdict {
    const decoded = this.#decode(action);
    const call = this.#describe(action, decoded);
    // Rules bound calls, not payments: an action that sends ether is never voted for.
    if (action.value !== 0n) {
      return {
        index,
        call,
        vote: "against",
        rule: undefined,
        detail: `sends ${action.value} wei, which no rule covers`,
      };
    }
    const passed: string[] = [];
    for (const rule of this.policy.rules) {
      if (!this.#matchesCall(rule, action, decoded)) continue;
      if (rule.params === undefined) return { index, call, vote: rule.vote, rule: rule.name, detail: "matches" };
      const check = this.#checkParams(rule.params, decoded);
      if (check.ok) return { index, call, vote: rule.vote, rule: rule.name, detail: check.detail };
      if (rule.otherwise !== undefined) {
        return { index, call, vote: rule.otherwise, rule: rule.name, detail: check.detail };
      }
      passed.push(`rule "${rule.name}": ${check.detail}`);
    }
    const detail = passed.length === 0 ? "no rule matches" : `no rule matches (${passed.join("; ")})`;
    return { index, call, vote: this.policy.default, rule: undefined, detail };
  }

  #resolve(target: string): string | undefined {
    if (/^0x[0-9a-fA-F]{40}$/.test(target)) return target.toLowerCase();
    return this.#addresses[target as ContractKey]?.toLowerCase();
  }

  #matchesCall(rule: GovernanceRule, action: ProposalAction, decoded: Decoded | undefined): boolean {
    if (rule.target !== undefined && this.#resolve(rule.target) !== action.target.toLowerCase()) return false;
    const ref = rule.function;
    if (ref === undefined) return true;
    const selector = action.calldata.slice(0, 10).toLowerCase();
    if (/^0x[0-9a-fA-F]{8}$/.test(ref)) return selector === ref.toLowerCase();
    if (ref.includes("(")) return selector === toFunctionSelector(ref);
    return decoded?.fn.name === ref;
  }

  #checkParams(params: Record<string, Bound>, decoded: Decoded | undefined): { ok: boolean; detail: string } {
    if (decoded === undefined) return { ok: false, detail: "the call's parameters cannot be decoded" };
    const held: string[] = [];
    for (const [name, bound] of Object.entries(params)) {
      const found = lookup(decoded, name);
      if (!found.ok) return { ok: false, detail: `no parameter ${name}` };
      const failure = this.#violation(name, found.value, bound);
      if (failure !== undefined) return { ok: false, detail: failure };
      held.push(`${name} ${this.#format(found.value)} ${describeBound(bound, (v) => this.#format(v))}`);
    }
    return { ok: true, detail: held.join(", ") };
  }

  /** Why `value` breaks `bound`, or undefined when it holds. */
  #violation(name: string, value: unknown, bound: Bound): string | undefined {
    const shown = this.#format(value);
    if (bound.min !== undefined || bound.max !== undefined) {
      const n = typeof value === "bigint" ? value : typeof value === "number" ? BigInt(value) : undefined;
      if (n === undefined) return `${name} ${shown} is not a number`;
      if (bound.min !== undefined && n < bound.min) return `${name} ${shown} below min ${bound.min}`;
      if (bound.max !== undefined && n > bound.max) return `${name} ${shown} above max ${bound.max}`;
    }
    if (bound.eq !== undefined && !this.#same(value, bound.eq)) return `${name} ${shown} is not ${String(bound.eq)}`;
    if (bound.in !== undefined && !bound.in.some((v) => this.#same(value, v))) {
      return `${name} ${shown} is not one of ${bound.in.map(String).join(", ")}`;
    }
    return undefined;
  }

  #same(value: unknown, expected: Plain): boolean {
    if (typeof value === "bigint" || typeof value === "number") return parseInteger(expected) === BigInt(value);
    if (typeof value === "boolean") return String(value) === String(expected);
    if (typeof value !== "string" || typeof expected !== "string") return false;
    if (isAddress(value, { strict: false })) {
      const resolved = this.#resolve(expected) ?? expected.toLowerCase();
      return value.toLowerCase() === resolved;
    }
    return value.startsWith("0x") ? value.toLowerCase() === expected.toLowerCase() : value === expected;
  }

  #decode(action: ProposalAction): Decoded | undefined {
    const key = this.#keys.get(action.target.toLowerCase());
    const abi = key === undefined ? undefined : PROTOCOL_ABIS[key];
    if (abi === undefined || action.calldata.length < 10) return undefined;
    try {
      const { args } = decodeFunctionData({ abi, data: action.calldata });
      const selector = action.calldata.slice(0, 10).toLowerCase();
      const fn = functionsOf(abi, selector)[0];
      return fn === undefined ? undefined : { fn, args: args ?? [] };
    } catch {
      return undefined;
    }
  }

  #describe(action: ProposalAction, decoded: Decoded | undefined): string {
    const target = this.#keys.get(action.target.toLowerCase()) ?? action.target;
    const value = action.value === 0n ? "" : `{value: ${action.value}}`;
    let call: string;
    if (decoded) call = `${target}.${decoded.fn.name}${value}(${decoded.args.map((a) => this.#format(a)).join(", ")})`;
    else if (action.calldata.length < 10) call = `${target}${value || "{value: 0}"}()`;
    else call = `${target}.${action.calldata.slice(0, 10)}${value}(…)`;
    return clip(call, MAX_CALL);
  }

  #format(value: unknown): string {
    if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return String(value);
    if (typeof value === "string") {
      if (isAddress(value, { strict: false })) return this.#keys.get(value.toLowerCase()) ?? value;
      return value.startsWith("0x") ? clip(value, 20) : JSON.stringify(clip(value, 40));
    }
    if (Array.isArray(value)) return `[${value.map((v) => this.#format(v)).join(", ")}]`;
    if (typeof value === "object" && value !== null) {
      return `{${Object.entries(value)
        .map(([k, v]) => `${k}: ${this.#format(v)}`)
        .join(", ")}}`;
    }
    return String(value);
  }
}

/** The decoded argument at `path`: an input (by name or index), then fields or indexes ("schedule.base"). */
function lookup(decoded: Decoded, path: string): { ok: true; value: unknown } | { ok: false } {
  const [first = "", ...rest] = path.split(".");
  const i = inputIndex(decoded.fn, first);
  if (i === undefined) return { ok: false };
  let value: unknown = decoded.args[i];
  for (const segment of rest) {
    if (Array.isArray(value) && /^\d+$/.test(segment)) value = (value as unknown[])[Number(segment)];
    else if (typeof value === "object" && value !== null && segment in value)
      value = (value as Record<string, unknown>)[segment];
    else return { ok: false };
    if (value === undefined) return { ok: false };
  }
  return { ok: true, value };
}

function describeBound(bound: Bound, format: (v: unknown) => string): string {
  const parts: string[] = [];
  if (bound.min !== undefined && bound.max !== undefined) parts.push(`within [${bound.min}, ${bound.max}]`);
  else if (bound.min !== undefined) parts.push(`>= ${bound.min}`);
  else if (bound.max !== undefined) parts.push(`<= ${bound.max}`);
  if (bound.eq !== undefined) parts.push(`= ${format(bound.eq)}`);
  if (bound.in !== undefined) parts.push(`in {${bound.in.map((v) => format(v)).join(", ")}}`);
  return parts.join(", ");
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

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
    this.#logger = options.logger.child({ component: "voter" });
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
