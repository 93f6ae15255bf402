import { ZeroHash } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseHash, parseInteger, parseLabel, parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
  serviceId: string;
  price: string;
  proposal: string;
}

/** A provider agent (--from) bids on a workload with one of its offers. */
export default async function bid(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const price = parseTokenAmount("price", args.price);
    const proposal = args.proposal === "" ? ZeroHash : parseHash("proposal", args.proposal);
    const { marketplace } = protocol;
    await confirm("bid", marketplace.bid(workloadId, parseLabel("serviceId", args.serviceId), price, proposal));
    const bids = await marketplace.getBids(workloadId);
    console.log(`bid #${bids.length - 1} on workload #${workloadId} at ${aitbc(price)} per unit`);
  });
}
