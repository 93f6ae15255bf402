import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseHash, parseInteger } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
  reason: string;
}

/** The client (--from) rejects a submitted result within the challenge window: a dispute opens. */
export default async function dispute(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    await confirm("reject", protocol.marketplace.reject(workloadId, parseHash("reason", args.reason)));
    console.log(`workload #${workloadId} disputed: a validator agent or a guardian resolves it`);
  });
}
