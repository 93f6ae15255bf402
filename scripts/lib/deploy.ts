import type { SolidityParameterType } from "@nomicfoundation/ignition-core";
import type { NetworkConnection } from "hardhat/types/network";

import CoreModule, { AITBC } from "../../deploy/modules/Core.js";
import ProtocolModule from "../../deploy/modules/Protocol.js";
import { protocolAt } from "./protocol.js";

export { AITBC };

type Parameters = Record<string, SolidityParameterType>;

/** The test accounts by role, and the core parameters every fixture deploys with. */
async function roles(connection: NetworkConnection, coreParameters: Parameters) {
  const signers = await connection.ethers.getSigners();
  const [deployer, guardian, attestor, treasury, operator, agent, agent2, client, outsider] = signers;
  if (!deployer || !guardian || !attestor || !treasury || !operator || !agent || !agent2 || !client || !outsider) {
    throw new Error("the test network needs at least 9 accounts");
  }
  const signersByRole = { deployer, guardian, attestor, treasury, operator, agent, agent2, client, outsider };
  const core = {
    guardian: guardian.address,
    attestor: attestor.address,
    treasury: treasury.address,
    unbondingDelay: 3600n,
    ...coreParameters,
  };
  return { signersByRole, core };
}

/** Deploys the core through the production Ignition module (same path as `hardhat ignition deploy`). */
export async function deployCore(connection: NetworkConnection, parameters: Parameters = {}) {
  const { ethers, ignition } = connection;
  const { signersByRole, core } = await roles(connection, parameters);
  const deployed = await ignition.deploy(CoreModule, { parameters: { AITBCCore: core } });
  return {
    token: await ethers.getContractAt("AIToken", await deployed.token.getAddress()),
    registry: await ethers.getContractAt("AgentRegistry", await deployed.registry.getAddress()),
    constitution: await ethers.getContractAt("AgentConstitution", await deployed.constitution.getAddress()),
    humanOverride: await ethers.getContractAt("HumanOverride", await deployed.humanOverride.getAddress()),
    identity: await ethers.getContractAt("AgentIdentity", await deployed.identity.getAddress()),
    reputation: await ethers.getContractAt("AgentReputation", await deployed.reputation.getAddress()),
    ...signersByRole,
  };
}

/**
 * Deploys the whole protocol (core, ServiceMarketplace, Workflows) through deploy/modules/Protocol.ts, with the
 * same named signers as {deployCore}.
 */
export async function deployProtocol(
  connection: NetworkConnection,
  coreParameters: Parameters = {},
  protocolParameters: Parameters = {},
) {
  const { ethers, ignition } = connection;
  const { signersByRole, core } = await roles(connection, coreParameters);
  const deployed = await ignition.deploy(ProtocolModule, {
    parameters: { AITBCCore: core, AITBCZk: { attestor: core.attestor }, AITBCProtocol: protocolParameters },
  });
  return { ...(await protocolAt(ethers, deployed)), ...signersByRole };
}
