import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { AGENT_STATUSES, AGENT_TYPES } from "../../../protocol/enums.js";
import { aitbc } from "../../lib/format.js";
import { runTask } from "../context.js";

/** Every registered agent, one line each: id, address, type, status, stake, reputation. */
export default async function list(_args: unknown, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const { registry } = protocol;
    const count = await registry.agentCount();
    const lines = [`${count} agent${count === 1n ? "" : "s"}`];
    for (let id = 1n; id <= count; id++) {
      const a = await registry.getAgent(id);
      const status = AGENT_STATUSES[Number(a.status)] ?? String(a.status);
      const active = await registry.isActive(id);
      lines.push(
        `  #${id} ${a.agent} ${AGENT_TYPES[Number(a.agentType)] ?? a.agentType}, ${status}${active ? " (active)" : ""}, ` +
          `stake ${aitbc(a.stake)}, reputation ${a.reputation}`,
      );
    }
    const text = lines.join("\n");
    console.log(text);
    return text;
  });
}
