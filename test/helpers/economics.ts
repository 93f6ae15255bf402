/**
 * Shared set-up for the economic-security tests of the marketplace (test/market/*): a market with two provider
 * agents sharing one operator, a funded human client, and a helper that runs a workload to settlement.
 */
import { MaxUint256, id, type ContractTransactionResponse } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { AITBC, mintAitbc, registerAndStake, type Signer } from "./agents.js";
import { offer, signResult, workloadRequest, type Request } from "./market.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";

/** Provider agents declare 1,000 AITBC a day (bond 100) and stake 1,200: a default slash leaves them active. */
export const PROVIDER_VOLUME = 1_000n * AITBC;
export const PROVIDER_STAKE = 1_200n * AITBC;
export const SERVICE_A = id("service: agent, gpu-inference");
export const SERVICE_B = id("service: agent2, gpu-inference");
export const PROPOSAL = id("proposal");
export const RESULT = id("result");

export async function send(tx: Promise<ContractTransactionResponse>): Promise<void> {
  await (await tx).wait();
}

/**
 * The protocol, plus `agent` (id 1) and `agent2` (id 2), provider agents with the same `operator`, listing SERVICE_A
 * and SERVICE_B; `client` (a human) and `operator` hold 100,000 AITBC each and approved the marketplace.
 */
export async function buildEconomics(connection: NetworkConnection) {
  const core = await deployProtocol(connection);
  const { token, marketplace, agent, agent2, operator, client } = core;
  const registration = { expectedDailyVolume: PROVIDER_VOLUME };
  await registerAndStake(core, agent, operator, PROVIDER_STAKE, registration);
  await registerAndStake(core, agent2, operator, PROVIDER_STAKE, registration);
  const market = await marketplace.getAddress();
  for (const human of [client, operator]) {
    await mintAitbc(core, human.address, 100_000n);
    await send(token.connect(human).approve(market, MaxUint256));
  }
  await send(marketplace.connect(agent).listService(offer(SERVICE_A)));
  await send(marketplace.connect(agent2).listService(offer(SERVICE_B)));
  return { ...core, market };
}

export type Economics = Awaited<ReturnType<typeof buildEconomics>>;

/** Posts `request` from `client`; returns the new workload's id. */
export async function post(f: Economics, client: Signer, request: Request): Promise<bigint> {
  await send(f.marketplace.connect(client).postWorkload(request));
  return f.marketplace.workloadCount();
}

/** Posts, has `provider` bid `price` with `serviceId`, awards it and submits its signed result: now Submitted. */
export async function submitted(
  f: Economics,
  client: Signer,
  provider: Signer,
  serviceId: string,
  request: Request,
  price: bigint,
): Promise<bigint> {
  const workloadId = await post(f, client, request);
  await send(f.marketplace.connect(provider).bid(workloadId, serviceId, price, PROPOSAL));
  await send(f.marketplace.connect(client).award(workloadId, 0n, await f.registry.agentIdOf(provider.address)));
  const signature = await signResult(provider, f.marketplace, workloadId, 0n, RESULT);
  await send(f.marketplace.connect(provider).submitResult(workloadId, RESULT, signature));
  return workloadId;
}

/** {submitted}, then the client accepts: settled. */
export async function settled(
  f: Economics,
  client: Signer,
  provider: Signer,
  serviceId: string,
  request: Request,
  price: bigint,
): Promise<bigint> {
  const workloadId = await submitted(f, client, provider, serviceId, request, price);
  await send(f.marketplace.connect(client).accept(workloadId));
  return workloadId;
}

export { workloadRequest };
