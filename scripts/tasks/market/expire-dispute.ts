import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
}

/**
 * Anyone ends a dispute nobody resolved in time: the client gets its whole escrow back, the provider keeps its stake
 * and reputation, no fee is taken.
 */
export default async function expireDispute(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const { marketplace } = protocol;
    const receipt = await confirm("expireDispute", marketplace.expireDispute(workloadId));
    for (const log of receipt.logs) {
      const parsed = marketplace.interface.parseLog(log);
      if (parsed?.name === "DisputeExpired") {
        const [, refund] = parsed.args as unknown as [bigint, bigint];
        console.log(`workload #${workloadId}: dispute expired unresolved; ${aitbc(refund)} back to the client`);
      }
    }
  });
}
