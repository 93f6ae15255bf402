import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger, required } from "../../lib/args.js";
import { KeeperClient, type KeeperExecution } from "../../lib/executions.js";
import { runTask } from "../context.js";

interface Args {
  from: string;
  execution: string;
  keeperUrl: string;
}

/**
 * An execution's results as its keeper shows them to `--from` (the client, a reader it granted, a user of its
 * restricted listing), read with a signed request: state, each step's provider, and the result.
 */
export default async function result(args: Args, hre: HardhatRuntimeEnvironment): Promise<KeeperExecution> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const keeper = await KeeperClient.connect(required("keeperUrl", args.keeperUrl), signer, protocol.workflows);
    const view = await keeper.execution(executionId);
    console.log(
      [
        `execution #${executionId} at ${keeper.url} (read by ${signer.address}): ${view.state}${view.reason ? ` (${view.reason})` : ""}`,
        ...view.steps.map((s) => `  step ${s.step}  ${s.state}  ${s.provider ?? "-"}  ${s.attempts} attempt(s)`),
        `  result  ${JSON.stringify(view.result)}`,
      ].join("\n"),
    );
    return view;
  });
}
