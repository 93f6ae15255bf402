import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseAddress, required } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agent: string;
  reason: string;
}

export default async function freeze(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agent = parseAddress("agent", args.agent);
    const reason = required("reason", args.reason);
    await confirm("freeze", protocol.humanOverride.freeze(agent, reason));
    console.log(`${agent} frozen ("${reason}"): it can only exit now`);
  });
}
