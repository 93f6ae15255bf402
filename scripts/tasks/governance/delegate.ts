import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { confirm, runTask } from "../context.js";
import { agentLabel, resolveAccount, votes } from "./common.js";

interface Args {
  from: string;
  to: string;
}

/** An agent (--from) delegates its votes to another active agent (an address or an agent id). */
export default async function delegate(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const to = await resolveAccount(protocol, "to", args.to);
    const { agentVotes } = protocol;
    await confirm("delegate", agentVotes.delegate(to));
    console.log(
      `${signer.address} delegates its ${votes(await agentVotes.powerOf(signer.address))} to ${to} ` +
        `(${await agentLabel(protocol, to)}), which now holds ${votes(await agentVotes.getVotes(to))}`,
    );
  });
}
