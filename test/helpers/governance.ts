/**
 * Helpers for the governance tests (test/governance/, test/scripts/governance-tasks.test.ts): the pinned power
 * schedule and short governance parameters, the deployment through the Protocol or Handover module, proposals and
 * the clock moves to their voting window; then the fixtures the test/governance/ files share ({load},
 * {loadHandover}) and the checks and shortcuts they use (vote conservation, pass-and-queue, signed delegation).
 */
import type { SolidityParameterType } from "@nomicfoundation/ignition-core";
import { expect } from "chai";
import { id, Signature, toBeHex, zeroPadValue, type ContractTransactionReceipt } from "ethers";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";

import { DEFAULT_GOVERNANCE, DEFAULT_SCHEDULE } from "../../deploy/modules/Governance.js";
import HandoverModule from "../../deploy/modules/Handover.js";
import ProtocolModule from "../../deploy/modules/Protocol.js";
import { protocolAt, type Protocol } from "../../scripts/lib/protocol.js";
import type { AITBCGovernor, IAgentVotes } from "../../typechain-types/index.js";
import { MIN_STAKE, mintAitbc, registerAgent, registerAndStake, type Signer } from "./agents.js";
import { AITBC } from "../../scripts/lib/deploy.js";
import { SUPPORT_CODES } from "../../protocol/enums.js";
import { DELEGATION_TYPES } from "../../protocol/eip712.js";
import { forEthers } from "../../scripts/lib/eip712.js";

export { AITBC, DEFAULT_GOVERNANCE, DEFAULT_SCHEDULE };

type Parameters = Record<string, SolidityParameterType>;

/**
 * The power schedule the tests deploy with, pinned (a copy of DEFAULT_SCHEDULE when written) so that the tests'
 * expected powers do not move when the deployment default is tuned: base 1 vote per staked AITBC; stake
 * multiplier 1× from 1,000 AITBC (the minimum stake), 1.1× from 100,000, 1.2× from 1,000,000; reputation bonus
 * +10/25/50% from 600/800/950; activity bonus +5/10/20% from 1/5/20 votes cast.
 */
export const TEST_SCHEDULE = {
  base: AITBC,
  stakeMultiplierBps: [
    { threshold: 1_000n * AITBC, value: 10_000n },
    { threshold: 100_000n * AITBC, value: 11_000n },
    { threshold: 1_000_000n * AITBC, value: 12_000n },
  ],
  reputationBonusPct: [
    { threshold: 600n, value: 10n },
    { threshold: 800n, value: 25n },
    { threshold: 950n, value: 50n },
  ],
  activityBonusPct: [
    { threshold: 1n, value: 5n },
    { threshold: 5n, value: 10n },
    { threshold: 20n, value: 20n },
  ],
};

/**
 * Short governance parameters for tests (deploy/modules/Governance.ts, under "AITBCGovernance"); proposing takes
 * the power of an agent at the minimum stake (1,000 votes).
 */
export const GOVERNANCE = {
  votingDelay: 60n,
  votingPeriod: 600n,
  proposalThreshold: 1_000n * AITBC,
  quorumPercent: 10n,
  timelockDelay: 120n,
} as const;

/** IGovernor.ProposalState. */
export const PROPOSAL = {
  Pending: 0n,
  Active: 1n,
  Canceled: 2n,
  Defeated: 3n,
  Succeeded: 4n,
  Queued: 5n,
  Expired: 6n,
  Executed: 7n,
} as const;

/** GovernorCountingSimple's vote types. */

/** ActionTypes.GOVERN. */
export const GOVERN = 11;

/** A number of votes (wei of votes, 1e18 per vote), e.g. `votes(1.05)` or `votes("13125")`. */
export function votes(n: number | string): bigint {
  const [whole = "0", fraction = ""] = String(n).split(".");
  return BigInt(whole) * AITBC + BigInt(fraction.padEnd(18, "0").slice(0, 18));
}

/** A schedule as plain bigints (what IAgentVotes.Schedule decodes to), for deep equality. */
export function scheduleTuple(s: IAgentVotes.ScheduleStruct): unknown[] {
  const tiers = (ts: IAgentVotes.TierStruct[]) => ts.map((t) => [BigInt(t.threshold), BigInt(t.value)]);
  return [BigInt(s.base), tiers(s.stakeMultiplierBps), tiers(s.reputationBonusPct), tiers(s.activityBonusPct)];
}

/**
 * Deploys the whole protocol through deploy/modules/Protocol.ts (or, with `handover`, deploy/modules/Handover.ts)
 * with GOVERNANCE's short voting delay, period and timelock delay and TEST_SCHEDULE (with `defaults`: no
 * "AITBCGovernance" parameters at all, i.e. the module's defaults), and the same named signers as
 * scripts/lib/deploy.ts, plus `slasher`, `reputer` (holding SLASHER_ROLE and REPUTATION_ROLE on the registry,
 * unless handed over) and `voters` (the remaining accounts, unregistered).
 */
