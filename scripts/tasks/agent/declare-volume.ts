import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  volume: string;
}

/** The --from agent declares a new expected daily volume; its bond (10% of it) must already be staked. */
export default async function declareVolume(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const volume = parseTokenAmount("volume", args.volume, { allowZero: true });
    const { registry, constitution } = protocol;
    const agentId = await registry.getAgentId(signer.address);
    await confirm("declareDailyVolume", registry.declareDailyVolume(volume));
    const c = await constitution.constraintsOf(signer.address);
    console.log(
      `agent #${agentId} declared ${aitbc(volume)} a day; required stake ${aitbc(await registry.requiredStake(agentId))}; ` +
        `daily volume limit ${aitbc(c.maxDailyVolume)}`,
    );
  });
}
