/**
 * The provider role (the default): registers the agent with one offer per configured service (stake, listing:
 * keepers/common/registration.ts), serves the workload API (server.ts: a client's input, its result), and runs the
 * runtime (runtime.ts): bids by its strategy (with what it learned before a restart), delivers awarded work on the
 * provider backends, submits signed results and claims its pay.
 */
import { ProviderCatalog } from "../../keepers/common/catalog.js";
import { loadEncryptionKeys } from "../../keepers/common/encryption.js";
import { errorMessage } from "../../keepers/common/http.js";
import { registerProvider, serviceIdOf } from "../../keepers/common/registration.js";
import { createBackend, serviceModelHash } from "../../keepers/provider/backends/index.js";
import type { ServiceConfig } from "../../keepers/provider/config.js";
import { createComms } from "../a2a/index.js";
import { REGISTRATION_PATH } from "../a2a/registration-file.js";
import { ACTION_TYPES } from "../../protocol/actions.js";
import { MarketAnalyst } from "../analyst.js";
import { providerPart } from "../config.js";
import { LIST_SERVICE, Quoter } from "../quoter.js";
import { RiskManager } from "../risk.js";
import { MarketMakerStrategy } from "../strategies/market-maker.js";
import { ACTION, AgentRuntime, type AgentService } from "../runtime.js";
import { startAgentServer } from "../server.js";
import { createAgentStrategy } from "../strategies/index.js";
import { POST_WORKLOAD, SubcontractingBackend } from "./arbitrageur.js";
import { followMarketplace, marketplaceFor, safetyLayerFor, type RoleContext, type RunningAgent } from "./context.js";

export const STEP_TYPE = { iris: "inference", data: "data-processing" } as const;

export async function startProvider(ctx: RoleContext): Promise<RunningAgent> {
  const { config, root, logger, chain, client, account, memory, shared, closers, env } = ctx;
  const { services: serviceConfigs, strategy: strategyConfig } = providerPart(config);
  const addresses = chain.addresses;

  // The backends and the API first: the endpoint registered on chain is the one listening.
  const services = serviceConfigs.map((s) => {
    const service: ServiceConfig = { ...s, stepType: STEP_TYPE[s.backend], upstream: undefined };
    return { config: s, service, backend: createBackend(service, shared, env) };
  });
  const { sender, market } = marketplaceFor(ctx);
  let agentId = 0n;
  let url = "";
  let quoter: Quoter | undefined;
  let risk: RiskManager | undefined;
  // A2A (agent card, signed quotes) and the ERC-8004 registration file, on the same API.
  const comms = createComms({
    client,
    addresses,
    account,
    agentId: () => agentId,
    storePath: config.store.path,
    url: () => config.agent.endpoint ?? url,
    name: `aitbc-agent-${account.address.toLowerCase()}`,
    description: `AITBC provider agent: ${serviceConfigs.map((s) => `${s.name} (${s.backend})`).join(", ")}`,
    version: config.agent.version,
    offers: async (name) => {
      if (!serviceConfigs.some((s) => s.name === name)) return undefined;
      const offer = await market.offer(serviceIdOf(account.address, name));
      if (offer.maxCapacity === 0n) return undefined;
      const free = offer.maxCapacity - offer.currentLoad - memory.committedUnits(name);
      return { ...offer, freeUnits: free > 0n ? free : 0n };
    },
    now: () => market.now(),
    maxBodyBytes: config.server.maxBodyBytes,
    logger: root,
  });
  closers.push(() => {
    comms.close();
  });
  const server = await startAgentServer({
    ...config.server,
    chainId: chain.chain.id,
    market,
    memory,
    agent: () => ({ address: account.address, agentId }),
    routes: comms.routes,
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
  url = server.url;
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
      // The agentURI of ERC-8004 (AgentIdentity.tokenURI): by default the registration file this agent serves.
      metadataURI: config.agent.metadataURI || `${config.agent.endpoint ?? server.url}${REGISTRATION_PATH}`,
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

  const subcontracts = serviceConfigs.some((s) => s.subcontract !== undefined);
  const guard = safetyLayerFor(ctx, [
    ACTION.BID,
    ACTION.SUBMIT_RESULT,
    ACTION.UPKEEP,
    LIST_SERVICE,
    ...(subcontracts ? [POST_WORKLOAD] : []),
    ...(config.analyst === undefined ? [] : [ACTION_TYPES.govern]),
  ]);
  const catalog = new ProviderCatalog(client, addresses, root, BigInt(config.follower.startBlock ?? 0));
  await catalog.refresh();

  const strategy = ctx.strategy ?? createAgentStrategy(strategyConfig, ctx.env);
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
    await risk.backfill(BigInt(config.risk.fromBlock), await client.getBlockNumber());
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
      backend:
        s.subcontract === undefined
          ? backend
          : new SubcontractingBackend(backend, {
              subcontractor: { ...s.subcontract, agentId: BigInt(s.subcontract.agentId) },
              peers: comms.peers,
              market,
              memory,
              guard,
              account,
              chainId: chain.chain.id,
              token: addresses.token,
              logger: root,
            }),
      ...(s.testAdversary === undefined ? {} : { testAdversary: s.testAdversary }),
    })),
    // A subcontracted run waits for a nested workload's bidding, execution and result.
    ...(subcontracts ? { runTimeoutMs: 300_000 } : {}),
    strategy,
    memory,
    store: ctx.store,
    guard,
    market,
    catalog,
    logger: root,
    ...(risk === undefined ? {} : { risk }),
  });
  if (strategy instanceof MarketMakerStrategy && strategyConfig.kind === "market-maker")
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
      requoteBps: strategyConfig.requoteBps,
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
          store: ctx.store,
          guard,
          rule: config.analyst,
          windowBlocks: BigInt(config.analyst.windowBlocks),
          logger: root,
        });

  // Events, then the work loop and the catalog's refresh.
  await followMarketplace(ctx, sender, {
    onLogs: async (logs) => {
      risk?.observe(logs);
      await runtime.onLogs(logs);
    },
    tick: () => runtime.tick(),
  });
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
    offers === undefined || strategyConfig.kind !== "market-maker"
      ? undefined
      : setInterval(() => {
          offers.tick().catch(onQuoteError);
        }, strategyConfig.quoteIntervalMs);
  const onAnalysisError = (error: unknown) => {
    logger.error({ event: "analysis-failed", err: errorMessage(error) }, "market analysis failed; retried next time");
  };
  const analysing =
    analyst === undefined || config.analyst === undefined
      ? undefined
      : setInterval(() => {
          analyst.run().catch(onAnalysisError);
        }, config.analyst.intervalSeconds * 1000);
  // Runs before the follower's closer (closers run in reverse): the last offer pass, then the follower stops.
  closers.push(async () => {
    if (analysing !== undefined) clearInterval(analysing);
    clearInterval(refresh);
    if (quoting !== undefined) clearInterval(quoting);
    await quoter?.tick().catch(onQuoteError);
  });
  logger.info(
    {
      event: "agent-ready",
      role: "provider",
      url: server.url,
      address: account.address,
      agentId,
      strategy: strategy.name,
    },
    "agent ready",
  );
  return {
    role: "provider",
    url: server.url,
    address: account.address,
    agentId,
    comms,
    ...(quoter === undefined ? {} : { quoter }),
    ...(risk === undefined ? {} : { risk }),
    ...(analyst === undefined ? {} : { analyst }),
    close: ctx.closeAll,
  };
}
