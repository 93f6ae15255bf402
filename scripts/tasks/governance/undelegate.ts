import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { confirm, runTask } from "../context.js";
import { votes } from "./common.js";

interface Args {
  from: string;
}

/** An agent (--from) takes its votes back from its delegate. */
export default async function undelegate(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const { agentVotes } = protocol;
    const previous = await agentVotes.delegates(signer.address);
    await confirm("undelegate", agentVotes.undelegate());
    console.log(
      `${signer.address} holds its own votes again (delegate was ${previous}); ` +
        `it now holds ${votes(await agentVotes.getVotes(signer.address))}`,
    );
  });
}
