import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
}

export default async function resume(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    await confirm("resume", protocol.humanOverride.resume());
    console.log("protocol resumed");
  });
}
