/**
 * The safety monitor (the "runtime safety monitor" of the agent framework's safety layer, docs/design.md): the
 * keeper asks it before every action it takes as an agent, and does not act when it refuses.
 *
 * The chain enforces the constitution and the humans' overrides anyway (AgentConstitution.enforce reverts), so
 * why check here too? A refused action then costs nothing (no gas burnt on a revert, no nonce spent, no retry
 * storm), the refusal is explained in the keeper's logs, and the monitor adds what the chain cannot see: the
 * agent's own behaviour. Its anomaly rules (too many actions in an hour, a value far above this agent's average
 * for the action type, an action type it never took) put the keeper in SAFE MODE: it takes no action at all
 * until its operator clears it. Safe mode is a flag in the keeper's store, so a restart does not end it.
 *
 * Checks, in order (the first that fails refuses, with a SafetyError naming it):
 * 1. safe mode;
 * 2. the humans' controls, `HumanOverride.gate`: emergency stop (refuse, not safe mode: it ends when the humans
 *    resume), freeze (the humans froze this agent: enter safe mode), a live denial of this action type;
 * 3. the constitution, as AgentConstitution.enforce applies it: action type allowed, human approval (a live
 *    grant) when the type needs one, daily volume and daily gas in the current UTC day bucket;
 * 4. the anomaly rules over the store's action log (`record` appends to it after each successful action).
 *
 * Every chain read is at one block (the latest), so the checks see one consistent state; a failed read refuses
 * ("chain-unavailable"): the monitor never lets an action through blind.
 */
import { isAddress, type PublicClient, type Hex } from "viem";

import { constitutionAbi, humanOverrideAbi } from "../../protocol/abi.js";
import { shortMessage } from "./chain.js";
import { AitbcError } from "./errors.js";
import { RepeatedLog, type Logger } from "./log.js";
import type { Json } from "../../protocol/values.js";
import type { Store } from "./store.js";

/** The store flag that holds safe mode (JSON: reason, since, details). */
export const SAFE_MODE_FLAG = "safe-mode";
/**
 * The store flag that holds when safe mode was last cleared (ms since the epoch): the rate rule counts only actions
 * after it, so the actions that tripped it do not trip it again at once (the operator's clear is a fresh start).
 */
export const SAFE_MODE_CLEARED_FLAG = "safe-mode-cleared-at";

/**
 * Leaves safe mode in `store` (used by the monitor and by `aitbc keeper --clear-safe-mode` before the keeper runs):
 * removes the flag, notes when (the rate rule's window starts there) and adds a "safe-mode-cleared" alert.
 * Returns the state that was cleared, or undefined when the store was not in safe mode.
 */
export function clearSafeModeIn(store: Store, by: string, now: number = Date.now()): SafeModeState | undefined {
  const raw = store.flag(SAFE_MODE_FLAG);
  if (raw === undefined) return undefined;
  const state = parseSafeMode(raw);
  store.transaction(() => {
    store.setFlag(SAFE_MODE_FLAG, undefined);
    store.setFlag(SAFE_MODE_CLEARED_FLAG, String(now));
    const details: Json = { by, reason: state.reason ?? null, since: state.since ?? null };
    store.addAlert("safe-mode-cleared", clearedMessage(by, state), details);
  });
  return state;
}

function clearedMessage(by: string, state: SafeModeState): string {
  return `safe mode cleared by ${by} (entered for ${state.reason ?? "?"} at ${isoTime(state.since)})`;
}

/** The safe-mode flag's text as a state (an unreadable flag still means safe mode: failing closed is its point). */
function parseSafeMode(raw: string): SafeModeState {
  try {
    const parsed = JSON.parse(raw) as { reason?: unknown; since?: unknown; details?: Json };
    return {
      on: true,
      reason: typeof parsed.reason === "string" ? parsed.reason : raw,
      ...(typeof parsed.since === "number" ? { since: parsed.since } : {}),
      details: parsed.details ?? null,
    };
  } catch {
    return { on: true, reason: raw };
  }
}

