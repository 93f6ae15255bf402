import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseAddress, parseLabels, parseChoice, parseTokenAmount, required } from "../../lib/args.js";
import { AGENT_TYPES } from "../../../protocol/enums.js";
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
      operator: args.operator === "" ? signer.address : parseAddress("operator", args.operator),
      agentType: AGENT_TYPES.indexOf(parseChoice("type", args.type, AGENT_TYPES)),
      metadataURI: args.metadataUri,
      endpoint: args.endpoint,
      version: required("agentVersion", args.agentVersion),
      capabilities: parseLabels("capabilities", args.capabilities),
      expectedDailyVolume: parseTokenAmount("expectedDailyVolume", args.expectedDailyVolume, { allowZero: true }),
    };
    await confirm("register", protocol.registry.register(registration));
    const agentId = await protocol.registry.getAgentId(signer.address);
    const required_ = await protocol.registry.requiredStake(agentId);
    console.log(`registered ${signer.address} as agent #${agentId} (operator ${registration.operator})`);
    console.log(`stake needed to become active: ${required_} wei`);
    return agentId;
  });
}
