/**
 * What every role gets from the composition root (agents/agent.ts) and the parts each role assembles the same way:
 * the transaction sender, the safety layer (the shared safety monitor and the circuit breakers), and the marketplace
 * follower with the work loop. A role (provider.ts, client.ts, validator.ts) decides; these do the plumbing.
 */
import type { LocalAccount } from "viem";

import type { connectChain, walletFor } from "../../keepers/common/chain.js";
import { loadEncryptionKeys } from "../../keepers/common/encryption.js";
import { EventFollower, type FollowedLog } from "../../keepers/common/follower.js";
import { errorMessage } from "../../keepers/common/http.js";
import type { Logger } from "../../keepers/common/log.js";
import { ensureAgent } from "../../keepers/common/registration.js";
import { SafetyMonitor } from "../../keepers/common/safety.js";
import type { Store } from "../../keepers/common/store.js";
import { TxSender } from "../../keepers/common/txs.js";
import type { SharedResources } from "../../keepers/provider/backends/index.js";
import type { AgentComms } from "../a2a/index.js";
import type { MarketAnalyst } from "../analyst.js";
import type { Quoter } from "../quoter.js";
import type { RiskManager } from "../risk.js";
import type { AgentStrategy } from "../strategy.js";
import { marketplaceAbi } from "../../protocol/abi.js";
import { AGENT_TYPES } from "../../protocol/enums.js";
import { CircuitBreakers } from "../breakers.js";
import type { AgentConfig } from "../config.js";
import { SafetyLayer } from "../guard.js";
import { Marketplace } from "../marketplace.js";
import type { AgentMemory } from "../memory.js";

export type ChainContext = Awaited<ReturnType<typeof connectChain>>;

export interface RoleContext {
  config: AgentConfig;
  root: Logger;
  logger: Logger;
  chain: ChainContext;
  client: ChainContext["publicClient"];
  account: LocalAccount;
  wallet: ReturnType<typeof walletFor>;
  store: Store;
  memory: AgentMemory;
  shared: SharedResources;
  /** Run in reverse order at close. */
  closers: (() => Promise<void> | void)[];
  closeAll: () => Promise<void>;
  env: NodeJS.ProcessEnv;
  /** A strategy object instead of the configured one (tests, benches, docs/agents.md); the provider role's. */
  strategy?: AgentStrategy;
}

/** What `aitbc agent` runs, whatever its role. */
export interface RunningAgent {
  role: AgentConfig["role"];
  url: string;
  address: `0x${string}`;
  agentId: bigint;
  /** A2A (agents/a2a/): the endpoint's service, and `peers` to ask other agents (quotes); the provider role's. */
  comms?: AgentComms;
  /** The market maker's offer management (strategy `market-maker`), the risk manager, the analysis agent. */
  quoter?: Quoter;
  risk?: RiskManager;
  analyst?: MarketAnalyst;
  close(): Promise<void>;
}

/** The sender and the marketplace interface over it (start the sender after registration: it reads the nonce). */
export function marketplaceFor(ctx: RoleContext): { sender: TxSender; market: Marketplace } {
  const sender = new TxSender({
    publicClient: ctx.client,
    walletClient: ctx.wallet,
    store: ctx.store,
    logger: ctx.root,
  });
  return { sender, market: new Marketplace(ctx.client, ctx.chain.addresses.marketplace, sender, ctx.account) };
}

/**
 * Registers an agent without offers (the client, the validator): its record with `agentType`, the stake and the
 * volume of its config, its encryption key; `endpoint` is its listening API unless the config names another.
 * (Registration sends through the wallet directly: start the sender after it.)
 */
export async function registerAgent(
  ctx: RoleContext,
  agentType: (typeof AGENT_TYPES)[number],
  endpoint: string,
): Promise<bigint> {
  const { config, logger } = ctx;
  const keys = await loadEncryptionKeys(config.encryption.keyFile ?? `${config.store.path}.encryption-key`, logger);
  const { agentId } = await ensureAgent({
    chain: ctx.chain,
    wallet: ctx.wallet,
    logger: ctx.root,
    operator: config.agent.operator,
    agentType: AGENT_TYPES.indexOf(agentType),
    endpoint: config.agent.endpoint ?? endpoint,
    metadataURI: config.agent.metadataURI,
    version: config.agent.version,
    capabilities: [],
    expectedDailyVolume: config.agent.expectedDailyVolume,
    stake: config.agent.stake,
    encryptionKey: keys.publicKey,
  });
  return agentId;
}

/** The safety layer for a role whose usual actions are `expectedActionTypes` (ActionTypes.sol). */
export function safetyLayerFor(ctx: RoleContext, expectedActionTypes: readonly number[]): SafetyLayer {
  const { config } = ctx;
  const monitor = new SafetyMonitor({
    publicClient: ctx.client,
    addresses: ctx.chain.addresses,
    agent: ctx.account.address,
    store: ctx.store,
    logger: ctx.root,
    rules: { ...config.safety, expectedActionTypes },
  });
  const breakers = new CircuitBreakers(ctx.memory, {
    windowMs: config.breakers.windowSeconds * 1000,
    maxLoss: config.breakers.maxLoss,
    maxDisputes: config.breakers.maxDisputes,
    maxSlashes: config.breakers.maxSlashes,
  });
  return new SafetyLayer(monitor, breakers, ctx.root);
}

/**
 * Follows the marketplace's events into `onLogs` (then a pass of `tick`), runs `tick` every `config.tickMs`, and
 * reconciles the sender on a reorg; all stopped at close (with a last pass of `tick`).
 */
export async function followMarketplace(
  ctx: RoleContext,
  sender: TxSender,
  handlers: { onLogs(logs: readonly FollowedLog[]): Promise<void> | void; tick(): Promise<void> },
): Promise<void> {
  const { config, client, logger } = ctx;
  const head = await client.getBlockNumber();
  const follower = new EventFollower({
    name: "agent",
    publicClient: client,
    store: ctx.store,
    logger: ctx.root,
    confirmations: config.follower.confirmations,
    fromBlock: config.follower.startBlock === undefined ? head : BigInt(config.follower.startBlock),
    pollIntervalMs: config.follower.pollIntervalMs,
    contracts: [{ address: ctx.chain.addresses.marketplace, abi: marketplaceAbi }],
  });
  const onTickError = (error: unknown) => {
    logger.error({ event: "tick-failed", err: errorMessage(error) }, "work loop pass failed; retried next tick");
  };
  follower.onLogs(async (logs) => {
    await handlers.onLogs(logs);
    void handlers.tick().catch(onTickError);
  });
  follower.onReorg(async (forkBlock) => {
    await sender.reconcile(forkBlock);
  });
  follower.start();
  const tick = setInterval(() => {
    handlers.tick().catch(onTickError);
  }, config.tickMs);
  ctx.closers.push(async () => {
    clearInterval(tick);
    await follower.stop();
    await handlers.tick().catch(onTickError);
  });
}
