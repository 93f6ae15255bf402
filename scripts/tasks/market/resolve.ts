import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseChoice, parseInteger } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
  winner: string;
}

/** A validator agent or a guardian (--from) decides a dispute for the provider or the client. */
export default async function resolve(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const winner = parseChoice("winner", args.winner, ["provider", "client"] as const);
    await confirm("resolveDispute", protocol.marketplace.resolveDispute(workloadId, winner === "provider"));
    console.log(
      winner === "provider"
        ? `workload #${workloadId}: dispute resolved for the provider, settled`
        : `workload #${workloadId}: dispute resolved for the client, escrow refunded and provider slashed`,
    );
  });
}
