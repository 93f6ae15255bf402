/**
 * The provider node's composition root (what `aitbc provider` runs): configuration, chain, backends, the step
 * authenticator (auth.ts, over the chain client), server, on-chain registration. The server starts before registering, so that the endpoint registered on chain is the
 * one really listening (with port 0 the port is only known then); a failed registration stops the server again.
 */
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { connectChain } from "../common/chain.js";
import { loadEncryptionKeys } from "../common/encryption.js";
import { workflowsDomain } from "../../protocol/eip712.js";
import { ConfigError } from "../common/config.js";
import { loadAgentKey } from "../common/keys.js";
import { createLogger, type Logger } from "../common/log.js";
import { createStepAuth } from "./auth.js";
import { createBackend, serviceModelHash, SharedResources } from "./backends/index.js";
import { loadProviderConfig, type ProviderConfig } from "./config.js";
import { providerMetrics } from "./metrics.js";
import { registerProvider, type RegistrationPlan } from "../common/registration.js";
import { createProviderServer } from "./server.js";

export interface ProviderNode {
  url: string;
  address: Hex;
  agentId: bigint;
  /** Graceful stop: no new steps, running ones get up to `graceMs` (default 10 s), then backends close. */
  close(options?: { graceMs?: number }): Promise<void>;
}

export async function runProvider(options: {
  configFile?: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
}): Promise<ProviderNode> {
  const root = options.logger ?? createLogger("aitbc-provider");
  const logger = root.child({ module: "node" });
  const config = loadProviderConfig({ ...(options.configFile ? { file: options.configFile } : {}), env: options.env });
  const chain = await connectChain({
    urls: config.rpc.urls,
    ...(config.addressesFile ? { addressesFile: config.addressesFile } : {}),
  });
  const account = privateKeyToAccount(await loadAgentKey(config.agent, chain.chain.id, options.env));
  if (account.address.toLowerCase() === config.agent.operator.toLowerCase())
    throw new ConfigError("agent.operator: must differ from the agent's own address (the key's)");
  const domain = await workflowsDomain(chain.publicClient, chain.addresses.workflows);
  // Step inputs are sealed to this key; its public half is published with the agent's identity (registration).
  const keys = await loadEncryptionKeys(config.encryption.keyFile, logger);
  const shared = new SharedResources();
  const backends = config.services.map((s) => createBackend(s, shared, options.env));
  if (backends.some((b) => b.provable)) await shared.prover.load("inference");

  // Only the keeper of a running execution may run a step: its signature, checked against the chain.
  const metrics = providerMetrics();
  const auth = createStepAuth({
    client: chain.publicClient,
    contracts: chain.addresses,
    domain,
    config: config.auth,
    metrics,
  });

  // Listening first: the registered endpoint must be the live one. /v1/info shows agent 0 until registered.
  const server = await createProviderServer({
    account,
    keys,
    domain,
    services: backends,
    auth,
    metrics,
    limits: config.server,
    host: config.server.host,
    port: config.server.port,
    chaos: config.chaos,
    logger: root,
  });
  const close = async (closeOptions?: { graceMs?: number }) => {
    await server.close(closeOptions);
    await shared.close();
  };
  if (config.agent.endpoint === undefined && /^(0\.0\.0\.0|::)$/.test(config.server.host))
    logger.warn({ url: server.url }, "agent.endpoint is not set: keepers elsewhere cannot reach a wildcard address");
  let agentId: bigint;
  try {
    ({ agentId } = await registerProvider(chain, account, registrationPlan(config, server.url, keys.publicKey), root));
  } catch (error) {
    await close({ graceMs: 0 });
    throw error;
  }
  server.setAgentId(agentId);
  logger.info({ event: "provider-ready", url: server.url, address: account.address, agentId }, "provider ready");
  return { url: server.url, address: account.address, agentId, close };
}

/** What the chain should say about this node, from its configuration and the URL it listens at. */
export function registrationPlan(config: ProviderConfig, url: string, encryptionKey: Hex): RegistrationPlan {
  return {
    operator: config.agent.operator,
    encryptionKey,
    endpoint: config.agent.endpoint ?? url,
    metadataURI: config.agent.metadataURI,
    version: config.agent.version,
    expectedDailyVolume: config.agent.expectedDailyVolume,
    stake: config.agent.stake,
    services: config.services.map((s) => ({
      name: s.name,
      stepType: s.stepType,
      model: serviceModelHash(s),
      price: s.price,
      capacity: s.capacity,
      minAccuracy: s.minAccuracy,
    })),
  };
}
