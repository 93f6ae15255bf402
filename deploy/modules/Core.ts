import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { ALL_ACTIONS } from "../../protocol/actions.js";

/**
 * The on-chain core: HumanOverride, AgentConstitution, AIToken and AgentRegistry, wired together.
 *
 * The deployer is the first admin of every contract (it must be, to grant the wiring roles); hand the admin
 * role to governance afterwards with grantRole / renounceRole.
 *
 * Parameters (all optional; `npx hardhat ignition deploy deploy/modules/Core.ts --parameters file.json`):
 *   guardian       address    first human holding GUARDIAN_ROLE      (default: the deployer)
 *   attestor       address    first receipt signer (ATTESTOR_ROLE)   (default: the deployer)
 *   (add more guardians and attestors afterwards with grantRole)
 *   treasury       address    receives slashed stake                  (default: the deployer)
 *   supplyCap      uint256    AIToken cap, wei                        (default: 1e9 AITBC)
 *   rewardRate     uint256    AIToken wei minted per work unit        (default: 1 AITBC)
 *   minStake       uint256    minimum agent stake, wei                (default: 1000 AITBC)
 *   bondBps        uint256    security bond, bps of expected daily volume (default: 1000 = 10%)
 *   unbondingDelay uint256    seconds between unstake request and withdrawal (default: 7 days)
 *   constitutionBounds / constitutionDefaults  IAgentConstitution.Constraints
 */
export const AITBC = 10n ** 18n;
export { ALL_ACTIONS };

export const DEFAULT_BOUNDS = {
  maxStake: 10_000_000n * AITBC,
  maxDailyVolume: 10_000_000n * AITBC,
  maxGasPerDay: 500_000_000n,
  allowedActions: ALL_ACTIONS,
  humanApprovalActions: 0n,
};

export const DEFAULT_CONSTRAINTS = {
  maxStake: 1_000_000n * AITBC,
  maxDailyVolume: 100_000n * AITBC,
  // ~400 basic workflow executions a day for a keeper (keepers/README.md "Capacity at the defaults")
  maxGasPerDay: 100_000_000n,
  allowedActions: ALL_ACTIONS,
  humanApprovalActions: 0n,
};

export default buildModule("AITBCCore", (m) => {
  const deployer = m.getAccount(0);

  const guardian = m.getParameter("guardian", deployer);
  const attestor = m.getParameter("attestor", deployer);
  const treasury = m.getParameter("treasury", deployer);
  const supplyCap = m.getParameter("supplyCap", 1_000_000_000n * AITBC);
  const rewardRate = m.getParameter("rewardRate", AITBC);
  const minStake = m.getParameter("minStake", 1_000n * AITBC);
  const bondBps = m.getParameter("bondBps", 1_000n);
  const unbondingDelay = m.getParameter("unbondingDelay", 7n * 24n * 3600n);
  const bounds = m.getParameter("constitutionBounds", DEFAULT_BOUNDS);
  const defaults = m.getParameter("constitutionDefaults", DEFAULT_CONSTRAINTS);

  const humanOverride = m.contract("HumanOverride", [deployer, [guardian]]);
  const constitution = m.contract("AgentConstitution", [deployer, humanOverride, bounds, defaults]);
  const token = m.contract("AIToken", [deployer, humanOverride, constitution, supplyCap, rewardRate, [attestor]]);
  const registry = m.contract("AgentRegistry", [
    deployer,
    token,
    humanOverride,
    constitution,
    treasury,
    minStake,
    bondBps,
    unbondingDelay,
  ]);

  // Wiring: who may call whom.
  const enforcerRole = m.staticCall(constitution, "ENFORCER_ROLE", [], 0, { id: "enforcerRole" });
  const registryRole = m.staticCall(constitution, "REGISTRY_ROLE", [], 0, { id: "registryRole" });
  const moduleRole = m.staticCall(token, "MODULE_ROLE", [], 0, { id: "moduleRole" });
  m.call(constitution, "grantRole", [enforcerRole, token], { id: "constitution_enforcer_token" });
  m.call(constitution, "grantRole", [enforcerRole, registry], { id: "constitution_enforcer_registry" });
  m.call(constitution, "grantRole", [registryRole, registry], { id: "constitution_registry" });
  m.call(token, "grantRole", [moduleRole, registry], { id: "token_module_registry" });

  // ERC-8004 views of the registry: identity (metadata set by agents is charged to their constitution) and
  // reputation (read-only). Neither has an admin.
  const identity = m.contract("AgentIdentity", [registry, humanOverride, constitution]);
  const reputation = m.contract("AgentReputation", [registry, identity]);
  m.call(constitution, "grantRole", [enforcerRole, identity], { id: "constitution_enforcer_identity" });

  return { humanOverride, constitution, token, registry, identity, reputation };
});
