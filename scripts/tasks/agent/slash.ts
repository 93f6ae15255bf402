import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger, parseTokenAmount, required } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agentId: string;
  amount: string;
  reason: string;
}

export default async function slash(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agentId = parseInteger("agentId", args.agentId, { min: 1n });
    const amount = parseTokenAmount("amount", args.amount);
    const reason = required("reason", args.reason);
    const { registry } = protocol;
    await confirm("slash", registry.slash(agentId, amount, reason));
    const a = await registry.getAgent(agentId);
    console.log(`agent #${agentId} slashed ${aitbc(amount)} to treasury ${await registry.treasury()} ("${reason}")`);
    console.log(`left: stake ${aitbc(a.stake)}, pending ${aitbc(a.pendingWithdrawal)}`);
  });
}
