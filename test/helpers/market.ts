/**
 * Helpers for the ServiceMarketplace tests (test/market/, and the zk marketplace tests): the marketplace's enums,
 * constants and request builders; EIP-712 permits and signed results; compute receipts computed independently of
 * the contract; then the market fixture the test/market/ files share (one loadFixture snapshot, {loadMarket}), the
 * workload states built on it ({posted} … {disputed}), and the checks a settlement or a failed assignment must
 * pass ({expectSettles}, {expectFails}).
 */
import { expect } from "chai";
import {
  AbiCoder,
  type ContractTransactionResponse,
  id,
  keccak256,
  MaxUint256,
  Signature,
  type Signer as EthersSigner,
  toBeHex,
  ZeroHash,
} from "ethers";
import { network } from "hardhat";

import { PERMIT_TYPES } from "../../protocol/eip712.js";
import { enumValues, WORKLOAD_STATUSES, WORKLOAD_VERIFICATION_LEVELS } from "../../protocol/enums.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";
import { domainOf, forEthers, signWorkResult } from "../../scripts/lib/eip712.js";
import { receiptDomain, signReceipt, type ComputeReceipt } from "../../scripts/lib/receipts.js";
import type { AIToken, IServiceMarketplace, ServiceMarketplace } from "../../typechain-types/index.js";
import {
  AGENT_TYPE,
  AITBC,
  DAY,
  HOUR,
  MIN_STAKE,
  mintAitbc,
  registerAgent,
  registerAndStake,
  registration,
  type Signer,
} from "./agents.js";

/** IServiceMarketplace.WorkloadStatus. */
export const WORKLOAD = enumValues(WORKLOAD_STATUSES);

/** IServiceMarketplace.VerificationLevel. */
export const VERIFICATION = enumValues(WORKLOAD_VERIFICATION_LEVELS);

/** deploy/modules/Protocol.ts defaults. */
export const PROTOCOL_FEE_BPS = 100n;
export const CHALLENGE_WINDOW = DAY;
export const TIMEOUT_SLASH_BPS = 1_000n;

/** ServiceMarketplace constants. */
export const MIN_CHALLENGE_WINDOW = HOUR;
export const MAX_FEE_BPS = 1_000n;
export const MAX_CHALLENGE_WINDOW = 30n * DAY;
export const MAX_TIMEOUT_SLASH_BPS = 10_000n;
export const MAX_BIDS = 32n;
/** How long after a round's bid deadline its bids may be awarded (before emergency stops extend it). */
export const AWARD_WINDOW = DAY;
export const REPUTATION_REWARD = 10n;
/** ServiceMarketplace.FEE_PER_REPUTATION_POINT: 0.01 AITBC of protocol fee per reputation point. */
export const FEE_PER_REPUTATION_POINT = 10n ** 16n;

/** The reputation a settlement paying `fee` earns an unrelated provider: a point per FEE_PER_REPUTATION_POINT, capped. */
export function reputationGainOf(fee: bigint): bigint {
  const points = fee / FEE_PER_REPUTATION_POINT;
  return points < REPUTATION_REWARD ? points : REPUTATION_REWARD;
}
export const REPUTATION_PENALTY = -50n;
/**
 * Core.ts default reward rate: 1 AITBC per unit of work. Settlement itself mints nothing; the reward is minted
 * when an attestor signs the workload's compute receipt ({attestReceipt}) and someone submits it to the token.
 */
export const REWARD_RATE = AITBC;

export const SERVICE_NAME = "gpu-inference";
export const SERVICE_TYPE = id(SERVICE_NAME);
export const MODEL_HASH = id("model:llama-3-8b");

/** What a workload request looks like, with bigint fields. */
export interface Request {
  serviceType: string;
  modelHash: string;
  units: bigint;
  maxPricePerUnit: bigint;
  bidDeadline: bigint;
  executionDeadline: bigint;
  verification: bigint;
  reopenOnTimeout: boolean;
  inputHash: string;
}

/** A valid offer (gpu-inference, MODEL_HASH, 5 AITBC per unit, 1,000 units of capacity), some fields replaced. */
export function offer(
  serviceId: string,
  overrides: Partial<IServiceMarketplace.ServiceOfferStruct> = {},
): IServiceMarketplace.ServiceOfferStruct {
  return {
    serviceId,
    serviceName: SERVICE_NAME,
    pricePerUnit: 5n * AITBC,
    maxCapacity: 1_000n,
    currentLoad: 0n,
    modelHash: MODEL_HASH,
    minAccuracy: 9_500n,
    ...overrides,
  };
}

