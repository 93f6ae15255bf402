import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { required } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";
import { proposalName, resolveProposal } from "./common.js";

interface Args {
  from: string;
  proposal: string;
  reason: string;
}

/** A HumanOverride guardian (--from) vetoes a proposal that is not final, cancelling its timelock operation too. */
export default async function veto(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const proposal = await resolveProposal(protocol, args.proposal);
    const reason = required("reason", args.reason);
    await confirm("veto", protocol.governor.veto(proposal.id, reason));
    console.log(`${proposalName(proposal)} vetoed ("${reason}"): canceled`);
  });
}
