/**
 * The provider node's composition root (what `aitbc provider` runs): configuration, pre-flight, chain, backends, the
 * step authenticator (auth.ts, over the chain client), server, on-chain registration (offers listed, again if the
 * last stop delisted them), the credit claimer (earnings.ts); on close the offers are delisted (unavailable). The server starts before registering, so that the endpoint registered on chain is the
 * one really listening (with port 0 the port is only known then); a failed registration stops the server again.
 */
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import path from "node:path";

import { checkGasFunds, checkPortFree, connectChecked, dataDirOf, StartupError } from "../common/startup.js";
import { loadEncryptionKeys } from "../common/encryption.js";
import { workflowsDomain } from "../../protocol/eip712.js";
import { ConfigError } from "../common/config.js";
import { loadAgentKey } from "../common/keys.js";
import { createLogger, type Logger } from "../common/log.js";
import { createStepAuth } from "./auth.js";
import { createBackend, serviceModelHash, SharedResources } from "./backends/index.js";
import { loadProviderConfig, type ProviderConfig } from "./config.js";
import { providerMetrics } from "./metrics.js";
import { delistOffers, registerProvider, type RegistrationPlan } from "../common/registration.js";
import { CreditClaimer } from "./earnings.js";
import { createProviderServer } from "./server.js";

export interface ProviderNode {
  url: string;
  address: Hex;
  agentId: bigint;
  /** Graceful stop: no new steps, running ones get up to `graceMs` (default 10 s), then backends close. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Gas the agent must be able to pay for at start: registration, staking and listing (~2M). */
const START_GAS = 2_000_000n;

export async function runProvider(options: {
  configFile?: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
}): Promise<ProviderNode> {
  const root = options.logger ?? createLogger("aitbc-provider");
  const logger = root.child({ module: "node" });
  const config = loadProviderConfig({ ...(options.configFile ? { file: options.configFile } : {}), env: options.env });
  // Pre-flight (common/startup.ts), before any transaction: the chain (RPC retried with backoff, chain id, contract
  // code), the port, the backends (a missing API-key variable), gas funds; the registration checks stake and funds
  // before its first transaction. A failure is a StartupError (exit code 2) naming the field.
  const chain = await connectChecked({
    urls: config.rpc.urls,
    ...(config.addressesFile ? { addressesFile: config.addressesFile } : {}),
    chainId: config.rpc.chainId,
    retry: { attempts: config.rpc.connectAttempts },
    logger,
  });
  const account = privateKeyToAccount(await loadAgentKey(config.agent, chain.chain.id, options.env));
  if (account.address.toLowerCase() === config.agent.operator.toLowerCase())
    throw new ConfigError("agent.operator: must differ from the agent's own address (the key's)");
  await checkPortFree(config.server.host, config.server.port, "server.port");
  const shared = new SharedResources();
  const backends = config.services.map((s, i) => {
    try {
      return createBackend(s, shared, options.env);
    } catch (error) {
      throw new StartupError(`services[${i}]: ${(error as Error).message}`);
    }
  });
  await checkGasFunds(chain, account.address, START_GAS, "agent");
  const domain = await workflowsDomain(chain.publicClient, chain.addresses.workflows);
  // Step inputs are sealed to this key; its public half is published with the agent's identity (registration).
  const dataDir = dataDirOf("provider", chain.chain.id, config.dataDir, options.env);
  const keyFile = config.encryption.keyFile ?? path.join(dataDir, "provider.encryption-key");
  const keys = await loadEncryptionKeys(keyFile, logger);
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
  const credits = new CreditClaimer({
    chain,
    account,
    metrics,
    logger: root,
    minClaim: config.credits.minClaim,
    fromBlock: 0n,
  });
  server.setEarnings(() => credits.view());
  let registered = false;
  // Shutdown: no more claims; the offers are delisted first (keepers stop choosing this node while it drains),
  // then running steps get their grace, then the backends close.
  const close = async (closeOptions?: { graceMs?: number }) => {
    await credits.stop();
    if (registered && config.agent.delistOnStop)
      await delistOffers(
        chain,
        account,
        config.services.map((s) => s.name),
        root,
      );
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
  registered = true;
  server.setAgentId(agentId);
  if (config.credits.enabled) credits.start(config.credits.claimSchedule);
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
