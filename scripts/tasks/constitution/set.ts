import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseActionSet, parseAddress, parseInteger, parseTokenAmount } from "../../lib/args.js";
import { formatConstraints } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agent: string;
  maxStake: string;
  maxDailyVolume: string;
  maxGasPerDay: string;
  allowed: string;
  humanApproval: string;
}

/** Sets an agent's constitution; flags left empty keep their current value. */
export default async function setConstitution(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agent = parseAddress("agent", args.agent);
    const { constitution } = protocol;
    const current = await constitution.constraintsOf(agent);
    const next = {
      maxStake:
        args.maxStake === "" ? current.maxStake : parseTokenAmount("maxStake", args.maxStake, { allowZero: true }),
      maxDailyVolume:
        args.maxDailyVolume === ""
          ? current.maxDailyVolume
          : parseTokenAmount("maxDailyVolume", args.maxDailyVolume, { allowZero: true }),
      maxGasPerDay: args.maxGasPerDay === "" ? current.maxGasPerDay : parseInteger("maxGasPerDay", args.maxGasPerDay),
      allowedActions: args.allowed === "" ? current.allowedActions : parseActionSet("allowed", args.allowed),
      humanApprovalActions:
        args.humanApproval === "" ? current.humanApprovalActions : parseActionSet("humanApproval", args.humanApproval),
    };
    await confirm("setConstraints", constitution.setConstraints(agent, next));
    console.log(`constitution of ${agent}:`);
    console.log(
      formatConstraints(
        await constitution.constraintsOf(agent),
        await constitution.usageOf(agent),
        await constitution.bondedVolumeOf(agent),
      ),
    );
  });
}
