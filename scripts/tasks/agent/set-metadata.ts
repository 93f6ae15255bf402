import { hexlify, isHexString, toUtf8Bytes } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger, required } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  agent: string;
  key: string;
  value: string;
}

/**
 * Sets one ERC-8004 metadata entry of an agent (AgentIdentity.setMetadata): by the agent or its operator. --value
 * is 0x-prefixed hex bytes, or text (stored as its UTF-8 bytes).
 */
export default async function setMetadata(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const agentId = parseInteger("agent", args.agent, { min: 1n });
    const key = required("key", args.key);
    const value = isHexString(args.value) ? args.value : hexlify(toUtf8Bytes(args.value));
    await confirm("setMetadata", protocol.identity.setMetadata(agentId, key, value));
    console.log(`agent #${agentId}: metadata "${key}" = ${value}`);
  });
}