/**
 * A valid request posted at `now`: gpu-inference on MODEL_HASH, 10 units at most 10 AITBC each (100 AITBC of
 * escrow), bids for an hour, then a day to execute; refund on timeout. Some fields replaced.
 */
export function workloadRequest(now: bigint, overrides: Partial<Request> = {}): Request {
  const bidDeadline = overrides.bidDeadline ?? now + HOUR;
  return {
    serviceType: SERVICE_TYPE,
    modelHash: MODEL_HASH,
    units: 10n,
    maxPricePerUnit: 10n * AITBC,
    bidDeadline,
    executionDeadline: bidDeadline + DAY,
    verification: VERIFICATION.basic,
    reopenOnTimeout: false,
    inputHash: ZeroHash,
    ...overrides,
  };
}

/** The escrow a request holds. */
export function escrowOf(request: Pick<Request, "units" | "maxPricePerUnit">): bigint {
  return request.units * request.maxPricePerUnit;
}

/**
 * The slash of a failed assignment (timeout or lost dispute) before the registry's cap: timeoutSlashBps of the
 * escrowed value units × maxPricePerUnit (not of the bid price), rounded down.
 */
export function slashOf(units: bigint, maxPricePerUnit: bigint, slashBps = TIMEOUT_SLASH_BPS): bigint {
  return (units * maxPricePerUnit * slashBps) / 10_000n;
}

/** The split of a settled workload: net payment to the provider, fee to the treasury, refund to the client. */
export function split(units: bigint, maxPricePerUnit: bigint, pricePerUnit: bigint, feeBps = PROTOCOL_FEE_BPS) {
  const payment = units * pricePerUnit;
  const fee = (payment * feeBps) / 10_000n;
  return { payment, fee, net: payment - fee, refund: units * (maxPricePerUnit - pricePerUnit) };
}

/** An EIP-2612 permit on the AIToken from `owner` to `spender`, signed by `signer` (the owner unless a forgery). */
export async function signPermit(
  token: AIToken,
  owner: EthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
  signer: EthersSigner = owner,
): Promise<Signature> {
  const ownerAddress = await owner.getAddress();
  const nonce = await token.nonces(ownerAddress);
  const signature = await signer.signTypedData(await domainOf(token), forEthers(PERMIT_TYPES), {
    owner: ownerAddress,
    spender,
    value,
    nonce,
    deadline,
  });
  return Signature.from(signature);
}

/** `provider`'s EIP-712 signature of a WorkResult. */
export function signResult(
  provider: EthersSigner,
  marketplace: ServiceMarketplace,
  workloadId: bigint,
  round: bigint,
  resultHash: string,
): Promise<string> {
  return signWorkResult(provider, marketplace, { workloadId, round, resultHash });
}

const abi = AbiCoder.defaultAbiCoder();

/** What the work hash of a compute receipt commits to: the workload as the client posted it. */
export interface ReceiptWork {
  workloadId: bigint;
  client: string;
  serviceType: string;
  modelHash: string;
  units: bigint;
}

/** A settled workload's receipt id: keccak256(abi.encode(marketplace, workloadId)). */
export function receiptIdOf(marketplace: string, workloadId: bigint): string {
  return keccak256(abi.encode(["address", "uint256"], [marketplace, workloadId]));
}

/** A settled workload's work hash: keccak256(abi.encode(workloadId, client, serviceType, modelHash, units)). */
export function workHashOf(work: ReceiptWork): string {
  return keccak256(
    abi.encode(
      ["uint256", "address", "bytes32", "bytes32", "uint96"],
      [work.workloadId, work.client, work.serviceType, work.modelHash, work.units],
    ),
  );
}

/** IServiceMarketplace.ReceiptData, field for field (for deep equality with receiptOf and event arguments). */
export interface ReceiptData {
  receiptId: string;
  provider: string;
  client: string;
  units: bigint;
  workHash: string;
  resultHash: string;
}

/**
 * The units a settlement's receipt rewards: the work's units, but no more than its protocol fee pays at the reward
 * rate (units × rate <= fee, rounded down), so a receipt never mints more than its payer paid the treasury.
 */
