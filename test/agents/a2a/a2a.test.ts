/**
 * Agent-to-agent messages (agents/a2a/) between two real agents (agents/agent.ts runAgent) on an in-process Hardhat
 * network served over JSON-RPC: the official A2A SDK client fetches the provider's agent card and exchanges a
 * signed quote; messages that are unsigned, forged, tampered with, replayed, misaddressed, stale or from no agent
 * are refused; the ERC-8004 registration file is what AgentIdentity.tokenURI points at.
 */
import { type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { ClientFactory, type Client } from "@a2a-js/sdk/client";
import { AGENT_CARD_PATH, Message as MessageCodec, Role, type Message } from "@a2a-js/sdk";
import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, custom, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { runAgent, type RunningAgent } from "../../../agents/agent.js";
import type { AgentComms } from "../../../agents/a2a/index.js";
import { dataPart, ENVELOPE_KEY, signedMessage, type MessageSigner } from "../../../agents/a2a/envelope.js";
import { REGISTRATION_PATH, REGISTRATION_TYPE } from "../../../agents/a2a/registration-file.js";
import { A2A_PATH } from "../../../agents/a2a/service.js";
import { closeServer } from "../../../keepers/common/http.js";
import { addressesJson, FUTURE_IDS, type ContractKey } from "../../../protocol/addresses.js";
import { identityAbi } from "../../../protocol/abi.js";
import { deployProtocol } from "../../../scripts/lib/deploy.js";
import { serveRpc } from "../../../scripts/lib/devnet.js";
import { mintAitbc } from "../../helpers/agents.js";
import { AGENT2_KEY, AGENT_KEY, AITBC, OPERATOR, OUTSIDER_KEY, captureLogger } from "../../helpers/keepers.js";

const send = (client: Client, message: Message) =>
  client.sendMessage({ tenant: "", message, configuration: undefined, metadata: undefined });

describe("A2A: signed agent-to-agent messages (agents/a2a)", function () {
  this.timeout(120_000);
  let rpc: Server;
  let protocol: Awaited<ReturnType<typeof deployProtocol>>;
  let chainClient: ReturnType<typeof createPublicClient>;
  /** Provider-role agents: they serve A2A (`comms`). */
  let provider: RunningAgent & { comms: AgentComms };
  let requester: RunningAgent & { comms: AgentComms };
  /** The official SDK client for the provider, from its card URL. */
  let sdk: Client;
  const dir = mkdtempSync(path.join(tmpdir(), "aitbc-a2a-"));

  const startAgent = async (key: Hex, rpcUrl: string, addressesFile: string, service: string) => {
    const tag = key.slice(2, 8);
    const configFile = path.join(dir, `agent-${tag}.json`);
    writeFileSync(
      configFile,
      JSON.stringify({
        rpc: { urls: [rpcUrl] },
        addressesFile,
        agent: { privateKey: key, operator: OPERATOR, version: "1.0.0" },
        store: { path: path.join(dir, `agent-${tag}.db`) },
        services: [{ name: service, backend: "iris", price: "1", capacity: 4, costPerUnit: "0.2" }],
        strategy: { kind: "fixed-price" },
      }),
    );
    const agent = await runAgent({ configFile, env: {}, logger: captureLogger().logger });
    const { comms } = agent;
    if (comms === undefined) throw new Error(`the ${agent.role} agent serves no A2A`);
    return { ...agent, comms };
  };

  before(async function () {
    const connection = await network.create();
    protocol = await deployProtocol(connection);
    const addresses = {} as Record<ContractKey, string>;
    for (const key of Object.keys(FUTURE_IDS) as ContractKey[]) addresses[key] = await protocol[key].getAddress();
    const addressesFile = path.join(dir, "addresses.json");
    writeFileSync(addressesFile, addressesJson(addresses));
    for (const key of [AGENT_KEY, AGENT2_KEY])
      await mintAitbc(protocol, privateKeyToAccount(key as Hex).address, 3_000n);
    chainClient = createPublicClient({ transport: custom(connection.provider) });
    let rpcUrl: string;
    ({ url: rpcUrl, server: rpc } = await serveRpc(connection));
    provider = await startAgent(AGENT_KEY, rpcUrl, addressesFile, "iris-inference");
    requester = await startAgent(AGENT2_KEY, rpcUrl, addressesFile, "iris-resale");
    sdk = await new ClientFactory().createFromUrl(provider.url);
  });

  after(async function () {
    await requester.close();
    await provider.close();
    rpc.closeAllConnections();
    await closeServer(rpc);
  });

  /** A signed quote request from the requester (or `signer`) to the provider, with `overrides`. */
  const quoteRequest = async (
    options: { signer?: MessageSigner; to?: bigint; now?: bigint; ttl?: number; units?: number } = {},
  ) =>
    signedMessage(options.signer ?? requester.comms.signer, {
      to: options.to ?? provider.agentId,
      kind: "quote-request",
      body: { service: "iris-inference", units: options.units ?? 2 },
      now: options.now ?? (await chainNow()),
      ttlSeconds: options.ttl ?? 60,
      role: Role.ROLE_USER,
    });
  const chainNow = async () => (await chainClient.getBlock()).timestamp;

  it("serves its agent card: the SDK client finds the JSON-RPC interface and the quote skill", async function () {
    const card = await sdk.getAgentCard();
    expect(card.supportedInterfaces.map((i) => [i.url, i.protocolBinding, i.protocolVersion])).to.deep.equal([
      [`${provider.url}${A2A_PATH}`, "JSONRPC", "1.0"],
    ]);
    expect(card.skills.map((s) => s.id)).to.deep.equal(["quote-request"]);
    expect(card.capabilities?.streaming).to.equal(false);
  });

  it("exchanges a signed quote: priced from the offer on chain, signed by the provider's registered key", async function () {
    const before = await chainNow();
    const quote = await requester.comms.peers.quote(provider.url, provider.agentId, "iris-inference", 3);
    expect(quote.provider).to.equal(provider.agentId);
    expect(quote.providerKey.toLowerCase()).to.equal(provider.address.toLowerCase());
    expect(quote.pricePerUnit).to.equal(1n * AITBC);
    expect(quote.total).to.equal(3n * AITBC);
    expect(quote.units).to.equal(3n);
    expect(quote.validUntil > before).to.equal(true);
    // The provider's identity was read from the chain once for the requester, then cached.
    const reads = provider.comms.verifier.reads;
    await requester.comms.peers.quote(provider.url, provider.agentId, "iris-inference", 1);
    expect(provider.comms.verifier.reads).to.equal(reads);
  });

  it("refuses what it cannot quote, naming the field", async function () {
    await expect(requester.comms.peers.quote(provider.url, provider.agentId, "no-such-service", 1)).to.be.rejectedWith(
      /body\.service: no offer "no-such-service"/,
    );
    await expect(requester.comms.peers.quote(provider.url, provider.agentId, "iris-inference", 5)).to.be.rejectedWith(
      /body\.units: 5 units asked, 4 free/,
    );
  });

  describe("attacks: refused before anything runs", function () {
    it("an unsigned message", async function () {
      const message: Message = {
        messageId: "m-unsigned",
        contextId: "",
        taskId: "",
        role: Role.ROLE_USER,
        parts: [dataPart({ service: "iris-inference", units: 1 })],
        metadata: undefined,
        extensions: [],
        referenceTaskIds: [],
      };
      await expect(send(sdk, message)).to.be.rejectedWith(/unsigned message: no envelope/);
    });

    it("a message signed by another key than the sender's registered one (forged)", async function () {
      const outsider = privateKeyToAccount(OUTSIDER_KEY);
      const forger: MessageSigner = { ...requester.comms.signer, account: outsider };
      await expect(send(sdk, await quoteRequest({ signer: forger }))).to.be.rejectedWith(
        new RegExp(`signature: signed by ${outsider.address}, not agent ${requester.agentId}'s key`),
      );
    });

    it("a signed message whose body was changed after signing", async function () {
      const message = await quoteRequest({ units: 1 });
      message.parts = [dataPart({ service: "iris-inference", units: 4 })];
      await expect(send(sdk, message)).to.be.rejectedWith(/signature: signed by 0x[0-9a-fA-F]{40}, not agent/);
    });

    it("a replayed message", async function () {
      const message = await quoteRequest();
      const answer = await send(sdk, message);
      expect("parts" in answer).to.equal(true);
      await expect(send(sdk, message)).to.be.rejectedWith(/nonce: replayed/);
    });

    it("a message addressed to another agent", async function () {
      await expect(send(sdk, await quoteRequest({ to: requester.agentId }))).to.be.rejectedWith(
        new RegExp(`to: addressed to agent ${requester.agentId}, this is agent ${provider.agentId}`),
      );
    });

    it("an expired message, and one valid too far ahead", async function () {
      const now = await chainNow();
      await expect(send(sdk, await quoteRequest({ now: now - 120n, ttl: 60 }))).to.be.rejectedWith(/expiry: expired/);
      await expect(send(sdk, await quoteRequest({ ttl: 3_600 }))).to.be.rejectedWith(/expiry: more than 600 s ahead/);
    });

    it("a message from an agent id that is not registered", async function () {
      const nobody: MessageSigner = {
        ...requester.comms.signer,
        account: privateKeyToAccount(OUTSIDER_KEY),
        agentId: () => 999n,
      };
      await expect(send(sdk, await quoteRequest({ signer: nobody }))).to.be.rejectedWith(
        /from: agent 999 is not registered/,
      );
    });

    it("a malformed envelope, naming the field", async function () {
      const message = await quoteRequest();
      (message.metadata?.[ENVELOPE_KEY] as Record<string, string>).expiry = "soon";
      await expect(send(sdk, message)).to.be.rejectedWith(/expiry: must be a decimal integer string/);
    });

    it("streaming, even signed (it would bypass the check)", async function () {
      const response = await fetch(`${provider.url}${A2A_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", "A2A-Version": "1.0" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 7,
          method: "SendStreamingMessage",
          params: { message: MessageCodec.toJSON(await quoteRequest()) },
        }),
      });
      const answer = (await response.json()) as { id: number; error?: { code: number; message: string } };
      expect(answer.id).to.equal(7);
      expect(answer.error?.code).to.equal(-32004);
      expect(answer.error?.message).to.match(/streaming: not offered/);
    });
  });

  it("serves its ERC-8004 registration file at the agentURI that AgentIdentity.tokenURI gives", async function () {
    const identity = (await protocol.identity.getAddress()) as Hex;
    const uri = await chainClient.readContract({
      address: identity,
      abi: identityAbi,
      functionName: "tokenURI",
      args: [provider.agentId],
    });
    expect(uri).to.equal(`${provider.url}${REGISTRATION_PATH}`);
    const file = (await (await fetch(uri)).json()) as Record<string, unknown>;
    const chainId = await chainClient.getChainId();
    expect(file).to.deep.include({
      type: REGISTRATION_TYPE,
      active: true,
      x402Support: false,
      registrations: [{ agentId: Number(provider.agentId), agentRegistry: `eip155:${chainId}:${identity}` }],
    });
    expect(file.services).to.deep.include({
      name: "A2A",
      endpoint: `${provider.url}/${AGENT_CARD_PATH}`,
      version: "1.0",
    });
    expect(file.services).to.deep.include({ name: "agentWallet", endpoint: `eip155:${chainId}:${provider.address}` });
    // The A2A endpoint it lists is the one the SDK client reads.
    const card = await new ClientFactory().createFromUrl(
      (file.services as { name: string; endpoint: string }[]).find((s) => s.name === "A2A")?.endpoint ?? "",
      "",
    );
    expect((await card.getAgentCard()).skills.map((s) => s.id)).to.include("quote-request");
  });
});
