import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseInteger } from "../../lib/args.js";
import { aitbc, label } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
  bid: string;
  provider: string;
}

/**
 * The client awards bid --bid; without --bid, anyone awards the best bid after the bidding deadline. The award names
 * the bid's provider as well: --provider, or else the provider of the bid at that index now (printed before the
 * award). On a full list a cheaper bid can take the index of the dearest one, so a client that chose by an earlier
 * listing (`market show`) should pass --provider: the award then reverts MarketplaceBidReplaced instead of binding it
 * to another provider. Bids can be awarded until a day after the bidding deadline (the award window).
 */
export default async function award(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const { marketplace } = protocol;
    if (args.bid === "") {
      if (args.provider !== "")
        throw new ArgumentError("provider", "goes with --bid (the automatic award picks its own)");
      await confirm("autoAward", marketplace.autoAward(workloadId));
    } else {
      const bidIndex = parseInteger("bid", args.bid);
      let providerId: bigint;
      if (args.provider === "") {
        const bids = await marketplace.getBids(workloadId);
        const bid = bidIndex < BigInt(bids.length) ? bids[Number(bidIndex)] : undefined;
        if (!bid) throw new ArgumentError("bid", `workload #${workloadId} has no bid #${bidIndex}`);
        providerId = bid.providerId;
        console.log(
          `bid #${bidIndex} is agent #${providerId}'s (via ${label(bid.serviceId)} at ${aitbc(bid.pricePerUnit)} per unit)`,
        );
      } else {
        providerId = parseInteger("provider", args.provider, { min: 1n });
      }
      await confirm("award", marketplace.award(workloadId, bidIndex, providerId));
    }
    const w = await marketplace.getWorkload(workloadId);
    const deadline = new Date(Number(w.executionDeadline) * 1000).toISOString();
    console.log(
      `workload #${workloadId} awarded to agent #${w.providerId} at ${aitbc(w.pricePerUnit)} per unit; due ${deadline}`,
    );
  });
}