export function receiptUnitsOf(units: bigint, fee: bigint, rewardRate: bigint): bigint {
  const backed = fee / rewardRate;
  return backed < units ? backed : units;
}

/**
 * The receipt the marketplace should issue for a settled workload, computed independently of the contract; its
 * units are those the settlement's fee backs (receiptUnitsOf).
 */
export function expectedReceipt(
  marketplace: string,
  work: ReceiptWork,
  provider: string,
  resultHash: string,
  receiptUnits: bigint,
): ReceiptData {
  return {
    receiptId: receiptIdOf(marketplace, work.workloadId),
    provider,
    client: work.client,
    units: receiptUnits,
    workHash: workHashOf(work),
    resultHash,
  };
}

/** The fields of a ReceiptData in ABI order. */
export function receiptTuple(r: ReceiptData): unknown[] {
  return [r.receiptId, r.provider, r.client, r.units, r.workHash, r.resultHash];
}

/**
 * An AIToken ComputeReceipt built from a marketplace receipt (receiptOf) plus `deadline`, signed by `attestor`
 * (scripts/lib/receipts.ts).
 */
export async function attestReceipt(
  attestor: EthersSigner,
  token: AIToken,
  data: ReceiptData,
  deadline: bigint,
): Promise<{ receipt: ComputeReceipt; signature: string }> {
  const receipt: ComputeReceipt = {
    receiptId: data.receiptId,
    provider: data.provider,
    client: data.client,
    units: data.units,
    workHash: data.workHash,
    resultHash: data.resultHash,
    deadline,
  };
  return { receipt, signature: await signReceipt(attestor, await receiptDomain(token), receipt) };
}

// ---------------------------------------------------------------- the market fixture and its states

/** The test network, fetched when a fixture runs rather than at import (see connectedEthers in behaviours.ts). */
const connect = () => network.getOrCreate();

/** Provider agents declare 1,000 AITBC a day (bond 100) and stake 1,200: a default slash leaves them active. */
export const PROVIDER_VOLUME = 1_000n * AITBC;
export const PROVIDER_STAKE = 1_200n * AITBC;
export const AGENT_ID = 1n;
export const AGENT2_ID = 2n;
export const VALIDATOR_ID = 3n;
export const IDLE_VALIDATOR_ID = 4n;
export const SERVICE_A = id("service: agent, gpu-inference");
export const SERVICE_B = id("service: agent2, gpu-inference");
export const SERVICE_C = id("service: extra");
export const SERVICE_D = id("service: extra 2");
export const UNKNOWN_SERVICE = id("service: unknown");
export const WORKLOAD_ID = 1n;
export const UNKNOWN_WORKLOAD = 99n;
/** The fixture workload: 10 units at most 10 AITBC each. */
export const UNITS = 10n;
export const MAX_PRICE = 10n * AITBC;
export const ESCROW = UNITS * MAX_PRICE;
/** Bids on the fixture workload: agent 8 AITBC (bid 0), agent2 6 AITBC (bid 1). */
export const PRICE_A = 8n * AITBC;
export const PRICE_B = 6n * AITBC;
export const RESULT = id("result of workload 1");
export const PROPOSAL = id("proposal");
/** The default slash of a failed assignment: 10% of the escrowed value (100 AITBC), whatever the bid price. */
export const SLASH = slashOf(UNITS, MAX_PRICE);
export const CROWD = 33;

export type Tx = Promise<ContractTransactionResponse>;

export async function send(tx: Tx): Promise<void> {
  await (await tx).wait();
}

export async function now(): Promise<bigint> {
  return BigInt(await (await connect()).networkHelpers.time.latest());
}

// ---------------------------------------------------------------- fixtures

/**
 * The protocol, plus: `agent` (id 1) and `agent2` (id 2), service-provider agents staked 1,200 AITBC with
 * `operator`, listing SERVICE_A and SERVICE_B (the default offer); `validator` (id 3), a staked validator agent;
 * `idleValidator` (id 4), a validator agent without stake (inactive); both validators were admitted by the admin
 * (the marketplace's VALIDATOR_ROLE, which the deployment grants nobody); `reputer` holds the registry's
 * REPUTATION_ROLE; `client` (a plain account) holds 100,000 AITBC and has approved the marketplace;
 * `permitClient` holds 1,000 AITBC and approved nothing; `clientAgent` is unregistered.
 */
