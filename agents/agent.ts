/**
 * The agent's composition root (what `aitbc agent --config FILE` runs): configuration, chain, key, store and
 * memory, registration (the agent, its stake, one offer per service: keepers/common/registration.ts), the
 * transaction sender and the safety monitor (keepers/common), circuit breakers, the strategy (with what it learned
 * before a restart), the backends, the marketplace interface, the HTTP API, then the event follower and the work
 * loop. It wires and orders; the parts do the work.
 */
import { privateKeyToAccount } from "viem/accounts";

import { ProviderCatalog } from "../keepers/common/catalog.js";
import { connectChain, walletFor } from "../keepers/common/chain.js";
import { loadEncryptionKeys } from "../keepers/common/encryption.js";
import { EventFollower } from "../keepers/common/follower.js";
import { errorMessage } from "../keepers/common/http.js";
import { loadAgentKey } from "../keepers/common/keys.js";
import { createLogger, type Logger } from "../keepers/common/log.js";
import { registerProvider, serviceIdOf } from "../keepers/common/registration.js";
import { SafetyMonitor } from "../keepers/common/safety.js";
import { Store } from "../keepers/common/store.js";
import { TxSender } from "../keepers/common/txs.js";
import { createBackend, serviceModelHash, SharedResources } from "../keepers/provider/backends/index.js";
import type { ServiceConfig } from "../keepers/provider/config.js";
import { marketplaceAbi } from "../protocol/abi.js";
import { ACTION_TYPES } from "../protocol/actions.js";
import { CircuitBreakers } from "./breakers.js";
import { loadAgentConfig, type AgentConfig } from "./config.js";
import { SafetyLayer } from "./guard.js";
import { Marketplace } from "./marketplace.js";
import { AgentMemory } from "./memory.js";
import { MarketAnalyst } from "./analyst.js";
import { Quoter, LIST_SERVICE } from "./quoter.js";
import { RiskManager } from "./risk.js";
import { ACTION, AgentRuntime, type AgentService } from "./runtime.js";
import { startAgentServer } from "./server.js";
import { createStrategy } from "./strategies/index.js";
import { MarketMakerStrategy } from "./strategies/market-maker.js";
import type { Strategy } from "./strategy.js";

export interface RunningAgent {
  url: string;
  address: `0x${string}`;
  agentId: bigint;
  runtime: AgentRuntime;
  /** The market maker's offer management (strategy `market-maker`). */
  quoter?: Quoter;
  risk?: RiskManager;
  /** The analysis agent (config `analyst`). */
  analyst?: MarketAnalyst;
  close(): Promise<void>;
}

const STEP_TYPE = { iris: "inference", data: "data-processing" } as const;

