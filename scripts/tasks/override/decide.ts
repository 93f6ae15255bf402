import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { actionName } from "../../../protocol/actions.js";
import { parseActionType, parseAddress, parseDuration } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

export interface DecideArgs {
  from: string;
  agent: string;
  action: string;
  duration: string;
}

/** grant / deny: a guardian's decision on one (agent, action type) for a duration. */
export async function decide(
  decision: "grant" | "deny",
  args: DecideArgs,
  hre: HardhatRuntimeEnvironment,
): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agent = parseAddress("agent", args.agent);
    const actionType = parseActionType("action", args.action);
    const duration = parseDuration("duration", args.duration);
    const { humanOverride } = protocol;
    await confirm(decision, humanOverride[decision](agent, actionType, duration));
    const record = await humanOverride.overrideOf(agent, actionType);
    const until = new Date(Number(record.expiresAt) * 1000).toISOString();
    console.log(`${decision === "grant" ? "granted" : "denied"} ${actionName(actionType)} for ${agent} until ${until}`);
  });
}
