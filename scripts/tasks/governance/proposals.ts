import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { enumName, PROPOSAL_STATES } from "../../../protocol/enums.js";
import { parseChoice } from "../../lib/args.js";
import { date } from "../../lib/format.js";
import { runTask } from "../context.js";
import { votes } from "./common.js";

interface Args {
  state: string;
}

/** Every proposal, newest first: number, state, description, voting window, tally, eta; optionally one state. */
export default async function proposals(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const state = args.state === "" ? undefined : parseChoice("state", args.state, PROPOSAL_STATES);
    const { governor } = protocol;
    const count = await governor.proposalCount();
    const created = await governor.queryFilter(governor.filters.ProposalCreated());
    const descriptions = new Map(created.map((e) => [e.args.proposalId, e.args.description]));
    const lines: string[] = [];
    for (let n = count; n >= 1n; n--) {
      const [id] = await governor.proposalDetailsAt(n - 1n);
      const name = enumName(PROPOSAL_STATES, await governor.state(id));
      if (state !== undefined && name !== state) continue;
      const tally = await governor.proposalVotes(id);
      const eta = await governor.proposalEta(id);
      const description = (descriptions.get(id) ?? "").split("\n")[0] ?? "";
      lines.push(
        `  #${n} ${name}: "${description}", voting ${date(await governor.proposalSnapshot(id))} to ` +
          `${date(await governor.proposalDeadline(id))}, for ${votes(tally.forVotes)} / against ` +
          `${votes(tally.againstVotes)} / abstain ${votes(tally.abstainVotes)}${eta === 0n ? "" : `, eta ${date(eta)}`}`,
      );
    }
    const text = [`${lines.length} of ${count} proposals${state ? ` (${state})` : ""}`, ...lines].join("\n");
    console.log(text);
    return text;
  });
}