export async function deployGovernance(
  connection: NetworkConnection,
  options: { handover?: boolean; defaults?: boolean; governance?: Parameters } = {},
) {
  const { ethers, ignition } = connection;
  const signers = await ethers.getSigners();
  const [deployer, guardian, attestor, treasury, operator, agent, agent2, client, outsider, slasher, reputer] = signers;
  const voters = signers.slice(11);
  if (
    !deployer ||
    !guardian ||
    !attestor ||
    !treasury ||
    !operator ||
    !agent ||
    !agent2 ||
    !client ||
    !outsider ||
    !slasher ||
    !reputer ||
    voters.length < 8
  ) {
    throw new Error("the test network needs at least 19 accounts");
  }
  const parameters = {
    AITBCCore: {
      guardian: guardian.address,
      attestor: attestor.address,
      treasury: treasury.address,
      unbondingDelay: 3600n,
    },
    AITBCZk: { attestor: attestor.address },
    AITBCGovernance: options.defaults ? {} : { ...GOVERNANCE, schedule: TEST_SCHEDULE, ...options.governance },
  };
  const deployed = options.handover
    ? await ignition.deploy(HandoverModule, { parameters })
    : await ignition.deploy(ProtocolModule, { parameters });
  const protocol: Protocol = await protocolAt(ethers, deployed);
  if (!options.handover) {
    const { registry } = protocol;
    await (await registry.connect(deployer).grantRole(await registry.SLASHER_ROLE(), slasher.address)).wait();
    await (await registry.connect(deployer).grantRole(await registry.REPUTATION_ROLE(), reputer.address)).wait();
  }
  return {
    ...protocol,
    deployer,
    guardian,
    attestor,
    treasury,
    operator,
    agent,
    agent2,
    client,
    outsider,
    slasher,
    reputer,
    voters,
  };
}

export type Gov = Awaited<ReturnType<typeof deployGovernance>>;

/** Registers `agent` (operator: the fixture's `operator`) and stakes `stake` if any. Returns its agent id. */
export async function addAgent(gov: Gov, agent: Signer, stake: bigint): Promise<bigint> {
  return stake === 0n ? registerAgent(gov, agent, gov.operator) : registerAndStake(gov, agent, gov.operator, stake);
}

/** A proposal's actions, description and id. */
export interface Proposal {
  targets: string[];
  values: bigint[];
  calldatas: string[];
  description: string;
  descriptionHash: string;
  id: bigint;
}

/** The actions and id of a proposal (not submitted). */
export async function proposal(
  governor: AITBCGovernor,
  targets: string[],
  calldatas: string[],
  description: string,
): Promise<Proposal> {
  const values = targets.map(() => 0n);
  const descriptionHash = id(description);
  const proposalId = await governor.hashProposal(targets, values, calldatas, descriptionHash);
  return { targets, values, calldatas, description, descriptionHash, id: proposalId };
}

/** A harmless proposal: the timelock reads the registry's minimum stake. */
export async function noopProposal(gov: Gov, description: string): Promise<Proposal> {
  const { governor, registry } = gov;
  return proposal(
    governor,
    [await registry.getAddress()],
    [registry.interface.encodeFunctionData("minStake")],
    description,
  );
}

/** Submits `p` as `proposer`. */
export async function submit(
  governor: AITBCGovernor,
  proposer: Signer,
  p: Proposal,
): Promise<ContractTransactionReceipt> {
  const receipt = await (
    await governor.connect(proposer).propose(p.targets, p.values, p.calldatas, p.description)
  ).wait();
  if (!receipt) throw new Error("no receipt");
  return receipt;
}

/** Advances time so that the next transaction is inside `proposalId`'s vote (just after its snapshot). */
export async function toVoting(connection: NetworkConnection, governor: AITBCGovernor, proposalId: bigint) {
  const { time } = connection.networkHelpers;
  const snapshot = await governor.proposalSnapshot(proposalId);
  if (BigInt(await time.latest()) <= snapshot) await time.increaseTo(snapshot + 1n);
}

/** Advances time past `proposalId`'s deadline. */
export async function toVoteEnd(connection: NetworkConnection, governor: AITBCGovernor, proposalId: bigint) {
  const { time } = connection.networkHelpers;
  const deadline = await governor.proposalDeadline(proposalId);
  if (BigInt(await time.latest()) <= deadline) await time.increaseTo(deadline + 1n);
}

/**
 * Makes `voter` cast `count` votes, one voting period apart (activity counts at most once a period): each time the
 * fixture's `agent` proposes a harmless proposal and `voter` votes for it (so its activity grows by `count` when
 * it has votes).
 */
export async function castVotes(connection: NetworkConnection, gov: Gov, voter: Signer, count: number) {
  const { governor, agent } = gov;
  for (let i = 0; i < count; i++) {
    await connection.networkHelpers.time.increase(await governor.votingPeriod());
    const p = await noopProposal(gov, `activity of ${voter.address} #${i}`);
    await submit(governor, agent, p);
    await toVoting(connection, governor, p.id);
    await (await governor.connect(voter).castVote(p.id, SUPPORT_CODES.for)).wait();
  }
}

// ---------------------------------------------------------------- the governance fixtures and their checks

