import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { aitbc } from "../../lib/format.js";
import { resolveAccount } from "../../lib/protocol.js";
import { runTask } from "../context.js";

interface Args {
  account: string;
}

/** An account's AITBC: in its wallet, claimable in Workflows (credits), and, for an agent, staked and pending. */
export default async function balance(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ ethers, protocol }) => {
    const account = await resolveAccount(ethers, "account", args.account);
    const { token, workflows, registry } = protocol;
    const lines = [
      account,
      `  wallet          ${aitbc(await token.balanceOf(account))}`,
      `  credits         ${aitbc(await workflows.creditsOf(account))} claimable in Workflows (workflow claim)`,
    ];
    const agentId = await registry.agentIdOf(account);
    if (agentId !== 0n) {
      const a = await registry.getAgent(agentId);
      lines.push(`  agent #${agentId}       staked ${aitbc(a.stake)}, pending ${aitbc(a.pendingWithdrawal)}`);
    }
    const text = lines.join("\n");
    console.log(text);
    return text;
  });
}
