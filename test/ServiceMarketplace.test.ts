import { expect } from "chai";
import { type ContractTransactionResponse, id, MaxUint256, toBeHex, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import {
  AGENT_TYPE,
  AITBC,
  ALL_ACTIONS,
  bit,
  constraints,
  DAY,
  HOUR,
  MIN_STAKE,
  mintAitbc,
  registerAgent,
  registerAndStake,
  registration,
  type Signer,
} from "./helpers/agents.js";
import { FIELD_MODULUS } from "../circuits/lib/field.js";
import { deployProtocol } from "../scripts/lib/deploy.js";
import {
  attestReceipt,
  CHALLENGE_WINDOW,
  escrowOf,
  expectedReceipt,
  MARKET_ACTION,
  MAX_BIDS,
  MAX_CHALLENGE_WINDOW,
  MAX_FEE_BPS,
  MAX_TIMEOUT_SLASH_BPS,
  MIN_CHALLENGE_WINDOW,
  MODEL_HASH,
  offer,
  PROTOCOL_FEE_BPS,
  type ReceiptData,
  receiptIdOf,
  receiptTuple,
  type Request,
  REPUTATION_PENALTY,
  REPUTATION_REWARD,
  REWARD_RATE,
  SERVICE_NAME,
  SERVICE_TYPE,
  signPermit,
  signResult,
  slashOf,
  split,
  TIMEOUT_SLASH_BPS,
  VERIFICATION,
  WORKLOAD,
  workloadRequest,
} from "./helpers/market.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

/** Provider agents declare 1,000 AITBC a day (bond 100) and stake 1,200: a default slash leaves them active. */
const PROVIDER_VOLUME = 1_000n * AITBC;
const PROVIDER_STAKE = 1_200n * AITBC;
const AGENT_ID = 1n;
const AGENT2_ID = 2n;
const VALIDATOR_ID = 3n;
const IDLE_VALIDATOR_ID = 4n;
const SERVICE_A = id("service: agent, gpu-inference");
const SERVICE_B = id("service: agent2, gpu-inference");
const SERVICE_C = id("service: extra");
const SERVICE_D = id("service: extra 2");
const UNKNOWN_SERVICE = id("service: unknown");
const WORKLOAD_ID = 1n;
const UNKNOWN_WORKLOAD = 99n;
/** The fixture workload: 10 units at most 10 AITBC each. */
const UNITS = 10n;
const MAX_PRICE = 10n * AITBC;
const ESCROW = UNITS * MAX_PRICE;
/** Bids on the fixture workload: agent 8 AITBC (bid 0), agent2 6 AITBC (bid 1). */
const PRICE_A = 8n * AITBC;
const PRICE_B = 6n * AITBC;
const RESULT = id("result of workload 1");
const PROPOSAL = id("proposal");
/** The default slash of a failed assignment: 10% of the escrowed value (100 AITBC), whatever the bid price. */
const SLASH = slashOf(UNITS, MAX_PRICE);
const CROWD = 33;

type Tx = Promise<ContractTransactionResponse>;

async function send(tx: Tx): Promise<void> {
  await (await tx).wait();
}

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
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

type Market = Awaited<ReturnType<typeof buildMarket>>;

/** The one snapshot most tests start from (see {buildMarket}). */
async function marketFixture(): Promise<Market> {
  return buildMarket();
}

const loadMarket = (): Promise<Market> => networkHelpers.loadFixture(marketFixture);

// The states below are built from the market snapshot in each test (a few transactions each), like the
// AgentRegistry tests' helpers: Hardhat 3's loadFixture mishandles fixtures that load other fixtures.

/** `client` posts workload 1: the default request (100 AITBC escrow, refund on timeout unless replaced). */
async function posted(overrides: Partial<Request> = {}) {
  const f = await loadMarket();
  const request = workloadRequest(await now(), overrides);
  await send(f.marketplace.connect(f.client).postWorkload(request));
  return { ...f, request };
}

type Posted = Awaited<ReturnType<typeof posted>>;

/** Both providers bid on workload 1: agent PRICE_A (bid 0), agent2 PRICE_B (bid 1). */
async function bidded(overrides: Partial<Request> = {}): Promise<Posted> {
  const f = await posted(overrides);
  await placeBothBids(f, WORKLOAD_ID);
  return f;
}

/** The client awards bid 1: agent2 runs workload 1 at PRICE_B. */
async function awarded(overrides: Partial<Request> = {}): Promise<Posted> {
  const f = await bidded(overrides);
  await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n));
  return f;
}

/** Like {awarded}, but the workload reopens on timeout. */
async function reopenAwarded(): Promise<Posted> {
  return awarded({ reopenOnTimeout: true });
}

/** agent2 submits its signed RESULT for workload 1. */
async function submitted(): Promise<Posted> {
  const f = await awarded();
  const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
  await send(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature));
  return f;
}

/** The client rejects the result: workload 1 is disputed. */
async function disputed(): Promise<Posted> {
  const f = await submitted();
  await send(f.marketplace.connect(f.client).reject(WORKLOAD_ID, id("wrong output")));
  return f;
}

function crowdService(i: number): string {
  return id(`service: crowd provider ${i}`);
}

/**
 * The market with workload 1 posted, plus 33 more provider agents (ids 5 to 37), each staked MIN_STAKE and
 * listing one offer; the first 32 have bid on workload 1, the i-th at MAX_PRICE − i wei.
 */
