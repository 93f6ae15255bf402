import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseAddress, parseLabels, parseChoice, parseTokenAmount, required } from "../../lib/args.js";
import { AGENT_TYPES } from "../../../protocol/enums.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  operator: string;
  type: string;
  metadataUri: string;
  endpoint: string;
  agentVersion: string;
  capabilities: string;
  expectedDailyVolume: string;
}

export default async function register(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const registration = {
      operator: parseAddress("operator", args.operator),
      agentType: AGENT_TYPES.indexOf(parseChoice("type", args.type, AGENT_TYPES)),
      metadataURI: args.metadataUri,
      endpoint: args.endpoint,
      version: required("agentVersion", args.agentVersion),
      capabilities: parseLabels("capabilities", args.capabilities),
      expectedDailyVolume: parseTokenAmount("expectedDailyVolume", args.expectedDailyVolume, { allowZero: true }),
    };
    if (registration.operator === signer.address) {
      throw new ArgumentError("operator", "must be a human's address, not the agent's own (--from)");
    }
    await confirm("register", protocol.registry.register(registration));
    const agentId = await protocol.registry.getAgentId(signer.address);
    const required_ = await protocol.registry.requiredStake(agentId);
    console.log(`registered ${signer.address} as agent #${agentId} (operator ${registration.operator})`);
    console.log(`stake needed to become active: ${aitbc(required_)}`);
    return agentId;
  });
}