/** The anomaly rules; each is also the alert rule and the SafetyError reason when it fires. */
export type AnomalyRule = "too-many-actions" | "value-spike" | "new-action-type";

export type SafetyReason =
  | "invalid-action"
  | "safe-mode"
  | "chain-unavailable"
  | "emergency-stop"
  | "frozen"
  | "denied"
  | "not-allowed"
  | "approval-required"
  | "daily-volume"
  | "daily-gas"
  | AnomalyRule;

/**
 * Why the monitor refused an action: `reason` is a stable code, the message says it with the figures. Retryable:
 * the same action may pass later (the humans resume, the day rolls over, the operator clears safe mode), except an
 * invalid action, which is definitive (a caller's bug).
 */
export class SafetyError extends AitbcError {
  override name = "SafetyError";
  readonly reason: SafetyReason;
  readonly details: Json;

  constructor(reason: SafetyReason, message: string, details: Json = null) {
    super(message);
    this.reason = reason;
    this.details = details;
  }

  get retryable(): boolean {
    return this.reason !== "invalid-action";
  }
}

export interface SafetyRules {
  /** More actions than this within the last hour (the one checked included) is an anomaly. Default 1000. */
  maxActionsPerHour: number;
  /** A value above this many times the average value of earlier actions of its type is an anomaly. Default 10. */
  valueFactor: number;
  /** The new-action-type rule applies once the log holds at least this many actions. Default 10. */
  baselineActions: number;
  /** Action types the agent may take for the first time without that being an anomaly. */
  expectedActionTypes: readonly number[];
}

export const DEFAULT_RULES: SafetyRules = {
  maxActionsPerHour: 1500,
  valueFactor: 10,
  baselineActions: 10,
  expectedActionTypes: [],
};

/** The reads the monitor needs from a viem public client. */
export type ChainReader = Pick<PublicClient, "getBlock" | "readContract">;

/** What the monitor reports to a daemon's metrics (the keeper's KeeperMetrics implements it). */
export interface SafetyMetrics {
  safeMode(on: boolean): void;
  alert(rule: string): void;
  rpcError(): void;
}

export interface SafetyMonitorOptions {
  publicClient: ChainReader;
  addresses: { constitution: Hex; humanOverride: Hex };
  /** The agent address the keeper acts as. */
  agent: Hex;
  store: Store;
  logger: Logger;
  metrics?: SafetyMetrics;
  rules?: Partial<SafetyRules>;
  /** Wall clock (ms since the epoch) for the action log; default Date.now. */
  now?: () => number;
}

/** An action the keeper is about to take. */
export interface ProposedAction {
  /** ActionTypes.sol value (0..255; only 0..47 can ever be allowed). */
  actionType: number;
  /** Token value the action moves (wei), as the module charges it to the daily volume. */
  value: bigint;
  /** Gas the action will use, charged to the daily gas budget. */
  gasEstimate: bigint;
  /** What the action is, for logs and errors (e.g. "claim:7"). */
  label: string;
}

export interface SafeModeState {
  on: boolean;
  reason?: string;
  /** When safe mode was entered (ms since the epoch). */
  since?: number;
  details?: Json;
}

/** IHumanOverride.Decision. */
const DECISION = { None: 0, Granted: 1, Denied: 2 } as const;
/** ActionTypes.MAX: bitmasks hold types 0..47. */
const MAX_ACTION_TYPES = 48;
const HOUR_MS = 3_600_000;
const DAY_SECONDS = 86_400n;
/** valueFactor is applied in fixed point with this scale (so 2.5 works), keeping the comparison exact. */
const FACTOR_SCALE = 1_000_000n;