export async function runAgent(options: {
  configFile?: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  /** A strategy object instead of the configured one (one written in code: docs/agents.md). */
  strategy?: Strategy;
}): Promise<RunningAgent> {
  const root = options.logger ?? createLogger("aitbc-agent");
  const logger = root.child({ module: "agent" });
  const config = loadAgentConfig({ ...(options.configFile ? { file: options.configFile } : {}), env: options.env });
  const chain = await connectChain({
    urls: config.rpc.urls,
    ...(config.addressesFile ? { addressesFile: config.addressesFile } : {}),
  });
  const client = chain.publicClient;
  const account = privateKeyToAccount(await loadAgentKey(config.agent, chain.chain.id, options.env));
  const wallet = walletFor(chain, account);
  const store = new Store(config.store.path);
  const memory = new AgentMemory(config.store.path, config.memory);
  const shared = new SharedResources();
  const closers: (() => Promise<void> | void)[] = [
    () => shared.close(),
    () => {
      memory.close();
    },
    () => {
      store.close();
    },
  ];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    return await start(
      config,
      { root, logger, chain, client, account, wallet, store, memory, shared, closers, closeAll },
      options.env,
      options.strategy,
    );
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function start(
  config: AgentConfig,
  ctx: {
    root: Logger;
    logger: Logger;
    chain: Awaited<ReturnType<typeof connectChain>>;
    client: Awaited<ReturnType<typeof connectChain>>["publicClient"];
    account: ReturnType<typeof privateKeyToAccount>;
    wallet: ReturnType<typeof walletFor>;
    store: Store;
    memory: AgentMemory;
    shared: SharedResources;
    closers: (() => Promise<void> | void)[];
    closeAll: () => Promise<void>;
  },
  env: NodeJS.ProcessEnv,
  override?: Strategy,
): Promise<RunningAgent> {
  const { root, logger, chain, client, account, wallet, store, memory, shared, closers } = ctx;
  const addresses = chain.addresses;

  // The backends and the API first: the endpoint registered on chain is the one listening.
  const services = config.services.map((s) => {
    const service: ServiceConfig = { ...s, stepType: STEP_TYPE[s.backend], upstream: undefined };
    return { config: s, service, backend: createBackend(service, shared, env) };
  });
  const sender = new TxSender({ publicClient: client, walletClient: wallet, store, logger: root });
  const market = new Marketplace(client, addresses.marketplace, sender, account);
  let agentId = 0n;
  let quoter: Quoter | undefined;
  let risk: RiskManager | undefined;
  const server = await startAgentServer({
    ...config.server,
    chainId: chain.chain.id,
    market,
    memory,
    agent: () => ({ address: account.address, agentId }),
    report: () => ({
      marketMaking: quoter?.report() ?? null,
      risk:
        config.risk === undefined
          ? null
          : {
              maxClientDisputeRate: config.risk.maxClientDisputeRate,
              maxUnitsPerClient: String(config.risk.maxUnitsPerClient),
              maxValuePerClient: String(config.risk.maxValuePerClient),
            },
    }),
    logger: root,
  });
  closers.push(() => server.close());

  // Registration sends through the wallet directly, so it goes before the sender reads the nonce.
  const keys = await loadEncryptionKeys(config.encryption.keyFile ?? `${config.store.path}.encryption-key`, logger);
  ({ agentId } = await registerProvider(
    chain,
    account,
    {
      operator: config.agent.operator,
      encryptionKey: keys.publicKey,
      endpoint: config.agent.endpoint ?? server.url,
      metadataURI: config.agent.metadataURI,
      version: config.agent.version,
      expectedDailyVolume: config.agent.expectedDailyVolume,
      stake: config.agent.stake,
      services: services.map(({ service }) => ({
        name: service.name,
        stepType: service.stepType,
        model: serviceModelHash(service),
        price: service.price,
        capacity: service.capacity,
        minAccuracy: service.minAccuracy,
      })),
    },
    root,
  ));
  await sender.start();

  // The safety layer: the shared monitor (constitution, overrides, anomalies) and the circuit breakers.
  const monitor = new SafetyMonitor({
    publicClient: client,
    addresses,
    agent: account.address,
    store,
    logger: root,
    rules: {
      ...config.safety,
      expectedActionTypes: [
        ACTION.BID,
        ACTION.SUBMIT_RESULT,
        ACTION.UPKEEP,
        LIST_SERVICE,
        ...(config.analyst === undefined ? [] : [ACTION_TYPES.govern]),
      ],
    },
  });
  const breakers = new CircuitBreakers(memory, {
    windowMs: config.breakers.windowSeconds * 1000,
    maxLoss: config.breakers.maxLoss,
    maxDisputes: config.breakers.maxDisputes,
    maxSlashes: config.breakers.maxSlashes,
  });
  const guard = new SafetyLayer(monitor, breakers, root);
  const head = await client.getBlockNumber();
  const catalog = new ProviderCatalog(client, addresses, root, BigInt(config.follower.startBlock ?? 0));
  await catalog.refresh();

  const strategy = override ?? createStrategy(config.strategy);
  // The risk manager scores the marketplace's history first, then follows it with the runtime.
  if (config.risk !== undefined) {
    risk = new RiskManager({
      client,
      marketplace: addresses.marketplace,
      constitution: addresses.constitution,
      agent: account.address,
      memory,
      limits: config.risk,
    });
    await risk.backfill(BigInt(config.risk.fromBlock), head);
  }
  const runtime = new AgentRuntime({
    agentId,
    address: account.address,
    services: services.map(({ config: s, service, backend }): AgentService => ({
      name: s.name,
      serviceId: serviceIdOf(account.address, s.name),
      model: serviceModelHash(service),
      listedPrice: s.price,
      costPerUnit: s.costPerUnit,
      backend,
    })),
    strategy,
    memory,
    store,
    guard,
    market,
    catalog,
    logger: root,
    ...(risk === undefined ? {} : { risk }),
  });
  if (strategy instanceof MarketMakerStrategy && config.strategy.kind === "market-maker")
    quoter = new Quoter({
      strategy,
      services: services.map(({ config: s, service }) => ({
        name: s.name,
        serviceId: serviceIdOf(account.address, s.name),
        model: serviceModelHash(service),
        listedPrice: s.price,
        costPerUnit: s.costPerUnit,
      })),
      market,
      catalog,
      memory,
      guard,
      agentId: () => agentId,
      requoteBps: config.strategy.requoteBps,
      logger: root,
    });

  const analyst =
    config.analyst === undefined
      ? undefined
      : new MarketAnalyst({
          client,
          marketplace: addresses.marketplace,
          governor: addresses.governor,
          sender,
          store,
          guard,
          rule: config.analyst,
          windowBlocks: BigInt(config.analyst.windowBlocks),
          logger: root,
        });

  // Events, then the work loop and the catalog's refresh.
  const follower = new EventFollower({
    name: "agent",
    publicClient: client,
    store,
    logger: root,
    confirmations: config.follower.confirmations,
    fromBlock: config.follower.startBlock === undefined ? head : BigInt(config.follower.startBlock),
    pollIntervalMs: config.follower.pollIntervalMs,
    contracts: [{ address: addresses.marketplace, abi: marketplaceAbi }],
  });
  follower.onLogs(async (logs) => {
    risk?.observe(logs);
    await runtime.onLogs(logs);
    void runtime.tick().catch(onTickError);
  });
  follower.onReorg(async (forkBlock) => {
    await sender.reconcile(forkBlock);
  });
  const onTickError = (error: unknown) => {
    logger.error({ event: "tick-failed", err: errorMessage(error) }, "work loop pass failed; retried next tick");
  };
  follower.start();
  const tick = setInterval(() => {
    runtime.tick().catch(onTickError);
  }, config.tickMs);
  const refresh = setInterval(() => {
    catalog.refresh().catch((error: unknown) => {
      logger.warn({ err: errorMessage(error) }, "catalog refresh failed");
    });
  }, 30_000);
  const onQuoteError = (error: unknown) => {
    logger.error({ event: "quote-failed", err: errorMessage(error) }, "offer pass failed; retried next pass");
  };
  const offers = quoter;
  const quoting =
    offers === undefined || config.strategy.kind !== "market-maker"
      ? undefined
      : setInterval(() => {
          offers.tick().catch(onQuoteError);
        }, config.strategy.quoteIntervalMs);
  const onAnalysisError = (error: unknown) => {
    logger.error({ event: "analysis-failed", err: errorMessage(error) }, "market analysis failed; retried next time");
  };
  const analysing =
    analyst === undefined || config.analyst === undefined
      ? undefined
      : setInterval(() => {
          analyst.run().catch(onAnalysisError);
        }, config.analyst.intervalSeconds * 1000);
  closers.push(async () => {
    if (analysing !== undefined) clearInterval(analysing);
    clearInterval(tick);
    clearInterval(refresh);
    if (quoting !== undefined) clearInterval(quoting);
    await quoter?.tick().catch(onQuoteError);
    await follower.stop();
    await runtime.tick().catch(onTickError);
  });
  logger.info(
    { event: "agent-ready", url: server.url, address: account.address, agentId, strategy: strategy.name },
    "agent ready",
  );
  return {
    url: server.url,
    address: account.address,
    agentId,
    runtime,
    ...(quoter === undefined ? {} : { quoter }),
    ...(risk === undefined ? {} : { risk }),
    ...(analyst === undefined ? {} : { analyst }),
    close: ctx.closeAll,
  };
}
