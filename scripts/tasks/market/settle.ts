import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
}

/** The client accepts a submitted result (or, after the challenge window, anyone finalizes it): settlement. */
export default async function settle(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const { marketplace } = protocol;
    const w = await marketplace.getWorkload(workloadId);
    const receipt =
      signer.address === w.client
        ? await confirm("accept", marketplace.accept(workloadId))
        : await confirm("finalize", marketplace.finalize(workloadId));
    for (const log of receipt.logs) {
      const parsed = marketplace.interface.parseLog(log);
      if (parsed?.name === "WorkloadSettled") {
        const [, providerId, paid, fee, refund] = parsed.args as unknown as bigint[];
        console.log(
          `workload #${workloadId} settled: agent #${providerId} paid ${aitbc(paid ?? 0n)} (fee ${aitbc(fee ?? 0n)}), ` +
            `client refunded ${aitbc(refund ?? 0n)}`,
        );
      }
      if (parsed?.name === "ComputeReceiptIssued") {
        console.log(
          `compute receipt ${String(parsed.args[0])} issued: an attestor signs it with ` +
            `\`receipt sign --workload ${workloadId}\`, then anyone mints it`,
        );
      }
    }
  });
}
