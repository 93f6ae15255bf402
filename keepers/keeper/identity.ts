/**
 * The keeper's own agent: with `agent.register` in the config it is registered as a Validator agent and staked on
 * first start (common/registration.ts `ensureAgent`, idempotent on later starts); without it, it must be a
 * registered agent already. Either way its encryption key is published with its identity (setEncryptionKey).
 */
import type { Hex } from "viem";

import { registryAbi } from "../../protocol/abi.js";
import { AGENT_TYPES } from "../../protocol/enums.js";
import type { ChainContext, walletFor } from "../common/chain.js";
import type { Logger } from "../common/log.js";
import { ensureAgent, publishEncryptionKey } from "../common/registration.js";
import { StartupError } from "../common/startup.js";
import type { KeeperConfig } from "./config.js";

/** IAgentRegistry.AgentType.Validator (3). */
const VALIDATOR = AGENT_TYPES.indexOf("validator");

/**
 * The keeper's agent id, its encryption key (`encryptionKey`, X25519 public) published with it. Registration sends
 * through `wallet` directly (not through the TxSender).
 */
export async function keeperAgentId(options: {
  chain: ChainContext;
  wallet: ReturnType<typeof walletFor>;
  agent: KeeperConfig["agent"];
  encryptionKey: Hex;
  logger: Logger;
}): Promise<bigint> {
  const { chain, wallet, logger } = options;
  const reg = options.agent.register;
  if (reg) {
    return (
      await ensureAgent({
        chain,
        wallet,
        logger,
        operator: reg.operator,
        agentType: VALIDATOR,
        endpoint: reg.endpoint,
        version: "1.0.0",
        metadataURI: "",
        capabilities: [],
        stake: reg.stake,
        expectedDailyVolume: reg.expectedDailyVolume,
        encryptionKey: options.encryptionKey,
      })
    ).agentId;
  }
  const address: Hex = wallet.account.address;
  const id = await chain.publicClient.readContract({
    address: chain.addresses.registry,
    abi: registryAbi,
    functionName: "agentIdOf",
    args: [address],
  });
  if (id === 0n)
    throw new StartupError(
      `agent.register: ${address} is not a registered agent: set agent.register (operator, stake) to register it`,
    );
  await publishEncryptionKey({ chain, wallet, logger }, id, options.encryptionKey);
  return id;
}
