import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { ALL_ACTIONS, DEFAULT_BOUNDS, DEFAULT_CONSTRAINTS } from "../../deploy/modules/Core.js";
import type { IAgentConstitution } from "../../typechain-types/index.js";
import { AITBC, type deployCore } from "../../scripts/lib/deploy.js";
import { ACTION_TYPES } from "../../protocol/actions.js";
import { AGENT_STATUSES, AGENT_TYPES, enumValues, OVERRIDE_DECISIONS } from "../../protocol/enums.js";

export { AITBC, ALL_ACTIONS, DEFAULT_BOUNDS, DEFAULT_CONSTRAINTS };
/** Onboarding on an in-process network (scripts/lib/onboarding.ts, shared with the benchmarks). */
export { mintAitbc, registerAgent, registerAndStake, registration } from "../../scripts/lib/onboarding.js";

/** What {deployCore} returns. */
export type Core = Awaited<ReturnType<typeof deployCore>>;
export type Signer = HardhatEthersSigner;
/** IAgentConstitution.Constraints with bigint fields (so that deep equality against call results works). */
export interface Constraints extends IAgentConstitution.ConstraintsStruct {
  maxStake: bigint;
  maxDailyVolume: bigint;
  maxGasPerDay: bigint;
  allowedActions: bigint;
  humanApprovalActions: bigint;
}

/** ActionTypes.sol (protocol/actions.ts) under the names these tests use; MAX = ActionTypes.MAX_ACTION_TYPES. */
export const ACTION = {
  TRANSFER: ACTION_TYPES.transfer,
  STAKE: ACTION_TYPES.stake,
  UPDATE_PROFILE: ACTION_TYPES["update-profile"],
  MAX: 48,
} as const;
/** IAgentRegistry.AgentType. */
export const AGENT_TYPE = enumValues(AGENT_TYPES);
/** IAgentRegistry.AgentStatus. */
export const STATUS = enumValues(AGENT_STATUSES);
/** IHumanOverride.Decision. */
export const DECISION = enumValues(OVERRIDE_DECISIONS);

export const HOUR = 3600n;
export const DAY = 86_400n;
/** The fixture's unbonding delay (scripts/lib/deploy.ts): the shortest the registry accepts. */
export const UNBONDING_DELAY = 3600n;
/** AgentRegistry.MIN_UNBONDING_DELAY. */
export const MIN_UNBONDING_DELAY = 3600n;
/** Core.ts defaults: 1,000 AITBC minimum stake, bond of 10% of the expected daily volume. */
export const MIN_STAKE = 1_000n * AITBC;
export const BOND_BPS = 1_000n;

/**
 * A daily volume for agents that need to move tokens in a test: the deployment default's maxDailyVolume, so an
 * agent declaring it starts with exactly DEFAULT_CONSTRAINTS (an agent's daily volume limit never exceeds the
 * volume it declared; with 0 declared it can transfer nothing).
 */
export const DECLARED_VOLUME = DEFAULT_CONSTRAINTS.maxDailyVolume;

/** The bit of `actionType` in an action bitmask. */
export function bit(actionType: number): bigint {
  return 1n << BigInt(actionType);
}

/** A constraints struct with the deployment defaults, some fields replaced. */
export function constraints(overrides: Partial<Constraints> = {}): Constraints {
  return { ...DEFAULT_CONSTRAINTS, ...overrides };
}

/** The fields of a Constraints struct in ABI order, for `withArgs` and deep equality on struct outputs. */
export function constraintsTuple(c: Constraints): bigint[] {
  return [c.maxStake, c.maxDailyVolume, c.maxGasPerDay, c.allowedActions, c.humanApprovalActions];
}

/** The constraints an agent declaring `declaredDailyVolume` is enrolled with: the defaults, volume capped. */
export function enrolledConstraints(
  declaredDailyVolume: bigint,
  defaults: Constraints = DEFAULT_CONSTRAINTS,
): Constraints {
  const maxDailyVolume = defaults.maxDailyVolume < declaredDailyVolume ? defaults.maxDailyVolume : declaredDailyVolume;
  return { ...defaults, maxDailyVolume };
}

/** The stake an agent declaring `expectedDailyVolume` needs with the deployment defaults. */
export function requiredStakeFor(expectedDailyVolume: bigint): bigint {
  return MIN_STAKE + (expectedDailyVolume * BOND_BPS) / 10_000n;
}

/** First second of the UTC day after the one containing `timestamp`. */
export function nextUtcDay(timestamp: number | bigint): bigint {
  return (BigInt(timestamp) / DAY + 1n) * DAY;
}
