import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseAddress } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agent: string;
}

export default async function unfreeze(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agent = parseAddress("agent", args.agent);
    await confirm("unfreeze", protocol.humanOverride.unfreeze(agent));
    console.log(`${agent} unfrozen`);
  });
}
