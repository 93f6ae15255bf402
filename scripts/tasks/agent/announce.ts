import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
}

/**
 * The agent (--from) announces itself to ERC-8004 indexers: AgentIdentity.register(), once, with its metadataURI
 * (its registration file) as agentURI and its operator as owner.
 */
export default async function announce(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const { registry, identity } = protocol;
    const agentId = await registry.agentIdOf(signer.address);
    if (agentId === 0n) throw new ArgumentError("from", `${signer.address} is not a registered agent`);
    if (await identity.isRegistered(agentId)) {
      throw new ArgumentError("from", `agent #${agentId} announced itself already`);
    }
    await confirm("register (ERC-8004)", identity["register()"]());
    const uri = await identity.tokenURI(agentId);
    console.log(`agent #${agentId} announced on ${await identity.getAddress()} with agentURI ${uri || "(none)"}`);
  });
}
