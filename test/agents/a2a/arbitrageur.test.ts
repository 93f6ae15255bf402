/**
 * The arbitrageur end to end (agents/roles/arbitrageur.ts), real agents on an in-process Hardhat network served over
 * JSON-RPC, no action of theirs driven by the test: a client posts a workload for the arbitrageur's service
 * ("iris-express" at 2 AITBC a unit); the arbitrageur bids and is awarded; it asks the provider agent
 * ("iris-inference" at 1 AITBC) for a signed quote over A2A, posts a nested workload, awards the provider's bid,
 * hands it the input, checks and accepts its result, and submits that result for the client's workload; the client
 * checks it against the reference model and accepts. Asserted on chain: the arbitrageur's AITBC grew by the spread
 * (its payment less the fee, less the provider's), the provider was paid the quote, both workloads settled.
 */
import { type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";
import { createPublicClient, custom, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { runAgent, type RunningAgent } from "../../../agents/agent.js";
import { loadAgentConfig } from "../../../agents/config.js";
import { resultMessage } from "../../../agents/server.js";
import { WORKLOAD_STATUS } from "../../../agents/marketplace.js";
import { blindToHex } from "../../../circuits/lib/field.js";
import { irisInfer, loadIrisModel, quantizeFeatures } from "../../../circuits/lib/iris.js";
import { serviceIdOf } from "../../../keepers/common/registration.js";
import { ConfigError } from "../../../keepers/common/config.js";
import { closeServer } from "../../../keepers/common/http.js";
import { addressesJson, FUTURE_IDS, type ContractKey } from "../../../protocol/addresses.js";
import { marketplaceAbi } from "../../../protocol/abi.js";
import { irisPredictionOf, valueHashHex, type Json } from "../../../protocol/values.js";
import { deployProtocol } from "../../../scripts/lib/deploy.js";
import { serveRpc } from "../../../scripts/lib/devnet.js";
import { mintAitbc } from "../../helpers/agents.js";
import { AGENT2_KEY, AGENT_KEY, AITBC, OPERATOR, SETOSA_CM, captureLogger, setosa } from "../../helpers/keepers.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

describe("arbitrageur configuration", function () {
  const dir = mkdtempSync(path.join(tmpdir(), "aitbc-arbitrageur-config-"));
  const configWith = (subcontract: unknown) => {
    const file = path.join(dir, "agent.json");
    writeFileSync(
      file,
      JSON.stringify({
        rpc: { urls: ["http://127.0.0.1:8545"] },
        agent: { privateKey: AGENT2_KEY, operator: OPERATOR },
        store: { path: path.join(dir, "agent.db") },
        services: [{ name: "iris-express", backend: "iris", price: "2", subcontract }],
        strategy: { kind: "fixed-price" },
      }),
    );
    return file;
  };
  const BAD: [string, unknown, RegExp][] = [
    ["a subcontractor URL that is not http(s)", { url: "ftp://x", agentId: 1, service: "s" }, /subcontract\.url/],
    ["a subcontractor agent id of 0", { url: "http://127.0.0.1:1", agentId: 0, service: "s" }, /subcontract\.agentId/],
    ["no subcontracted service", { url: "http://127.0.0.1:1", agentId: 1 }, /subcontract\.service/],
    ["an unknown field", { url: "http://127.0.0.1:1", agentId: 1, service: "s", fee: 1 }, /subcontract/],
  ];
  for (const [what, subcontract, message] of BAD) {
    it(`refuses ${what}, naming the field`, function () {
      expect(() => loadAgentConfig({ file: configWith(subcontract), env: {} }))
        .to.throw(ConfigError)
        .with.property("message")
        .that.matches(message);
    });
  }
  it("takes a subcontractor", function () {
    const config = loadAgentConfig({
      file: configWith({ url: "http://127.0.0.1:8701", agentId: 3, service: "iris-inference" }),
      env: {},
    });
    expect(config.services?.[0]?.subcontract).to.deep.equal({
      url: "http://127.0.0.1:8701",
      agentId: 3,
      service: "iris-inference",
    });
  });
});

describe("arbitrageur: subcontracts a won workload over A2A and the marketplace, at a profit", function () {
  this.timeout(600_000);
  let rpc: Server;
  let provider: RunningAgent;
  let arbitrageur: RunningAgent;
  const dir = mkdtempSync(path.join(tmpdir(), "aitbc-arbitrageur-"));

  after(async function () {
    await arbitrageur.close();
    await provider.close();
    rpc.closeAllConnections();
    await closeServer(rpc);
  });

  it("completes one subcontracted job; the spread is its profit on chain", async function () {
    const connection = await network.create();
    const protocol = await deployProtocol(connection);
    const addresses = {} as Record<ContractKey, string>;
    for (const key of Object.keys(FUTURE_IDS) as ContractKey[]) addresses[key] = await protocol[key].getAddress();
    const addressesFile = path.join(dir, "addresses.json");
    writeFileSync(addressesFile, addressesJson(addresses));
    const providerKey = privateKeyToAccount(AGENT_KEY);
    const arbitrageurKey = privateKeyToAccount(AGENT2_KEY);
    await mintAitbc(protocol, providerKey.address, 3_000n);
    await mintAitbc(protocol, arbitrageurKey.address, 3_100n); // 2,000 staked; the rest pays subcontracts
    const client = protocol.client;
    await mintAitbc(protocol, client.address, 100n);
    const chain = createPublicClient({ transport: custom(connection.provider) });
    let rpcUrl: string;
    ({ url: rpcUrl, server: rpc } = await serveRpc(connection));

    const start = (key: Hex, name: string, service: Record<string, unknown>) => {
      const configFile = path.join(dir, `${name}.json`);
      writeFileSync(
        configFile,
        JSON.stringify({
          rpc: { urls: [rpcUrl] },
          addressesFile,
          agent: { privateKey: key, operator: OPERATOR, version: "1.0.0" },
          store: { path: path.join(dir, `${name}.db`) },
          services: [{ backend: "iris", capacity: 4, costPerUnit: "0.2", ...service }],
          strategy: { kind: "fixed-price" },
          follower: { pollIntervalMs: 300 },
          tickMs: 300,
        }),
      );
      return runAgent({ configFile, env: {}, logger: captureLogger().logger });
    };
    provider = await start(AGENT_KEY, "provider", { name: "iris-inference", price: "1" });
    const { logger: arbLogger, lines } = captureLogger();
    const arbConfig = path.join(dir, "arbitrageur.json");
    writeFileSync(
      arbConfig,
      JSON.stringify({
        rpc: { urls: [rpcUrl] },
        addressesFile,
        agent: { privateKey: AGENT2_KEY, operator: OPERATOR, version: "1.0.0" },
        store: { path: path.join(dir, "arbitrageur.db") },
        services: [
          {
            name: "iris-express",
            backend: "iris",
            price: "2",
            capacity: 4,
            costPerUnit: "0",
            subcontract: { url: provider.url, agentId: Number(provider.agentId), service: "iris-inference" },
          },
        ],
        strategy: { kind: "fixed-price" },
        follower: { pollIntervalMs: 300 },
        tickMs: 300,
      }),
    );
    arbitrageur = await runAgent({ configFile: arbConfig, env: {}, logger: arbLogger });

    const token = protocol.token;
    const market = protocol.marketplace;
    const marketAddress = (await market.getAddress()) as Hex;
    const balance = async (address: string) => token.balanceOf(address);
    const arbBefore = await balance(arbitrageur.address);
    const providerBefore = await balance(provider.address);
    const arbEtherBefore = await chain.getBalance({ address: arbitrageur.address });

    // The client posts a workload for the arbitrageur's service: 2 units, at most 2.5 AITBC a unit.
    const offer = await market.getServiceStatus(serviceIdOf(arbitrageur.address, "iris-express"));
    const blind = 123_456_789n;
    const input: Json = setosa();
    await token.connect(client).approve(marketAddress, 10n * AITBC);
    const now = (await chain.getBlock()).timestamp;
    const clock = BigInt(Math.floor(Date.now() / 1000));
    const bidDeadline = (clock > now ? clock : now) + 6n;
    await market.connect(client).postWorkload({
      serviceType: id("iris-express"),
      modelHash: offer.modelHash,
      units: 2n,
      maxPricePerUnit: (5n * AITBC) / 2n,
      bidDeadline,
      executionDeadline: bidDeadline + 900n,
      verification: 0,
      reopenOnTimeout: false,
      inputHash: valueHashHex(input, blind),
    });
    const workloadId = await market.workloadCount();

    // The arbitrageur's bid, then the award once bidding closes, then the input to its API.
    const bids = await until("the arbitrageur's bid", async () => {
      const list = await market.getBids(workloadId);
      return list.length > 0 ? list : undefined;
    });
    expect(bids[0]?.providerId).to.equal(arbitrageur.agentId);
    expect(bids[0]?.pricePerUnit).to.equal(2n * AITBC);
    await until("bidding to close", () =>
      Promise.resolve(Date.now() / 1000 > Number(bidDeadline) + 1 ? true : undefined),
    );
    await market.connect(client).award(workloadId, 0n, arbitrageur.agentId);
    const put = await fetch(`${arbitrageur.url}/v1/workloads/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workloadId: workloadId.toString(), input, blind: blindToHex(blind) }),
    });
    expect(put.status, await put.text()).to.equal(200);

    // The arbitrageur subcontracts and submits; the client checks the result against the reference model.
    await until("the arbitrageur's result", async () =>
      (await market.getWorkload(workloadId)).status === BigInt(WORKLOAD_STATUS.Submitted) ? true : undefined,
    );
    const w = await market.getWorkload(workloadId);
    const signature = await client.signMessage(
      resultMessage(Number((await chain.getChainId()).toString()), marketAddress, workloadId),
    );
    const got = (await (
      await fetch(`${arbitrageur.url}/v1/workloads/result?id=${workloadId}`, {
        headers: { "x-aitbc-signature": signature },
      })
    ).json()) as { output: Json };
    expect(valueHashHex(got.output, blind)).to.equal(w.resultHash);
    const reference = irisInfer(loadIrisModel(), quantizeFeatures(SETOSA_CM));
    const delivered = irisPredictionOf(got.output);
    expect(delivered.predictedClass).to.equal(reference.predictedClass);
    expect(delivered.scores).to.deep.equal(reference.scores);
    await market.connect(client).accept(workloadId);

    // On chain: the nested workload, the provider's pay, the arbitrageur's spread.
    const nestedId = workloadId + 1n;
    const nested = await chain.readContract({
      address: marketAddress,
      abi: marketplaceAbi,
      functionName: "getWorkload",
      args: [nestedId],
    });
    expect(nested.client.toLowerCase()).to.equal(arbitrageur.address.toLowerCase());
    expect(nested.providerId).to.equal(provider.agentId);
    expect(nested.status).to.equal(WORKLOAD_STATUS.Settled);
    expect(nested.resultHash).to.not.equal(w.resultHash); // the same output under another blind
    expect((await market.getWorkload(workloadId)).status).to.equal(BigInt(WORKLOAD_STATUS.Settled));
    const feeBps = await market.protocolFeeBps();
    const earned = (2n * 2n * AITBC * (10_000n - feeBps)) / 10_000n;
    const paid = 2n * 1n * AITBC;
    const providerEarned = (paid * (10_000n - feeBps)) / 10_000n;
    const arbProfit = (await balance(arbitrageur.address)) - arbBefore;
    expect(arbProfit).to.equal(earned - paid);
    expect(arbProfit > 0n).to.equal(true);
    expect((await balance(provider.address)) - providerBefore).to.equal(providerEarned);
    const gas = arbEtherBefore - (await chain.getBalance({ address: arbitrageur.address }));
    const report = lines.find((l) => l.event === "subcontracted") as Record<string, unknown> | undefined;
    expect([Number(report?.workloadId), Number(report?.nested)]).to.deep.equal([Number(workloadId), Number(nestedId)]);
    console.log(
      `      arbitrageur: earned ${earned} wei AITBC, paid ${paid}, profit ${arbProfit} AITBC-wei; gas ${gas} wei ether`,
    );
  });
});