async function buildMarket() {
  const connection = await connect();
  const { ethers } = connection;
  const core = await deployProtocol(connection);
  const { registry, token, marketplace, deployer, operator, agent, agent2, client } = core;
  const [validator, idleValidator, reputer, permitClient, clientAgent] = (await ethers.getSigners()).slice(9);
  if (!validator || !idleValidator || !reputer || !permitClient || !clientAgent) {
    throw new Error("the test network needs at least 14 accounts");
  }
  const providerRegistration = { expectedDailyVolume: PROVIDER_VOLUME };
  await registerAndStake(core, agent, operator, PROVIDER_STAKE, providerRegistration);
  await registerAndStake(core, agent2, operator, PROVIDER_STAKE, providerRegistration);
  await registerAndStake(core, validator, operator, PROVIDER_STAKE, {
    ...providerRegistration,
    agentType: AGENT_TYPE.validator,
  });
  await registerAgent(core, idleValidator, operator, { agentType: AGENT_TYPE.validator });
  const validatorRole = await marketplace.VALIDATOR_ROLE();
  await send(marketplace.connect(deployer).grantRole(validatorRole, validator.address));
  await send(marketplace.connect(deployer).grantRole(validatorRole, idleValidator.address));
  await send(registry.connect(deployer).grantRole(await registry.REPUTATION_ROLE(), reputer.address));
  const market = await marketplace.getAddress();
  await mintAitbc(core, client.address, 100_000n);
  await send(token.connect(client).approve(market, MaxUint256));
  await mintAitbc(core, permitClient.address, 1_000n);
  await send(marketplace.connect(agent).listService(offer(SERVICE_A)));
  await send(marketplace.connect(agent2).listService(offer(SERVICE_B)));
  return { ...core, validator, idleValidator, reputer, permitClient, clientAgent, market, validatorRole };
}

export type Market = Awaited<ReturnType<typeof buildMarket>>;

/** The one snapshot most tests start from (see {buildMarket}). */
async function marketFixture(): Promise<Market> {
  return buildMarket();
}

export const loadMarket = async (): Promise<Market> => (await connect()).networkHelpers.loadFixture(marketFixture);

// The states below are built from the market snapshot in each test (a few transactions each), like the
// AgentRegistry tests' helpers: Hardhat 3's loadFixture mishandles fixtures that load other fixtures.

/** Fields of a request replaced, or a function of the posting time that returns them (for deadlines). */
export type Overrides = Partial<Request> | ((postedAt: bigint) => Partial<Request>);

/** `client` posts workload 1: the default request (100 AITBC escrow, refund on timeout unless replaced). */
export async function posted(overrides: Overrides = {}) {
  const f = await loadMarket();
  const postedAt = await now();
  const request = workloadRequest(postedAt, typeof overrides === "function" ? overrides(postedAt) : overrides);
  await send(f.marketplace.connect(f.client).postWorkload(request));
  return { ...f, request };
}

export type Posted = Awaited<ReturnType<typeof posted>>;

/** Both providers bid on workload 1: agent PRICE_A (bid 0), agent2 PRICE_B (bid 1). */
export async function bidded(overrides: Overrides = {}): Promise<Posted> {
  const f = await posted(overrides);
  await placeBothBids(f, WORKLOAD_ID);
  return f;
}

/** The client awards bid 1 (agent2's): agent2 runs workload 1 at PRICE_B. */
export async function awarded(overrides: Overrides = {}): Promise<Posted> {
  const f = await bidded(overrides);
  await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID));
  return f;
}

/** Like {awarded}, but the workload reopens on timeout. */
export async function reopenAwarded(): Promise<Posted> {
  return awarded({ reopenOnTimeout: true });
}

/** agent2 submits its signed RESULT for workload 1. */
export async function submitted(): Promise<Posted> {
  const f = await awarded();
  const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
  await send(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature));
  return f;
}

/** The client rejects the result: workload 1 is disputed. */
export async function disputed(): Promise<Posted> {
  const f = await submitted();
  await send(f.marketplace.connect(f.client).reject(WORKLOAD_ID, id("wrong output")));
  return f;
}

export function crowdService(i: number): string {
  return id(`service: crowd provider ${i}`);
}

/**
 * The market with workload 1 posted, plus 33 more provider agents (ids 5 to 37), each staked MIN_STAKE and
 * listing one offer; the first 32 have bid on workload 1, the i-th at MAX_PRICE − i wei.
 */
