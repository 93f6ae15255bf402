import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  execution: string;
}

/**
 * The client cancels its execution: a pending one at any time, a running one once its keeper has stalled; the
 * unspent budget (and an unused listing fee) comes back.
 */
export default async function cancel(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const { workflows } = protocol;
    const receipt = await confirm("cancelExecution", workflows.cancelExecution(executionId));
    reportFailure(receipt.logs, workflows.interface, executionId, "cancelled");
  });
}

/** Prints the ExecutionFailed event of a cancel or expiry: what was spent and refunded. */
export function reportFailure(
  logs: readonly { topics: readonly string[]; data: string }[],
  iface: { parseLog(log: { topics: readonly string[]; data: string }): { name: string; args: unknown } | null },
  executionId: bigint,
  how: string,
): void {
  for (const log of logs) {
    const parsed = iface.parseLog(log);
    if (parsed?.name === "ExecutionFailed") {
      const [, , spent, refund] = parsed.args as [bigint, string, bigint, bigint];
      console.log(`execution #${executionId} ${how}: ${aitbc(spent)} spent, ${aitbc(refund)} refunded to the client`);
    }
  }
}
