/** Human-readable renderings of protocol state, shared by tasks and the demo. */
import { decodeBytes32String, formatUnits } from "ethers";

import type { IAgentConstitution, IAgentRegistry } from "../../typechain-types/index.js";
import { describeMask } from "../../protocol/actions.js";
import { AGENT_STATUSES, AGENT_TYPES } from "../../protocol/enums.js";

/** A bytes32 label as text when it is a bytes32 string, else as hex. */
export function label(value: string): string {
  try {
    return decodeBytes32String(value);
  } catch {
    return value;
  }
}

export const aitbc = (wei: bigint) => `${formatUnits(wei, 18)} AITBC`;

/** A unix time as an ISO date ("-" for 0, the contracts' "never"). */
export const date = (t: bigint | number) => (BigInt(t) === 0n ? "-" : new Date(Number(t) * 1000).toISOString());

export function formatAgent(a: IAgentRegistry.AgentViewStructOutput, balance: bigint, active: boolean): string {
  const when = date;
  return [
    `agent #${a.agentId} ${a.agent}`,
    `  operator        ${a.operator}`,
    `  type            ${AGENT_TYPES[Number(a.agentType)] ?? a.agentType}`,
    `  status          ${AGENT_STATUSES[Number(a.status)] ?? a.status}${active ? " (active: staked enough)" : ""}`,
    `  reputation      ${a.reputation} / 1000`,
    `  stake           ${aitbc(a.stake)} (required ${aitbc(a.requiredStake)})`,
    `  pending         ${aitbc(a.pendingWithdrawal)} (withdrawable at ${when(a.withdrawableAt)})`,
    `  daily volume    ${aitbc(a.expectedDailyVolume)} declared`,
    `  wallet balance  ${aitbc(balance)}`,
    `  version         ${a.version}`,
    `  endpoint        ${a.endpoint}`,
    `  metadata        ${a.metadataURI}`,
    `  capabilities    ${a.capabilities.length === 0 ? "-" : a.capabilities.map(label).join(", ")}`,
    `  registered      ${when(a.registeredAt)}`,
  ].join("\n");
}

export function formatConstraints(
  c: IAgentConstitution.ConstraintsStructOutput,
  usage: IAgentConstitution.UsageStructOutput,
  bondedVolume: bigint,
): string {
  const inForce = bondedVolume < c.maxDailyVolume ? bondedVolume : c.maxDailyVolume;
  return [
    `  constitution    max stake ${aitbc(c.maxStake)}, max daily volume ${aitbc(c.maxDailyVolume)}, max gas/day ${c.maxGasPerDay}`,
    `                  stake backs ${aitbc(bondedVolume)} a day: ${aitbc(inForce)} a day in force`,
    `                  allowed: ${describeMask(c.allowedActions)}; human approval: ${describeMask(c.humanApprovalActions)}`,
    `  today (UTC)     volume ${aitbc(usage.volume)}, gas ${usage.gas}`,
  ].join("\n");
}
