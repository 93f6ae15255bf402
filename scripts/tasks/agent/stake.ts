import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  amount: string;
}

export default async function stake(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const amount = parseTokenAmount("amount", args.amount);
    const { token, registry } = protocol;
    const agentId = await registry.getAgentId(signer.address);
    const registryAddress = await registry.getAddress();
    const active = (await registry.statusOf(agentId)) === 1n; // approve only for an agent that may stake
    if (active && (await token.allowance(signer.address, registryAddress)) < amount) {
      await confirm("approve", token.approve(registryAddress, amount));
    }
    await confirm("stake", registry.stake(amount));
    const total = await registry.stakeOf(agentId);
    console.log(
      `agent #${agentId} staked ${aitbc(amount)}; total ${aitbc(total)}; active: ${await registry.isActive(agentId)}`,
    );
  });
}
