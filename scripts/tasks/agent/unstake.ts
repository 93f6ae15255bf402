import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger, parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agentId: string;
  amount: string;
}

export default async function requestUnstake(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agentId = parseInteger("agentId", args.agentId, { min: 1n });
    const { registry } = protocol;
    const amount = args.amount === "all" ? await registry.stakeOf(agentId) : parseTokenAmount("amount", args.amount);
    await confirm("requestUnstake", registry.requestUnstake(agentId, amount));
    const a = await registry.getAgent(agentId);
    const at = new Date(Number(a.withdrawableAt) * 1000).toISOString();
    console.log(
      `agent #${agentId}: ${aitbc(a.pendingWithdrawal)} unbonding, withdrawable at ${at}; stake left ${aitbc(a.stake)}`,
    );
  });
}
