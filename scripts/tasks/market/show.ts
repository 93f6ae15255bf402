import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc, label } from "../../lib/format.js";
import { runTask } from "../context.js";
import { WORKLOAD_STATUSES } from "../../../protocol/enums.js";

interface Args {
  workload: string;
}

/** Shows a workload and its bids. */
export default async function show(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const { marketplace } = protocol;
    const w = await marketplace.getWorkload(workloadId);
    const when = (t: bigint) => (t === 0n ? "-" : new Date(Number(t) * 1000).toISOString());
    // An open workload's bids may be awarded until the award window closes (later after an emergency stop).
    const open = WORKLOAD_STATUSES[Number(w.status)] === "open";
    const awardBy = open ? `; award by ${when(w.bidDeadline + (await marketplace.AWARD_WINDOW()))}` : "";
    const lines = [
      `workload #${workloadId} (round ${w.round}): ${WORKLOAD_STATUSES[Number(w.status)] ?? w.status}`,
      `  client          ${w.client}`,
      `  units           ${w.units} at most ${aitbc(w.maxPricePerUnit)} each`,
      `  bids until      ${when(w.bidDeadline)}${awardBy}; result due ${when(w.executionDeadline)}`,
      `  provider        ${w.providerId === 0n ? "-" : `agent #${w.providerId} (${label(w.serviceId)}) at ${aitbc(w.pricePerUnit)}`}`,
      `  result          ${w.resultHash}${w.submittedAt === 0n ? "" : ` at ${when(w.submittedAt)}`}`,
    ];
    const bids = await marketplace.getBids(workloadId);
    bids.forEach((b, i) => {
      lines.push(`  bid #${i}          agent #${b.providerId} via ${label(b.serviceId)} at ${aitbc(b.pricePerUnit)}`);
    });
    const text = lines.join("\n");
    console.log(text);
    return text;
  });
}