/** One consistent view of what the chain says about the agent and the action type, at `blockNumber`. */
interface ChainView {
  blockNumber: bigint;
  today: bigint;
  stopped: boolean;
  frozen: boolean;
  decision: number;
  constraints: {
    maxDailyVolume: bigint;
    maxGasPerDay: bigint;
    allowedActions: bigint;
    humanApprovalActions: bigint;
  };
  usage: { day: number; volume: bigint; gas: bigint };
}

export class SafetyMonitor {
  readonly rules: SafetyRules;
  readonly agent: Hex;
  readonly #options: SafetyMonitorOptions;
  readonly #logger: Logger;
  readonly #repeated: RepeatedLog;
  readonly #now: () => number;

  constructor(options: SafetyMonitorOptions) {
    for (const [name, address] of Object.entries({ agent: options.agent, ...options.addresses })) {
      if (!isAddress(address, { strict: false })) {
        throw new Error(`safety: ${name} is not an address (${String(address)})`);
      }
    }
    this.rules = validateRules({ ...DEFAULT_RULES, ...options.rules });
    this.agent = options.agent;
    this.#options = options;
    this.#logger = options.logger.child({ module: "safety" });
    this.#now = options.now ?? Date.now;
    this.#repeated = new RepeatedLog(this.#logger, { now: this.#now });
    const state = this.safeMode();
    options.metrics?.safeMode(state.on);
    if (state.on) this.#logger.warn({ safeMode: state }, "safety: starting in safe mode; the operator must clear it");
  }

  /**
   * Throws SafetyError unless `action` may be taken now (see the file header for the order of the checks).
   * Anomalies and a freeze also put the keeper in safe mode.
   */
  async check(action: ProposedAction): Promise<void> {
    validateAction(action);
    const state = this.safeMode();
    if (state.on) {
      throw this.#refuse(action, "safe-mode", `in safe mode since ${isoTime(state.since)} (${state.reason ?? "?"})`);
    }
    const view = await this.#readChain(action);
    this.#checkOverrides(action, view);
    this.#checkConstitution(action, view);
    this.#checkAnomalies(action);
    this.#logger.debug({ label: action.label, actionType: action.actionType }, "safety: action allowed");
  }

