import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseAddress, parseInteger, required } from "../../lib/args.js";
import { KeeperClient } from "../../lib/executions.js";
import { runTask } from "../context.js";

interface Args {
  from: string;
  execution: string;
  reader: string;
  keeperUrl: string;
}

/**
 * The execution's client (`--from`) revokes `--reader`'s grants to read the execution's results (`workflow grant`):
 * a ResultsRevoke signed by the client, posted to the keeper, which refuses the reader from its next request on and
 * keeps the revocation (an old grant posted again stays void; a new `workflow grant` reads again). Returns the
 * revocation's issuedAt (unix ms).
 */
export default async function revoke(args: Args, hre: HardhatRuntimeEnvironment): Promise<number> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const reader = parseAddress("reader", args.reader) as `0x${string}`;
    const keeperUrl = required("keeperUrl", args.keeperUrl);
    const keeper = await KeeperClient.connect(keeperUrl, signer, protocol.workflows);
    const issuedAt = await keeper.revoke(executionId, reader);
    console.log(
      `execution #${executionId}: ${reader} may no longer read its results from ${keeperUrl} (grants issued until ${new Date(issuedAt).toISOString()} revoked)`,
    );
    return issuedAt;
  });
}
