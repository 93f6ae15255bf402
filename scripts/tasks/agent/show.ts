import { isAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger, required } from "../../lib/args.js";
import { formatAgent, formatConstraints } from "../../lib/format.js";
import { runTask } from "../context.js";

interface Args {
  agent: string;
}

export default async function show(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const { registry, token, constitution, humanOverride } = protocol;
    const ref = required("agent", args.agent);
    const agentId = isAddress(ref) ? await registry.getAgentId(ref) : parseInteger("agent", ref, { min: 1n });
    const a = await registry.getAgent(agentId);
    const text = [
      formatAgent(a, await token.balanceOf(a.agent), await registry.isActive(agentId)),
      formatConstraints(
        await constitution.constraintsOf(a.agent),
        await constitution.usageOf(a.agent),
        await constitution.bondedVolumeOf(a.agent),
      ),
      `  protocol        ${(await humanOverride.isStopped()) ? "EMERGENCY STOP" : "running"}`,
    ].join("\n");
    console.log(text);
    return text;
  });
}