  /** Appends a successful action to the log the anomaly rules read. */
  record(action: { actionType: number; value: bigint; at?: number }): void {
    validateActionType(action.actionType);
    if (action.value < 0n) throw new RangeError(`safety: action value ${action.value} is negative`);
    this.#options.store.recordAction({
      actionType: action.actionType,
      value: action.value,
      at: action.at ?? this.#now(),
    });
  }

  /** Whether the keeper is in safe mode, why and since when (read from the store, so it survives restarts). */
  safeMode(): SafeModeState {
    const raw = this.#options.store.flag(SAFE_MODE_FLAG);
    return raw === undefined ? { on: false } : parseSafeMode(raw);
  }

  /**
   * Enters safe mode (keeps the first reason when already in it) and raises an alert under the rule `reason`:
   * stored, logged at error level with `{ alert: reason }`, counted.
   */
  enterSafeMode(reason: string, details: Json = null, message = `safe mode: ${reason}`): void {
    const { store, metrics } = this.#options;
    const logger = this.#logger;
    if (!this.safeMode().on) {
      store.setFlag(SAFE_MODE_FLAG, JSON.stringify({ reason, since: this.#now(), details }));
    }
    store.addAlert(reason, message, details);
    logger.error({ alert: reason, agent: this.agent, details }, message);
    metrics?.safeMode(true);
    metrics?.alert(reason);
  }

  /** Leaves safe mode (the operator's decision, `by` names who); alerted as "safe-mode-cleared". */
  clearSafeMode(by: string): boolean {
    const { store, metrics } = this.#options;
    const logger = this.#logger;
    const state = clearSafeModeIn(store, by, this.#now());
    if (state === undefined) {
      logger.info({ by }, "safety: clearSafeMode, but not in safe mode");
      return false;
    }
    const details: Json = { by, reason: state.reason ?? null, since: state.since ?? null };
    const message = clearedMessage(by, state);
    logger.warn({ alert: "safe-mode-cleared", agent: this.agent, details }, message);
    metrics?.safeMode(false);
    metrics?.alert("safe-mode-cleared");
    return true;
  }

  // ---------------------------------------------------------------- chain checks

  /**
   * Reads the latest block, then the override gate, the constraints and the day's usage at that block, so
   * every check below sees the same chain state.
   */
  async #readChain(action: ProposedAction): Promise<ChainView> {
    const { publicClient, addresses } = this.#options;
    const agent = this.agent;
    const block = await this.#read(action, "the latest block", () => publicClient.getBlock({ blockTag: "latest" }));
    const blockNumber = block.number;
    const [gate, constraints, bondedVolume, usage] = await Promise.all([
      this.#read(action, "HumanOverride.gate", () =>
        publicClient.readContract({
          address: addresses.humanOverride,
          abi: humanOverrideAbi,
          functionName: "gate",
          args: [agent, action.actionType],
          blockNumber,
        }),
      ),
      this.#read(action, "AgentConstitution.constraintsOf", () =>
        publicClient.readContract({
          address: addresses.constitution,
          abi: constitutionAbi,
          functionName: "constraintsOf",
          args: [agent],
          blockNumber,
        }),
      ),
      this.#read(action, "AgentConstitution.bondedVolumeOf", () =>
        publicClient.readContract({
          address: addresses.constitution,
          abi: constitutionAbi,
          functionName: "bondedVolumeOf",
          args: [agent],
          blockNumber,
        }),
      ),
      this.#read(action, "AgentConstitution.usageOf", () =>
        publicClient.readContract({
          address: addresses.constitution,
          abi: constitutionAbi,
          functionName: "usageOf",
          args: [agent],
          blockNumber,
        }),
      ),
    ]);
    const [stopped, frozen, decision] = gate;
    return {
      blockNumber,
      today: block.timestamp / DAY_SECONDS,
      stopped,
      frozen,
      decision,
      // uint48 fields decode to numbers; the checks mask and add in bigint.
      constraints: {
        // The limit in force: the operator's, capped at what the agent's stake backs.
        maxDailyVolume: constraints.maxDailyVolume < bondedVolume ? constraints.maxDailyVolume : bondedVolume,
        maxGasPerDay: BigInt(constraints.maxGasPerDay),
        allowedActions: BigInt(constraints.allowedActions),
        humanApprovalActions: BigInt(constraints.humanApprovalActions),
      },
      usage,
    };
  }

  /** Runs one chain read; a failure refuses the action as "chain-unavailable", naming the read. */
  async #read<T>(action: ProposedAction, what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      this.#options.metrics?.rpcError();
      throw this.#refuse(
        action,
        "chain-unavailable",
        `cannot read ${what} (${describeError(error)}); not acting blind`,
      );
    }
  }

  /** The humans' controls: emergency stop, freeze (which also enters safe mode), denial. */
  #checkOverrides(action: ProposedAction, view: ChainView): void {
    const at = { block: view.blockNumber.toString() };
    if (view.stopped) {
      throw this.#refuse(action, "emergency-stop", `the protocol is emergency-stopped (block ${at.block})`, at);
    }
    if (view.frozen) {
      const message = `agent ${this.agent} is frozen by the humans (block ${at.block}): entering safe mode`;
      this.enterSafeMode("frozen", { ...at, label: action.label }, message);
      throw this.#refuse(action, "frozen", message, at);
    }
    if (view.decision === DECISION.Denied) {
      const message = `a guardian denies action type ${action.actionType} to ${this.agent} (block ${at.block})`;
      throw this.#refuse(action, "denied", message, at);
    }
  }

  /** AgentConstitution.enforce's checks, against the constraints and the day bucket's usage read at one block. */
  #checkConstitution(action: ProposedAction, view: ChainView): void {
    const { constraints: c, usage } = view;
    const bit = action.actionType < MAX_ACTION_TYPES ? 1n << BigInt(action.actionType) : 0n;
    if ((c.allowedActions & bit) === 0n) {
      const hint = c.allowedActions === 0n ? ` (it allows nothing: is ${this.agent} an enrolled agent?)` : "";
      throw this.#refuse(
        action,
        "not-allowed",
        `the constitution does not allow action type ${action.actionType}${hint}`,
      );
    }
    if ((c.humanApprovalActions & bit) !== 0n && view.decision !== DECISION.Granted) {
      const message = `action type ${action.actionType} needs human approval and no guardian grant is live`;
      throw this.#refuse(action, "approval-required", message);
    }
    // Usage counts only within its UTC day bucket (usageOf already zeroes an older bucket; this states it).
    const today = BigInt(usage.day) === view.today;
    const usedVolume = today ? usage.volume : 0n;
    const usedGas = today ? usage.gas : 0n;
    if (usedVolume + action.value > c.maxDailyVolume) {
      const message = `daily volume: ${usedVolume} used today + ${action.value} > ${c.maxDailyVolume} allowed`;
      throw this.#refuse(action, "daily-volume", message, figures(usedVolume, action.value, c.maxDailyVolume));
    }
    if (usedGas + action.gasEstimate > c.maxGasPerDay) {
      const message = `daily gas: ${usedGas} used today + ${action.gasEstimate} estimated > ${c.maxGasPerDay} allowed`;
      throw this.#refuse(action, "daily-gas", message, figures(usedGas, action.gasEstimate, c.maxGasPerDay));
    }
  }

  // ---------------------------------------------------------------- anomaly rules

  /** Seed 000's detect_anomaly over the action log; the first rule that fires enters safe mode and refuses. */
  #checkAnomalies(action: ProposedAction): void {
    const anomaly = this.#rateAnomaly() ?? this.#valueAnomaly(action) ?? this.#newTypeAnomaly(action);
    if (anomaly === undefined) return;
    const message = `${action.label}: anomaly ${anomaly.rule}: ${anomaly.message}; entering safe mode`;
    const details: Json = { label: action.label, actionType: action.actionType, ...anomaly.details };
    this.enterSafeMode(anomaly.rule, details, message);
    throw this.#refuse(action, anomaly.rule, message, details);
  }

  /**
   * More than maxActionsPerHour actions in the last hour, counting this one; the window starts no earlier than the
   * operator's last clear of safe mode (else the actions that tripped the rule would trip it again at once).
   */
  #rateAnomaly(): Anomaly | undefined {
    const { store } = this.#options;
    const cleared = Number(store.flag(SAFE_MODE_CLEARED_FLAG) ?? 0);
    const from = Math.max(this.#now() - HOUR_MS, Number.isFinite(cleared) ? cleared : 0);
    const count = store.actionCount(from) + 1;
    const max = this.rules.maxActionsPerHour;
    if (count <= max) return undefined;
    return { rule: "too-many-actions", message: `${count} actions within an hour > ${max}`, details: { count, max } };
  }

  /**
   * A value above valueFactor × the average of earlier non-zero values of the same type. Compared exactly in integers:
   * value × count × scale > factor × scale × total.
   */
  #valueAnomaly(action: ProposedAction): Anomaly | undefined {
    if (action.value === 0n) return undefined;
    // Over the earlier actions of the type that moved value: zero-value ones (a claim, a completion) would drag
    // the average down and make an ordinary payment look like a spike.
    const { count, total } = this.#options.store.actionStats(action.actionType, true);
    if (count === 0 || total === 0n) return undefined;
    const factor = BigInt(Math.round(this.rules.valueFactor * Number(FACTOR_SCALE)));
    if (action.value * BigInt(count) * FACTOR_SCALE <= factor * total) return undefined;
    const average = total / BigInt(count);
    return {
      rule: "value-spike",
      message: `value ${action.value} > ${this.rules.valueFactor} × average ${average} (${count} earlier actions)`,
      details: { value: action.value.toString(), average: average.toString(), factor: this.rules.valueFactor, count },
    };
  }

  /** A type never logged, once the log holds a baseline of actions, unless the operator expects it. */
  #newTypeAnomaly(action: ProposedAction): Anomaly | undefined {
    const { store } = this.#options;
    if (this.rules.expectedActionTypes.includes(action.actionType)) return undefined;
    const logged = store.actionCount();
    if (logged < this.rules.baselineActions || store.actionStats(action.actionType).count > 0) return undefined;
    return {
      rule: "new-action-type",
      message: `action type ${action.actionType} was never taken in ${logged} logged actions and is not expected`,
      details: { logged, baseline: this.rules.baselineActions },
    };
  }

  /** Logs a refusal and builds its error (the caller throws it). */
  #refuse(action: ProposedAction, reason: SafetyReason, message: string, details: Json = null): SafetyError {
    const text = `${action.label}: refused (${reason}): ${message}`;
    // The same action refused for the same reason on every retry is logged once, then summarised.
    const fields = { label: action.label, actionType: action.actionType, reason, details };
    this.#repeated.log("warn", `${action.label}:${reason}`, fields, text);
    return new SafetyError(reason, text, details);
  }
}

