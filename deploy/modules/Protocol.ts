import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import GovernanceModule from "./Governance.js";
import { AITBC } from "./Core.js";
import ZkModule from "./Zk.js";

/**
 * The whole protocol: the core (Core.ts), the zero-knowledge layer (Zk.ts) and governance (Governance.ts), plus
 * the ServiceMarketplace and Workflows, wired to them. Admin roles stay with the deployer; Handover.ts moves them
 * to the governance timelock.
 *
 *   npx hardhat ignition deploy deploy/modules/Protocol.ts --network <name> --parameters params.json
 *
 * Parameters of this module (all optional), besides those of Core.ts ("AITBCCore"), Zk.ts ("AITBCZk") and
 * Governance.ts ("AITBCGovernance"):
 *   protocolFeeBps   uint256  marketplace fee on settled payments, bps   (default: 100 = 1%)
 *   challengeWindow  uint256  seconds a client has to reject a result    (default: 1 day)
 *   timeoutSlashBps  uint256  slash on a failed assignment, bps of its payment (default: 1000 = 10%)
 *   ledgerWindow     uint256  seconds committed step records may be challenged (default: 1 day)
 *   keeperBond       uint256  bond a keeper needs to commit records, and one fault's slash (default: 100 AITBC)
 *   challengeBond    uint256  what a challenger risks on a false challenge (default: 10 AITBC)
 */
export default buildModule("AITBCProtocol", (m) => {
  const core = m.useModule(ZkModule);
  const governance = m.useModule(GovernanceModule);
  const { token, registry, constitution, humanOverride, workflowVerifier, inferenceVerifier } = core;
  const deployer = m.getAccount(0);

  const protocolFeeBps = m.getParameter("protocolFeeBps", 100n);
  const challengeWindow = m.getParameter("challengeWindow", 24n * 3600n);
  const timeoutSlashBps = m.getParameter("timeoutSlashBps", 1_000n);
  const ledgerWindow = m.getParameter("ledgerWindow", 24n * 3600n);
  const keeperBond = m.getParameter("keeperBond", 100n * AITBC);
  const challengeBond = m.getParameter("challengeBond", 10n * AITBC);

  const marketplace = m.contract("ServiceMarketplace", [
    deployer,
    token,
    registry,
    humanOverride,
    constitution,
    inferenceVerifier,
    protocolFeeBps,
    challengeWindow,
    timeoutSlashBps,
  ]);
  // The ledger (cheap basic recording) is deployed apart; Workflows settles committed executions only through it.
  const ledger = m.contract("WorkflowLedger", [
    token,
    registry,
    humanOverride,
    constitution,
    inferenceVerifier,
    ledgerWindow,
    keeperBond,
    challengeBond,
  ]);
  const workflows = m.contract("Workflows", [
    token,
    registry,
    humanOverride,
    constitution,
    workflowVerifier,
    inferenceVerifier,
    ledger,
  ]);
  m.call(ledger, "bind", [workflows], { id: "ledger_bind_workflows" });

  // Wiring: the marketplace enforces constitutions, pulls escrow, slashes and rates (it does not mint: its
  // compute receipts need an attestor's signature);
  // Workflows enforces constitutions and pulls escrow; both open and close the obligations that keep an awarded
  // provider's or a claiming keeper's stake in the registry until the work ends.
  const enforcerRole = m.staticCall(constitution, "ENFORCER_ROLE", [], 0, { id: "protocolEnforcerRole" });
  const moduleRole = m.staticCall(token, "MODULE_ROLE", [], 0, { id: "protocolModuleRole" });
  const slasherRole = m.staticCall(registry, "SLASHER_ROLE", [], 0, { id: "protocolSlasherRole" });
  const reputationRole = m.staticCall(registry, "REPUTATION_ROLE", [], 0, { id: "protocolReputationRole" });
  m.call(constitution, "grantRole", [enforcerRole, marketplace], { id: "constitution_enforcer_marketplace" });
  m.call(constitution, "grantRole", [enforcerRole, workflows], { id: "constitution_enforcer_workflows" });
  m.call(token, "grantRole", [moduleRole, marketplace], { id: "token_module_marketplace" });
  m.call(token, "grantRole", [moduleRole, workflows], { id: "token_module_workflows" });
  m.call(registry, "grantRole", [slasherRole, marketplace], { id: "registry_slasher_marketplace" });
  // The ledger slashes a provider whose committed output a challenge proves wrong.
  m.call(registry, "grantRole", [slasherRole, ledger], { id: "registry_slasher_ledger" });
  m.call(registry, "grantRole", [reputationRole, marketplace], { id: "registry_reputation_marketplace" });
  const obligationRole = m.staticCall(registry, "OBLIGATION_ROLE", [], 0, { id: "protocolObligationRole" });
  m.call(registry, "grantRole", [obligationRole, marketplace], { id: "registry_obligation_marketplace" });
  m.call(registry, "grantRole", [obligationRole, workflows], { id: "registry_obligation_workflows" });

  // ERC-8004 validation responses backed by the marketplace's state (contracts/identity/AgentValidation.sol): it
  // only reads the marketplace and the registry, and holds no role.
  const validation = m.contract("AgentValidation", [marketplace, registry, core.identity]);

  return { ...core, ...governance, marketplace, workflows, ledger, validation };
});
