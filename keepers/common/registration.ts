/**
 * Brings the provider's on-chain presence in line with its configuration, idempotently (a re-run with the same
 * configuration sends no transaction):
 * 1. the agent is registered as a ServiceProvider (AgentRegistry.register), or its profile (endpoint, version,
 *    capabilities, metadata) is updated when it changed;
 * 2. its stake is topped up to `agent.stake` (approve, then stake), after checking that this covers the bond
 *    for the declared volume (required stake = minStake + bondBps of expectedDailyVolume, the README's "the bond
 *    backs the volume"), then the volume is re-declared if it changed, so that the agent ends up `isActive`;
 * 3. each service is listed on the ServiceMarketplace (again, when the node delisted it on its last stop), or its
 *    offer updated when its terms changed.
 * Every transaction's gas is estimated before it is sent, so a revert surfaces first and is reported by its
 * decoded custom error, whichever protocol contract raised it; every receipt's status is checked.
 * `ensureAgent` runs steps 1 and 2 for any agent type (the keeper registers its validator agent with it).
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  encodeAbiParameters,
  formatUnits,
  keccak256,
  type Abi,
  type LocalAccount,
  type Hex,
} from "viem";

import { constitutionAbi, humanOverrideAbi, marketplaceAbi, registryAbi, tokenAbi } from "../../protocol/abi.js";
import { shortMessage, walletFor, type ChainContext } from "./chain.js";
import { DefinitiveError } from "./errors.js";
import type { Logger } from "./log.js";
import type { StepTypeName } from "../../protocol/enums.js";
import { capabilityOf } from "../../protocol/steps.js";
import { AGENT_STATUSES, enumName } from "../../protocol/enums.js";

/** IAgentRegistry.AgentType.ServiceProvider. */
export const SERVICE_PROVIDER = 0;

export interface OfferPlan {
  /** serviceName on chain, and (with the agent's address) what the serviceId is derived from. */
  name: string;
  stepType: StepTypeName;
  model: Hex;
  price: bigint;
  capacity: number;
  minAccuracy: number;
}

/** What an agent of any type should look like on chain (the provider's, the keeper's validator agent). */
export interface AgentPlan {
  operator: Hex;
  /** IAgentRegistry.AgentType: 0 ServiceProvider, 1 MarketMaker, 2 Governance, 3 Validator. */
  agentType: number;
  endpoint: string;
  metadataURI: string;
  version: string;
  capabilities: readonly Hex[];
  expectedDailyVolume: bigint;
  stake: bigint;
  /** Where stake and expectedDailyVolume sit in the daemon's config, for error messages (default "agent"). */
  configPath?: string;
  /** The X25519 public key to publish with the identity (protocol/sealed.ts; AgentRegistry.setEncryptionKey). */
  encryptionKey: Hex;
}

export interface RegistrationPlan extends Omit<AgentPlan, "agentType" | "capabilities"> {
  services: readonly OfferPlan[];
}

/** The chain or the configuration stands in the way of registering: definitive, a human has to act. */
export class RegistrationError extends DefinitiveError {
  override name = "RegistrationError";
}

/** The capabilities of a set of services: one tag per distinct step type, in first-seen order. */
export function capabilitiesOf(services: readonly Pick<OfferPlan, "stepType">[]): Hex[] {
  return [...new Set(services.map((s) => s.stepType))].map(capabilityOf);
}

/**
 * The marketplace's service ids are one global namespace: an offer's id is keccak256(abi.encode(agent, name)), so
 * that two providers never collide and a node finds its own offers again after a restart.
 */
export function serviceIdOf(agent: Hex, name: string): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "string" }], [agent, name]));
}

