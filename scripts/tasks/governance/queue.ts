import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { confirm, runTask } from "../context.js";
import { proposalName, resolveProposal, when } from "./common.js";

interface Args {
  from: string;
  proposal: string;
}

/** Queues a succeeded proposal in the timelock (anyone). */
export default async function queue(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ protocol }) => {
    const proposal = await resolveProposal(protocol, args.proposal);
    const { governor } = protocol;
    await confirm("queue", governor["queue(uint256)"](proposal.id));
    const eta = await governor.proposalEta(proposal.id);
    console.log(`${proposalName(proposal)} queued in the timelock: executable from ${when(eta)}`);
    return eta;
  });
}
