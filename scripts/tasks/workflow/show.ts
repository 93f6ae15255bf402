import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { runTask } from "../context.js";
import { EXECUTION_STATUSES } from "../../../protocol/enums.js";

interface Args {
  execution: string;
}

/** An execution's status: progress, budget, result hash and receipt. */
export default async function show(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const { workflows } = protocol;
    const e = await workflows.getExecution(executionId);
    const [status, stepsDone, stepCount, startedAt, finishedAt, spent, budget] =
      await workflows.getExecutionStatus(executionId);
    const when = (t: bigint) => (t === 0n ? "-" : new Date(Number(t) * 1000).toISOString());
    const text = [
      `execution #${executionId} of workflow #${e.workflowId}: ${EXECUTION_STATUSES[Number(status)] ?? status}`,
      `  client          ${e.client}${e.keeperId === 0n ? "" : `; keeper agent #${e.keeperId}`}`,
      `  steps           ${stepsDone} / ${stepCount} recorded`,
      `  started         ${when(startedAt)}; finished ${when(finishedAt)}`,
      `  cost            ${aitbc(spent)} of ${aitbc(budget)}`,
      `  receipt         ${e.receipt}`,
      `  result          ${e.resultHash}`,
    ].join("\n");
    console.log(text);
    return text;
  });
}
