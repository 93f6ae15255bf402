import type { SolidityParameterType } from "@nomicfoundation/ignition-core";
import type { NetworkConnection } from "hardhat/types/network";
import { id, type ContractTransactionReceipt } from "ethers";

import { DEFAULT_GOVERNANCE, DEFAULT_SCHEDULE } from "../../deploy/modules/Governance.js";
import HandoverModule from "../../deploy/modules/Handover.js";
import ProtocolModule from "../../deploy/modules/Protocol.js";
import { protocolAt, type Protocol } from "../../scripts/lib/protocol.js";
import type { AITBCGovernor, IAgentVotes } from "../../typechain-types/index.js";
import { registerAgent, registerAndStake, type Signer } from "./agents.js";
import { AITBC } from "../../scripts/lib/deploy.js";
import { SUPPORT_CODES } from "../../protocol/enums.js";

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
