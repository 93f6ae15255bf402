import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import CoreModule from "./Core.js";

/**
 * The zero-knowledge layer: the generated Groth16 verifiers (contracts/zk/verifiers) and the ReceiptMinter,
 * which mints from receipt proofs as an AIToken coordinator.
 *
 * Parameters of this module (optional), besides the core's (under "AITBCCore"):
 *   attestor  address  first publisher of receipt roots (ReceiptMinter ATTESTOR_ROLE)  (default: the deployer)
 */
export default buildModule("AITBCZk", (m) => {
  const core = m.useModule(CoreModule);
  const { token } = core;
  const deployer = m.getAccount(0);
  const attestor = m.getParameter("attestor", deployer);

  const receiptVerifier = m.contract("ReceiptVerifier");
  const workflowVerifier = m.contract("WorkflowVerifier");
  const inferenceVerifier = m.contract("InferenceVerifier");
  const receiptMinter = m.contract("ReceiptMinter", [token, receiptVerifier, deployer, attestor]);

  const coordinatorRole = m.staticCall(token, "COORDINATOR_ROLE", [], 0, { id: "zkCoordinatorRole" });
  m.call(token, "grantRole", [coordinatorRole, receiptMinter], { id: "token_coordinator_receiptMinter" });

  return { ...core, receiptVerifier, workflowVerifier, inferenceVerifier, receiptMinter };
});
