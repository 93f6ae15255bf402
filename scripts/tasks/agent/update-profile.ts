import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseLabels } from "../../lib/args.js";
import { label } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  metadataUri: string;
  endpoint: string;
  agentVersion: string;
  capabilities: string;
}

/** The agent (--from) changes its profile; empty flags keep their value. */
export default async function updateProfile(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const { registry } = protocol;
    const agentId = await registry.agentIdOf(signer.address);
    if (agentId === 0n) throw new ArgumentError("from", `${signer.address} is not a registered agent`);
    const a = await registry.getAgent(agentId);
    const profile = {
      metadataURI: args.metadataUri === "" ? a.metadataURI : args.metadataUri,
      endpoint: args.endpoint === "" ? a.endpoint : args.endpoint,
      version: args.agentVersion === "" ? a.version : args.agentVersion,
      capabilities: args.capabilities === "" ? [...a.capabilities] : parseLabels("capabilities", args.capabilities),
    };
    await confirm(
      "updateProfile",
      registry.updateProfile(profile.metadataURI, profile.endpoint, profile.version, profile.capabilities),
    );
    console.log(
      `agent #${agentId}: version ${profile.version}, endpoint ${profile.endpoint || "-"}, ` +
        `metadata ${profile.metadataURI || "-"}, capabilities ${profile.capabilities.map(label).join(", ") || "-"}`,
    );
  });
}
