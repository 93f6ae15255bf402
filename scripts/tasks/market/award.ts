import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
  bid: string;
}

/** The client awards bid --bid; without --bid, anyone awards the best bid after the bidding deadline. */
export default async function award(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const { marketplace } = protocol;
    if (args.bid === "") {
      await confirm("autoAward", marketplace.autoAward(workloadId));
    } else {
      await confirm("award", marketplace.award(workloadId, parseInteger("bid", args.bid)));
    }
    const w = await marketplace.getWorkload(workloadId);
    const deadline = new Date(Number(w.executionDeadline) * 1000).toISOString();
    console.log(
      `workload #${workloadId} awarded to agent #${w.providerId} at ${aitbc(w.pricePerUnit)} per unit; due ${deadline}`,
    );
  });
}