export async function crowdFixture() {
  const m = await buildMarket();
  const request = workloadRequest(await now());
  await send(m.marketplace.connect(m.client).postWorkload(request));
  const f = { ...m, request };
  const { token, registry, marketplace, deployer, operator } = f;
  const { ethers, networkHelpers } = await connect();
  const registryAddress = await registry.getAddress();
  await mintAitbc(f, deployer.address, BigInt(CROWD) * (MIN_STAKE / AITBC));
  const crowd = Array.from({ length: CROWD }, (_, i) => new ethers.Wallet(id(`crowd provider ${i}`), ethers.provider));
  for (const wallet of crowd) {
    await networkHelpers.setBalance(wallet.address, 10n ** 20n);
    await send(token.connect(deployer).transfer(wallet.address, MIN_STAKE));
  }
  // Each provider's own transactions in order; the providers in parallel.
  await Promise.all(
    crowd.map(async (wallet, i) => {
      await send(registry.connect(wallet).register(registration(operator.address)));
      await send(token.connect(wallet).approve(registryAddress, MaxUint256));
      await send(registry.connect(wallet).stake(MIN_STAKE));
      await send(marketplace.connect(wallet).listService(offer(crowdService(i))));
    }),
  );
  for (let i = 0; i < Number(MAX_BIDS); i++) {
    const wallet = crowd[i];
    if (!wallet) throw new Error("missing wallet");
    await send(marketplace.connect(wallet).bid(WORKLOAD_ID, crowdService(i), MAX_PRICE - BigInt(i), PROPOSAL));
  }
  return { ...f, crowd };
}

// ---------------------------------------------------------------- helpers

/**
 * Makes the next block one second past `f`'s bid deadline and returns the execution deadline an award in that
 * block gets: at least block time + the execution period (executionDeadline − bidDeadline at posting), here
 * the posted deadline + 1.
 */
export async function nextBlockAfterBidding(f: Posted): Promise<bigint> {
  const at = f.request.bidDeadline + 1n;
  await (await connect()).networkHelpers.time.setNextBlockTimestamp(at);
  return at + (f.request.executionDeadline - f.request.bidDeadline);
}

export async function placeBothBids(f: Market, workloadId: bigint): Promise<void> {
  await send(f.marketplace.connect(f.agent).bid(workloadId, SERVICE_A, PRICE_A, PROPOSAL));
  await send(f.marketplace.connect(f.agent2).bid(workloadId, SERVICE_B, PRICE_B, PROPOSAL));
}

/** The marketplace holds exactly the escrow it books. */
export async function expectBooks(f: Market): Promise<void> {
  expect(await f.token.balanceOf(f.market)).to.equal(await f.marketplace.totalEscrowed());
}

async function balancesOf(f: Market, accounts: string[]): Promise<bigint[]> {
  return Promise.all(accounts.map((account) => f.token.balanceOf(account)));
}

export async function statusOf(f: Market, workloadId: bigint): Promise<bigint> {
  return (await f.marketplace.getWorkload(workloadId)).status;
}

export async function loadOf(f: Market, serviceId: string): Promise<bigint> {
  return (await f.marketplace.getServiceStatus(serviceId)).currentLoad;
}

export async function freeze(f: Market, who: Signer): Promise<void> {
  await send(f.humanOverride.connect(f.guardian).freeze(who.address, "test"));
}

export interface Settlement {
  workloadId: bigint;
  provider: Signer;
  providerId: bigint;
  serviceId: string;
  client: string;
  units: bigint;
  maxPrice: bigint;
  price: bigint;
  /** The request's serviceType and modelHash (SERVICE_TYPE and MODEL_HASH unless given). */
  serviceType?: string;
  modelHash?: string;
  /** The submitted result (RESULT unless given). */
  resultHash?: string;
}

/**
 * The compute receipt `s` should issue, computed here from the marketplace address, the workload's terms and the
 * settlement's fee at the token's reward rate.
 */
async function receiptFor(f: Market, s: Settlement, fee: bigint): Promise<ReceiptData> {
  return expectedReceipt(
    f.market,
    {
      workloadId: s.workloadId,
      client: s.client,
      serviceType: s.serviceType ?? SERVICE_TYPE,
      modelHash: s.modelHash ?? MODEL_HASH,
      units: s.units,
    },
    s.provider.address,
    s.resultHash ?? RESULT,
    receiptUnitsOf(s.units, fee, await f.token.rewardRate()),
  );
}

