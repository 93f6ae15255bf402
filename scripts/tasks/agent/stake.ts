import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { sendWithExactApproval } from "../../lib/payment.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  amount: string;
}

export default async function stake(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ ethers, signer, protocol }) => {
    const amount = parseTokenAmount("amount", args.amount);
    const { token, registry } = protocol;
    const agentId = await registry.getAgentId(signer.address);
    // Simulated before the approval of exactly `amount`: a stake the registry refuses approves nothing.
    const call = await registry.stake.populateTransaction(amount);
    const spender = await registry.getAddress();
    const send = () => registry.stake(amount);
    await sendWithExactApproval(ethers, signer, token, spender, amount, "stake", call, send, confirm);
    const total = await registry.stakeOf(agentId);
    console.log(
      `agent #${agentId} staked ${aitbc(amount)}; total ${aitbc(total)}; active: ${await registry.isActive(agentId)}`,
    );
  });
}
