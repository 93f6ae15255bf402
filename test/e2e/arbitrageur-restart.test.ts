/**
 * The arbitrageur survives kill -9 in the middle of a subcontract (agents/roles/arbitrageur.ts), as real processes
 * on a local chain (scripts/lib/devnet.ts): a provider agent ("iris-inference" at 1 AITBC a unit) and an arbitrageur
 * ("iris-express" at 2, subcontracting to it). The test, as client, posts a workload for the arbitrageur, awards it
 * and hands over the input; once the arbitrageur has posted its nested workload (the input committed on chain under
 * its blind) it is killed with SIGKILL and started again on the same store. It must finish the same subcontract
 * under the same blind (a fresh blind would not match the nested workload's inputHash: the subcontractor would
 * refuse the input and the original workload would end in a slash): one nested workload, settled; the original
 * submitted with the reference model's answer and settled; the arbitrageur's AITBC up by the spread.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";

import { expect } from "chai";
import { id, MaxUint256 } from "ethers";
import hre from "hardhat";
import { privateKeyToAccount } from "viem/accounts";

import { resultMessage } from "../../agents/server.js";
import { WORKLOAD_STATUS } from "../../agents/marketplace.js";
import { blindToHex } from "../../circuits/lib/field.js";
import { irisInfer, loadIrisModel, quantizeFeatures } from "../../circuits/lib/iris.js";
import { serviceIdOf } from "../../keepers/common/registration.js";
import { irisPredictionOf, valueHashHex, type Json } from "../../protocol/values.js";
import { ROLES, startDevnet, type Daemon, type Devnet } from "../../scripts/lib/devnet.js";
import { SETOSA_CM, setosa } from "../helpers/keepers.js";

const AITBC = 10n ** 18n;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("arbitrageur: kill -9 mid-subcontract and restart (real processes)", function () {
  this.timeout(600_000);
  let devnet: Devnet;

  after(async function () {
    await devnet.stop();
  });

  it("finishes the same subcontract under the same blind after the restart: no second nested workload, no slash", async function () {
    const [providerRole, arbRole] = ROLES.providers;
    if (providerRole === undefined || arbRole === undefined) throw new Error("no provider accounts");
    devnet = await startDevnet(hre);
    await devnet.fund(providerRole.agent.address, 3000n);
    await devnet.fund(arbRole.agent.address, 3100n); // 2,000 staked; the rest pays subcontracts
    await devnet.fund(ROLES.client.address, 100n);
    const { marketplace, token } = devnet.protocol;
    const client = await devnet.connection.ethers.getSigner(ROLES.client.address);
    const market = marketplace.connect(client);
    await (await token.connect(client).approve(await marketplace.getAddress(), MaxUint256)).wait();

    const agentConfig = (role: typeof providerRole, name: string, service: Record<string, unknown>) => ({
      rpc: { urls: [devnet.url] },
      addressesFile: devnet.addressesFile,
      agent: {
        privateKey: role.agent.privateKey,
        operator: role.operator.address,
        stake: "2000",
        expectedDailyVolume: "10000",
      },
      store: { path: path.join(devnet.dir, `${name}.db`) },
      services: [{ backend: "iris", capacity: 4, costPerUnit: "0", ...service }],
      strategy: { kind: "fixed-price" },
      follower: { pollIntervalMs: 300 },
      tickMs: 300,
    });
    const provider = devnet.spawn(
      "agent-provider",
      "agent",
      agentConfig(providerRole, "provider", {
        name: "iris-inference",
        price: "1",
      }),
    );
    const ready = await provider.ready();
    const arbConfig = agentConfig(arbRole, "arbitrageur", {
      name: "iris-express",
      price: "2",
      subcontract: { url: String(ready.url), agentId: Number(ready.agentId), service: "iris-inference" },
    });
    let arbitrageur: Daemon = devnet.spawn("agent-arbitrageur", "agent", arbConfig);
    const arbReady = await arbitrageur.ready();
    const arbUrl = String(arbReady.url);
    const arbAddress = arbRole.agent.address;
    const arbBefore = await token.balanceOf(arbAddress);

    // The client's workload for the arbitrageur's service: 2 units at most 2.5 AITBC a unit.
    const offer = await marketplace.getServiceStatus(serviceIdOf(arbAddress, "iris-express"));
    const blind = BigInt(`0x${randomBytes(31).toString("hex")}`);
    const input: Json = setosa();
    const latest = BigInt((await devnet.connection.ethers.provider.getBlock("latest"))?.timestamp ?? 0);
    const clock = BigInt(Math.floor(Date.now() / 1000));
    const bidDeadline = (clock > latest ? clock : latest) + 6n;
    const request = {
      serviceType: id("iris-express"),
      modelHash: offer.modelHash,
      units: 2n,
      maxPricePerUnit: (5n * AITBC) / 2n,
      bidDeadline,
      executionDeadline: bidDeadline + 900n,
      verification: 0,
      reopenOnTimeout: false,
      inputHash: valueHashHex(input, blind),
    };
    const workloadId = await market.postWorkload.staticCall(request);
    await (await market.postWorkload(request)).wait();
    await arbitrageur.waitFor((l) => l.event === "bid" && String(l.workloadId) === String(workloadId), 60_000, "bid");
    while (Date.now() / 1000 <= Number(bidDeadline) + 1) await sleep(300);
    await (await market.award(workloadId, 0n, BigInt(String(arbReady.agentId)))).wait();
    const put = await fetch(`${arbUrl}/v1/workloads/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workloadId: workloadId.toString(), input, blind: blindToHex(blind) }),
    });
    expect(put.status, await put.text()).to.equal(200);

    // Mid-subcontract: the nested workload is on chain, its input committed under the arbitrageur's blind.
    const posted = await arbitrageur.waitFor(
      (l) => l.event === "subcontract-posted" && String(l.workloadId) === String(workloadId),
      120_000,
      "subcontract-posted",
    );
    const nestedId = BigInt(String(posted.nested));
    await arbitrageur.kill9();
    arbitrageur = devnet.spawn("agent-arbitrageur-2", "agent", arbConfig);
    const restartedUrl = String((await arbitrageur.ready()).url); // a new port

    // It finishes the subcontract and submits for the original workload; a failed run is a failed test at once.
    const end = Date.now() + 300_000;
    for (;;) {
      const failed = arbitrageur.lines.find((l) => l.event === "run-failed");
      if (failed !== undefined) throw new Error(`the restarted arbitrageur gave up: ${String(failed.error)}`);
      if ((await marketplace.getWorkload(workloadId)).status === BigInt(WORKLOAD_STATUS.Submitted)) break;
      if (Date.now() > end) throw new Error("timed out waiting for the arbitrageur's result");
      await sleep(500);
    }
    expect(await marketplace.workloadCount(), "one nested workload, not a second").to.equal(nestedId);
    const nested = await marketplace.getWorkload(nestedId);
    expect(nested.status).to.equal(BigInt(WORKLOAD_STATUS.Settled));
    expect(nested.client.toLowerCase()).to.equal(arbAddress.toLowerCase());

    // The client checks the result against the reference model and accepts.
    const w = await marketplace.getWorkload(workloadId);
    const signature = await privateKeyToAccount(ROLES.client.privateKey).signMessage({
      message: resultMessage(31337, (await marketplace.getAddress()) as `0x${string}`, workloadId),
    });
    const got = (await (
      await fetch(`${restartedUrl}/v1/workloads/result?id=${workloadId}`, {
        headers: { "x-aitbc-signature": signature },
      })
    ).json()) as { output: Json };
    expect(valueHashHex(got.output, blind)).to.equal(w.resultHash);
    const reference = irisInfer(loadIrisModel(), quantizeFeatures(SETOSA_CM));
    expect(irisPredictionOf(got.output).predictedClass).to.equal(reference.predictedClass);
    await (await market.accept(workloadId)).wait();

    const feeBps = await marketplace.protocolFeeBps();
    const earned = (2n * 2n * AITBC * (10_000n - feeBps)) / 10_000n;
    const paid = 2n * AITBC;
    expect((await token.balanceOf(arbAddress)) - arbBefore, "the spread, nothing slashed").to.equal(earned - paid);
    expect((await devnet.protocol.registry.summaryOf(BigInt(String(arbReady.agentId)))).stake).to.equal(2000n * AITBC);
  });
});
