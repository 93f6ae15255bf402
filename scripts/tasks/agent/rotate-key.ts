import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseAddress, parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";
import { votes } from "../governance/common.js";

interface Args {
  from: string;
  agentId: string;
  newKey: string;
}

/**
 * Moves an agent to a new key (its operator, `--from`): the registry moves the identity, stake, constitution and
 * votes in one transaction (IAgentRegistry.rotateKey), then the old key's Workflows credits are moved to the new key
 * (IWorkflows.moveCredits). The old key is retired for good; what it still holds in its wallet it can no longer move.
 */
export default async function rotateKey(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const agentId = parseInteger("agentId", args.agentId, { min: 1n });
    const newKey = parseAddress("newKey", args.newKey);
    const { registry, workflows, agentVotes, token } = protocol;
    const before = await registry.getAgent(agentId);
    const oldKey = before.agent;
    if (before.operator !== signer.address)
      throw new Error(
        `from: ${signer.address} is not agent #${agentId}'s operator (${before.operator}); only the operator rotates its key`,
      );
    await confirm("rotateKey", registry.rotateKey(agentId, newKey));
    const lines = [
      `agent #${agentId}: key ${oldKey} -> ${newKey} (operator ${before.operator})`,
      `  stake           ${aitbc(before.stake)} (pending ${aitbc(before.pendingWithdrawal)}), reputation ${before.reputation}`,
      `  votes           ${votes(await agentVotes.getVotes(newKey))} held by the new key (its own power ${votes(await agentVotes.powerOf(newKey))}), delegations to it followed`,
    ];
    const credits = await workflows.creditsOf(oldKey);
    if (credits > 0n) {
      await confirm("moveCredits", workflows.moveCredits(oldKey));
      lines.push(`  credits         ${aitbc(credits)} moved to the new key (claim with \`workflow claim\`)`);
    } else lines.push(`  credits         none at the old key`);
    const stranded = await token.balanceOf(oldKey);
    lines.push(
      `  old key         retired: it can do nothing as an agent any more` +
        (stranded > 0n ? `; its wallet's ${aitbc(stranded)} cannot move (a retired key's transfers are refused)` : ""),
    );
    const text = lines.join("\n");
    console.log(text);
    return text;
  });
}
