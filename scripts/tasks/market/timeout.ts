import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
}

/** Anyone: a workload whose provider missed its deadline is slashed and reopened or refunded. */
export default async function timeout(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const { marketplace } = protocol;
    const receipt = await confirm("claimTimeout", marketplace.claimTimeout(workloadId));
    for (const log of receipt.logs) {
      const parsed = marketplace.interface.parseLog(log);
      if (parsed?.name === "AssignmentFailed") {
        const [, providerId, slashed, reopened] = parsed.args as unknown as [bigint, bigint, bigint, boolean];
        console.log(
          `workload #${workloadId}: agent #${providerId} slashed ${aitbc(slashed)}; ` +
            (reopened ? "reopened for bids" : "escrow refunded to the client"),
        );
      }
    }
  });
}
