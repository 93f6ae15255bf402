import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { KeeperClient, readResult } from "../../lib/executions.js";
import { aitbc } from "../../lib/format.js";
import { runTask } from "../context.js";
import { EXECUTION_STATUSES } from "../../../protocol/enums.js";

interface Args {
  from: string;
  execution: string;
  keeperUrl: string;
}

/**
 * An execution's status: progress, budget, result hash and receipt; with `--keeper-url`, the result itself as
 * `workflow result` prints it for `--from` (or why `--from` may not read it).
 */
export default async function show(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const { workflows } = protocol;
    const e = await workflows.getExecution(executionId);
    const [status, stepsDone, stepCount, startedAt, finishedAt, spent, budget] =
      await workflows.getExecutionStatus(executionId);
    const when = (t: bigint) => (t === 0n ? "-" : new Date(Number(t) * 1000).toISOString());
    const lines = [
      `execution #${executionId} of workflow #${e.workflowId}: ${EXECUTION_STATUSES[Number(status)] ?? status}`,
      `  client          ${e.client}${e.keeperId === 0n ? "" : `; keeper agent #${e.keeperId}`}`,
      `  steps           ${stepsDone} / ${stepCount} recorded`,
      `  started         ${when(startedAt)}; finished ${when(finishedAt)}`,
      `  cost            ${aitbc(spent)} of ${aitbc(budget)}`,
      `  receipt         ${e.receipt}`,
      `  result hash     ${e.resultHash}`,
    ];
    if (args.keeperUrl === "") lines.push(`  result          (--keeper-url reads it from the keeper)`);
    else {
      const keeper = await KeeperClient.connect(args.keeperUrl, signer, workflows);
      lines.push(...(await readResult(keeper, workflows, executionId)).lines);
    }
    const text = lines.join("\n");
    console.log(text);
    return text;
  });
}
