/**
 * Onboarding agents on a deployment made with scripts/lib/deploy.ts (an in-process network): a valid
 * registration, AITBC from an attested compute receipt, registration and stake. Shared by the tests and the
 * benchmarks.
 */
import type { HardhatEthersSigner as Signer } from "@nomicfoundation/hardhat-ethers/types";
import { id, MaxUint256 } from "ethers";

import { AGENT_TYPES } from "../../protocol/enums.js";
import type { IAgentRegistry } from "../../typechain-types/index.js";
import { AITBC, type deployCore } from "./deploy.js";
import { receiptDomain, signReceipt, type ComputeReceipt } from "./receipts.js";

/** What {deployCore} returns (a {deployProtocol} result has the same fields and more). */
type Core = Awaited<ReturnType<typeof deployCore>>;

const DAY = 86_400n;

/** A valid registration (0 expected daily volume unless replaced), some fields replaced. */
export function registration(
  operator: string,
  overrides: Partial<IAgentRegistry.RegistrationStruct> = {},
): IAgentRegistry.RegistrationStruct {
  return {
    operator,
    agentType: BigInt(AGENT_TYPES.indexOf("service-provider")),
    metadataURI: "ipfs://agent-metadata",
    endpoint: "https://agent.example/api",
    version: "1.0.0",
    capabilities: [id("inference"), id("fine-tuning")],
    expectedDailyVolume: 0n,
    ...overrides,
  };
}

let receiptNonce = 0;

/** Gives `to` `units` whole AITBC by minting an attested compute receipt (reward rate 1 AITBC per unit). */
export async function mintAitbc(core: Core, to: string, units: bigint): Promise<void> {
  const { token, attestor, client } = core;
  const latest = await token.runner?.provider?.getBlock("latest");
  receiptNonce += 1;
  const receipt: ComputeReceipt = {
    receiptId: id(`test-receipt-${receiptNonce}`),
    provider: to,
    client: client.address,
    units,
    workHash: id(`work-${receiptNonce}`),
    resultHash: id(`result-${receiptNonce}`),
    deadline: BigInt(latest?.timestamp ?? 0) + 30n * DAY,
  };
  const signature = await signReceipt(attestor, await receiptDomain(token), receipt);
  await (await token.connect(client).mintFromReceipt(receipt, signature)).wait();
}

/** Registers `agent` with `operator` and returns its id. */
export async function registerAgent(
  core: Core,
  agent: Signer,
  operator: Signer,
  overrides: Partial<IAgentRegistry.RegistrationStruct> = {},
): Promise<bigint> {
  const { registry } = core;
  await (await registry.connect(agent).register(registration(operator.address, overrides))).wait();
  return registry.getAgentId(agent.address);
}

/**
 * Registers `agent`, funds it with `stake` (rounded up to whole AITBC) through a receipt, approves the registry
 * and stakes `stake`. Returns the agent id. To be active, `stake` must cover
 * `requiredStakeFor(overrides.expectedDailyVolume)`.
 */
export async function registerAndStake(
  core: Core,
  agent: Signer,
  operator: Signer,
  stake: bigint,
  overrides: Partial<IAgentRegistry.RegistrationStruct> = {},
): Promise<bigint> {
  const { registry, token } = core;
  const agentId = await registerAgent(core, agent, operator, overrides);
  await mintAitbc(core, agent.address, (stake + AITBC - 1n) / AITBC);
  await (await token.connect(agent).approve(await registry.getAddress(), MaxUint256)).wait();
  await (await registry.connect(agent).stake(stake)).wait();
  return agentId;
}
