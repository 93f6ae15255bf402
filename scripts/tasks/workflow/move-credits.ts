import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseAddress } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  key: string;
}

/** Moves the Workflows credits left at a rotated agent's retired key to the agent's current key (anyone may). */
export default async function moveCredits(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ protocol }) => {
    const { workflows } = protocol;
    const key = parseAddress("key", args.key);
    const amount = await workflows.moveCredits.staticCall(key);
    await confirm("moveCredits", workflows.moveCredits(key));
    console.log(`moved ${aitbc(amount)} of credits from retired key ${key} to its agent's current key`);
    return amount;
  });
}