/**
 * Runs `action`, which must settle a workload, and checks the settlement: the provider gets payment − fee, the
 * treasury the fee, the client units × (maxPrice − price); the escrow leaves the books and the balance, and
 * splits exactly (deposit == paid + fee + refund); reputation up by a point per FEE_PER_REPUTATION_POINT of fee, at
 * most +10 (the clients here are unrelated to the providers); the service's load drops by the units. No
 * AITBC is minted (total supply unchanged, no ReceiptMinted, the old coordinator key unspent): instead the
 * marketplace issues a compute receipt (ComputeReceiptIssued) whose id and work hash match an independent
 * computation, and receiptOf, which reverted before, returns it.
 */
export async function expectSettles(
  f: Market,
  action: () => Tx,
  s: Settlement,
): Promise<{ tx: Tx; receipt: ReceiptData }> {
  const { marketplace, registry, token, treasury } = f;
  const accounts = [s.provider.address, treasury.address, s.client, f.market];
  const before = await balancesOf(f, accounts);
  const escrowedBefore = await marketplace.totalEscrowed();
  const reputationBefore = await registry.reputationOf(s.providerId);
  const loadBefore = await loadOf(f, s.serviceId);
  const supplyBefore = await token.totalSupply();
  const { fee, net, refund } = split(s.units, s.maxPrice, s.price, await marketplace.protocolFeeBps());
  const escrow = s.units * s.maxPrice;
  const receipt = await receiptFor(f, s, fee);
  const oldCoordinatorKey = toBeHex(s.workloadId, 32);
  const statusBefore = await statusOf(f, s.workloadId);
  await expect(marketplace.receiptOf(s.workloadId))
    .to.be.revertedWithCustomError(marketplace, "MarketplaceWrongStatus")
    .withArgs(s.workloadId, statusBefore);

  const tx = action();
  await expect(tx).to.emit(marketplace, "WorkloadSettled").withArgs(s.workloadId, s.providerId, net, fee, refund);
  await expect(tx)
    .to.emit(marketplace, "ComputeReceiptIssued")
    .withArgs(
      receipt.receiptId,
      s.workloadId,
      receipt.provider,
      receipt.client,
      receipt.units,
      receipt.workHash,
      receipt.resultHash,
    );
  const gain = reputationGainOf(fee);
  if (gain === 0n) {
    await expect(tx).to.not.emit(registry, "ReputationUpdated");
  } else {
    await expect(tx)
      .to.emit(registry, "ReputationUpdated")
      .withArgs(s.providerId, f.market, reputationBefore, reputationBefore + gain, "workload settled");
  }
  await expect(tx).to.not.emit(token, "ReceiptMinted");
  await expect(tx).to.not.emit(marketplace, "AssignmentFailed");

  const after = await balancesOf(f, accounts);
  const [provider, treasuryGot, clientGot, marketLost] = [
    (after[0] ?? 0n) - (before[0] ?? 0n),
    (after[1] ?? 0n) - (before[1] ?? 0n),
    (after[2] ?? 0n) - (before[2] ?? 0n),
    (before[3] ?? 0n) - (after[3] ?? 0n),
  ];
  expect(provider).to.equal(net);
  expect(treasuryGot).to.equal(fee);
  expect(clientGot).to.equal(refund);
  expect(marketLost).to.equal(escrow);
  expect(net + fee + refund).to.equal(escrow);
  expect(provider + treasuryGot + clientGot).to.equal(escrow);
  expect(escrowedBefore - (await marketplace.totalEscrowed())).to.equal(escrow);
  expect(await token.totalSupply()).to.equal(supplyBefore);
  expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(false);
  expect(await token.isVerifiedReceiptMinted(f.market, oldCoordinatorKey)).to.equal(false);
  expect(await marketplace.receiptOf(s.workloadId)).to.deep.equal(receiptTuple(receipt));
  expect(await registry.reputationOf(s.providerId)).to.equal(reputationBefore + gain);
  expect(await loadOf(f, s.serviceId)).to.equal(loadBefore - s.units);
  expect(await statusOf(f, s.workloadId)).to.equal(WORKLOAD.settled);
  await expectBooks(f);
  return { tx, receipt };
}

export interface Failure {
  workloadId: bigint;
  providerId: bigint;
  serviceId: string;
  client: string;
  units: bigint;
  slash: bigint;
  reopened: boolean;
  /** The escrow (refunded unless the workload reopens). */
  escrow: bigint;
}

