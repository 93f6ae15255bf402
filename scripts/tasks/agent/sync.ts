import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseInteger, required } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agents: string;
}

/**
 * Brings agents' derived figures up to date (anyone may): the daily volume their stake backs in the constitution
 * (AgentRegistry.syncBonds, after a change of minimum stake or bond) and their voting power and idle state
 * (AgentVotes.sync, after an agent fell idle or a parameter changed).
 */
export default async function sync(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const { registry, agentVotes } = protocol;
    const ids = required("agents", args.agents)
      .split(",")
      .map((a) => parseInteger("agents", a.trim(), { min: 1n }));
    if (new Set(ids).size !== ids.length) throw new ArgumentError("agents", "an agent is listed twice");
    const addresses: string[] = [];
    for (const id of ids) {
      if ((await registry.statusOf(id).catch(() => 0n)) === 0n) {
        throw new ArgumentError("agents", `no agent has id ${id}`);
      }
      addresses.push(await registry.agentAddress(id));
    }
    const before = await Promise.all(addresses.map((a) => agentVotes.getVotes(a)));
    await confirm("syncBonds", registry.syncBonds(ids));
    await confirm("sync (votes)", agentVotes.sync(addresses));
    for (const [i, id] of ids.entries()) {
      const address = addresses[i] ?? "";
      const bonded = await registry.bondedVolume(id);
      const votes = await agentVotes.getVotes(address);
      console.log(
        `agent #${id}: stake backs ${bonded / 10n ** 18n} AITBC of daily volume; votes ${before[i] ?? 0n} -> ${votes}`,
      );
    }
  });
}
