import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";
import { reportFailure } from "./cancel.js";

interface Args {
  from: string;
  execution: string;
}

/** Anyone ends a running execution past its workflow's maximum execution time: it fails, the rest is refunded. */
export default async function expire(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const { workflows } = protocol;
    const receipt = await confirm("expireExecution", workflows.expireExecution(executionId));
    reportFailure(receipt.logs, workflows.interface, executionId, "expired");
  });
}