/**
 * Runs `action`, which must fail an assignment (timeout or lost dispute), and checks: the provider is slashed
 * `slash` to the treasury and loses 50 reputation; the service's load drops; the client is refunded the whole
 * escrow, or the workload reopens keeping it; no compute receipt is issued and nothing is minted.
 */
export async function expectFails(f: Market, action: () => Tx, e: Failure): Promise<{ tx: Tx }> {
  const { marketplace, registry } = f;
  const accounts = [e.client, f.treasury.address, f.market];
  const before = await balancesOf(f, accounts);
  const stakeBefore = await registry.stakeOf(e.providerId);
  const reputationBefore = await registry.reputationOf(e.providerId);
  const loadBefore = await loadOf(f, e.serviceId);
  const escrowedBefore = await marketplace.totalEscrowed();
  const supplyBefore = await f.token.totalSupply();
  const refund = e.reopened ? 0n : e.escrow;

  const tx = action();
  await expect(tx).to.emit(marketplace, "AssignmentFailed").withArgs(e.workloadId, e.providerId, e.slash, e.reopened);
  if (e.reopened) {
    await expect(tx).to.not.emit(marketplace, "WorkloadRefunded");
  } else {
    await expect(tx).to.emit(marketplace, "WorkloadRefunded").withArgs(e.workloadId, refund);
  }
  if (e.slash === 0n) {
    await expect(tx).to.not.emit(registry, "Slashed");
  } else {
    await expect(tx)
      .to.emit(registry, "Slashed")
      .withArgs(e.providerId, f.market, e.slash, 0n, f.treasury.address, "workload failed");
  }
  await expect(tx).to.not.emit(marketplace, "WorkloadSettled");
  await expect(tx).to.not.emit(marketplace, "ComputeReceiptIssued");

  const after = await balancesOf(f, accounts);
  expect((after[0] ?? 0n) - (before[0] ?? 0n)).to.equal(refund);
  expect((after[1] ?? 0n) - (before[1] ?? 0n)).to.equal(e.slash);
  expect((before[2] ?? 0n) - (after[2] ?? 0n)).to.equal(refund);
  expect(escrowedBefore - (await marketplace.totalEscrowed())).to.equal(refund);
  expect(await registry.stakeOf(e.providerId)).to.equal(stakeBefore - e.slash);
  const expectedReputation = reputationBefore + REPUTATION_PENALTY < 0n ? 0n : reputationBefore + REPUTATION_PENALTY;
  expect(await registry.reputationOf(e.providerId)).to.equal(expectedReputation);
  expect(await loadOf(f, e.serviceId)).to.equal(loadBefore - e.units);
  const status = e.reopened ? WORKLOAD.open : WORKLOAD.refunded;
  expect(await statusOf(f, e.workloadId)).to.equal(status);
  await expect(marketplace.receiptOf(e.workloadId))
    .to.be.revertedWithCustomError(marketplace, "MarketplaceWrongStatus")
    .withArgs(e.workloadId, status);
  expect(await f.token.isReceiptMinted(receiptIdOf(f.market, e.workloadId))).to.equal(false);
  expect(await f.token.totalSupply()).to.equal(supplyBefore);
  await expectBooks(f);
  return { tx };
}

/** The fixture workload's settlement at agent2's PRICE_B. */
export function settlementB(f: Market, workloadId = WORKLOAD_ID): Settlement {
  return {
    workloadId,
    provider: f.agent2,
    providerId: AGENT2_ID,
    serviceId: SERVICE_B,
    client: f.client.address,
    units: UNITS,
    maxPrice: MAX_PRICE,
    price: PRICE_B,
  };
}

export function failureB(f: Market, reopened: boolean, slash = SLASH): Failure {
  return {
    workloadId: WORKLOAD_ID,
    providerId: AGENT2_ID,
    serviceId: SERVICE_B,
    client: f.client.address,
    units: UNITS,
    slash,
    reopened,
    escrow: ESCROW,
  };
}

export function requestTuple(r: Request): unknown[] {
  return [
    r.serviceType,
    r.modelHash,
    r.units,
    r.maxPricePerUnit,
    r.bidDeadline,
    r.executionDeadline,
    r.verification,
    r.reopenOnTimeout,
    r.inputHash,
  ];
}

// ---------------------------------------------------------------- tests
