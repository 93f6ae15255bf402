import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger, required } from "../../lib/args.js";
import { KeeperClient, readResult, type KeeperExecution } from "../../lib/executions.js";
import { runTask } from "../context.js";

interface Args {
  from: string;
  execution: string;
  keeperUrl: string;
}

/**
 * An execution's results as its keeper shows it to `--from` (the client, a reader it granted, a user of its
 * restricted listing), read with a signed request: state, each step's provider, and the result, opened with the
 * reader's wallet-derived key and checked against the chain's resultHash. A reader the keeper refuses is told so.
 */
export default async function result(args: Args, hre: HardhatRuntimeEnvironment): Promise<KeeperExecution> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const keeper = await KeeperClient.connect(required("keeperUrl", args.keeperUrl), signer, protocol.workflows);
    const read = await readResult(keeper, protocol.workflows, executionId);
    if (!read.view) throw new Error(read.refused);
    console.log(read.lines.join("\n"));
    return read.view;
  });
}
