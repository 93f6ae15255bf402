import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseAddress, parseDuration, parseInteger, required } from "../../lib/args.js";
import { KeeperClient } from "../../lib/executions.js";
import { unixNow } from "../../../protocol/keeper-api.js";
import { runTask } from "../context.js";

interface Args {
  from: string;
  execution: string;
  reader: string;
  keeperUrl: string;
  duration: string;
}

/**
 * The execution's client (`--from`) lets `--reader` read the execution's results from the keeper for `--duration`:
 * a ResultsGrant signed by the client, posted to the keeper, which stores it. Returns the grant's expiry.
 */
export default async function grant(args: Args, hre: HardhatRuntimeEnvironment): Promise<number> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const reader = parseAddress("reader", args.reader) as `0x${string}`;
    const keeperUrl = required("keeperUrl", args.keeperUrl);
    const seconds = parseDuration("duration", args.duration === "" ? "1d" : args.duration);
    const expiry = unixNow() + Number(seconds);
    const keeper = await KeeperClient.connect(keeperUrl, signer, protocol.workflows);
    await keeper.grant(executionId, reader, expiry);
    console.log(
      `execution #${executionId}: ${reader} may read its results from ${keeperUrl} until ${new Date(expiry * 1000).toISOString()}`,
    );
    return expiry;
  });
}
