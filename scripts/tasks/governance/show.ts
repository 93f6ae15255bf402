import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { Protocol } from "../../lib/protocol.js";
import { runTask } from "../context.js";
import { agentLabel, describeAction, proposalName, resolveProposal, votes, when } from "./common.js";
import { PROPOSAL_STATES } from "../../../protocol/enums.js";

interface Args {
  proposal: string;
}

/** The proposal's description from its ProposalCreated event (the governor stores only its hash). */
async function descriptionOf(protocol: Protocol, proposalId: bigint): Promise<string | undefined> {
  try {
    const { governor } = protocol;
    const events = await governor.queryFilter(governor.filters.ProposalCreated());
    return events.find((e) => e.args.proposalId === proposalId)?.args.description;
  } catch {
    return undefined; // e.g. a provider that limits log ranges
  }
}

/** Shows a proposal: state, tally and quorum, snapshot, deadline and eta, and its actions. */
export default async function show(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const proposal = await resolveProposal(protocol, args.proposal);
    const { governor } = protocol;
    const id = proposal.id;
    const state = PROPOSAL_STATES[Number(await governor.state(id))] ?? "unknown";
    const proposer = await governor.proposalProposer(id);
    const snapshot = await governor.proposalSnapshot(id);
    const deadline = await governor.proposalDeadline(id);
    const tally = await governor.proposalVotes(id);
    const [targets, values, calldatas, descriptionHash] = await governor.proposalDetails(id);
    let quorum: string;
    if (snapshot < (await governor.clock())) {
      const q = await governor.quorum(snapshot);
      const counted = tally.forVotes + tally.abstainVotes;
      quorum = `${votes(q)} (for + abstain ${counted >= q ? "reach it" : `miss it by ${votes(q - counted)}`})`;
    } else {
      quorum = `- (set at the snapshot: ${await governor["quorumNumerator()"]()}% of the total power then)`;
    }
    const description = await descriptionOf(protocol, id);
    const lines = [
      `${proposalName(proposal)}: ${state}`,
      `  id              ${id}`,
      `  proposer        ${proposer} (${await agentLabel(protocol, proposer)})`,
      `  description     ${description ?? `(hash ${descriptionHash})`}`,
      `  snapshot        ${when(snapshot)} (voting opens)`,
      `  deadline        ${when(deadline)} (voting closes)`,
      `  votes           for ${votes(tally.forVotes)}, against ${votes(tally.againstVotes)}, abstain ${votes(tally.abstainVotes)}`,
      `  quorum          ${quorum}`,
      `  eta             ${when(await governor.proposalEta(id))}`,
    ];
    for (const [i, target] of targets.entries()) {
      const action = await describeAction(protocol, target, values[i] ?? 0n, calldatas[i] ?? "0x");
      lines.push(`  action ${i + 1}${" ".repeat(Math.max(1, 9 - String(i + 1).length))}${action}`);
    }
    const text = lines.join("\n");
    console.log(text);
    return text;
  });
}
