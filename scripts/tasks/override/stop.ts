import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { required } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  reason: string;
}

export default async function stop(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const reason = required("reason", args.reason);
    await confirm("emergencyStop", protocol.humanOverride.emergencyStop(reason));
    console.log(`EMERGENCY STOP ("${reason}"): every state-changing protocol function now reverts`);
  });
}