/** The test network, fetched when a fixture runs rather than at import (see connectedEthers in behaviours.ts). */
const connect = () => network.getOrCreate();

/** The agent ids the fixtures give `agent` and `agent2`. */
export const AGENT_ID = 1n;
export const AGENT2_ID = 2n;

/**
 * The protocol with short governance parameters, admin roles still with the deployer: `agent` stakes the minimum
 * (1,000 AITBC: 1,000 votes) and `agent2` 10,000 AITBC (10,000 votes); `slasher` and `reputer` hold their registry
 * roles.
 */
export async function governanceFixture() {
  const f = await deployGovernance(await connect());
  await addAgent(f, f.agent, MIN_STAKE);
  await addAgent(f, f.agent2, 10_000n * AITBC);
  return f;
}

/** The same, deployed through deploy/modules/Handover.ts: the timelock holds the protocol's admin roles. */
export async function handoverFixture() {
  const f = await deployGovernance(await connect(), { handover: true });
  await addAgent(f, f.agent, MIN_STAKE);
  await addAgent(f, f.agent2, 10_000n * AITBC);
  return f;
}

/** The protocol deployed with the governance module's own defaults (no "AITBCGovernance" parameters). */
export async function defaultsFixture() {
  return deployGovernance(await connect(), { defaults: true });
}

export const load = async () => (await connect()).networkHelpers.loadFixture(governanceFixture);
export const loadHandover = async () => (await connect()).networkHelpers.loadFixture(handoverFixture);

export function voter(f: Gov, i: number): Signer {
  const v = f.voters[i];
  if (!v) throw new Error(`no voter ${i}`);
  return v;
}

/** Adds `amount` to an already staked agent's stake (the registry is approved by registerAndStake). */
export async function stakeMore(f: Gov, agent: Signer, amount: bigint) {
  await mintAitbc(f, agent.address, (amount + AITBC - 1n) / AITBC);
  await (await f.registry.connect(agent).stake(amount)).wait();
}

/**
 * After mining a block: the total supply of votes, and the sums over every account of its current votes, its
 * votes at the same past timepoint and its own power. No double counting means all four are equal.
 */
export async function expectConserved(f: Gov): Promise<bigint> {
  const { ethers, networkHelpers } = await connect();
  const { time } = networkHelpers;
  await networkHelpers.mine();
  const t = BigInt(await time.latest()) - 1n;
  const total = await f.agentVotes.getPastTotalSupply(t);
  let current = 0n;
  let past = 0n;
  let power = 0n;
  for (const account of await ethers.getSigners()) {
    current += await f.agentVotes.getVotes(account.address);
    past += await f.agentVotes.getPastVotes(account.address, t);
    power += await f.agentVotes.powerOf(account.address);
  }
  expect(current).to.equal(total);
  expect(past).to.equal(total);
  expect(power).to.equal(total);
  return total;
}

/** A proposal to set the registry's minimum stake (only the timelock may, after the handover). */
export async function setMinStakeProposal(f: Gov, minStake: bigint, description: string): Promise<Proposal> {
  return proposal(
    f.governor,
    [await f.registry.getAddress()],
    [f.registry.interface.encodeFunctionData("setMinStake", [minStake])],
    description,
  );
}

/** Proposes `p` (as `agent`), votes it through (both fixture agents for), and queues it. Returns the operation id. */
export async function passAndQueue(f: Gov, p: Proposal): Promise<string> {
  const connection = await connect();
  await submit(f.governor, f.agent, p);
  await toVoting(connection, f.governor, p.id);
  await (await f.governor.connect(f.agent).castVote(p.id, SUPPORT_CODES.for)).wait();
  await (await f.governor.connect(f.agent2).castVote(p.id, SUPPORT_CODES.for)).wait();
  await toVoteEnd(connection, f.governor, p.id);
  const receipt = await (await f.governor["queue(uint256)"](p.id)).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = f.timelock.interface.parseLog(log);
    if (parsed?.name === "CallScheduled") return parsed.args.id as string;
  }
  throw new Error("no CallScheduled event");
}

/** Governor's bitmap of proposal states (for GovernorUnexpectedProposalState). */
export function stateBitmap(...states: bigint[]): string {
  return zeroPadValue(toBeHex(states.reduce((m, s) => m | (1n << s), 0n)), 32);
}

/** The states a proposal can be canceled (vetoed) in: all but Canceled, Expired and Executed. */
export const CANCELABLE = stateBitmap(
  PROPOSAL.Pending,
  PROPOSAL.Active,
  PROPOSAL.Defeated,
  PROPOSAL.Succeeded,
  PROPOSAL.Queued,
);

export async function signDelegation(f: Gov, signer: Signer, delegatee: string, nonce: bigint, expiry: bigint) {
  const { chainId } = await (await connect()).ethers.provider.getNetwork();
  const domain = {
    name: "AITBC Agent Votes",
    version: "1",
    chainId,
    verifyingContract: await f.agentVotes.getAddress(),
  };
  return Signature.from(await signer.signTypedData(domain, forEthers(DELEGATION_TYPES), { delegatee, nonce, expiry }));
}
