import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { confirm, runTask } from "../context.js";
import { describeAction, proposalName, resolveProposal } from "./common.js";

interface Args {
  from: string;
  proposal: string;
}

/** Executes a queued proposal once its timelock delay has passed (anyone). */
export default async function execute(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const proposal = await resolveProposal(protocol, args.proposal);
    const { governor } = protocol;
    const [targets, values, calldatas] = await governor.proposalDetails(proposal.id);
    await confirm("execute", governor["execute(uint256)"](proposal.id));
    const lines = [`${proposalName(proposal)} executed:`];
    for (const [i, target] of targets.entries()) {
      lines.push(`  ${await describeAction(protocol, target, values[i] ?? 0n, calldatas[i] ?? "0x")}`);
    }
    console.log(lines.join("\n"));
  });
}