async function crowdFixture() {
  const m = await buildMarket();
  const request = workloadRequest(await now());
  await send(m.marketplace.connect(m.client).postWorkload(request));
  const f = { ...m, request };
  const { token, registry, marketplace, deployer, operator } = f;
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
async function nextBlockAfterBidding(f: Posted): Promise<bigint> {
  const at = f.request.bidDeadline + 1n;
  await time.setNextBlockTimestamp(at);
  return at + (f.request.executionDeadline - f.request.bidDeadline);
}

async function placeBothBids(f: Market, workloadId: bigint): Promise<void> {
  await send(f.marketplace.connect(f.agent).bid(workloadId, SERVICE_A, PRICE_A, PROPOSAL));
  await send(f.marketplace.connect(f.agent2).bid(workloadId, SERVICE_B, PRICE_B, PROPOSAL));
}

/** `who`'s operator takes `actionType` out of its allowed actions. */
async function forbid(f: Market, who: Signer, actionType: number): Promise<void> {
  const c = constraints({ maxDailyVolume: PROVIDER_VOLUME, allowedActions: ALL_ACTIONS & ~bit(actionType) });
  await send(f.constitution.connect(f.operator).setConstraints(who.address, c));
}

/** The marketplace holds exactly the escrow it books. */
async function expectBooks(f: Market): Promise<void> {
  expect(await f.token.balanceOf(f.market)).to.equal(await f.marketplace.totalEscrowed());
}

async function balancesOf(f: Market, accounts: string[]): Promise<bigint[]> {
  return Promise.all(accounts.map((account) => f.token.balanceOf(account)));
}

async function statusOf(f: Market, workloadId: bigint): Promise<bigint> {
  return (await f.marketplace.getWorkload(workloadId)).status;
}

async function loadOf(f: Market, serviceId: string): Promise<bigint> {
  return (await f.marketplace.getServiceStatus(serviceId)).currentLoad;
}

async function freeze(f: Market, who: Signer): Promise<void> {
  await send(f.humanOverride.connect(f.guardian).freeze(who.address, "test"));
}

interface Settlement {
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

/** The compute receipt `s` should issue, computed here from the marketplace address and the workload's terms. */
function receiptFor(f: Market, s: Settlement): ReceiptData {
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
  );
}

/**
 * Runs `action`, which must settle a workload, and checks the settlement: the provider gets payment − fee, the
 * treasury the fee, the client units × (maxPrice − price); the escrow leaves the books and the balance, and
 * splits exactly (deposit == paid + fee + refund); reputation +10; the service's load drops by the units. No
 * AITBC is minted (total supply unchanged, no ReceiptMinted, the old coordinator key unspent): instead the
 * marketplace issues a compute receipt (ComputeReceiptIssued) whose id and work hash match an independent
 * computation, and receiptOf, which reverted before, returns it.
 */
async function expectSettles(f: Market, action: () => Tx, s: Settlement): Promise<{ tx: Tx; receipt: ReceiptData }> {
  const { marketplace, registry, token, treasury } = f;
  const accounts = [s.provider.address, treasury.address, s.client, f.market];
  const before = await balancesOf(f, accounts);
  const escrowedBefore = await marketplace.totalEscrowed();
  const reputationBefore = await registry.reputationOf(s.providerId);
  const loadBefore = await loadOf(f, s.serviceId);
  const supplyBefore = await token.totalSupply();
  const { fee, net, refund } = split(s.units, s.maxPrice, s.price, await marketplace.protocolFeeBps());
  const escrow = s.units * s.maxPrice;
  const receipt = receiptFor(f, s);
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
  await expect(tx)
    .to.emit(registry, "ReputationUpdated")
    .withArgs(s.providerId, f.market, reputationBefore, reputationBefore + 10n, "workload settled");
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
  expect(await registry.reputationOf(s.providerId)).to.equal(reputationBefore + REPUTATION_REWARD);
  expect(await loadOf(f, s.serviceId)).to.equal(loadBefore - s.units);
  expect(await statusOf(f, s.workloadId)).to.equal(WORKLOAD.Settled);
  await expectBooks(f);
  return { tx, receipt };
}

interface Failure {
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
async function expectFails(f: Market, action: () => Tx, e: Failure): Promise<{ tx: Tx }> {
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
  const status = e.reopened ? WORKLOAD.Open : WORKLOAD.Refunded;
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
function settlementB(f: Market, workloadId = WORKLOAD_ID): Settlement {
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

function failureB(f: Market, reopened: boolean, slash = SLASH): Failure {
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

function requestTuple(r: Request): unknown[] {
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

describe("ServiceMarketplace", function () {
  describe("deployment", function () {
    it("wires the protocol defaults and the roles it needs; the marketplace cannot mint (no COORDINATOR_ROLE)", async function () {
      const { marketplace, token, registry, constitution, humanOverride, deployer, market } = await loadMarket();
      expect(await marketplace.protocolFeeBps()).to.equal(PROTOCOL_FEE_BPS);
      expect(await marketplace.challengeWindow()).to.equal(CHALLENGE_WINDOW);
      expect(await marketplace.timeoutSlashBps()).to.equal(TIMEOUT_SLASH_BPS);
      expect(await marketplace.humanOverride()).to.equal(await humanOverride.getAddress());
      expect(await marketplace.constitution()).to.equal(await constitution.getAddress());
      expect(await marketplace.hasRole(ZeroHash, deployer.address)).to.equal(true);
      expect(await marketplace.MAX_BIDS()).to.equal(MAX_BIDS);
      expect(await marketplace.MIN_CHALLENGE_WINDOW()).to.equal(MIN_CHALLENGE_WINDOW);
      expect(await marketplace.MAX_CHALLENGE_WINDOW()).to.equal(MAX_CHALLENGE_WINDOW);
      expect(await marketplace.VALIDATOR_ROLE()).to.equal(id("VALIDATOR_ROLE"));
      expect(await marketplace.getRoleAdmin(id("VALIDATOR_ROLE"))).to.equal(ZeroHash);
      expect(await marketplace.hasRole(id("VALIDATOR_ROLE"), deployer.address)).to.equal(false);
      expect(await marketplace.totalEscrowed()).to.equal(0n);
      expect(await marketplace.workloadCount()).to.equal(0n);
      expect(await token.hasRole(await token.COORDINATOR_ROLE(), market)).to.equal(false);
      expect(await token.hasRole(await token.MODULE_ROLE(), market)).to.equal(true);
      expect(await registry.hasRole(await registry.SLASHER_ROLE(), market)).to.equal(true);
      expect(await registry.hasRole(await registry.REPUTATION_ROLE(), market)).to.equal(true);
      expect(await constitution.hasRole(await constitution.ENFORCER_ROLE(), market)).to.equal(true);
    });

    describe("constructor", function () {
      async function deployArgs() {
        const f = await loadMarket();
        const args = [
          f.deployer.address,
          await f.token.getAddress(),
          await f.registry.getAddress(),
          await f.humanOverride.getAddress(),
          await f.constitution.getAddress(),
          await f.inferenceVerifier.getAddress(),
          PROTOCOL_FEE_BPS,
          CHALLENGE_WINDOW,
          TIMEOUT_SLASH_BPS,
        ];
        return { f, args };
      }

      it("stores the parameters and emits ParametersSet", async function () {
        const { args } = await deployArgs();
        const marketplace = await ethers.deployContract("ServiceMarketplace", args);
        await expect(marketplace.deploymentTransaction())
          .to.emit(marketplace, "ParametersSet")
          .withArgs(PROTOCOL_FEE_BPS, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS);
      });

      for (const [index, name] of [
        [0, "admin"],
        [1, "token"],
        [2, "registry"],
        [3, "humanOverride"],
        [4, "constitution"],
        [5, "inferenceVerifier"],
      ] as const) {
        it(`reverts MarketplaceZeroAddress when ${name} is the zero address`, async function () {
          const { f, args } = await deployArgs();
          const bad = [...args];
          bad[index] = ZeroAddress;
          await expect(ethers.deployContract("ServiceMarketplace", bad)).to.be.revertedWithCustomError(
            f.marketplace,
            "MarketplaceZeroAddress",
          );
        });
      }

      for (const [index, name, value, label] of [
        [6, "protocolFeeBps", MAX_FEE_BPS + 1n, "above its maximum"],
        [7, "challengeWindow", MAX_CHALLENGE_WINDOW + 1n, "above its maximum"],
        [7, "challengeWindow", MIN_CHALLENGE_WINDOW - 1n, "below its minimum (1 hour)"],
        [7, "challengeWindow", 0n, "zero"],
        [8, "timeoutSlashBps", MAX_TIMEOUT_SLASH_BPS + 1n, "above its maximum"],
      ] as const) {
        it(`reverts MarketplaceInvalidParameter when ${name} is ${label}`, async function () {
          const { f, args } = await deployArgs();
          const bad = [...args];
          bad[index] = value;
          await expect(ethers.deployContract("ServiceMarketplace", bad))
            .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidParameter")
            .withArgs(name, value);
        });
      }

      it("accepts a challenge window of exactly MIN_CHALLENGE_WINDOW", async function () {
        const { args } = await deployArgs();
        const ok = [...args];
        ok[7] = MIN_CHALLENGE_WINDOW;
        const marketplace = await ethers.deployContract("ServiceMarketplace", ok);
        expect(await marketplace.challengeWindow()).to.equal(MIN_CHALLENGE_WINDOW);
      });
    });
  });

  describe("lifecycle", function () {
    it("list → post → two bids → client award → signed result → accept: settles to provider, treasury and client", async function () {
      const f = await loadMarket();
      const { marketplace, token, agent, agent2, client } = f;

      // Two provider agents list offers.
      await expect(marketplace.connect(agent).listService(offer(SERVICE_C)))
        .to.emit(marketplace, "ServiceListed")
        .withArgs(SERVICE_C, AGENT_ID, [SERVICE_C, SERVICE_NAME, 5n * AITBC, 1_000n, 0n, MODEL_HASH, 9_500n]);
      await expect(marketplace.connect(agent2).listService(offer(SERVICE_D, { pricePerUnit: 4n * AITBC })))
        .to.emit(marketplace, "ServiceListed")
        .withArgs(SERVICE_D, AGENT2_ID, [SERVICE_D, SERVICE_NAME, 4n * AITBC, 1_000n, 0n, MODEL_HASH, 9_500n]);
      expect(await marketplace.serviceOwner(SERVICE_C)).to.deep.equal([AGENT_ID, true]);
      expect(await marketplace.serviceOwner(SERVICE_D)).to.deep.equal([AGENT2_ID, true]);
      expect(await marketplace.getServiceStatus(SERVICE_D)).to.deep.equal([
        SERVICE_D,
        SERVICE_NAME,
        4n * AITBC,
        1_000n,
        0n,
        MODEL_HASH,
        9_500n,
      ]);
      await expectBooks(f);

      // The client posts a workload: units × maxPrice move into escrow.
      const request = workloadRequest(await now());
      const clientBefore = await token.balanceOf(client.address);
      const postedAt = (await now()) + 1n;
      await time.setNextBlockTimestamp(postedAt);
      await expect(marketplace.connect(client).postWorkload(request))
        .to.emit(marketplace, "WorkloadPosted")
        .withArgs(WORKLOAD_ID, client.address, requestTuple(request), ESCROW);
      expect(clientBefore - (await token.balanceOf(client.address))).to.equal(ESCROW);
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW);
      expect(await marketplace.workloadCount()).to.equal(1n);
      const posted = await marketplace.getWorkload(WORKLOAD_ID);
      expect(posted.client).to.equal(client.address);
      expect(posted.status).to.equal(WORKLOAD.Open);
      expect(posted.round).to.equal(0n);
      expect(posted.units).to.equal(UNITS);
      expect(posted.maxPricePerUnit).to.equal(MAX_PRICE);
      expect(posted.bidDeadline).to.equal(request.bidDeadline);
      expect(posted.executionDeadline).to.equal(request.executionDeadline);
      expect(posted.biddingPeriod).to.equal(request.bidDeadline - postedAt);
      expect(posted.executionPeriod).to.equal(DAY);
      expect(posted.serviceType).to.equal(SERVICE_TYPE);
      expect(posted.modelHash).to.equal(MODEL_HASH);
      expect(posted.providerId).to.equal(0n);
      expect(posted.challengeWindow).to.equal(0n);
      await expectBooks(f);

      // Two provider agents bid.
      await expect(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_C, PRICE_A, PROPOSAL))
        .to.emit(marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, SERVICE_C, PRICE_A, PROPOSAL);
      const proposal2 = id("agent2's proposal");
      await expect(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_D, PRICE_B, proposal2))
        .to.emit(marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, SERVICE_D, PRICE_B, proposal2);
      const bids = await marketplace.getBids(WORKLOAD_ID);
      expect(bids.length).to.equal(2);
      expect(bids[0]?.providerId).to.equal(AGENT_ID);
      expect(bids[0]?.pricePerUnit).to.equal(PRICE_A);
      expect(bids[0]?.serviceId).to.equal(SERVICE_C);
      expect(bids[1]?.providerId).to.equal(AGENT2_ID);
      expect(bids[1]?.pricePerUnit).to.equal(PRICE_B);
      expect(bids[1]?.placedAt).to.equal(BigInt(await time.latest()));
      await expectBooks(f);

      // The client awards agent2's bid before the bid deadline: the posted execution deadline stands.
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 1n))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, request.executionDeadline, false);
      const awarded = await marketplace.getWorkload(WORKLOAD_ID);
      expect(awarded.status).to.equal(WORKLOAD.Awarded);
      expect(awarded.providerId).to.equal(AGENT2_ID);
      expect(awarded.serviceId).to.equal(SERVICE_D);
      expect(awarded.pricePerUnit).to.equal(PRICE_B);
      expect(awarded.executionDeadline).to.equal(request.executionDeadline);
      expect(awarded.challengeWindow).to.equal(0n);
      expect(await loadOf(f, SERVICE_D)).to.equal(UNITS);
      expect(await loadOf(f, SERVICE_C)).to.equal(0n);
      await expectBooks(f);

      // agent2 submits its signed result.
      const signature = await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      expect(ethers.recoverAddress(await marketplace.hashResult(WORKLOAD_ID, 0n, RESULT), signature)).to.equal(
        agent2.address,
      );
      await expect(marketplace.connect(agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.emit(marketplace, "ResultSubmitted")
        .withArgs(WORKLOAD_ID, AGENT2_ID, RESULT);
      const submitted = await marketplace.getWorkload(WORKLOAD_ID);
      expect(submitted.status).to.equal(WORKLOAD.Submitted);
      expect(submitted.resultHash).to.equal(RESULT);
      expect(submitted.submittedAt).to.equal(BigInt(await time.latest()));
      // The challenge window in force at submission is recorded with the result.
      expect(submitted.challengeWindow).to.equal(CHALLENGE_WINDOW);
      await expectBooks(f);

      // The client accepts: settlement, and a compute receipt (nothing minted).
      const supplyBefore = await token.totalSupply();
      await expectSettles(f, () => marketplace.connect(client).accept(WORKLOAD_ID), {
        ...settlementB(f),
        serviceId: SERVICE_D,
      });
      expect(await token.totalSupply()).to.equal(supplyBefore);
      // 100 AITBC of escrow: 59.4 to agent2 (no reward at settlement), 0.6 to the treasury, 40 back to the client.
      expect(split(UNITS, MAX_PRICE, PRICE_B)).to.deep.equal({
        payment: 60n * AITBC,
        fee: (6n * AITBC) / 10n,
        net: 60n * AITBC - (6n * AITBC) / 10n,
        refund: 40n * AITBC,
      });
      expect(await marketplace.totalEscrowed()).to.equal(0n);
      expect(await token.balanceOf(f.market)).to.equal(0n);
      expect(await loadOf(f, SERVICE_D)).to.equal(0n);
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(510n);
      expect(await f.registry.reputationOf(AGENT_ID)).to.equal(500n);
    });

    it("posts with an EIP-2612 permit in one transaction (no prior approval), then settles", async function () {
      const f = await loadMarket();
      const { marketplace, token, permitClient, client } = f;
      expect(await token.allowance(permitClient.address, f.market)).to.equal(0n);
      const request = workloadRequest(await now());
      const deadline = (await now()) + HOUR;
      const nonce = await token.nonces(permitClient.address);
      const { v, r, s } = await signPermit(token, permitClient, f.market, ESCROW, deadline);
      const blockBefore = await ethers.provider.getBlockNumber();

      const tx = marketplace.connect(permitClient).postWorkloadWithPermit(request, deadline, v, r, s);
      await expect(tx)
        .to.emit(marketplace, "WorkloadPosted")
        .withArgs(WORKLOAD_ID, permitClient.address, requestTuple(request), ESCROW);
      await expect(tx).to.emit(token, "Approval").withArgs(permitClient.address, f.market, ESCROW);
      expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore + 1);
      expect(await token.nonces(permitClient.address)).to.equal(nonce + 1n);
      expect(await token.allowance(permitClient.address, f.market)).to.equal(0n);
      expect(await token.balanceOf(permitClient.address)).to.equal(1_000n * AITBC - ESCROW);
      expect((await marketplace.getWorkload(WORKLOAD_ID)).client).to.equal(permitClient.address);
      await expectBooks(f);

      await placeBothBids(f, WORKLOAD_ID);
      await expectBooks(f);
      await send(marketplace.connect(permitClient).award(WORKLOAD_ID, 1n));
      await expectBooks(f);
      const signature = await signResult(f.agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      await send(marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature));
      await expectBooks(f);
      const clientBefore = await token.balanceOf(client.address);
      await expectSettles(f, () => marketplace.connect(permitClient).accept(WORKLOAD_ID), {
        ...settlementB(f),
        client: permitClient.address,
      });
      expect(await token.balanceOf(client.address)).to.equal(clientBefore);
    });

    it("posts with a permit that was already used (front-run): the allowance in place pays the escrow", async function () {
      const f = await loadMarket();
      const { marketplace, token, permitClient, outsider } = f;
      const request = workloadRequest(await now());
      const deadline = (await now()) + HOUR;
      const { v, r, s } = await signPermit(token, permitClient, f.market, ESCROW, deadline);
      await send(token.connect(outsider).permit(permitClient.address, f.market, ESCROW, deadline, v, r, s));
      await expect(marketplace.connect(permitClient).postWorkloadWithPermit(request, deadline, v, r, s))
        .to.emit(marketplace, "WorkloadPosted")
        .withArgs(WORKLOAD_ID, permitClient.address, requestTuple(request), ESCROW);
      expect(await token.allowance(permitClient.address, f.market)).to.equal(0n);
      await expectBooks(f);
    });

    it("rejects a post with a forged, expired or too small permit and no allowance (ERC20InsufficientAllowance)", async function () {
      const f = await loadMarket();
      const { marketplace, token, permitClient, outsider } = f;
      const request = workloadRequest(await now());
      const deadline = (await now()) + HOUR;
      const forged = await signPermit(token, permitClient, f.market, ESCROW, deadline, outsider);
      const expired = await signPermit(token, permitClient, f.market, ESCROW, (await now()) - 1n);
      const small = await signPermit(token, permitClient, f.market, ESCROW - 1n, deadline);
      for (const [sig, d] of [
        [forged, deadline],
        [expired, (await now()) - 1n],
        [small, deadline],
      ] as const) {
        await expect(marketplace.connect(permitClient).postWorkloadWithPermit(request, d, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
          .withArgs(f.market, 0n, ESCROW);
      }
      expect(await marketplace.workloadCount()).to.equal(0n);
      await expectBooks(f);
    });

    it("finalize settles after the challenge window without a rejection; anyone may call it", async function () {
      const f = await submitted();
      const { marketplace, outsider } = f;
      const { submittedAt } = await marketplace.getWorkload(WORKLOAD_ID);
      const endsAt = submittedAt + CHALLENGE_WINDOW;
      await time.setNextBlockTimestamp(endsAt);
      await expect(marketplace.connect(outsider).finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, endsAt);
      await time.setNextBlockTimestamp(endsAt + 1n);
      await expectSettles(f, () => marketplace.connect(outsider).finalize(WORKLOAD_ID), settlementB(f));
      expect(await marketplace.totalEscrowed()).to.equal(0n);
    });

    it("auto-award after the bidding deadline, then settle: anyone may auto-award", async function () {
      const f = await bidded();
      const { marketplace, outsider } = f;
      // One second after the bid deadline: the execution deadline moves one second on (the full period).
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(marketplace.connect(outsider).autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, executionDeadline, true);
      expect((await marketplace.getWorkload(WORKLOAD_ID)).executionDeadline).to.equal(executionDeadline);
      expect(await loadOf(f, SERVICE_B)).to.equal(UNITS);
      await expectBooks(f);
      const signature = await signResult(f.agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      await send(marketplace.connect(outsider).submitResult(WORKLOAD_ID, RESULT, signature));
      await expectBooks(f);
      await expectSettles(f, () => marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    it("cancel before award: the whole escrow goes back to the client", async function () {
      const f = await bidded();
      const { marketplace, token, client } = f;
      const before = await token.balanceOf(client.address);
      await expect(marketplace.connect(client).cancelWorkload(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadCancelled")
        .withArgs(WORKLOAD_ID, ESCROW);
      expect((await token.balanceOf(client.address)) - before).to.equal(ESCROW);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.Cancelled);
      expect(await marketplace.totalEscrowed()).to.equal(0n);
      expect(await f.registry.reputationOf(AGENT_ID)).to.equal(500n);
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(500n);
      await expectBooks(f);
    });

    it("keeps the books across several workloads in different states", async function () {
      const f = await awarded();
      const { marketplace, client } = f;
      const second = workloadRequest(await now(), { units: 3n, maxPricePerUnit: 7n * AITBC });
      await send(marketplace.connect(client).postWorkload(second));
      const third = workloadRequest(await now(), { units: 5n });
      await send(marketplace.connect(client).postWorkload(third));
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW + escrowOf(second) + escrowOf(third));
      await expectBooks(f);
      await send(marketplace.connect(client).cancelWorkload(3n));
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW + escrowOf(second));
      await expectBooks(f);
      await send(marketplace.connect(f.agent).bid(2n, SERVICE_A, 7n * AITBC, PROPOSAL));
      await send(marketplace.connect(client).award(2n, 0n));
      await send(
        marketplace.connect(f.agent).submitResult(2n, RESULT, await signResult(f.agent, marketplace, 2n, 0n, RESULT)),
      );
      await expectSettles(f, () => marketplace.connect(client).accept(2n), {
        workloadId: 2n,
        provider: f.agent,
        providerId: AGENT_ID,
        serviceId: SERVICE_A,
        client: client.address,
        units: 3n,
        maxPrice: 7n * AITBC,
        price: 7n * AITBC,
      });
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW);
    });
  });

  describe("autoAward", function () {
    it("picks the lowest price at equal reputation", async function () {
      const f = await bidded();
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, executionDeadline, true);
    });

    it("weights price by reputation: a dearer bid from a better-rated provider wins", async function () {
      const f = await bidded();
      const { marketplace, registry, reputer } = f;
      // agent: 8 × (2000 − 1000) = 8,000; agent2: 6 × (2000 − 0) = 12,000.
      await send(registry.connect(reputer).updateReputation(AGENT_ID, 500n, "test"));
      await send(registry.connect(reputer).updateReputation(AGENT2_ID, -500n, "test"));
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(marketplace.autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
      expect(await loadOf(f, SERVICE_A)).to.equal(UNITS);
    });

    it("breaks an exact price tie in favour of the earlier bid", async function () {
      const f = await posted();
      const { marketplace, agent, agent2 } = f;
      await send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_B, PROPOSAL));
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(marketplace.autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 0n, PRICE_B, executionDeadline, true);
    });

    it("breaks a tie of weighted scores in favour of the earlier bid, whichever provider that is", async function () {
      // agent: 6 × (2000 − 1000) = 6,000; agent2: 4 × (2000 − 500) = 6,000.
      for (const agentFirst of [true, false]) {
        const f = await posted();
        const { marketplace, registry, reputer, agent, agent2 } = f;
        await send(registry.connect(reputer).updateReputation(AGENT_ID, 500n, "test"));
        const bidA = () => send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, 6n * AITBC, PROPOSAL));
        const bidB = () => send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, 4n * AITBC, PROPOSAL));
        if (agentFirst) {
          await bidA();
          await bidB();
        } else {
          await bidB();
          await bidA();
        }
        const executionDeadline = await nextBlockAfterBidding(f);
        const [winner, price] = agentFirst ? [AGENT_ID, 6n * AITBC] : [AGENT2_ID, 4n * AITBC];
        await expect(marketplace.autoAward(WORKLOAD_ID))
          .to.emit(marketplace, "WorkloadAwarded")
          .withArgs(WORKLOAD_ID, winner, 0n, price, executionDeadline, true);
      }
    });

    it("skips a frozen bidder", async function () {
      const f = await bidded();
      await freeze(f, f.agent2);
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder that unstaked (exiting)", async function () {
      const f = await bidded();
      await send(f.registry.connect(f.agent2).requestUnstake(AGENT2_ID, PROVIDER_STAKE));
      expect(await f.registry.isActive(AGENT2_ID)).to.equal(false);
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder whose stake was slashed below the requirement", async function () {
      const f = await bidded();
      await send(f.registry.connect(f.deployer).grantRole(await f.registry.SLASHER_ROLE(), f.deployer.address));
      await send(f.registry.connect(f.deployer).slash(AGENT2_ID, 101n * AITBC, "test"));
      expect(await f.registry.isActive(AGENT2_ID)).to.equal(false);
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder whose offer lost its capacity (taken by another award)", async function () {
      const f = await bidded();
      const { marketplace, client, agent2 } = f;
      // agent2's offer: 15 units; another workload of 10 units awarded to it leaves 5 free.
      await send(marketplace.connect(agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 15n })));
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now())));
      await send(marketplace.connect(agent2).bid(2n, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(client).award(2n, 0n));
      expect(await loadOf(f, SERVICE_B)).to.equal(10n);
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(marketplace.autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder whose offer was cut below the units", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 9n })));
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder whose offer was delisted", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).delistService(SERVICE_B));
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("reverts MarketplaceNoEligibleBid without bids", async function () {
      const f = await posted();
      await time.increaseTo(f.request.bidDeadline + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNoEligibleBid")
        .withArgs(WORKLOAD_ID);
    });

    it("reverts MarketplaceNoEligibleBid when every bidder is ineligible (frozen, unstaked, no capacity)", async function () {
      const f = await bidded();
      await freeze(f, f.agent);
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 1n })));
      await time.increaseTo(f.request.bidDeadline + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNoEligibleBid")
        .withArgs(WORKLOAD_ID);
      await send(f.humanOverride.connect(f.guardian).unfreeze(f.agent.address));
      await send(f.registry.connect(f.agent).requestUnstake(AGENT_ID, PROVIDER_STAKE));
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNoEligibleBid")
        .withArgs(WORKLOAD_ID);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.Open);
    });
  });

  describe("disputes", function () {
    it("reject within the window opens a dispute (at the window's last second)", async function () {
      const f = await submitted();
      const { submittedAt } = await f.marketplace.getWorkload(WORKLOAD_ID);
      await time.setNextBlockTimestamp(submittedAt + CHALLENGE_WINDOW);
      const reason = id("wrong output");
      await expect(f.marketplace.connect(f.client).reject(WORKLOAD_ID, reason))
        .to.emit(f.marketplace, "ResultRejected")
        .withArgs(WORKLOAD_ID, reason);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.Disputed);
      expect(await loadOf(f, SERVICE_B)).to.equal(UNITS);
      await expectBooks(f);
    });

    it("a validator agent resolves for the provider: the workload settles", async function () {
      const f = await disputed();
      const { tx } = await expectSettles(
        f,
        () => f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true),
        settlementB(f),
      );
      await expect(tx).to.emit(f.marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, f.validator.address, true);
      expect((await f.constitution.usageOf(f.validator.address)).gas > 0n).to.equal(true);
    });

    it("a validator agent resolves for the client: refund, slash of 10% of the escrowed value to the treasury, −50 reputation", async function () {
      const f = await disputed();
      const { tx } = await expectFails(
        f,
        () => f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, false),
        failureB(f, false),
      );
      await expect(tx).to.emit(f.marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, f.validator.address, false);
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(450n);
      // 10% of units × maxPricePerUnit = 10 AITBC (10% of the 60 AITBC bid would be 6).
      expect(SLASH).to.equal(10n * AITBC);
      expect(await f.registry.stakeOf(AGENT2_ID)).to.equal(PROVIDER_STAKE - 10n * AITBC);
      expect(await f.marketplace.totalEscrowed()).to.equal(0n);
    });

    it("a guardian resolves for the client", async function () {
      const f = await disputed();
      const { tx } = await expectFails(
        f,
        () => f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, false),
        failureB(f, false),
      );
      await expect(tx).to.emit(f.marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, f.guardian.address, false);
    });

    it("a guardian resolves for the provider", async function () {
      const f = await disputed();
      const { tx } = await expectSettles(
        f,
        () => f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, true),
        settlementB(f),
      );
      await expect(tx).to.emit(f.marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, f.guardian.address, true);
    });

    it("caps the slash at the registry's maximum (half the provider's stake)", async function () {
      const f = await loadMarket();
      const { marketplace, deployer, client, agent2 } = f;
      await send(marketplace.connect(deployer).setParameters(PROTOCOL_FEE_BPS, CHALLENGE_WINDOW, 10_000n));
      // 500 units at most 10 AITBC: 5,000 AITBC escrowed, 100% of it is far above half of 1,200 AITBC of stake.
      const request = workloadRequest(await now(), { units: 500n });
      await send(marketplace.connect(client).postWorkload(request));
      await send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(client).award(WORKLOAD_ID, 0n));
      await send(
        marketplace
          .connect(agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
      await send(marketplace.connect(client).reject(WORKLOAD_ID, ZeroHash));
      const { maxSlash } = await f.registry.summaryOf(AGENT2_ID);
      expect(maxSlash).to.equal(PROVIDER_STAKE / 2n);
      await expectFails(f, () => marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, false), {
        ...failureB(f, false, maxSlash),
        units: 500n,
        escrow: escrowOf(request),
      });
      expect(await f.registry.isActive(AGENT2_ID)).to.equal(false);
    });

    it("a validator's resolution is its RESOLVE_DISPUTE action: its constitution may forbid it", async function () {
      const f = await disputed();
      const { constitution, operator, validator, marketplace } = f;
      await send(
        constitution.connect(operator).setConstraints(
          validator.address,
          constraints({
            maxDailyVolume: PROVIDER_VOLUME,
            allowedActions: ALL_ACTIONS & ~bit(MARKET_ACTION.RESOLVE_DISPUTE),
          }),
        ),
      );
      await expect(marketplace.connect(validator).resolveDispute(WORKLOAD_ID, true))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(validator.address, MARKET_ACTION.RESOLVE_DISPUTE);
    });
  });

  describe("timeouts", function () {
    it("claimTimeout after the deadline slashes and refunds (reopenOnTimeout false); anyone may call", async function () {
      const f = await awarded();
      const { marketplace, outsider, request } = f;
      await time.setNextBlockTimestamp(request.executionDeadline);
      await expect(marketplace.connect(outsider).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, request.executionDeadline);
      await time.setNextBlockTimestamp(request.executionDeadline + 1n);
      await expectFails(f, () => marketplace.connect(outsider).claimTimeout(WORKLOAD_ID), failureB(f, false));
      expect(await marketplace.totalEscrowed()).to.equal(0n);
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(450n);
    });

    it("claimTimeout reopens (reopenOnTimeout true): round 1, new deadlines, old bids gone; a new bid and award settle; the old round's signature is rejected", async function () {
      const f = await reopenAwarded();
      const { marketplace, agent, agent2, client, request } = f;
      // agent2 signed a result for round 0 but never submitted it in time.
      const oldSignature = await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      const before = await marketplace.getWorkload(WORKLOAD_ID);
      const claimedAt = request.executionDeadline + 100n;
      await time.setNextBlockTimestamp(claimedAt);
      await expectFails(f, () => marketplace.connect(client).claimTimeout(WORKLOAD_ID), failureB(f, true));

      const reopened = await marketplace.getWorkload(WORKLOAD_ID);
      expect(reopened.status).to.equal(WORKLOAD.Open);
      expect(reopened.round).to.equal(1n);
      expect(reopened.bidDeadline).to.equal(claimedAt + before.biddingPeriod);
      expect(reopened.executionDeadline).to.equal(claimedAt + before.biddingPeriod + before.executionPeriod);
      expect(reopened.providerId).to.equal(0n);
      expect(reopened.serviceId).to.equal(ZeroHash);
      expect(reopened.pricePerUnit).to.equal(0n);
      expect(reopened.submittedAt).to.equal(0n);
      expect(reopened.challengeWindow).to.equal(0n);
      expect(await marketplace.getBids(WORKLOAD_ID)).to.deep.equal([]);
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW);
      await expectBooks(f);
      // The old bid indexes are gone.
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 0n))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceUnknownBid")
        .withArgs(WORKLOAD_ID, 0n);

      // Both providers bid again (agent2 kept enough stake to stay active); the client re-awards agent2.
      expect(await f.registry.isActive(AGENT2_ID)).to.equal(true);
      await expect(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, 7n * AITBC, PROPOSAL))
        .to.emit(marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 0n, SERVICE_B, 7n * AITBC, PROPOSAL);
      await send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      expect((await marketplace.getBids(WORKLOAD_ID)).length).to.equal(2);
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 0n))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 0n, 7n * AITBC, reopened.executionDeadline, false);
      await expectBooks(f);

      // The round-0 signature does not carry over; a round-1 signature does.
      await expect(marketplace.connect(agent2).submitResult(WORKLOAD_ID, RESULT, oldSignature))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceInvalidResultSignature")
        .withArgs(WORKLOAD_ID);
      const newSignature = await signResult(agent2, marketplace, WORKLOAD_ID, 1n, RESULT);
      await send(marketplace.connect(agent2).submitResult(WORKLOAD_ID, RESULT, newSignature));
      await expectBooks(f);
      await expectSettles(f, () => marketplace.connect(client).accept(WORKLOAD_ID), {
        ...settlementB(f),
        price: 7n * AITBC,
      });
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(460n);
      expect(await marketplace.totalEscrowed()).to.equal(0n);
    });

    it("a reopened workload can time out again and reopen to round 2 (the slash is on the escrow again)", async function () {
      const f = await reopenAwarded();
      const { marketplace, agent, client, request } = f;
      await time.increaseTo(request.executionDeadline + 1n);
      await send(marketplace.claimTimeout(WORKLOAD_ID));
      await send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      await send(marketplace.connect(client).award(WORKLOAD_ID, 0n));
      await time.increaseTo((await marketplace.getWorkload(WORKLOAD_ID)).executionDeadline + 1n);
      await expectFails(f, () => marketplace.claimTimeout(WORKLOAD_ID), {
        ...failureB(f, true, SLASH),
        providerId: AGENT_ID,
        serviceId: SERVICE_A,
      });
      expect((await marketplace.getWorkload(WORKLOAD_ID)).round).to.equal(2n);
    });

    it("with timeoutSlashBps 0 a timeout slashes nothing but still costs reputation", async function () {
      const f = await awarded();
      await send(f.marketplace.connect(f.deployer).setParameters(PROTOCOL_FEE_BPS, CHALLENGE_WINDOW, 0n));
      await time.increaseTo(f.request.executionDeadline + 1n);
      await expectFails(f, () => f.marketplace.claimTimeout(WORKLOAD_ID), failureB(f, false, 0n));
    });

    for (const [label, units, maxPrice, price, slash] of [
      ["a 1-wei bid still loses 10% of the escrow", UNITS, MAX_PRICE, 1n, 10n * AITBC],
      ["a bid at the maximum price", UNITS, MAX_PRICE, MAX_PRICE, 10n * AITBC],
      ["rounded down: 3 units at most 333 wei, 99.9 wei → 99 wei", 3n, 333n, 1n, 99n],
    ] as const) {
      it(`slashes timeoutSlashBps × units × maxPricePerUnit / 10000, not the bid price: ${label}`, async function () {
        const f = await posted({ units, maxPricePerUnit: maxPrice });
        await send(f.marketplace.connect(f.agent2).bid(WORKLOAD_ID, SERVICE_B, price, PROPOSAL));
        await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n));
        await time.increaseTo(f.request.executionDeadline + 1n);
        expect(slashOf(units, maxPrice)).to.equal(slash);
        await expectFails(f, () => f.marketplace.claimTimeout(WORKLOAD_ID), {
          ...failureB(f, false, slash),
          units,
          escrow: units * maxPrice,
        });
      });
    }

    it("the escrow-based slash is still capped by the registry's maxSlash (1,000 units at most 10 AITBC, a 1-wei bid)", async function () {
      const f = await posted({ units: 1_000n });
      await send(f.marketplace.connect(f.agent2).bid(WORKLOAD_ID, SERVICE_B, 1n, PROPOSAL));
      await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n));
      await time.increaseTo(f.request.executionDeadline + 1n);
      const { maxSlash } = await f.registry.summaryOf(AGENT2_ID);
      // 10% of 10,000 AITBC escrowed = 1,000 AITBC > 600 AITBC (half the stake).
      expect(slashOf(1_000n, MAX_PRICE) > maxSlash).to.equal(true);
      await expectFails(f, () => f.marketplace.claimTimeout(WORKLOAD_ID), {
        ...failureB(f, false, maxSlash),
        units: 1_000n,
        escrow: 1_000n * MAX_PRICE,
      });
    });
  });

  describe("late award", function () {
    it("a client award after the execution deadline leaves the full execution period: claimTimeout right after reverts MarketplaceDeadlineNotPassed", async function () {
      const f = await bidded();
      const { marketplace, client, outsider, request } = f;
      const awardedAt = request.executionDeadline + 5n * HOUR;
      // The execution period is executionDeadline − bidDeadline at posting: a day.
      const deadline = awardedAt + DAY;
      await time.setNextBlockTimestamp(awardedAt);
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 1n))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, deadline, false);
      const w = await marketplace.getWorkload(WORKLOAD_ID);
      expect(w.executionDeadline).to.equal(deadline);
      expect(w.executionPeriod).to.equal(DAY);
      expect(w.bidDeadline).to.equal(request.bidDeadline);
      await expect(marketplace.connect(outsider).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, deadline);
      await time.setNextBlockTimestamp(deadline);
      await expect(marketplace.connect(outsider).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, deadline);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expectFails(f, () => marketplace.connect(outsider).claimTimeout(WORKLOAD_ID), failureB(f, false));
    });

    it("an auto-award after the execution deadline leaves the full execution period: the result is accepted at the new deadline", async function () {
      const f = await bidded();
      const { marketplace, agent2, outsider, request } = f;
      const awardedAt = request.executionDeadline + 1n;
      const deadline = awardedAt + DAY;
      await time.setNextBlockTimestamp(awardedAt);
      await expect(marketplace.connect(outsider).autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, deadline, true);
      await expect(marketplace.connect(outsider).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, deadline);
      const signature = await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      await time.setNextBlockTimestamp(deadline);
      await expect(marketplace.connect(agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.emit(marketplace, "ResultSubmitted")
        .withArgs(WORKLOAD_ID, AGENT2_ID, RESULT);
      await expectSettles(f, () => marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    for (const [label, offset] of [
      ["at the bid deadline keeps the posted execution deadline", 0n],
      ["one second after the bid deadline moves it one second on", 1n],
      ["an hour before the execution deadline moves it to award time + the period", DAY - HOUR],
    ] as const) {
      it(`an award ${label}`, async function () {
        const f = await bidded();
        const awardedAt = f.request.bidDeadline + offset;
        const deadline = awardedAt + DAY;
        expect(deadline >= f.request.executionDeadline).to.equal(true);
        await time.setNextBlockTimestamp(awardedAt);
        await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n))
          .to.emit(f.marketplace, "WorkloadAwarded")
          .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, deadline, false);
        expect((await f.marketplace.getWorkload(WORKLOAD_ID)).executionDeadline).to.equal(deadline);
      });
    }

    it("a reopened workload keeps its execution period: a late award in round 1 also gets the full period", async function () {
      const f = await reopenAwarded();
      const { marketplace, agent, client, request } = f;
      await time.increaseTo(request.executionDeadline + 1n);
      await send(marketplace.claimTimeout(WORKLOAD_ID));
      await send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      const reopened = await marketplace.getWorkload(WORKLOAD_ID);
      expect(reopened.executionPeriod).to.equal(DAY);
      const awardedAt = reopened.executionDeadline + 10n;
      await time.setNextBlockTimestamp(awardedAt);
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 0n))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, awardedAt + DAY, false);
      await expect(marketplace.claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, awardedAt + DAY);
    });
  });

  describe("compute receipts", function () {
    it("receiptOf reverts MarketplaceUnknownWorkload for an unknown id", async function () {
      const f = await posted();
      for (const workloadId of [0n, UNKNOWN_WORKLOAD]) {
        await expect(f.marketplace.receiptOf(workloadId))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
          .withArgs(workloadId);
      }
    });

    it("receiptOf reverts MarketplaceWrongStatus unless settled (open, awarded, submitted, disputed, refunded, cancelled)", async function () {
      const refunded = async () => {
        const f = await disputed();
        await send(f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, false));
        return f;
      };
      const cancelled = async () => {
        const f = await posted();
        await send(f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID));
        return f;
      };
      for (const [fixture, status] of [
        [posted, WORKLOAD.Open],
        [awarded, WORKLOAD.Awarded],
        [submitted, WORKLOAD.Submitted],
        [disputed, WORKLOAD.Disputed],
        [refunded, WORKLOAD.Refunded],
        [cancelled, WORKLOAD.Cancelled],
      ] as const) {
        const f = await fixture();
        expect(await statusOf(f, WORKLOAD_ID)).to.equal(status);
        await expect(f.marketplace.receiptOf(WORKLOAD_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
          .withArgs(WORKLOAD_ID, status);
      }
    });

    it("the attestor signs an AIToken ComputeReceipt built from receiptOf (plus a deadline): it mints once, to the provider", async function () {
      const f = await submitted();
      const { marketplace, token, attestor, agent2, client, outsider } = f;
      const { receipt: issued } = await expectSettles(
        f,
        () => marketplace.connect(client).accept(WORKLOAD_ID),
        settlementB(f),
      );
      const view = await marketplace.receiptOf(WORKLOAD_ID);
      const data: ReceiptData = {
        receiptId: view.receiptId,
        provider: view.provider,
        client: view.client,
        units: view.units,
        workHash: view.workHash,
        resultHash: view.resultHash,
      };
      expect(data).to.deep.equal(issued);
      const deadline = (await now()) + HOUR;
      const { receipt, signature } = await attestReceipt(attestor, token, data, deadline);
      expect(ethers.recoverAddress(await token.hashReceipt(receipt), signature)).to.equal(attestor.address);

      const reward = UNITS * REWARD_RATE;
      const supplyBefore = await token.totalSupply();
      const providerBefore = await token.balanceOf(agent2.address);
      // Anyone may submit an attested receipt; the reward goes to the receipt's provider.
      const tx = token.connect(outsider).mintFromReceipt(receipt, signature);
      await expect(tx)
        .to.emit(token, "ReceiptMinted")
        .withArgs(data.receiptId, agent2.address, attestor.address, client.address, UNITS, reward);
      await expect(tx).to.emit(token, "Transfer").withArgs(ZeroAddress, agent2.address, reward);
      expect(await token.totalSupply()).to.equal(supplyBefore + reward);
      expect((await token.balanceOf(agent2.address)) - providerBefore).to.equal(reward);
      expect(await token.isReceiptMinted(data.receiptId)).to.equal(true);

      // Exactly once: the same signature, and a fresh one over a later deadline, are the same receipt id.
      await expect(token.connect(outsider).mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(data.receiptId);
      const again = await attestReceipt(attestor, token, data, deadline + DAY);
      await expect(token.connect(agent2).mintFromReceipt(again.receipt, again.signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(data.receiptId);
      expect(await token.totalSupply()).to.equal(supplyBefore + reward);
      // The receipt view is unchanged by minting, and the marketplace's books are untouched.
      expect(await marketplace.receiptOf(WORKLOAD_ID)).to.deep.equal(receiptTuple(data));
      await expectBooks(f);
    });

    it("the parties cannot attest their own receipt: a provider- or client-signed (or tampered) receipt reverts AITokenSignerNotAttestor", async function () {
      const f = await submitted();
      const { marketplace, token, attestor, agent2, client } = f;
      const { receipt: data } = await expectSettles(
        f,
        () => marketplace.connect(client).accept(WORKLOAD_ID),
        settlementB(f),
      );
      const deadline = (await now()) + HOUR;
      for (const signer of [agent2, client]) {
        const { receipt, signature } = await attestReceipt(signer, token, data, deadline);
        await expect(token.connect(signer).mintFromReceipt(receipt, signature))
          .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
          .withArgs(data.receiptId, signer.address);
      }
      // The attestor's signature does not carry over to inflated units.
      const { receipt, signature } = await attestReceipt(attestor, token, data, deadline);
      const inflated = { ...receipt, units: receipt.units * 1_000n };
      const recovered = ethers.recoverAddress(await token.hashReceipt(inflated), signature);
      expect(recovered).to.not.equal(attestor.address);
      await expect(token.connect(agent2).mintFromReceipt(inflated, signature))
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(data.receiptId, recovered);
      expect(await token.isReceiptMinted(data.receiptId)).to.equal(false);
    });

    it("receipt ids bind the marketplace and the workload; the work hash uses the request's serviceType and modelHash (zero when unset)", async function () {
      const f = await loadMarket();
      const { marketplace, client, agent, agent2 } = f;
      const result2 = id("result of workload 2");
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now(), { modelHash: ZeroHash })));
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now(), { serviceType: ZeroHash })));
      await send(marketplace.connect(agent2).bid(1n, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(agent).bid(2n, SERVICE_A, PRICE_A, PROPOSAL));
      await send(marketplace.connect(client).award(1n, 0n));
      await send(marketplace.connect(client).award(2n, 0n));
      await send(
        marketplace.connect(agent2).submitResult(1n, RESULT, await signResult(agent2, marketplace, 1n, 0n, RESULT)),
      );
      await send(
        marketplace.connect(agent).submitResult(2n, result2, await signResult(agent, marketplace, 2n, 0n, result2)),
      );
      const { receipt: first } = await expectSettles(f, () => marketplace.connect(client).accept(1n), {
        ...settlementB(f, 1n),
        modelHash: ZeroHash,
      });
      const { receipt: second } = await expectSettles(f, () => marketplace.connect(client).accept(2n), {
        workloadId: 2n,
        provider: agent,
        providerId: AGENT_ID,
        serviceId: SERVICE_A,
        client: client.address,
        units: UNITS,
        maxPrice: MAX_PRICE,
        price: PRICE_A,
        serviceType: ZeroHash,
        resultHash: result2,
      });
      expect(first.receiptId).to.equal(receiptIdOf(f.market, 1n));
      expect(second.receiptId).to.equal(receiptIdOf(f.market, 2n));
      expect(first.receiptId).to.not.equal(second.receiptId);
      expect(first.workHash).to.not.equal(second.workHash);
      // Another marketplace's workload 1 would have another receipt id.
      expect(receiptIdOf(f.outsider.address, 1n)).to.not.equal(first.receiptId);
    });

    it("self-dealing: a workload at 1 wei per unit with 1e9 units settles without minting anything", async function () {
      const f = await loadMarket();
      const { marketplace, token, client, agent2 } = f;
      const units = 1_000_000_000n;
      await send(marketplace.connect(agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: units })));
      await send(
        marketplace.connect(client).postWorkload(workloadRequest(await now(), { units, maxPricePerUnit: 1n })),
      );
      await send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, 1n, PROPOSAL));
      await send(marketplace.connect(client).award(WORKLOAD_ID, 0n));
      await send(
        marketplace
          .connect(agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
      // Minted at settlement, units × rewardRate would be 1e9 AITBC: the whole supply cap, for 1e9 wei.
      expect(units * (await token.rewardRate())).to.equal(await token.cap());
      const supplyBefore = await token.totalSupply();
      const { receipt } = await expectSettles(f, () => marketplace.connect(client).accept(WORKLOAD_ID), {
        ...settlementB(f),
        units,
        maxPrice: 1n,
        price: 1n,
      });
      expect(await token.totalSupply()).to.equal(supplyBefore);
      expect(receipt.units).to.equal(units);
      expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(false);
      // 1e9 wei paid: 1e7 wei of fee, the rest to the provider, nothing back.
      expect(split(units, 1n, 1n)).to.deep.equal({
        payment: units,
        fee: units / 100n,
        net: units - units / 100n,
        refund: 0n,
      });
    });
  });

  describe("challenge window snapshot", function () {
    it("a longer window set after submission changes nothing for that result: reject closes and finalize settles at the recorded end", async function () {
      const f = await submitted();
      const { marketplace, deployer, client } = f;
      const { submittedAt } = await marketplace.getWorkload(WORKLOAD_ID);
      await expect(
        marketplace.connect(deployer).setParameters(PROTOCOL_FEE_BPS, MAX_CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS),
      )
        .to.emit(marketplace, "ParametersSet")
        .withArgs(PROTOCOL_FEE_BPS, MAX_CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS);
      expect(await marketplace.challengeWindow()).to.equal(MAX_CHALLENGE_WINDOW);
      expect((await marketplace.getWorkload(WORKLOAD_ID)).challengeWindow).to.equal(CHALLENGE_WINDOW);
      const endsAt = submittedAt + CHALLENGE_WINDOW;
      await time.setNextBlockTimestamp(endsAt);
      await expect(marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, endsAt);
      await time.setNextBlockTimestamp(endsAt + 1n);
      await expect(marketplace.connect(client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowClosed")
        .withArgs(WORKLOAD_ID, endsAt);
      await expectSettles(f, () => marketplace.finalize(WORKLOAD_ID), settlementB(f));
    });

    it("a shorter window set after submission changes nothing for that result: finalize stays closed and reject stays open until the recorded end", async function () {
      const f = await submitted();
      const { marketplace, deployer, client } = f;
      const { submittedAt } = await marketplace.getWorkload(WORKLOAD_ID);
      await send(
        marketplace.connect(deployer).setParameters(PROTOCOL_FEE_BPS, MIN_CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS),
      );
      expect((await marketplace.getWorkload(WORKLOAD_ID)).challengeWindow).to.equal(CHALLENGE_WINDOW);
      const endsAt = submittedAt + CHALLENGE_WINDOW;
      await time.increaseTo(submittedAt + MIN_CHALLENGE_WINDOW + 1n);
      await expect(marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, endsAt);
      await time.setNextBlockTimestamp(endsAt);
      await expect(marketplace.connect(client).reject(WORKLOAD_ID, id("late but in time")))
        .to.emit(marketplace, "ResultRejected")
        .withArgs(WORKLOAD_ID, id("late but in time"));
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.Disputed);
      await expectBooks(f);
    });

    it("the window is the one in force at submission (not at award): a later submission gets the new window, an earlier one keeps the old", async function () {
      const f = await submitted();
      const { marketplace, deployer, client, agent } = f;
      const first = await marketplace.getWorkload(WORKLOAD_ID);
      // Workload 2 is awarded under the old window, then the window shrinks, then its result arrives.
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now())));
      await send(marketplace.connect(agent).bid(2n, SERVICE_A, PRICE_A, PROPOSAL));
      await send(marketplace.connect(client).award(2n, 0n));
      await send(
        marketplace.connect(deployer).setParameters(PROTOCOL_FEE_BPS, MIN_CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS),
      );
      await send(
        marketplace.connect(agent).submitResult(2n, RESULT, await signResult(agent, marketplace, 2n, 0n, RESULT)),
      );
      const second = await marketplace.getWorkload(2n);
      expect(second.challengeWindow).to.equal(MIN_CHALLENGE_WINDOW);
      expect((await marketplace.getWorkload(WORKLOAD_ID)).challengeWindow).to.equal(CHALLENGE_WINDOW);

      const secondEnds = second.submittedAt + MIN_CHALLENGE_WINDOW;
      await time.setNextBlockTimestamp(secondEnds);
      await expect(marketplace.finalize(2n))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(2n, secondEnds);
      await time.setNextBlockTimestamp(secondEnds + 1n);
      await expectSettles(f, () => marketplace.finalize(2n), {
        workloadId: 2n,
        provider: agent,
        providerId: AGENT_ID,
        serviceId: SERVICE_A,
        client: client.address,
        units: UNITS,
        maxPrice: MAX_PRICE,
        price: PRICE_A,
      });
      await expect(marketplace.connect(client).reject(2n, ZeroHash))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceWrongStatus")
        .withArgs(2n, WORKLOAD.Settled);
      // Workload 1 still has its day.
      await expect(marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, first.submittedAt + CHALLENGE_WINDOW);
      await expect(marketplace.connect(client).reject(WORKLOAD_ID, ZeroHash))
        .to.emit(marketplace, "ResultRejected")
        .withArgs(WORKLOAD_ID, ZeroHash);
    });
  });

  describe("listService", function () {
    it("lists an offer: the serviceType is keccak256 of its name; the currentLoad passed in is ignored", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, { currentLoad: 77n })))
        .to.emit(f.marketplace, "ServiceListed")
        .withArgs(SERVICE_C, AGENT_ID, [SERVICE_C, SERVICE_NAME, 5n * AITBC, 1_000n, 0n, MODEL_HASH, 9_500n]);
      expect(await loadOf(f, SERVICE_C)).to.equal(0n);
      expect(await f.marketplace.serviceOwner(SERVICE_C)).to.deep.equal([AGENT_ID, true]);
    });

    it("accepts a 64-byte service name", async function () {
      const f = await loadMarket();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, { serviceName: "n".repeat(64) })));
      expect((await f.marketplace.getServiceStatus(SERVICE_C)).serviceName).to.equal("n".repeat(64));
    });

    it("reverts MarketplaceNotRegistered for an account that is not an agent", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.outsider).listService(offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotRegistered")
        .withArgs(f.outsider.address);
    });

    it("reverts MarketplaceNotServiceProvider for a validator agent", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.validator).listService(offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotServiceProvider")
        .withArgs(VALIDATOR_ID);
    });

    it("reverts MarketplaceAgentNotActive for a provider agent without stake, and for a frozen one", async function () {
      const f = await loadMarket();
      const unstakedId = await registerAgent(f, f.outsider, f.operator);
      await expect(f.marketplace.connect(f.outsider).listService(offer(SERVICE_C)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(unstakedId);
      await freeze(f, f.agent);
      await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT_ID);
    });

    it("reverts MarketplaceInvalidServiceId for the zero id", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.agent).listService(offer(ZeroHash))).to.be.revertedWithCustomError(
        f.marketplace,
        "MarketplaceInvalidServiceId",
      );
    });

    it("reverts MarketplaceServiceExists for an id already listed, by its owner or another provider", async function () {
      const f = await loadMarket();
      for (const who of [f.agent, f.agent2]) {
        await expect(f.marketplace.connect(who).listService(offer(SERVICE_A)))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceExists")
          .withArgs(SERVICE_A);
      }
    });

    it("reverts MarketplaceServiceExists for a delisted id (ids are never reused)", async function () {
      const f = await loadMarket();
      await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
      await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceExists")
        .withArgs(SERVICE_A);
    });

    for (const [field, label, overrides] of [
      ["serviceName", "an empty name", { serviceName: "" }],
      ["serviceName", "a 65-byte name", { serviceName: "n".repeat(65) }],
      ["pricePerUnit", "a zero price", { pricePerUnit: 0n }],
      ["maxCapacity", "a zero capacity", { maxCapacity: 0n }],
    ] as const) {
      it(`reverts MarketplaceInvalidRequest("${field}") for ${label}`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, overrides)))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs(field);
      });
    }

    it("is the provider's LIST_SERVICE action: a constitution without it reverts AgentConstitutionActionNotAllowed", async function () {
      const f = await loadMarket();
      await forbid(f, f.agent, MARKET_ACTION.LIST_SERVICE);
      for (const call of [
        () => f.marketplace.connect(f.agent).listService(offer(SERVICE_C)),
        () => f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A)),
        () => f.marketplace.connect(f.agent).delistService(SERVICE_A),
      ]) {
        await expect(call())
          .to.be.revertedWithCustomError(f.constitution, "AgentConstitutionActionNotAllowed")
          .withArgs(f.agent.address, MARKET_ACTION.LIST_SERVICE);
      }
    });
  });

  describe("updateService", function () {
    it("replaces the terms and keeps the load", async function () {
      const f = await awarded();
      const updated = offer(SERVICE_B, {
        serviceName: "gpu-training",
        pricePerUnit: 9n * AITBC,
        maxCapacity: UNITS,
        modelHash: id("other model"),
        minAccuracy: 1n,
        currentLoad: 0n,
      });
      await expect(f.marketplace.connect(f.agent2).updateService(SERVICE_B, updated))
        .to.emit(f.marketplace, "ServiceUpdated")
        .withArgs(SERVICE_B, AGENT2_ID, [SERVICE_B, "gpu-training", 9n * AITBC, UNITS, UNITS, id("other model"), 1n]);
      expect(await loadOf(f, SERVICE_B)).to.equal(UNITS);
      // Awarded work continues.
      await send(
        f.marketplace
          .connect(f.agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
    });

    it("reverts MarketplaceUnknownService for an id never listed", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.agent).updateService(UNKNOWN_SERVICE, offer(UNKNOWN_SERVICE)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownService")
        .withArgs(UNKNOWN_SERVICE);
    });

    it("reverts MarketplaceNotRegistered for an account that is not an agent", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.outsider).updateService(SERVICE_A, offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotRegistered")
        .withArgs(f.outsider.address);
    });

    it("reverts MarketplaceNotServiceOwner for another agent", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.agent2).updateService(SERVICE_A, offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotServiceOwner")
        .withArgs(SERVICE_A, AGENT2_ID);
    });

    for (const [field, label, overrides] of [
      ["serviceName", "an empty name", { serviceName: "" }],
      ["serviceName", "a 65-byte name", { serviceName: "n".repeat(65) }],
      ["pricePerUnit", "a zero price", { pricePerUnit: 0n }],
      ["maxCapacity", "a zero capacity", { maxCapacity: 0n }],
    ] as const) {
      it(`reverts MarketplaceInvalidRequest("${field}") for ${label}`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A, overrides)))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs(field);
      });
    }

    it("reverts MarketplaceCapacityBelowLoad below the current load; the load itself is accepted", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 9n })))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityBelowLoad")
        .withArgs(SERVICE_B, 9n, UNITS);
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: UNITS })));
      expect((await f.marketplace.getServiceStatus(SERVICE_B)).maxCapacity).to.equal(UNITS);
    });
  });

  describe("delistService", function () {
    it("stops new bids; awarded work continues", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.agent2).delistService(SERVICE_B))
        .to.emit(f.marketplace, "ServiceDelisted")
        .withArgs(SERVICE_B, AGENT2_ID);
      expect(await f.marketplace.serviceOwner(SERVICE_B)).to.deep.equal([AGENT2_ID, false]);
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now())));
      await expect(f.marketplace.connect(f.agent2).bid(2n, SERVICE_B, PRICE_B, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_B);
      await send(
        f.marketplace
          .connect(f.agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
      await expectSettles(f, () => f.marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    it("reverts MarketplaceUnknownService, MarketplaceNotRegistered and MarketplaceNotServiceOwner", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.agent).delistService(UNKNOWN_SERVICE))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownService")
        .withArgs(UNKNOWN_SERVICE);
      await expect(f.marketplace.connect(f.outsider).delistService(SERVICE_A))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotRegistered")
        .withArgs(f.outsider.address);
      await expect(f.marketplace.connect(f.agent2).delistService(SERVICE_A))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotServiceOwner")
        .withArgs(SERVICE_A, AGENT2_ID);
    });

    it("reverts MarketplaceServiceNotListed when delisted already", async function () {
      const f = await loadMarket();
      await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
      await expect(f.marketplace.connect(f.agent).delistService(SERVICE_A))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_A);
    });
  });

  describe("service views", function () {
    it("getServiceStatus and serviceOwner revert MarketplaceUnknownService for an unknown id", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.getServiceStatus(UNKNOWN_SERVICE))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownService")
        .withArgs(UNKNOWN_SERVICE);
      await expect(f.marketplace.serviceOwner(UNKNOWN_SERVICE))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownService")
        .withArgs(UNKNOWN_SERVICE);
    });

    it("getWorkload and getBids revert MarketplaceUnknownWorkload for an unknown id (and for id 0)", async function () {
      const f = await posted();
      for (const workloadId of [0n, 2n, UNKNOWN_WORKLOAD]) {
        await expect(f.marketplace.getWorkload(workloadId))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
          .withArgs(workloadId);
        await expect(f.marketplace.getBids(workloadId))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
          .withArgs(workloadId);
      }
    });
  });

  describe("postWorkload", function () {
    it("accepts a request with only a serviceType or only a modelHash", async function () {
      const f = await loadMarket();
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now(), { modelHash: ZeroHash })));
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now(), { serviceType: ZeroHash })));
      expect(await f.marketplace.workloadCount()).to.equal(2n);
      expect(await f.marketplace.totalEscrowed()).to.equal(2n * ESCROW);
      await expectBooks(f);
    });

    it('reverts MarketplaceInvalidRequest("serviceType/modelHash") when neither is set', async function () {
      const f = await loadMarket();
      const request = workloadRequest(await now(), { serviceType: ZeroHash, modelHash: ZeroHash });
      await expect(f.marketplace.connect(f.client).postWorkload(request))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("serviceType/modelHash");
    });

    for (const [field, label, overrides] of [
      ["units", "0", { units: 0n }],
      ["units", "2^96 (above uint96)", { units: 2n ** 96n }],
      ["maxPricePerUnit", "0", { maxPricePerUnit: 0n }],
      ["maxPricePerUnit", "2^128 (above uint128)", { maxPricePerUnit: 2n ** 128n }],
    ] as const) {
      it(`reverts MarketplaceInvalidRequest("${field}") for ${field} ${label}`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now(), overrides)))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs(field);
      });
    }

    it('reverts MarketplaceInvalidRequest("bidDeadline") for a deadline in the past or at the block\'s time', async function () {
      const f = await loadMarket();
      const t = (await now()) + 10n;
      for (const bidDeadline of [t - 100n, t - 1n, t]) {
        await time.setNextBlockTimestamp(t);
        await expect(f.marketplace.connect(f.client).postWorkload(workloadRequest(t, { bidDeadline })))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("bidDeadline");
      }
      await time.setNextBlockTimestamp(t);
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(t, { bidDeadline: t + 1n })));
    });

    it("reverts MarketplaceInvalidRequest for bidding or execution periods over 30 days (MAX_PERIOD)", async function () {
      const f = await loadMarket();
      const month = 30n * 24n * HOUR;
      const t = (await now()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(
        f.marketplace
          .connect(f.client)
          .postWorkload(workloadRequest(t, { bidDeadline: t + month + 1n, executionDeadline: t + month + 2n })),
      )
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("bidDeadline");
      const huge = 2n ** 64n - 1n; // would overflow the award's deadline arithmetic
      await expect(
        f.marketplace
          .connect(f.client)
          .postWorkload(workloadRequest(t, { bidDeadline: t + HOUR, executionDeadline: huge })),
      )
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("executionDeadline");
      await time.setNextBlockTimestamp(t + 5n);
      await send(
        f.marketplace
          .connect(f.client)
          .postWorkload(workloadRequest(t, { bidDeadline: t + 5n + month, executionDeadline: t + 5n + 2n * month })),
      );
    });

    it('reverts MarketplaceInvalidRequest("executionDeadline") at or before the bid deadline', async function () {
      const f = await loadMarket();
      const t = await now();
      for (const executionDeadline of [t + HOUR, t + HOUR - 1n]) {
        const request = workloadRequest(t, { bidDeadline: t + HOUR, executionDeadline });
        await expect(f.marketplace.connect(f.client).postWorkload(request))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("executionDeadline");
      }
    });

    it("reverts MarketplaceVerificationUnsupported for Full verification", async function () {
      const f = await loadMarket();
      const request = workloadRequest(await now(), { verification: VERIFICATION.full });
      await expect(f.marketplace.connect(f.client).postWorkload(request))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceVerificationUnsupported")
        .withArgs(VERIFICATION.full);
      const deadline = (await now()) + HOUR;
      const { v, r, s } = await signPermit(f.token, f.permitClient, f.market, ESCROW, deadline);
      await expect(f.marketplace.connect(f.permitClient).postWorkloadWithPermit(request, deadline, v, r, s))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceVerificationUnsupported")
        .withArgs(VERIFICATION.full);
    });

    it('reverts MarketplaceInvalidRequest("modelHash") for Zk verification without a model commitment in the field', async function () {
      const f = await loadMarket();
      // MODEL_HASH (a keccak hash) is above the field; 0 is no commitment
      expect(BigInt(MODEL_HASH) >= FIELD_MODULUS).to.be.true;
      for (const modelHash of [MODEL_HASH, ZeroHash, toBeHex(FIELD_MODULUS, 32)]) {
        const request = workloadRequest(await now(), { verification: VERIFICATION.zk, modelHash });
        await expect(f.marketplace.connect(f.client).postWorkload(request))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("modelHash");
        const deadline = (await now()) + HOUR;
        const { v, r, s } = await signPermit(f.token, f.permitClient, f.market, ESCROW, deadline);
        await expect(f.marketplace.connect(f.permitClient).postWorkloadWithPermit(request, deadline, v, r, s))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("modelHash");
      }
    });

    it("accepts Zk verification with a model commitment in the field; its result then needs a proof (MarketplaceProofRequired)", async function () {
      const f = await loadMarket();
      const modelHash = toBeHex(FIELD_MODULUS - 1n, 32);
      const inputHash = toBeHex(FIELD_MODULUS - 2n, 32);
      const request = workloadRequest(await now(), { verification: VERIFICATION.zk, modelHash, inputHash });
      await expect(f.marketplace.connect(f.client).postWorkload(request)).to.emit(f.marketplace, "WorkloadPosted");
      const w = await f.marketplace.getWorkload(WORKLOAD_ID);
      expect(w.verification).to.equal(VERIFICATION.zk);
      expect(w.modelHash).to.equal(modelHash);
      expect(w.inputHash).to.equal(inputHash);
      await send(f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A, { modelHash })));
      await send(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n));
      const signature = await signResult(f.agent, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await expect(f.marketplace.connect(f.agent).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceProofRequired")
        .withArgs(WORKLOAD_ID);
    });

    it("postWorkloadWithPermit validates the request first (MarketplaceInvalidRequest)", async function () {
      const f = await loadMarket();
      const deadline = (await now()) + HOUR;
      const { v, r, s } = await signPermit(f.token, f.permitClient, f.market, ESCROW, deadline);
      const request = workloadRequest(await now(), { units: 0n });
      await expect(f.marketplace.connect(f.permitClient).postWorkloadWithPermit(request, deadline, v, r, s))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("units");
    });

    it("reverts ERC20InsufficientAllowance without an approval", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.permitClient).postWorkload(workloadRequest(await now())))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(f.market, 0n, ESCROW);
    });

    it("a client agent's escrow counts toward its daily volume (AgentConstitutionDailyVolumeExceeded)", async function () {
      const f = await loadMarket();
      const { marketplace, constitution, token, clientAgent, operator } = f;
      const declared = 150n * AITBC;
      await registerAgent(f, clientAgent, operator, { expectedDailyVolume: declared });
      await mintAitbc(f, clientAgent.address, 1_000n);
      await send(token.connect(clientAgent).approve(f.market, MaxUint256));
      await send(marketplace.connect(clientAgent).postWorkload(workloadRequest(await now())));
      expect((await constitution.usageOf(clientAgent.address)).volume).to.equal(ESCROW);
      await expect(marketplace.connect(clientAgent).postWorkload(workloadRequest(await now())))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(clientAgent.address, ESCROW, ESCROW, declared);
      // 50 more fit exactly.
      await send(marketplace.connect(clientAgent).postWorkload(workloadRequest(await now(), { units: 5n })));
      expect((await constitution.usageOf(clientAgent.address)).volume).to.equal(declared);
      await expectBooks(f);
    });

    it("a client agent whose constitution forbids POST_WORKLOAD cannot post", async function () {
      const f = await loadMarket();
      await mintAitbc(f, f.agent.address, 100n);
      await send(f.token.connect(f.agent).approve(f.market, MaxUint256));
      await forbid(f, f.agent, MARKET_ACTION.POST_WORKLOAD);
      await expect(f.marketplace.connect(f.agent).postWorkload(workloadRequest(await now())))
        .to.be.revertedWithCustomError(f.constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(f.agent.address, MARKET_ACTION.POST_WORKLOAD);
    });
  });

  describe("cancelWorkload", function () {
    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.client).cancelWorkload(UNKNOWN_WORKLOAD))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceNotClient for anyone but the client", async function () {
      const f = await posted();
      for (const who of [f.outsider, f.agent, f.guardian]) {
        await expect(f.marketplace.connect(who).cancelWorkload(WORKLOAD_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotClient")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceWrongStatus once awarded, and when cancelled already", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Awarded);
      const g = await posted();
      await send(g.marketplace.connect(g.client).cancelWorkload(WORKLOAD_ID));
      await expect(g.marketplace.connect(g.client).cancelWorkload(WORKLOAD_ID))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Cancelled);
      await expectBooks(g);
    });

    it("a cancelled workload takes no bids, award or auto-award", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Cancelled);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Cancelled);
      await time.increaseTo(f.request.bidDeadline + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Cancelled);
    });
  });

  describe("bid", function () {
    it("accepts a bid at exactly the maximum price and at the bid deadline", async function () {
      const f = await posted();
      await time.setNextBlockTimestamp(f.request.bidDeadline);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, MAX_PRICE, PROPOSAL))
        .to.emit(f.marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, SERVICE_A, MAX_PRICE, PROPOSAL);
    });

    it("matches only the fields the request sets: any name on modelHash-only, any model on serviceType-only", async function () {
      const f = await loadMarket();
      const { marketplace, client, agent, agent2 } = f;
      await send(marketplace.connect(agent).listService(offer(SERVICE_C, { serviceName: "other-name" })));
      await send(marketplace.connect(agent2).listService(offer(id("D"), { modelHash: id("other model") })));
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now(), { serviceType: ZeroHash })));
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now(), { modelHash: ZeroHash })));
      await send(marketplace.connect(agent).bid(1n, SERVICE_C, PRICE_A, PROPOSAL));
      await send(marketplace.connect(agent2).bid(2n, id("D"), PRICE_B, PROPOSAL));
      await expect(marketplace.connect(agent2).bid(1n, id("D"), PRICE_B, PROPOSAL))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceServiceMismatch")
        .withArgs(1n, id("D"));
      await expect(marketplace.connect(agent).bid(2n, SERVICE_C, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceServiceMismatch")
        .withArgs(2n, SERVICE_C);
    });

    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.agent).bid(UNKNOWN_WORKLOAD, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceWrongStatus once awarded", async function () {
      const f = await awarded();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C)));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_C, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Awarded);
    });

    it("reverts MarketplaceBiddingClosed after the bid deadline (past deadline)", async function () {
      const f = await posted();
      await time.setNextBlockTimestamp(f.request.bidDeadline + 1n);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBiddingClosed")
        .withArgs(WORKLOAD_ID, f.request.bidDeadline);
    });

    it("reverts MarketplaceUnknownService for an offer never listed", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, UNKNOWN_SERVICE, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownService")
        .withArgs(UNKNOWN_SERVICE);
    });

    it("reverts MarketplaceNotRegistered for an unregistered account", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.outsider).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotRegistered")
        .withArgs(f.outsider.address);
    });

    it("reverts MarketplaceNotServiceOwner for another agent's offer", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.agent2).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotServiceOwner")
        .withArgs(SERVICE_A, AGENT2_ID);
    });

    it("reverts MarketplaceServiceNotListed for a delisted offer", async function () {
      const f = await posted();
      await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_A);
    });

    it("reverts MarketplaceAgentNotActive for a frozen agent", async function () {
      const f = await posted();
      await freeze(f, f.agent);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT_ID);
    });

    it("reverts MarketplaceAgentNotActive for an agent that unstaked", async function () {
      const f = await posted();
      await send(f.registry.connect(f.agent).requestUnstake(AGENT_ID, PROVIDER_STAKE));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT_ID);
    });

    it("reverts MarketplaceOwnWorkload for a provider bidding on its own workload", async function () {
      const f = await posted();
      await mintAitbc(f, f.agent.address, 100n);
      await send(f.token.connect(f.agent).approve(f.market, MaxUint256));
      await send(f.marketplace.connect(f.agent).postWorkload(workloadRequest(await now())));
      await expect(f.marketplace.connect(f.agent).bid(2n, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceOwnWorkload")
        .withArgs(2n, f.agent.address);
    });

    it('reverts MarketplaceInvalidRequest("pricePerUnit") for a zero price; 1 wei is accepted', async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, 0n, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("pricePerUnit");
      expect(await f.marketplace.getBids(WORKLOAD_ID)).to.deep.equal([]);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, 1n, PROPOSAL))
        .to.emit(f.marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, SERVICE_A, 1n, PROPOSAL);
    });

    it("reverts MarketplaceBidAboveMax above the maximum price", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, MAX_PRICE + 1n, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBidAboveMax")
        .withArgs(WORKLOAD_ID, MAX_PRICE + 1n, MAX_PRICE);
    });

    it("reverts MarketplaceServiceMismatch when the offer's serviceType differs", async function () {
      const f = await posted();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, { serviceName: "gpu-training" })));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_C, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceMismatch")
        .withArgs(WORKLOAD_ID, SERVICE_C);
    });

    it("reverts MarketplaceServiceMismatch when the offer's modelHash differs", async function () {
      const f = await posted();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, { modelHash: id("other model") })));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_C, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceMismatch")
        .withArgs(WORKLOAD_ID, SERVICE_C);
    });

    it("reverts MarketplaceCapacityExceeded when the offer's free capacity is below the units", async function () {
      const f = await posted();
      await send(f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A, { maxCapacity: 9n })));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityExceeded")
        .withArgs(SERVICE_A, UNITS, 9n);
    });

    it("reverts MarketplaceCapacityExceeded when awarded load leaves too little", async function () {
      const f = await awarded();
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 15n })));
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now())));
      await expect(f.marketplace.connect(f.agent2).bid(2n, SERVICE_B, PRICE_B, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityExceeded")
        .withArgs(SERVICE_B, UNITS, 5n);
    });

    it("reverts MarketplaceAlreadyBid for a second bid by the same agent, even with another offer", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C)));
      for (const serviceId of [SERVICE_A, SERVICE_C]) {
        await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, serviceId, PRICE_A - 1n, PROPOSAL))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAlreadyBid")
          .withArgs(WORKLOAD_ID, AGENT_ID);
      }
    });

    it("reverts MarketplaceTooManyBids for the 33rd bid; auto-award still runs over the 32", async function () {
      const f = await networkHelpers.loadFixture(crowdFixture);
      const last = f.crowd[CROWD - 1];
      if (!last) throw new Error("missing wallet");
      expect((await f.marketplace.getBids(WORKLOAD_ID)).length).to.equal(Number(MAX_BIDS));
      await expect(f.marketplace.connect(last).bid(WORKLOAD_ID, crowdService(CROWD - 1), AITBC, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceTooManyBids")
        .withArgs(WORKLOAD_ID, MAX_BIDS);
      const executionDeadline = await nextBlockAfterBidding(f);
      const lastBid = MAX_BIDS - 1n;
      const crowdId = await f.registry.agentIdOf((f.crowd[Number(lastBid)] ?? last).address);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, crowdId, lastBid, MAX_PRICE - lastBid, executionDeadline, true);
    });

    it("is the provider's BID action: a constitution without it reverts AgentConstitutionActionNotAllowed", async function () {
      const f = await posted();
      await forbid(f, f.agent, MARKET_ACTION.BID);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(f.agent.address, MARKET_ACTION.BID);
    });
  });

  describe("award", function () {
    it("the client may award after the bid deadline while the workload is open (the provider keeps the full period)", async function () {
      const f = await bidded();
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, false);
      expect(executionDeadline).to.equal(f.request.executionDeadline + 1n);
    });

    it("reverts MarketplaceServiceNotListed when the chosen bid's offer was delisted since; another bid can still win", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).delistService(SERVICE_B));
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_B);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.Open);
      expect(await loadOf(f, SERVICE_B)).to.equal(0n);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, f.request.executionDeadline, false);
      await expectBooks(f);
    });

    it("checks the listing before the bidder's status (a delisted offer of a frozen bidder: MarketplaceServiceNotListed)", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).delistService(SERVICE_B));
      await freeze(f, f.agent2);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_B);
    });

    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await bidded();
      await expect(f.marketplace.connect(f.client).award(UNKNOWN_WORKLOAD, 0n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceNotClient for anyone but the client (a bidder included)", async function () {
      const f = await bidded();
      for (const who of [f.agent2, f.outsider, f.guardian]) {
        await expect(f.marketplace.connect(who).award(WORKLOAD_ID, 1n))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotClient")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceWrongStatus once awarded", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Awarded);
    });

    it("reverts MarketplaceUnknownBid past the last bid index", async function () {
      const f = await bidded();
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 2n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownBid")
        .withArgs(WORKLOAD_ID, 2n);
      const g = await posted();
      await expect(g.marketplace.connect(g.client).award(WORKLOAD_ID, 0n))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceUnknownBid")
        .withArgs(WORKLOAD_ID, 0n);
    });

    it("reverts MarketplaceAgentNotActive when the bidder was frozen or unstaked since", async function () {
      const f = await bidded();
      await freeze(f, f.agent2);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT2_ID);
      await send(f.registry.connect(f.agent).requestUnstake(AGENT_ID, PROVIDER_STAKE));
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT_ID);
    });

    it("reverts MarketplaceCapacityExceeded when the bidder's offer no longer has room", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 5n })));
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityExceeded")
        .withArgs(SERVICE_B, UNITS, 5n);
    });
  });

  describe("autoAward reverts", function () {
    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await bidded();
      await expect(f.marketplace.autoAward(UNKNOWN_WORKLOAD))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceBiddingOpen until the bid deadline has passed", async function () {
      const f = await bidded();
      await time.setNextBlockTimestamp(f.request.bidDeadline);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBiddingOpen")
        .withArgs(WORKLOAD_ID, f.request.bidDeadline);
    });

    it("reverts MarketplaceWrongStatus once awarded", async function () {
      const f = await awarded();
      await time.increaseTo(f.request.bidDeadline + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Awarded);
    });
  });

  describe("submitResult", function () {
    it("anyone may relay the provider's signed result; the provider's gas is charged only when it sends", async function () {
      const f = await awarded();
      const gasBefore = (await f.constitution.usageOf(f.agent2.address)).gas;
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await expect(f.marketplace.connect(f.outsider).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.emit(f.marketplace, "ResultSubmitted")
        .withArgs(WORKLOAD_ID, AGENT2_ID, RESULT);
      expect((await f.constitution.usageOf(f.agent2.address)).gas).to.equal(gasBefore);
    });

    it("accepts a result at the execution deadline", async function () {
      const f = await awarded();
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await time.setNextBlockTimestamp(f.request.executionDeadline);
      await send(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature));
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.Submitted);
    });

    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await awarded();
      const signature = await signResult(f.agent2, f.marketplace, UNKNOWN_WORKLOAD, 0n, RESULT);
      await expect(f.marketplace.connect(f.agent2).submitResult(UNKNOWN_WORKLOAD, RESULT, signature))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceWrongStatus before award and once submitted", async function () {
      const f = await bidded();
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await expect(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Open);
      const g = await submitted();
      await expect(g.marketplace.connect(g.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Submitted);
    });

    it("reverts MarketplaceDeadlinePassed after the execution deadline", async function () {
      const f = await awarded();
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await time.setNextBlockTimestamp(f.request.executionDeadline + 1n);
      await expect(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceDeadlinePassed")
        .withArgs(WORKLOAD_ID, f.request.executionDeadline);
    });

    it("reverts MarketplaceInvalidResultSignature for a provider that was not assigned (wrong signer)", async function () {
      const f = await awarded();
      for (const signer of [f.agent, f.operator, f.client]) {
        const signature = await signResult(signer, f.marketplace, WORKLOAD_ID, 0n, RESULT);
        await expect(f.marketplace.connect(f.agent).submitResult(WORKLOAD_ID, RESULT, signature))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidResultSignature")
          .withArgs(WORKLOAD_ID);
      }
    });

    it("reverts MarketplaceInvalidResultSignature for a signature of another round, workload or result", async function () {
      const f = await awarded();
      for (const [workloadId, round, resultHash] of [
        [WORKLOAD_ID, 1n, RESULT],
        [2n, 0n, RESULT],
        [WORKLOAD_ID, 0n, id("another result")],
      ] as const) {
        const signature = await signResult(f.agent2, f.marketplace, workloadId, round, resultHash);
        await expect(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidResultSignature")
          .withArgs(WORKLOAD_ID);
      }
    });

    it("reverts MarketplaceInvalidResultSignature for garbage signatures", async function () {
      const f = await awarded();
      const good = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      const highS = ethers.Signature.from(good);
      const garbage = [
        "0x",
        "0x1234",
        "0x" + "00".repeat(65),
        "0x" + "ff".repeat(65),
        good.slice(0, -2), // 64 bytes, no v
        good + "00", // 66 bytes
        ethers.concat([highS.r, toBeHex(ethers.N - BigInt(highS.s), 32), highS.v === 27 ? "0x1c" : "0x1b"]),
      ];
      for (const signature of garbage) {
        await expect(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidResultSignature")
          .withArgs(WORKLOAD_ID);
      }
    });

    it("is the provider's SUBMIT_RESULT action, even when relayed: its constitution may forbid it", async function () {
      const f = await awarded();
      await forbid(f, f.agent2, MARKET_ACTION.SUBMIT_RESULT);
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await expect(f.marketplace.connect(f.outsider).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(f.constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(f.agent2.address, MARKET_ACTION.SUBMIT_RESULT);
    });
  });

  describe("accept", function () {
    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await submitted();
      await expect(f.marketplace.connect(f.client).accept(UNKNOWN_WORKLOAD))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceNotClient for anyone but the client (the provider included)", async function () {
      const f = await submitted();
      for (const who of [f.agent2, f.outsider, f.guardian, f.validator]) {
        await expect(f.marketplace.connect(who).accept(WORKLOAD_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotClient")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceWrongStatus before a result is submitted, and when disputed", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.client).accept(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Awarded);
      const g = await disputed();
      await expect(g.marketplace.connect(g.client).accept(WORKLOAD_ID))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Disputed);
    });

    it("double settlement: accept twice, finalize after accept, reject after accept → MarketplaceWrongStatus", async function () {
      const f = await submitted();
      await expectSettles(f, () => f.marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
      await expect(f.marketplace.connect(f.client).accept(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Settled);
      await time.increase(CHALLENGE_WINDOW + 1n);
      await expect(f.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Settled);
      await expect(f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Settled);
      await expect(f.marketplace.claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Settled);
      await expectBooks(f);
    });
  });

  describe("finalize", function () {
    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await submitted();
      await expect(f.marketplace.finalize(UNKNOWN_WORKLOAD))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceWrongStatus before submission, when disputed, and after finalize", async function () {
      const f = await awarded();
      await expect(f.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Awarded);
      const g = await disputed();
      await time.increase(CHALLENGE_WINDOW + 1n);
      await expect(g.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Disputed);
      const h = await submitted();
      await time.increase(CHALLENGE_WINDOW + 1n);
      await send(h.marketplace.finalize(WORKLOAD_ID));
      await expect(h.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(h.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Settled);
      await expect(h.marketplace.connect(h.client).accept(WORKLOAD_ID))
        .to.be.revertedWithCustomError(h.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Settled);
    });

    it("reverts MarketplaceChallengeWindowOpen right after submission", async function () {
      const f = await submitted();
      const { submittedAt } = await f.marketplace.getWorkload(WORKLOAD_ID);
      await expect(f.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, submittedAt + CHALLENGE_WINDOW);
    });
  });

  describe("reject", function () {
    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await submitted();
      await expect(f.marketplace.connect(f.client).reject(UNKNOWN_WORKLOAD, ZeroHash))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceNotClient for anyone but the client", async function () {
      const f = await submitted();
      for (const who of [f.agent, f.outsider, f.validator, f.guardian]) {
        await expect(f.marketplace.connect(who).reject(WORKLOAD_ID, ZeroHash))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotClient")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceWrongStatus before submission and when disputed already", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Awarded);
      const g = await disputed();
      await expect(g.marketplace.connect(g.client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Disputed);
    });

    it("reverts MarketplaceChallengeWindowClosed after the window", async function () {
      const f = await submitted();
      const { submittedAt } = await f.marketplace.getWorkload(WORKLOAD_ID);
      await time.setNextBlockTimestamp(submittedAt + CHALLENGE_WINDOW + 1n);
      await expect(f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceChallengeWindowClosed")
        .withArgs(WORKLOAD_ID, submittedAt + CHALLENGE_WINDOW);
    });
  });

  describe("resolveDispute", function () {
    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await disputed();
      await expect(f.marketplace.connect(f.validator).resolveDispute(UNKNOWN_WORKLOAD, true))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceWrongStatus unless disputed", async function () {
      const f = await submitted();
      await expect(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Submitted);
      const g = await disputed();
      await send(g.marketplace.connect(g.validator).resolveDispute(WORKLOAD_ID, false));
      await expect(g.marketplace.connect(g.guardian).resolveDispute(WORKLOAD_ID, true))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.Refunded);
    });

    it("reverts MarketplaceNotResolver, even with VALIDATOR_ROLE, for the provider, the client, an inactive validator, a non-validator agent and an outsider", async function () {
      const f = await disputed();
      expect(await f.registry.isActive(IDLE_VALIDATOR_ID)).to.equal(false);
      const refused = [f.agent2, f.client, f.idleValidator, f.agent, f.outsider, f.operator];
      for (const who of refused) {
        if (!(await f.marketplace.hasRole(f.validatorRole, who.address))) {
          await send(f.marketplace.connect(f.deployer).grantRole(f.validatorRole, who.address));
        }
      }
      for (const who of refused) {
        expect(await f.marketplace.hasRole(f.validatorRole, who.address)).to.equal(true);
        await expect(f.marketplace.connect(who).resolveDispute(WORKLOAD_ID, who === f.agent2))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotResolver")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceNotResolver for an active validator agent without VALIDATOR_ROLE; once the admin grants it, it resolves", async function () {
      const f = await disputed();
      const { marketplace, registry, deployer, operator, validatorRole } = f;
      const fresh = f.clientAgent;
      const freshId = await registerAndStake(f, fresh, operator, PROVIDER_STAKE, {
        expectedDailyVolume: PROVIDER_VOLUME,
        agentType: AGENT_TYPE.validator,
      });
      const summary = await registry.summaryOf(freshId);
      expect(summary.active).to.equal(true);
      expect(summary.agentType).to.equal(AGENT_TYPE.validator);
      expect(await marketplace.hasRole(validatorRole, fresh.address)).to.equal(false);
      for (const providerWins of [true, false]) {
        await expect(marketplace.connect(fresh).resolveDispute(WORKLOAD_ID, providerWins))
          .to.be.revertedWithCustomError(marketplace, "MarketplaceNotResolver")
          .withArgs(WORKLOAD_ID, fresh.address);
      }
      await expect(marketplace.connect(deployer).grantRole(validatorRole, fresh.address))
        .to.emit(marketplace, "RoleGranted")
        .withArgs(validatorRole, fresh.address, deployer.address);
      const { tx } = await expectFails(
        f,
        () => marketplace.connect(fresh).resolveDispute(WORKLOAD_ID, false),
        failureB(f, false),
      );
      await expect(tx).to.emit(marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, fresh.address, false);
    });

    it("reverts MarketplaceNotResolver for a validator whose VALIDATOR_ROLE was revoked; a guardian needs no such role", async function () {
      const f = await disputed();
      const { marketplace, deployer, validator, guardian, validatorRole } = f;
      await send(marketplace.connect(deployer).revokeRole(validatorRole, validator.address));
      await expect(marketplace.connect(validator).resolveDispute(WORKLOAD_ID, true))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceNotResolver")
        .withArgs(WORKLOAD_ID, validator.address);
      expect(await marketplace.hasRole(validatorRole, guardian.address)).to.equal(false);
      await expectSettles(f, () => marketplace.connect(guardian).resolveDispute(WORKLOAD_ID, true), settlementB(f));
    });

    it("only the admin admits validators (AccessControlUnauthorizedAccount for a validator, a guardian, an outsider)", async function () {
      const f = await loadMarket();
      for (const who of [f.validator, f.guardian, f.outsider]) {
        await expect(f.marketplace.connect(who).grantRole(f.validatorRole, f.clientAgent.address))
          .to.be.revertedWithCustomError(f.marketplace, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ZeroHash);
      }
    });

    it("reverts MarketplaceNotResolver for a frozen validator", async function () {
      const f = await disputed();
      await freeze(f, f.validator);
      await expect(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, false))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotResolver")
        .withArgs(WORKLOAD_ID, f.validator.address);
    });

    it("reverts MarketplaceNotResolver for a validator agent that is the workload's client", async function () {
      const f = await loadMarket();
      const { marketplace, validator, agent2 } = f;
      await mintAitbc(f, validator.address, 100n);
      await send(f.token.connect(validator).approve(f.market, MaxUint256));
      await send(marketplace.connect(validator).postWorkload(workloadRequest(await now())));
      await send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(validator).award(WORKLOAD_ID, 0n));
      await send(
        marketplace
          .connect(agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
      await send(marketplace.connect(validator).reject(WORKLOAD_ID, ZeroHash));
      await expect(marketplace.connect(validator).resolveDispute(WORKLOAD_ID, false))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceNotResolver")
        .withArgs(WORKLOAD_ID, validator.address);
    });
  });

  describe("upkeep by agents", function () {
    it("charges autoAward, finalize and claimTimeout to a calling agent's constitution (UPKEEP): a frozen agent is refused, a non-agent is not", async function () {
      const f = await awarded();
      await time.increaseTo(f.request.executionDeadline + 1n);
      await send(f.humanOverride.connect(f.guardian).freeze(f.agent.address, "suspicious"));
      await expect(f.marketplace.connect(f.agent).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.constitution, "AgentConstitutionAgentFrozen")
        .withArgs(f.agent.address);
      await send(f.marketplace.connect(f.outsider).claimTimeout(WORKLOAD_ID));

      const g = await submitted();
      const ends = (await g.marketplace.getWorkload(WORKLOAD_ID)).submittedAt + (await g.marketplace.challengeWindow());
      await time.increaseTo(ends + 1n);
      await send(g.humanOverride.connect(g.guardian).freeze(g.agent.address, "suspicious"));
      await expect(g.marketplace.connect(g.agent).finalize(WORKLOAD_ID)).to.be.revertedWithCustomError(
        g.constitution,
        "AgentConstitutionAgentFrozen",
      );
      await send(g.marketplace.connect(g.outsider).finalize(WORKLOAD_ID));

      const h = await bidded();
      await time.increaseTo(h.request.bidDeadline + 1n);
      await send(h.humanOverride.connect(h.guardian).freeze(h.agent.address, "suspicious"));
      await expect(h.marketplace.connect(h.agent).autoAward(WORKLOAD_ID)).to.be.revertedWithCustomError(
        h.constitution,
        "AgentConstitutionAgentFrozen",
      );
      await send(h.marketplace.connect(h.outsider).autoAward(WORKLOAD_ID));
    });
  });

  describe("claimTimeout", function () {
    it("reverts MarketplaceUnknownWorkload", async function () {
      const f = await awarded();
      await expect(f.marketplace.claimTimeout(UNKNOWN_WORKLOAD))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownWorkload")
        .withArgs(UNKNOWN_WORKLOAD);
    });

    it("reverts MarketplaceWrongStatus unless awarded (open, submitted, disputed)", async function () {
      for (const [fixture, status] of [
        [posted, WORKLOAD.Open],
        [submitted, WORKLOAD.Submitted],
        [disputed, WORKLOAD.Disputed],
      ] as const) {
        const f = await fixture();
        await time.increaseTo(f.request.executionDeadline + 1n);
        await expect(f.marketplace.claimTimeout(WORKLOAD_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
          .withArgs(WORKLOAD_ID, status);
      }
    });

    it("reverts MarketplaceDeadlineNotPassed before the execution deadline", async function () {
      const f = await awarded();
      await expect(f.marketplace.claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, f.request.executionDeadline);
    });
  });

  describe("setParameters", function () {
    it("sets the parameters (the maxima included) and emits ParametersSet", async function () {
      const f = await loadMarket();
      await expect(
        f.marketplace.connect(f.deployer).setParameters(MAX_FEE_BPS, MAX_CHALLENGE_WINDOW, MAX_TIMEOUT_SLASH_BPS),
      )
        .to.emit(f.marketplace, "ParametersSet")
        .withArgs(MAX_FEE_BPS, MAX_CHALLENGE_WINDOW, MAX_TIMEOUT_SLASH_BPS);
      expect(await f.marketplace.protocolFeeBps()).to.equal(MAX_FEE_BPS);
      expect(await f.marketplace.challengeWindow()).to.equal(MAX_CHALLENGE_WINDOW);
      expect(await f.marketplace.timeoutSlashBps()).to.equal(MAX_TIMEOUT_SLASH_BPS);
      await expect(f.marketplace.connect(f.deployer).setParameters(0n, MIN_CHALLENGE_WINDOW, 0n))
        .to.emit(f.marketplace, "ParametersSet")
        .withArgs(0n, MIN_CHALLENGE_WINDOW, 0n);
      expect(await f.marketplace.protocolFeeBps()).to.equal(0n);
      expect(await f.marketplace.challengeWindow()).to.equal(MIN_CHALLENGE_WINDOW);
      expect(await f.marketplace.timeoutSlashBps()).to.equal(0n);
    });

    it("the fee in force at settlement applies (10% fee)", async function () {
      const f = await submitted();
      await send(f.marketplace.connect(f.deployer).setParameters(MAX_FEE_BPS, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS));
      await expectSettles(f, () => f.marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    it("with a zero fee the treasury gets nothing", async function () {
      const f = await submitted();
      await send(f.marketplace.connect(f.deployer).setParameters(0n, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS));
      await expectSettles(f, () => f.marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    for (const [name, args, value] of [
      ["protocolFeeBps", [MAX_FEE_BPS + 1n, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS], MAX_FEE_BPS + 1n],
      ["challengeWindow", [PROTOCOL_FEE_BPS, MAX_CHALLENGE_WINDOW + 1n, TIMEOUT_SLASH_BPS], MAX_CHALLENGE_WINDOW + 1n],
      ["timeoutSlashBps", [PROTOCOL_FEE_BPS, CHALLENGE_WINDOW, MAX_TIMEOUT_SLASH_BPS + 1n], MAX_TIMEOUT_SLASH_BPS + 1n],
    ] as const) {
      it(`reverts MarketplaceInvalidParameter("${name}") above its maximum`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.deployer).setParameters(...args))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidParameter")
          .withArgs(name, value);
      });
    }

    for (const value of [0n, 1n, MIN_CHALLENGE_WINDOW - 1n]) {
      it(`reverts MarketplaceInvalidParameter("challengeWindow", ${value}) below MIN_CHALLENGE_WINDOW (1 hour)`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.deployer).setParameters(PROTOCOL_FEE_BPS, value, TIMEOUT_SLASH_BPS))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidParameter")
          .withArgs("challengeWindow", value);
        expect(await f.marketplace.challengeWindow()).to.equal(CHALLENGE_WINDOW);
      });
    }

    it("is admin only (AccessControlUnauthorizedAccount)", async function () {
      const f = await loadMarket();
      for (const who of [f.outsider, f.guardian, f.agent]) {
        await expect(f.marketplace.connect(who).setParameters(0n, CHALLENGE_WINDOW, 0n))
          .to.be.revertedWithCustomError(f.marketplace, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ZeroHash);
      }
    });

    it("stays open during an emergency stop (a recovery function)", async function () {
      const f = await loadMarket();
      await send(f.humanOverride.connect(f.guardian).emergencyStop("test"));
      await expect(f.marketplace.connect(f.deployer).setParameters(1n, MIN_CHALLENGE_WINDOW, 3n))
        .to.emit(f.marketplace, "ParametersSet")
        .withArgs(1n, MIN_CHALLENGE_WINDOW, 3n);
    });
  });

  describe("emergency stop", function () {
    interface StopCase {
      name: string;
      fixture: () => Promise<Posted>;
      prepare?: (f: Posted) => Promise<void>;
      call: (f: Posted) => Tx;
    }
    const afterBidDeadline = async (f: Posted) => {
      await time.increaseTo(f.request.bidDeadline + 1n);
    };
    const cases: StopCase[] = [
      {
        name: "listService",
        fixture: posted,
        call: async (f) => f.marketplace.connect(f.agent).listService(offer(SERVICE_C)),
      },
      {
        name: "updateService",
        fixture: posted,
        call: async (f) => f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A)),
      },
      {
        name: "delistService",
        fixture: posted,
        call: async (f) => f.marketplace.connect(f.agent).delistService(SERVICE_A),
      },
      {
        name: "postWorkload",
        fixture: posted,
        call: async (f) => f.marketplace.connect(f.client).postWorkload(workloadRequest(await now())),
      },
      {
        name: "postWorkloadWithPermit",
        fixture: posted,
        call: async (f) => {
          const deadline = (await now()) + HOUR;
          const { v, r, s } = await signPermit(f.token, f.permitClient, f.market, ESCROW, deadline);
          const request = workloadRequest(await now());
          return f.marketplace.connect(f.permitClient).postWorkloadWithPermit(request, deadline, v, r, s);
        },
      },
      {
        name: "cancelWorkload",
        fixture: posted,
        call: async (f) => f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID),
      },
      {
        name: "bid",
        fixture: posted,
        call: async (f) => f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL),
      },
      {
        name: "award",
        fixture: bidded,
        call: async (f) => f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n),
      },
      {
        name: "autoAward",
        fixture: bidded,
        prepare: afterBidDeadline,
        call: async (f) => f.marketplace.autoAward(WORKLOAD_ID),
      },
      {
        name: "submitResult",
        fixture: awarded,
        call: async (f) =>
          f.marketplace
            .connect(f.agent2)
            .submitResult(WORKLOAD_ID, RESULT, await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT)),
      },
      {
        name: "accept",
        fixture: submitted,
        call: async (f) => f.marketplace.connect(f.client).accept(WORKLOAD_ID),
      },
      {
        name: "finalize",
        fixture: submitted,
        prepare: async () => {
          await time.increase(CHALLENGE_WINDOW + 1n);
        },
        call: async (f) => f.marketplace.finalize(WORKLOAD_ID),
      },
      {
        name: "reject",
        fixture: submitted,
        call: async (f) => f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash),
      },
      {
        name: "resolveDispute (validator)",
        fixture: disputed,
        call: async (f) => f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true),
      },
      {
        name: "resolveDispute (guardian)",
        fixture: disputed,
        call: async (f) => f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, false),
      },
      {
        name: "claimTimeout",
        fixture: awarded,
        prepare: async (f) => {
          await time.increaseTo(f.request.executionDeadline + 1n);
        },
        call: async (f) => f.marketplace.claimTimeout(WORKLOAD_ID),
      },
    ];

    for (const c of cases) {
      it(`${c.name} reverts HumanOverrideEmergencyStopped while stopped, and works after resume`, async function () {
        const f = await c.fixture();
        if (c.prepare) await c.prepare(f);
        await send(f.humanOverride.connect(f.guardian).emergencyStop("exploit in progress"));
        await expect(c.call(f)).to.be.revertedWithCustomError(f.marketplace, "HumanOverrideEmergencyStopped");
        await expectBooks(f);
        await send(f.humanOverride.connect(f.guardian).resume());
        // (finalize, claimTimeout: their deadline ran out before the stop, so the stop does not revive it.)
        await expect(c.call(f)).to.not.revert(ethers);
        await expectBooks(f);
      });
    }

    it("a deadline that ran out during a stop: it moves by the stop's length (at least a day past the resume), and no timeout before", async function () {
      const f = await awarded();
      await send(f.humanOverride.connect(f.guardian).emergencyStop("exploit in progress"));
      const stoppedAt = BigInt(await time.latest());
      await time.increaseTo(f.request.executionDeadline + 10n * HOUR); // the deadline passes while stopped
      await send(f.humanOverride.connect(f.guardian).resume());
      const resumedAt = BigInt(await time.latest());
      const shifted = f.request.executionDeadline + (resumedAt - stoppedAt);
      const graceEnd = resumedAt + 24n * HOUR;
      await expect(f.marketplace.claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, shifted > graceEnd ? shifted : graceEnd);
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await send(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature));
      expect((await f.marketplace.getWorkload(WORKLOAD_ID)).status).to.equal(WORKLOAD.Submitted);
    });
  });
});
