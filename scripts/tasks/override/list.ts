import type { BaseContract, EventLog } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { actionName } from "../../../protocol/actions.js";
import { date } from "../../lib/format.js";
import { runTask } from "../context.js";

/**
 * What HumanOverride records: whether the emergency stop is on, the frozen agents, the grants and denials in force,
 * then its history (every grant, denial, revocation, freeze, unfreeze, stop and resume, with its time and guardian).
 */
export default async function list(_args: unknown, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ ethers, protocol }) => {
    const { humanOverride: ho } = protocol;
    const names = [
      "OverrideGranted",
      "OverrideDenied",
      "OverrideRevoked",
      "AgentFrozen",
      "AgentUnfrozen",
      "EmergencyStopped",
      "EmergencyResumed",
    ] as const;
    const base = ho as unknown as BaseContract;
    const events = (await Promise.all(names.map((n) => base.queryFilter(n)))).flat() as EventLog[];
    events.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const now = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0);
    const history: string[] = [];
    const agents = new Set<string>();
    const pairs = new Map<string, [string, bigint]>();
    for (const e of events) {
      const block = await e.getBlock();
      const a = e.args as unknown as unknown[];
      const at = date(block.timestamp);
      switch (e.fragment.name) {
        case "OverrideGranted":
        case "OverrideDenied": {
          const [agent, actionType, guardian, expiresAt] = a as [string, bigint, string, bigint];
          const verb = e.fragment.name === "OverrideGranted" ? "granted" : "denied";
          history.push(`  ${at} ${guardian} ${verb} ${actionName(actionType)} to ${agent} until ${date(expiresAt)}`);
          pairs.set(`${agent}:${actionType}`, [agent, actionType]);
          break;
        }
        case "OverrideRevoked": {
          const [agent, actionType, guardian] = a as [string, bigint, string];
          history.push(`  ${at} ${guardian} revoked the override of ${actionName(actionType)} for ${agent}`);
          break;
        }
        case "AgentFrozen":
          history.push(`  ${at} ${String(a[1])} froze ${String(a[0])} ("${String(a[2])}")`);
          agents.add(String(a[0]));
          break;
        case "AgentUnfrozen":
          history.push(`  ${at} ${String(a[1])} unfroze ${String(a[0])}`);
          break;
        case "EmergencyStopped":
          history.push(`  ${at} ${String(a[0])} stopped the protocol ("${String(a[1])}")`);
          break;
        case "EmergencyResumed":
          history.push(`  ${at} ${String(a[0])} resumed the protocol`);
          break;
      }
    }
    const frozen = [];
    for (const agent of agents) if (await ho.isFrozen(agent)) frozen.push(agent);
    const inForce: string[] = [];
    for (const [agent, actionType] of pairs.values()) {
      const r = await ho.overrideOf(agent, actionType);
      if (r.decision !== 0n && r.expiresAt > now) {
        const verb = r.decision === 1n ? "granted" : "denied";
        inForce.push(`  ${actionName(actionType)} ${verb} to ${agent} until ${date(r.expiresAt)}`);
      }
    }
    const text = [
      `emergency stop: ${(await ho.isStopped()) ? "ON" : "off"}`,
      `frozen agents: ${frozen.length === 0 ? "none" : frozen.join(", ")}`,
      `overrides in force: ${inForce.length}`,
      ...inForce,
      `history: ${history.length} event${history.length === 1 ? "" : "s"}`,
      ...history,
    ].join("\n");
    console.log(text);
    return text;
  });
}