interface Anomaly {
  rule: AnomalyRule;
  message: string;
  details: Record<string, Json>;
}

/** Rejects rules that would make a check meaningless, naming the field. */
function validateRules(rules: SafetyRules): SafetyRules {
  const { maxActionsPerHour, valueFactor, baselineActions, expectedActionTypes } = rules;
  if (!Number.isInteger(maxActionsPerHour) || maxActionsPerHour < 1) {
    throw new RangeError(`safety rules: maxActionsPerHour must be a positive integer (got ${maxActionsPerHour})`);
  }
  if (!Number.isFinite(valueFactor) || valueFactor <= 0) {
    throw new RangeError(`safety rules: valueFactor must be a positive number (got ${valueFactor})`);
  }
  if (!Number.isInteger(baselineActions) || baselineActions < 0) {
    throw new RangeError(`safety rules: baselineActions must be a non-negative integer (got ${baselineActions})`);
  }
  expectedActionTypes.forEach((t) => {
    validateActionType(t, "safety rules: expectedActionTypes");
  });
  return { maxActionsPerHour, valueFactor, baselineActions, expectedActionTypes: [...expectedActionTypes] };
}

/** An action type is a uint8 on chain; anything else is a bug in the caller, not something to send. */
function validateActionType(actionType: number, where = "safety: actionType"): void {
  if (!Number.isInteger(actionType) || actionType < 0 || actionType > 255) {
    throw new SafetyError("invalid-action", `${where}: ${actionType} is not an action type (0..255)`);
  }
}

function validateAction(action: ProposedAction): void {
  validateActionType(action.actionType, `${action.label}: actionType`);
  if (action.value < 0n) throw new SafetyError("invalid-action", `${action.label}: value ${action.value} is negative`);
  if (action.gasEstimate < 0n) {
    throw new SafetyError("invalid-action", `${action.label}: gasEstimate ${action.gasEstimate} is negative`);
  }
}

/** viem's one-line message, plus its `details` (the transport's own words: "connection refused"...) if it adds any. */
function describeError(error: unknown): string {
  const short = shortMessage(error);
  const details = (error as { details?: unknown } | null)?.details;
  return typeof details === "string" && details !== "" && !short.includes(details) ? `${short}: ${details}` : short;
}

function figures(used: bigint, requested: bigint, limit: bigint): Json {
  return { used: used.toString(), requested: requested.toString(), limit: limit.toString() };
}

function isoTime(ms: number | undefined): string {
  return ms === undefined ? "an unknown time" : new Date(ms).toISOString();
}
