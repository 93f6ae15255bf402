import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import CoreModule, { AITBC } from "./Core.js";

/**
 * Governance: AgentVotes (agents' checkpointed voting power), a TimelockController and the AITBCGovernor, wired
 * to the core. The registry reports every stake and reputation change to AgentVotes; the governor proposes to,
 * cancels in and executes through the timelock (anyone may call the governor's execute once an operation is
 * ready; nobody can call the timelock directly, so the emergency stop and the guardians' veto cover everything).
 *
 * This module leaves the protocol's admin roles with the deployer (devnets and tests need them); Handover.ts
 * moves them to the timelock.
 *
 * Parameters (all optional, under "AITBCGovernance"):
 *   votingDelay        uint48   seconds from proposal to the vote's start (the snapshot)  (default: 1 day)
 *   votingPeriod       uint32   seconds the vote is open                                   (default: 3 days)
 *   proposalThreshold  uint256  power needed to propose, wei of votes                      (default: 1000 votes)
 *   quorumPercent      uint256  quorum, percent of the total power at the snapshot         (default: 10)
 *   timelockDelay      uint256  seconds between queue and execute                          (default: 2 days)
 *   schedule           IAgentVotes.Schedule  the power formula                             (default: DEFAULT_SCHEDULE)
 */

/** power = base × stake × multiplier(stake) × (100 + bonus(reputation))/100 × (100 + bonus(votes cast))/100. */
export const DEFAULT_SCHEDULE = {
  base: AITBC, // one vote per staked AITBC
  // Stake multiplier, bps: none below the minimum stake, then 1×, a little more for large stakes. It may never
  // fall as stake grows (AgentVotes refuses it): splitting stake across agents must not add votes.
  stakeMultiplierBps: [
    { threshold: 1_000n * AITBC, value: 10_000n },
    { threshold: 100_000n * AITBC, value: 11_000n },
    { threshold: 1_000_000n * AITBC, value: 12_000n },
  ],
  // Reputation bonus, percent (reputation runs 0..1000, agents start at 500).
  reputationBonusPct: [
    { threshold: 600n, value: 10n },
    { threshold: 800n, value: 25n },
    { threshold: 950n, value: 50n },
  ],
  // Activity bonus, percent, by votes cast.
  activityBonusPct: [
    { threshold: 1n, value: 5n },
    { threshold: 5n, value: 10n },
    { threshold: 20n, value: 20n },
  ],
};

export const DEFAULT_GOVERNANCE = {
  votingDelay: 24n * 3600n,
  votingPeriod: 3n * 24n * 3600n,
  proposalThreshold: 1_000n * AITBC, // an agent at the minimum stake
  quorumPercent: 10n,
  timelockDelay: 2n * 24n * 3600n,
};

export default buildModule("AITBCGovernance", (m) => {
  const { registry, constitution, humanOverride } = m.useModule(CoreModule);
  const deployer = m.getAccount(0);

  const votingDelay = m.getParameter("votingDelay", DEFAULT_GOVERNANCE.votingDelay);
  const votingPeriod = m.getParameter("votingPeriod", DEFAULT_GOVERNANCE.votingPeriod);
  const proposalThreshold = m.getParameter("proposalThreshold", DEFAULT_GOVERNANCE.proposalThreshold);
  const quorumPercent = m.getParameter("quorumPercent", DEFAULT_GOVERNANCE.quorumPercent);
  const timelockDelay = m.getParameter("timelockDelay", DEFAULT_GOVERNANCE.timelockDelay);
  const schedule = m.getParameter("schedule", DEFAULT_SCHEDULE);

  const agentVotes = m.contract("AgentVotes", [deployer, registry, humanOverride, constitution, schedule]);
  // The deployer administers the timelock only until the governor holds its roles (below), then renounces.
  const timelock = m.contract("AITBCTimelock", [timelockDelay, [], [], deployer]);
  const governor = m.contract("AITBCGovernor", [
    agentVotes,
    timelock,
    humanOverride,
    constitution,
    votingDelay,
    votingPeriod,
    proposalThreshold,
    quorumPercent,
  ]);

  // Wiring: the registry reports power changes; the governor counts activity; both charge constitutions.
  m.call(registry, "setVotes", [agentVotes]);
  const activityRole = m.staticCall(agentVotes, "ACTIVITY_ROLE", [], 0, { id: "activityRole" });
  m.call(agentVotes, "grantRole", [activityRole, governor], { id: "agentVotes_activity_governor" });
  const enforcerRole = m.staticCall(constitution, "ENFORCER_ROLE", [], 0, { id: "governanceEnforcerRole" });
  m.call(constitution, "grantRole", [enforcerRole, agentVotes], { id: "constitution_enforcer_agentVotes" });
  m.call(constitution, "grantRole", [enforcerRole, governor], { id: "constitution_enforcer_governor" });

  // The timelock takes proposals from the governor only; the governor cancels (guardians veto through it).
  const proposerRole = m.staticCall(timelock, "PROPOSER_ROLE", [], 0, { id: "proposerRole" });
  const cancellerRole = m.staticCall(timelock, "CANCELLER_ROLE", [], 0, { id: "cancellerRole" });
  const executorRole = m.staticCall(timelock, "EXECUTOR_ROLE", [], 0, { id: "executorRole" });
  const timelockAdminRole = m.staticCall(timelock, "DEFAULT_ADMIN_ROLE", [], 0, { id: "timelockAdminRole" });
  const proposer = m.call(timelock, "grantRole", [proposerRole, governor], { id: "timelock_proposer_governor" });
  const canceller = m.call(timelock, "grantRole", [cancellerRole, governor], { id: "timelock_canceller_governor" });
  const executor = m.call(timelock, "grantRole", [executorRole, governor], { id: "timelock_executor_governor" });
  m.call(timelock, "renounceRole", [timelockAdminRole, deployer], {
    id: "timelock_admin_renounce",
    after: [proposer, canceller, executor],
  });

  return { agentVotes, timelock, governor };
});
