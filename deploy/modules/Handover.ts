import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import ProtocolModule from "./Protocol.js";

/**
 * Hands the protocol to governance: the timelock becomes the admin of AIToken, AgentRegistry, AgentConstitution,
 * ServiceMarketplace, ReceiptMinter and AgentVotes (minimum stake, reward rate, fees, constitution bounds, the
 * power schedule...), and the deployer renounces its admin role on each. Run it after Protocol.ts:
 *
 *   npx hardhat ignition deploy deploy/modules/Handover.ts --network <name> --parameters params.json
 *
 * The HumanOverride stays with humans on purpose: its admin (the deployer, or whoever it handed the role to)
 * appoints the guardians, who freeze agents, stop everything, and veto proposals. Governance never controls
 * its own overseers. The governor's voting parameters are changed by proposals to the governor itself.
 */
export default buildModule("AITBCHandover", (m) => {
  const protocol = m.useModule(ProtocolModule);
  const { timelock } = protocol;
  const deployer = m.getAccount(0);
  const adminRole = "0x0000000000000000000000000000000000000000000000000000000000000000";

  const administered = {
    token: protocol.token,
    registry: protocol.registry,
    constitution: protocol.constitution,
    marketplace: protocol.marketplace,
    receiptMinter: protocol.receiptMinter,
    agentVotes: protocol.agentVotes,
  };
  for (const [name, contract] of Object.entries(administered)) {
    const grant = m.call(contract, "grantRole", [adminRole, timelock], { id: `${name}_admin_timelock` });
    m.call(contract, "renounceRole", [adminRole, deployer], { id: `${name}_admin_renounce`, after: [grant] });
  }
  return protocol;
});
