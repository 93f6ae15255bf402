import type { NetworkConnection } from "hardhat/types/network";

import CoreModule, { AITBC } from "../../deploy/modules/Core.js";

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
