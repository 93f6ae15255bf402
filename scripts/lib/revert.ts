/**
 * A decoded revert or event in the operator's terms: amounts in AITBC, times as dates, enum values, action types, roles and
 * labels by name. The formatting follows each argument's ABI type (enums by their internalType in protocol/abi.ts)
 * and name (amounts and times are uint256 / uint64 without a unit in the ABI).
 */
import { formatUnits, type ErrorDescription, type LogDescription } from "ethers";

import * as abis from "../../protocol/abi.js";
import { actionName, describeMask } from "../../protocol/actions.js";
import {
  AGENT_STATUSES,
  AGENT_TYPES,
  enumName,
  EXECUTION_STATUSES,
  OVERRIDE_DECISIONS,
  PROPOSAL_STATES,
  VERIFICATION_LEVELS,
  WORKLOAD_STATUSES,
  WORKLOAD_VERIFICATION_LEVELS,
} from "../../protocol/enums.js";
import { aitbc, date, label } from "./format.js";
import { roleName } from "./roles.js";

/** Solidity enum (internalType without "enum ") -> its names. */
const ENUMS: Record<string, readonly string[]> = {
  "IAgentRegistry.AgentStatus": AGENT_STATUSES,
  "IAgentRegistry.AgentType": AGENT_TYPES,
  "IServiceMarketplace.WorkloadStatus": WORKLOAD_STATUSES,
  "IServiceMarketplace.VerificationLevel": WORKLOAD_VERIFICATION_LEVELS,
  "IWorkflows.ExecutionStatus": EXECUTION_STATUSES,
  "IWorkflows.VerificationLevel": VERIFICATION_LEVELS,
  "IGovernor.ProposalState": PROPOSAL_STATES,
  "IHumanOverride.Decision": OVERRIDE_DECISIONS,
};

/** uint256 arguments that are token amounts (18 decimals), by name. */
const AMOUNTS = new Set([
  "amount",
  "stake",
  "requested",
  "remaining",
  "required",
  "maxSlash",
  "balance",
  "needed",
  "allowance",
  "budget",
  "maxBudget",
  "spent",
  "fee",
  "maxListingFee",
  "maxKeeperFee",
  "pricePerUnit",
  "maxPricePerUnit",
  "newStake",
  "maxStake",
  "maxDailyVolume",
  "declaredDailyVolume",
  "increasedSupply",
  "cap",
]);

/** uint256 event fields that are token amounts too (a Transfer's value; errors name theirs as above). */
const EVENT_AMOUNTS = new Set([
  "value",
  "totalStake",
  "pendingWithdrawal",
  "fromStake",
  "fromPending",
  "cost",
  "refund",
  "escrow",
  "price",
  "executionPrice",
  "subscriptionPrice",
  "expectedDailyVolume",
  "bondedDailyVolume",
  "minStake",
]);

/** Arguments that are voting power (18 decimals). */
const VOTES = new Set([
  "votes",
  "threshold",
  "power",
  "held",
  "oldPower",
  "newPower",
  "weight",
  "previousVotes",
  "newVotes",
]);

/** Error or event ("event:Name") name -> internalType of each input, from every protocol ABI. */
const INTERNAL_TYPES = new Map<string, readonly string[]>();
for (const abi of Object.values(abis)) {
  for (const item of abi as readonly { type: string; name?: string; inputs?: readonly { internalType?: string }[] }[]) {
    if ((item.type === "error" || item.type === "event") && item.name !== undefined) {
      INTERNAL_TYPES.set(
        item.type === "event" ? `event:${item.name}` : item.name,
        (item.inputs ?? []).map((i) => i.internalType ?? ""),
      );
    }
  }
}

function formatArg(
  error: string,
  name: string,
  type: string,
  internalType: string,
  value: unknown,
  event = false,
): string {
  if (internalType.startsWith("enum ")) {
    const names = ENUMS[internalType.slice(5)];
    return names ? enumName(names, value as bigint) : String(value);
  }
  if (error === "GovernorUnexpectedProposalState" && name === "expectedStates") {
    const bits = BigInt(value as string);
    return PROPOSAL_STATES.filter((_, i) => (bits >> BigInt(i)) & 1n).join("|") || "none";
  }
  if (name === "actionType") return actionName(value as bigint);
  if (type === "uint48") return describeMask(value as bigint); // action masks
  if (type === "bytes32" && (name === "neededRole" || name === "role")) return roleName(value as string);
  if (type === "bytes32" && name === "serviceId") return label(value as string);
  if (/Gas/.test(error)) return String(value); // gas, not AITBC
  if (
    type === "uint256" &&
    (AMOUNTS.has(name) ||
      (event && EVENT_AMOUNTS.has(name)) ||
      (error.includes("Volume") && ["usedToday", "value"].includes(name)))
  )
    return aitbc(value as bigint);
  if (type === "uint256" && VOTES.has(name)) return `${formatUnits(value as bigint, 18)} votes`;
  if ((type === "uint64" || name === "timestamp") && /(At|deadline|Deadline|timestamp|^until)$/.test(name))
    return date(value as bigint);
  return String(value);
}

/** "ErrorName(arg=value, ...)" with each value in the operator's terms. */
export function formatRevert(parsed: ErrorDescription): string {
  const internalTypes = INTERNAL_TYPES.get(parsed.name) ?? [];
  const args = parsed.fragment.inputs.map(
    (input, i) =>
      `${input.name}=${formatArg(parsed.name, input.name, input.type, internalTypes[i] ?? "", parsed.args[i])}`,
  );
  return `${parsed.name}(${args.join(", ")})`;
}

/** "EventName(arg=value, ...)" with each value in the operator's terms (as {formatRevert} does for errors). */
export function formatEvent(parsed: LogDescription): string {
  const internalTypes = INTERNAL_TYPES.get(`event:${parsed.name}`) ?? [];
  const args = parsed.fragment.inputs.map(
    (input, i) =>
      `${input.name}=${formatArg(parsed.name, input.name, input.type, internalTypes[i] ?? "", parsed.args[i], true)}`,
  );
  return `${parsed.name}(${args.join(", ")})`;
}
