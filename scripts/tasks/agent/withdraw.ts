import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agentId: string;
}

export default async function withdraw(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agentId = parseInteger("agentId", args.agentId, { min: 1n });
    const { registry } = protocol;
    const a = await registry.getAgent(agentId);
    await confirm("withdraw", registry.withdraw(agentId));
    console.log(`agent #${agentId}: paid ${aitbc(a.pendingWithdrawal)} to operator ${a.operator}`);
  });
}
