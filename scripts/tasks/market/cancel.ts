import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
}

/**
 * The client cancels an open (unawarded) workload and gets its whole escrow back: at any time while it is open, and
 * the only way out once the award window has closed.
 */
export default async function cancel(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const { marketplace } = protocol;
    const receipt = await confirm("cancelWorkload", marketplace.cancelWorkload(workloadId));
    for (const log of receipt.logs) {
      const parsed = marketplace.interface.parseLog(log);
      if (parsed?.name === "WorkloadCancelled") {
        const [, refund] = parsed.args as unknown as [bigint, bigint];
        console.log(`workload #${workloadId} cancelled; ${aitbc(refund)} refunded to the client`);
      }
    }
  });
}
