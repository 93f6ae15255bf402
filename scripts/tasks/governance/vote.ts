import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseChoice } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";
import { SUPPORT_CODES } from "../../../protocol/enums.js";
import { proposalName, resolveProposal, votes } from "./common.js";

interface Args {
  from: string;
  proposal: string;
  support: string;
  reason: string;
}

/** An agent (--from) votes on a proposal with its power at the snapshot; with --reason, castVoteWithReason. */
export default async function vote(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ protocol }) => {
    const support = parseChoice("support", args.support.trim().toLowerCase(), ["for", "against", "abstain"] as const);
    const proposal = await resolveProposal(protocol, args.proposal);
    const { governor } = protocol;
    const reason = args.reason.trim();
    const receipt = await confirm(
      reason === "" ? "castVote" : "castVoteWithReason",
      reason === ""
        ? governor.castVote(proposal.id, SUPPORT_CODES[support])
        : governor.castVoteWithReason(proposal.id, SUPPORT_CODES[support], reason),
    );
    let weight = 0n;
    for (const log of receipt.logs) {
      const parsed = governor.interface.parseLog(log);
      if (parsed?.name === "VoteCast") weight = parsed.args.weight as bigint;
    }
    const tally = await governor.proposalVotes(proposal.id);
    console.log(
      `voted ${support} on ${proposalName(proposal)} with ${votes(weight)}${reason === "" ? "" : ` ("${reason}")`}; ` +
        `now for ${votes(tally.forVotes)}, against ${votes(tally.againstVotes)}, abstain ${votes(tally.abstainVotes)}`,
    );
    return weight;
  });
}