/** Registers, stakes and lists (see the file header); returns the agent id and how many transactions it sent. */
export async function registerProvider(
  chain: ChainContext,
  account: LocalAccount,
  plan: RegistrationPlan,
  logger: Logger,
): Promise<{ agentId: bigint; transactions: number }> {
  const ctx: Ctx = {
    chain,
    logger: logger.child({ module: "registration" }),
    wallet: walletFor(chain, account),
    transactions: 0,
  };
  const agent = { ...plan, agentType: SERVICE_PROVIDER, capabilities: capabilitiesOf(plan.services) };
  await checkAgentPlan(ctx, agent);
  const agentId = await ensureIdentity(ctx, agent);
  await ensureStake(ctx, agentId, agent);
  for (const offer of plan.services) await ensureOffer(ctx, agentId, offer);
  return { agentId, transactions: ctx.transactions };
}

/** Steps 1 and 2 of the file header for any agent type: registered, profile current, staked, active. */
export async function ensureAgent(
  options: AgentPlan & { chain: ChainContext; wallet: Wallet; logger: Logger },
): Promise<{ agentId: bigint; transactions: number }> {
  const { chain, wallet, logger, ...plan } = options;
  const ctx: Ctx = { chain, logger: logger.child({ module: "registration" }), wallet, transactions: 0 };
  await checkAgentPlan(ctx, plan);
  const agentId = await ensureIdentity(ctx, plan);
  await ensureStake(ctx, agentId, plan);
  return { agentId, transactions: ctx.transactions };
}

type Wallet = ReturnType<typeof walletFor>;

interface Ctx {
  chain: ChainContext;
  logger: Logger;
  wallet: Wallet;
  transactions: number;
}

// ---------------------------------------------------------------- 0. pre-flight

/**
 * Everything that would make steps 1-2 fail half-way, checked before the first transaction: the stake covers the
 * bond for the declared volume, stays within the constitution's maxStake for this agent (the defaults a new agent is
 * enrolled with), and the agent holds the tokens the top-up needs. (Before this check, a keeper whose stake was too
 * high registered, then failed to stake.)
 */
async function checkAgentPlan(ctx: Ctx, plan: AgentPlan): Promise<void> {
  const { publicClient, addresses } = ctx.chain;
  const registry = { address: addresses.registry, abi: registryAbi } as const;
  const constitution = { address: addresses.constitution, abi: constitutionAbi } as const;
  const self = ctx.wallet.account.address;
  const at = plan.configPath ?? "agent";
  const [existing, minStake, bondBps, enrolled, balance] = await Promise.all([
    publicClient.readContract({ ...registry, functionName: "agentIdOf", args: [self] }),
    publicClient.readContract({ ...registry, functionName: "minStake" }),
    publicClient.readContract({ ...registry, functionName: "bondBps" }),
    publicClient.readContract({ ...constitution, functionName: "isEnrolled", args: [self] }),
    publicClient.readContract({ address: addresses.token, abi: tokenAbi, functionName: "balanceOf", args: [self] }),
  ]);
  const required = minStake + (plan.expectedDailyVolume * bondBps) / 10_000n;
  if (plan.stake < required)
    throw new RegistrationError(
      `${at}.stake: ${aitbc(plan.stake)} is below the stake required to be active, ${aitbc(required)} ` +
        `(minStake ${aitbc(minStake)} + ${Number(bondBps) / 100}% bond of ${at}.expectedDailyVolume ` +
        `${aitbc(plan.expectedDailyVolume)}): raise ${at}.stake or lower ${at}.expectedDailyVolume`,
    );
  const limits = enrolled
    ? await publicClient.readContract({ ...constitution, functionName: "constraintsOf", args: [self] })
    : await publicClient.readContract({ ...constitution, functionName: "defaults" });
  if (plan.stake > limits.maxStake)
    throw new RegistrationError(
      `${at}.stake: ${aitbc(plan.stake)} is above the constitution's maxStake for this agent, ${aitbc(limits.maxStake)}` +
        `${enrolled ? "" : " (the default a new agent gets)"}: lower ${at}.stake (nothing was sent)`,
    );
  const current =
    existing === 0n ? 0n : await publicClient.readContract({ ...registry, functionName: "stakeOf", args: [existing] });
  const need = plan.stake > current ? plan.stake - current : 0n;
  if (balance < need)
    throw new RegistrationError(
      `${at}.stake: staking ${aitbc(plan.stake)} needs ${aitbc(need)} more, but the agent ${self} holds ` +
        `${aitbc(balance)} (balance ${balance} wei): fund it first (nothing was sent)`,
    );
}

