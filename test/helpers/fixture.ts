import type { SolidityParameterType } from "@nomicfoundation/ignition-core";
import type { NetworkConnection } from "hardhat/types/network";

import CoreModule, { AITBC } from "../../deploy/modules/Core.js";
import ProtocolModule from "../../deploy/modules/Protocol.js";

export { AITBC };

/** Deploys the core through the production Ignition module (same path as `hardhat ignition deploy`). */
export async function deployCore(connection: NetworkConnection, parameters: Record<string, unknown> = {}) {
  const { ethers, ignition } = connection;
  const [deployer, guardian, attestor, treasury, operator, agent, agent2, client, outsider] = await ethers.getSigners();
  if (!deployer || !guardian || !attestor || !treasury || !operator || !agent || !agent2 || !client || !outsider) {
    throw new Error("the test network needs at least 9 accounts");
  }
  const deployed = await ignition.deploy(CoreModule, {
    parameters: {
      AITBCCore: {
        guardian: guardian.address,
        attestor: attestor.address,
        treasury: treasury.address,
        unbondingDelay: 3600n,
        ...parameters,
      },
    },
  });
  const token = await ethers.getContractAt("AIToken", await deployed.token.getAddress());
  const registry = await ethers.getContractAt("AgentRegistry", await deployed.registry.getAddress());
  const constitution = await ethers.getContractAt("AgentConstitution", await deployed.constitution.getAddress());
  const humanOverride = await ethers.getContractAt("HumanOverride", await deployed.humanOverride.getAddress());
  return {
    token,
    registry,
    constitution,
    humanOverride,
    deployer,
    guardian,
    attestor,
    treasury,
    operator,
    agent,
    agent2,
    client,
    outsider,
  };
}

/**
 * Deploys the whole protocol (core, ServiceMarketplace, Workflows) through deploy/modules/Protocol.ts, with the
 * same named signers as {deployCore}.
 */
export async function deployProtocol(
  connection: NetworkConnection,
  coreParameters: Record<string, SolidityParameterType> = {},
  protocolParameters: Record<string, SolidityParameterType> = {},
) {
  const { ethers, ignition } = connection;
  const signers = await ethers.getSigners();
  const [deployer, guardian, attestor, treasury, operator, agent, agent2, client, outsider] = signers;
  if (!deployer || !guardian || !attestor || !treasury || !operator || !agent || !agent2 || !client || !outsider) {
    throw new Error("the test network needs at least 9 accounts");
  }
  const deployed = await ignition.deploy(ProtocolModule, {
    parameters: {
      AITBCCore: {
        guardian: guardian.address,
        attestor: attestor.address,
        treasury: treasury.address,
        unbondingDelay: 3600n,
        ...coreParameters,
      },
      AITBCProtocol: { ...protocolParameters },
    },
  });
  return {
    token: await ethers.getContractAt("AIToken", await deployed.token.getAddress()),
    registry: await ethers.getContractAt("AgentRegistry", await deployed.registry.getAddress()),
    constitution: await ethers.getContractAt("AgentConstitution", await deployed.constitution.getAddress()),
    humanOverride: await ethers.getContractAt("HumanOverride", await deployed.humanOverride.getAddress()),
    marketplace: await ethers.getContractAt("ServiceMarketplace", await deployed.marketplace.getAddress()),
    workflows: await ethers.getContractAt("Workflows", await deployed.workflows.getAddress()),
    deployer,
    guardian,
    attestor,
    treasury,
    operator,
    agent,
    agent2,
    client,
    outsider,
  };
}
