import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { actionName } from "../../../protocol/actions.js";
import { parseActionType, parseAddress } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agent: string;
  action: string;
}

export default async function revoke(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agent = parseAddress("agent", args.agent);
    const actionType = parseActionType("action", args.action);
    await confirm("revoke", protocol.humanOverride.revoke(agent, actionType));
    console.log(`revoked the override on ${actionName(actionType)} for ${agent}`);
  });
}