// ---------------------------------------------------------------- 1. identity

async function ensureIdentity(ctx: Ctx, plan: AgentPlan): Promise<bigint> {
  const { publicClient, addresses } = ctx.chain;
  const registry = { address: addresses.registry, abi: registryAbi } as const;
  const self = ctx.wallet.account.address;
  const capabilities = [...plan.capabilities];
  const existing = await publicClient.readContract({ ...registry, functionName: "agentIdOf", args: [self] });
  if (existing === 0n) {
    const registration = {
      operator: plan.operator,
      agentType: plan.agentType,
      metadataURI: plan.metadataURI,
      endpoint: plan.endpoint,
      version: plan.version,
      capabilities,
      expectedDailyVolume: plan.expectedDailyVolume,
    };
    await send(ctx, "register", () =>
      ctx.wallet.writeContract({ ...registry, functionName: "register", args: [registration] }),
    );
    const agentId = await publicClient.readContract({ ...registry, functionName: "agentIdOf", args: [self] });
    ctx.logger.info({ event: "registered", agentId, address: self, operator: plan.operator }, "agent registered");
    await ensureEncryptionKey(ctx, agentId, plan.encryptionKey);
    return agentId;
  }
  const agent = await publicClient.readContract({ ...registry, functionName: "getAgent", args: [existing] });
  if (agent.status !== 1)
    throw new RegistrationError(
      `agent ${self} (#${existing}) is ${enumName(AGENT_STATUSES, agent.status)} on chain: it cannot act until a guardian or its operator changes that`,
    );
  if (agent.agentType !== plan.agentType)
    throw new RegistrationError(
      `agent ${self} (#${existing}) is registered as agent type ${agent.agentType}, not ${plan.agentType}`,
    );
  if (agent.operator.toLowerCase() !== plan.operator.toLowerCase())
    ctx.logger.warn(
      { onChain: agent.operator, configured: plan.operator },
      "agent.operator differs from the registered operator (it cannot change)",
    );
  const same =
    agent.metadataURI === plan.metadataURI &&
    agent.endpoint === plan.endpoint &&
    agent.version === plan.version &&
    sameSet(agent.capabilities, capabilities);
  if (!same) {
    await send(ctx, "updateProfile", () =>
      ctx.wallet.writeContract({
        ...registry,
        functionName: "updateProfile",
        args: [plan.metadataURI, plan.endpoint, plan.version, capabilities],
      }),
    );
    ctx.logger.info({ event: "profile-updated", agentId: existing, endpoint: plan.endpoint }, "profile updated");
  }
  await ensureEncryptionKey(ctx, existing, plan.encryptionKey);
  return existing;
}

/** Publishes `key` as the agent's encryption key unless the chain has it already. */
async function ensureEncryptionKey(ctx: Ctx, agentId: bigint, key: Hex): Promise<void> {
  const registry = { address: ctx.chain.addresses.registry, abi: registryAbi } as const;
  const published = await ctx.chain.publicClient.readContract({
    ...registry,
    functionName: "encryptionKeyOf",
    args: [agentId],
  });
  if (published.toLowerCase() === key.toLowerCase()) return;
  await send(ctx, "setEncryptionKey", () =>
    ctx.wallet.writeContract({ ...registry, functionName: "setEncryptionKey", args: [agentId, key] }),
  );
  ctx.logger.info({ event: "encryption-key-published", agentId, publicKey: key }, "encryption key published");
}

/** Publishes the keeper's (any registered agent's) encryption key when it is not the one on chain. */
export async function publishEncryptionKey(
  options: { chain: ChainContext; wallet: Wallet; logger: Logger },
  agentId: bigint,
  key: Hex,
): Promise<void> {
  const ctx: Ctx = { ...options, logger: options.logger.child({ module: "registration" }), transactions: 0 };
  await ensureEncryptionKey(ctx, agentId, key);
}

// ---------------------------------------------------------------- 2. stake and bond

