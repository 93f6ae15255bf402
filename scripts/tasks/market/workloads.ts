import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { WORKLOAD_STATUSES } from "../../../protocol/enums.js";
import { parseChoice } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { runTask } from "../context.js";

interface Args {
  status: string;
  client: string;
}

/** The marketplace's workloads, newest first, optionally only one status and one client. */
export default async function workloads(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const status = args.status === "" ? undefined : parseChoice("status", args.status, WORKLOAD_STATUSES);
    const client = args.client.trim().toLowerCase();
    const { marketplace } = protocol;
    const count = await marketplace.workloadCount();
    const lines: string[] = [];
    for (let id = count; id >= 1n; id--) {
      const w = await marketplace.getWorkload(id);
      const name = WORKLOAD_STATUSES[Number(w.status)] ?? String(w.status);
      if (status !== undefined && name !== status) continue;
      if (client !== "" && w.client.toLowerCase() !== client) continue;
      const bids = name === "open" ? `, ${(await marketplace.getBids(id)).length} bids` : "";
      const provider = w.providerId === 0n ? "" : `, provider #${w.providerId} at ${aitbc(w.pricePerUnit)}/unit`;
      lines.push(
        `  #${id} ${name}: ${w.units} units at most ${aitbc(w.maxPricePerUnit)}/unit, client ${w.client}` +
          `${provider}${bids}, bidding until ${new Date(Number(w.bidDeadline) * 1000).toISOString()}`,
      );
    }
    const filters = [status, client === "" ? undefined : `client ${args.client.trim()}`].filter(Boolean).join(", ");
    const text = [`${lines.length} of ${count} workloads${filters ? ` (${filters})` : ""}`, ...lines].join("\n");
    console.log(text);
    return text;
  });
}
