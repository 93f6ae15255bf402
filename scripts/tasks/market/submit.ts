import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseHash, parseInteger } from "../../lib/args.js";
import { signWorkResult } from "../../lib/eip712.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workload: string;
  result: string;
}

/** The assigned provider agent (--from) signs its result (EIP-712 WorkResult) and submits it. */
export default async function submit(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const workloadId = parseInteger("workload", args.workload, { min: 1n });
    const resultHash = parseHash("result", args.result);
    const { marketplace } = protocol;
    const w = await marketplace.getWorkload(workloadId);
    const signature = await signWorkResult(signer, marketplace, { workloadId, round: w.round, resultHash });
    await confirm("submitResult", marketplace.submitResult(workloadId, resultHash, signature));
    const window = await marketplace.challengeWindow();
    console.log(`result ${resultHash} submitted for workload #${workloadId}; the client has ${window} s to reject it`);
  });
}
