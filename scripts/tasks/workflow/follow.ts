import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { followExecution, KeeperClient, readResult } from "../../lib/executions.js";
import { runTask } from "../context.js";

interface Args {
  from: string;
  execution: string;
  keeperUrl: string;
  timeout: string;
}

/**
 * Follows an execution live (step by step) until it completes or fails. With `--keeper-url`, the keeper's view too
 * (steps done off chain), read with requests signed by `--from`: the execution's client, a reader it granted or a
 * user of its restricted listing; anyone else sees the chain's progress alone. At the end it prints the result as
 * `workflow result` does, or says that the signer is not authorised to read it.
 */
export default async function follow(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const timeout = args.timeout === "" ? 600n : parseInteger("timeout", args.timeout, { min: 1n });
    const keeper =
      args.keeperUrl === "" ? undefined : await KeeperClient.connect(args.keeperUrl, signer, protocol.workflows);
    let refused = false;
    const final = await followExecution(protocol.workflows, executionId, {
      ...(keeper ? { keeper } : {}),
      timeoutMs: Number(timeout) * 1000,
      onChange: (line, p) => {
        if (p.keeperRefused !== undefined && !refused) {
          refused = true;
          console.log(`${p.keeperRefused}; following the chain alone`);
        }
        console.log(line);
      },
    });
    // The result at the end, as `workflow result` prints it (or why this signer may not read it).
    if (keeper) console.log((await readResult(keeper, protocol.workflows, executionId)).lines.join("\n"));
    else
      console.log(
        `  result hash ${(await protocol.workflows.getExecution(executionId)).resultHash} (--keeper-url reads the result)`,
      );
    return final.status;
  });
}
