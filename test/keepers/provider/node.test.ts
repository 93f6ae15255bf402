/**
 * The provider node's start-up on a chain (keepers/provider/node.ts runProvider, with keepers/common/registration.ts):
 * against an in-process Hardhat network served over JSON-RPC, it registers, stakes, lists its services and serves the
 * keeper of a running execution (its signature checked against that chain), idempotently on a re-run.
 */
import { type Server } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";
import { pino } from "pino";
import { createPublicClient, custom, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { addressesJson, FUTURE_IDS, type ContractKey } from "../../../protocol/addresses.js";
import { marketplaceAbi, registryAbi } from "../../../protocol/abi.js";
import { connectChain } from "../../../keepers/common/chain.js";
import { stepResultSigner } from "../../../protocol/eip712.js";
import { closeServer } from "../../../keepers/common/http.js";
import { encryptionKeysFrom } from "../../../protocol/sealed.js";
import { infoSchema } from "../../../protocol/steps.js";
import { DATA_MODEL } from "../../../keepers/provider/backends/data.js";
import { loadProviderConfig } from "../../../keepers/provider/config.js";
import { registrationPlan, runProvider } from "../../../keepers/provider/node.js";
import { registerProvider, serviceIdOf } from "../../../keepers/common/registration.js";
import { serveRpc } from "../../../scripts/lib/devnet.js";
import { mintAitbc } from "../../helpers/agents.js";
import { deployProtocol } from "../../../scripts/lib/deploy.js";
import {
  account,
  AGENT2_KEY,
  AGENT_KEY,
  AITBC,
  OPERATOR,
  OUTSIDER_KEY,
  captureLogger,
  IRIS,
} from "../../helpers/keepers.js";
import { keeperChain, type KeeperChain } from "../../helpers/keeper-chain.js";

describe("provider registration (in-process Hardhat network)", function () {
  let rpc: Server;
  let rpcUrl = "";
  let addressesFile = "";
  let protocol: Awaited<ReturnType<typeof deployProtocol>>;
  let client: ReturnType<typeof createPublicClient>;
  /** A keeper running execution 1: the node serves only it. */
  let chain: KeeperChain;
  const dir = mkdtempSync(path.join(tmpdir(), "aitbc-provider-chain-"));

  before(async function () {
    const connection = await network.create();
    protocol = await deployProtocol(connection);
    chain = await keeperChain({ connection, protocol });
    const addresses = {} as Record<ContractKey, string>;
    for (const key of Object.keys(FUTURE_IDS) as ContractKey[]) addresses[key] = await protocol[key].getAddress();
    addressesFile = path.join(dir, "addresses.json");
    writeFileSync(addressesFile, addressesJson(addresses));
    await mintAitbc(protocol, account.address, 3_000n);
    client = createPublicClient({ transport: custom(connection.provider) });
    // Served over JSON-RPC, so that the node connects over HTTP exactly as it does in production.
    ({ url: rpcUrl, server: rpc } = await serveRpc(connection));
  });

  after(async function () {
    rpc.closeAllConnections();
    await closeServer(rpc);
  });

  const configFile = (
    agentKey: Hex,
    services = [
      { name: "iris-inference", stepType: "inference", backend: "iris", price: "1" },
      { name: "data-ops", stepType: "data-processing", backend: "data", price: "0.1", capacity: 2 },
    ],
  ) => {
    const at = path.join(dir, `provider-${agentKey.slice(2, 8)}.json`);
    writeFileSync(
      at,
      JSON.stringify({
        rpc: { urls: [rpcUrl] },
        addressesFile,
        agent: { privateKey: agentKey, operator: OPERATOR, metadataURI: "ipfs://provider", version: "1.2.0" },
        encryption: { keyFile: path.join(dir, `provider-${agentKey.slice(2, 8)}.encryption-key`) },
        services,
      }),
    );
    return at;
  };

  it("registers, stakes, lists its services, serves, and is idempotent on a re-run", async function () {
    const { logger, lines } = captureLogger();
    const node = await runProvider({ configFile: configFile(AGENT_KEY), env: {}, logger });
    try {
      expect(node.address).to.equal(account.address);
      expect(lines.some((l) => l.event === "provider-ready")).to.equal(true);
      const registry = { address: (await protocol.registry.getAddress()) as Hex, abi: registryAbi } as const;
      const marketplace = { address: (await protocol.marketplace.getAddress()) as Hex, abi: marketplaceAbi } as const;
      expect(await client.readContract({ ...registry, functionName: "agentIdOf", args: [account.address] })).to.equal(
        node.agentId,
      );
      expect(await client.readContract({ ...registry, functionName: "isActive", args: [node.agentId] })).to.equal(true);
      const agent = await client.readContract({ ...registry, functionName: "getAgent", args: [node.agentId] });
      expect(agent).to.deep.include({
        operator: OPERATOR,
        agentType: 0,
        endpoint: node.url,
        version: "1.2.0",
        metadataURI: "ipfs://provider",
        stake: 2_000n * AITBC,
        expectedDailyVolume: 10_000n * AITBC,
      });
      expect(agent.capabilities).to.deep.equal([id("inference"), id("data-processing")]);
      const offer = await client.readContract({
        ...marketplace,
        functionName: "getServiceStatus",
        args: [serviceIdOf(account.address, "iris-inference")],
      });
      expect(offer).to.deep.include({
        serviceName: "iris-inference",
        pricePerUnit: AITBC,
        maxCapacity: 4n,
        modelHash: IRIS,
      });
      const data = await client.readContract({
        ...marketplace,
        functionName: "getServiceStatus",
        args: [serviceIdOf(account.address, "data-ops")],
      });
      expect(data).to.deep.include({ pricePerUnit: AITBC / 10n, maxCapacity: 2n, modelHash: DATA_MODEL });

      // Its encryption key is published with its identity, and the key file's.
      const published = await client.readContract({
        ...registry,
        functionName: "encryptionKeyOf",
        args: [node.agentId],
      });
      const seed = readFileSync(path.join(dir, `provider-${AGENT_KEY.slice(2, 8)}.encryption-key`), "utf8").trim();
      expect(published).to.equal((await encryptionKeysFrom(seed as Hex)).publicKey);

      // It serves the execution's keeper, signing over the chain's real Workflows domain.
      const r = await chain.step(node.url, {}, { providerKey: published });
      const domain = await protocol.workflows.eip712Domain();
      const signer = await stepResultSigner(
        {
          name: domain.name,
          version: domain.version,
          chainId: Number(domain.chainId),
          verifyingContract: domain.verifyingContract as Hex,
        },
        { executionId: 1n, step: 3, inputHash: r.record.inputHash, outputHash: r.record.outputHash, cost: AITBC },
        r.signature as Hex,
      );
      expect(signer).to.equal(account.address);
      const info = infoSchema.parse(await (await fetch(`${node.url}/v1/info`)).json());
      expect(info.agentId).to.equal(node.agentId.toString());

      // Re-running with the same plan sends nothing; a new price updates the one offer.
      const ctx = await connectChain({ urls: [rpcUrl], addressesFile });
      const plan = registrationPlan(loadProviderConfig({ file: configFile(AGENT_KEY), env: {} }), node.url, published);
      expect((await registerProvider(ctx, account, plan, logger)).transactions).to.equal(0);
      const repriced = {
        ...plan,
        services: plan.services.map((s) => (s.name === "data-ops" ? { ...s, price: AITBC / 5n } : s)),
      };
      expect(await registerProvider(ctx, account, repriced, logger)).to.deep.equal({
        agentId: node.agentId,
        transactions: 1,
      });
      const updated = await client.readContract({
        ...marketplace,
        functionName: "getServiceStatus",
        args: [serviceIdOf(account.address, "data-ops")],
      });
      expect(updated.pricePerUnit).to.equal(AITBC / 5n);
    } finally {
      await node.close();
    }
  });

  it("fails naming agent.stake, the balance and the address when the agent cannot afford its stake", async function () {
    const poor = privateKeyToAccount(AGENT2_KEY);
    let message = "";
    try {
      await runProvider({ configFile: configFile(AGENT2_KEY), env: {}, logger: pino({ level: "silent" }) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(/^agent\.stake: staking 2000 AITBC needs 2000 AITBC more/);
    expect(message).to.include(poor.address);
    expect(message).to.include("holds 0 AITBC");
  });

  it("reports decoded reverts, and a stake that does not cover the bond of the declared volume", async function () {
    const ctx = await connectChain({ urls: [rpcUrl], addressesFile });
    const outsider = privateKeyToAccount(OUTSIDER_KEY);
    // Funded for its stake, so that the registry's own checks are reached (funds are checked before anything is sent).
    await mintAitbc(protocol, outsider.address, 3_000n);
    const base = registrationPlan(
      loadProviderConfig({ file: configFile(OUTSIDER_KEY), env: {} }),
      "http://x",
      `0x${"44".repeat(32)}`,
    );
    const silent = pino({ level: "silent" });
    const fail = async (plan: typeof base) => {
      try {
        await registerProvider(ctx, outsider, plan, silent);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error("registration succeeded");
    };
    // A registry error, decoded by name.
    expect(await fail({ ...base, metadataURI: "x".repeat(300) })).to.match(
      /^register: reverted with AgentRegistryStringTooLong\("metadataURI", 300, 256\)/,
    );
    // A declared volume whose bond no allowed stake covers is refused before anything is sent (the registry would
    // revert with the constitution's AgentConstitutionAboveBound("declaredDailyVolume", ...) after the checks).
    expect(await fail({ ...base, expectedDailyVolume: 20_000_000n * AITBC })).to.match(
      /^agent\.stake: 2000 AITBC is below the stake required to be active, 2001000 AITBC/,
    );
    // A stake above the constitution's maxStake for a new agent: refused before it registers.
    expect(await fail({ ...base, stake: 1_000_001n * AITBC })).to.match(
      /^agent\.stake: 1000001 AITBC is above the constitution's maxStake for this agent, 1000000 AITBC/,
    );
    expect(await ctx.publicClient.getTransactionCount({ address: outsider.address }), "nothing sent").to.equal(0);
    expect(await fail({ ...base, stake: 1_500n * AITBC })).to.match(
      /^agent\.stake: 1500 AITBC is below the stake required to be active, 2000 AITBC .*agent\.expectedDailyVolume 10000 AITBC/,
    );
  });
});