async function ensureStake(ctx: Ctx, agentId: bigint, plan: AgentPlan): Promise<void> {
  // checkAgentPlan has checked the plan (required stake, maxStake, balance) before the first transaction.
  const { publicClient, addresses } = ctx.chain;
  const registry = { address: addresses.registry, abi: registryAbi } as const;
  const token = { address: addresses.token, abi: tokenAbi } as const;
  const self = ctx.wallet.account.address;
  const agent = await publicClient.readContract({ ...registry, functionName: "getAgent", args: [agentId] });
  const need = plan.stake - agent.stake;
  if (need > 0n) {
    const allowance = await publicClient.readContract({
      ...token,
      functionName: "allowance",
      args: [self, addresses.registry],
    });
    if (allowance < need)
      await send(ctx, "approve", () =>
        ctx.wallet.writeContract({ ...token, functionName: "approve", args: [addresses.registry, need] }),
      );
    await send(ctx, "stake", () => ctx.wallet.writeContract({ ...registry, functionName: "stake", args: [need] }));
    ctx.logger.info({ event: "staked", agentId, amount: need.toString(), stake: plan.stake.toString() }, "staked");
  }
  if (agent.expectedDailyVolume !== plan.expectedDailyVolume) {
    await send(ctx, "declareDailyVolume", () =>
      ctx.wallet.writeContract({ ...registry, functionName: "declareDailyVolume", args: [plan.expectedDailyVolume] }),
    );
    ctx.logger.info(
      { event: "volume-declared", agentId, volume: plan.expectedDailyVolume.toString() },
      "volume declared",
    );
  }
  const active = await publicClient.readContract({ ...registry, functionName: "isActive", args: [agentId] });
  if (!active) throw new RegistrationError(`agent ${self} (#${agentId}) is not active after staking`);
}

// ---------------------------------------------------------------- 3. offers

async function ensureOffer(ctx: Ctx, agentId: bigint, plan: OfferPlan): Promise<void> {
  const { publicClient, addresses } = ctx.chain;
  const marketplace = { address: addresses.marketplace, abi: marketplaceAbi } as const;
  const serviceId = serviceIdOf(ctx.wallet.account.address, plan.name);
  const offer = {
    serviceId,
    serviceName: plan.name,
    pricePerUnit: plan.price,
    maxCapacity: BigInt(plan.capacity),
    currentLoad: 0n,
    modelHash: plan.model,
    minAccuracy: BigInt(plan.minAccuracy),
  };
  const log = { serviceId, service: plan.name, model: plan.model, price: plan.price.toString() };
  let owner: readonly [bigint, boolean];
  try {
    owner = await publicClient.readContract({ ...marketplace, functionName: "serviceOwner", args: [serviceId] });
  } catch (error) {
    if (revertName(error) !== "MarketplaceUnknownService")
      throw new RegistrationError(`serviceOwner: ${revertReason(error)}`);
    await send(ctx, `listService ${plan.name}`, () =>
      ctx.wallet.writeContract({ ...marketplace, functionName: "listService", args: [offer] }),
    );
    ctx.logger.info({ event: "service-listed", ...log }, "service listed");
    return;
  }
  if (owner[0] !== agentId)
    throw new RegistrationError(`service ${plan.name}: id ${serviceId} belongs to agent #${owner[0]}, not #${agentId}`);
  if (!owner[1]) {
    // Delisted (the node delists its offers when it stops, `delistOffers`): listed again, on the configured terms.
    await send(ctx, `listService ${plan.name}`, () =>
      ctx.wallet.writeContract({ ...marketplace, functionName: "listService", args: [offer] }),
    );
    ctx.logger.info({ event: "service-relisted", ...log }, "service listed again");
    return;
  }
  const current = await publicClient.readContract({
    ...marketplace,
    functionName: "getServiceStatus",
    args: [serviceId],
  });
  const same =
    current.serviceName === offer.serviceName &&
    current.pricePerUnit === offer.pricePerUnit &&
    current.maxCapacity === offer.maxCapacity &&
    current.modelHash.toLowerCase() === offer.modelHash.toLowerCase() &&
    current.minAccuracy === offer.minAccuracy;
  if (same) return;
  await send(ctx, `updateService ${plan.name}`, () =>
    ctx.wallet.writeContract({ ...marketplace, functionName: "updateService", args: [serviceId, offer] }),
  );
  ctx.logger.info({ event: "service-updated", ...log }, "service offer updated");
}

