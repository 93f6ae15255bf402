import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { followExecution } from "../../lib/executions.js";
import { runTask } from "../context.js";

interface Args {
  execution: string;
  keeperUrl: string;
  timeout: string;
}

/** Follows an execution live (step by step) until it completes or fails. */
export default async function follow(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const timeout = args.timeout === "" ? 600n : parseInteger("timeout", args.timeout, { min: 1n });
    const final = await followExecution(protocol.workflows, executionId, {
      keeperUrl: args.keeperUrl === "" ? undefined : args.keeperUrl,
      timeoutMs: Number(timeout) * 1000,
      onChange: (line) => {
        console.log(line);
      },
    });
    return final.status;
  });
}