/**
 * Marks the provider unavailable: delists each of its listed offers (ServiceMarketplace.delistService), so that
 * keepers stop choosing it (their catalogs drop delisted offers). `registerProvider` lists them again at the next
 * start. Returns how many were delisted; a failure is logged per offer and does not stop the others.
 */
export async function delistOffers(
  chain: ChainContext,
  account: LocalAccount,
  names: readonly string[],
  logger: Logger,
): Promise<number> {
  const ctx: Ctx = {
    chain,
    logger: logger.child({ module: "registration" }),
    wallet: walletFor(chain, account),
    transactions: 0,
  };
  const marketplace = { address: chain.addresses.marketplace, abi: marketplaceAbi } as const;
  for (const name of names) {
    const serviceId = serviceIdOf(account.address, name);
    try {
      const [, listed] = await chain.publicClient.readContract({
        ...marketplace,
        functionName: "serviceOwner",
        args: [serviceId],
      });
      if (!listed) continue;
      await send(ctx, `delistService ${name}`, () =>
        ctx.wallet.writeContract({ ...marketplace, functionName: "delistService", args: [serviceId] }),
      );
      ctx.logger.info({ event: "service-delisted", serviceId, service: name }, "service delisted (unavailable)");
    } catch (error) {
      ctx.logger.warn({ serviceId, service: name, err: revertReason(error) }, "could not delist the service");
    }
  }
  return ctx.transactions;
}

// ---------------------------------------------------------------- transactions and errors

/** Sends a transaction (viem simulates it first) and waits for a successful receipt. */
async function send(ctx: Ctx, label: string, write: () => Promise<Hex>): Promise<void> {
  let hash: Hex;
  try {
    hash = await write();
  } catch (error) {
    throw new RegistrationError(`${label}: ${revertReason(error)}`);
  }
  const receipt = await ctx.chain.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new RegistrationError(`${label}: transaction ${hash} reverted`);
  ctx.transactions += 1;
}

/** Every custom error of the protocol's contracts: a revert bubbles up from whichever contract raised it. */
const PROTOCOL_ERRORS = [
  ...registryAbi,
  ...tokenAbi,
  ...constitutionAbi,
  ...humanOverrideAbi,
  ...marketplaceAbi,
].filter((item) => item.type === "error") as Abi;

function revertedError(error: unknown): ContractFunctionRevertedError | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const found = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return found instanceof ContractFunctionRevertedError ? found : undefined;
}

/** The decoded custom error name of a revert, if it is one. */
export function revertName(error: unknown): string | undefined {
  return decodedRevert(error)?.errorName;
}

function decodedRevert(error: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  const reverted = revertedError(error);
  if (reverted === undefined) return undefined;
  if (reverted.data) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  if (reverted.raw === undefined) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: PROTOCOL_ERRORS, data: reverted.raw });
    return { errorName: decoded.errorName, args: decoded.args ?? [] };
  } catch {
    return undefined;
  }
}

/** `ErrorName(arg, ...)` for a decoded revert, else viem's short message. */
export function revertReason(error: unknown): string {
  const decoded = decodedRevert(error);
  if (decoded === undefined) return shortMessage(error);
  const args = decoded.args.map((a) => (typeof a === "string" ? JSON.stringify(a) : String(a)));
  return `reverted with ${decoded.errorName}(${args.join(", ")})`;
}

function aitbc(wei: bigint): string {
  return `${formatUnits(wei, 18)} AITBC`;
}

function sameSet(a: readonly Hex[], b: readonly Hex[]): boolean {
  const norm = (xs: readonly Hex[]) => [...new Set(xs.map((x) => x.toLowerCase()))].sort().join();
  return a.length === b.length && norm(a) === norm(b);
}
