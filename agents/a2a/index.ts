/**
 * The agent's communication and identity, wired: the A2A endpoint and agent card (service.ts) answering signed
 * quote requests from its offers on chain (quotes.ts), the client side for asking other agents (client.ts), both
 * checking every message against the AgentRegistry (verifier.ts, nonces in the agent's store), and the ERC-8004
 * registration file (registration-file.ts). agents/agent.ts mounts `routes` on the agent's HTTP API.
 */
import type { Chain, Hex, LocalAccount, PublicClient, Transport } from "viem";

import type { Handler } from "../../keepers/common/http.js";
import { sendJson } from "../../keepers/common/http.js";
import type { Logger } from "../../keepers/common/log.js";
import { registryAbi } from "../../protocol/abi.js";
import { A2APeers } from "./client.js";
import { a2aDomain, type MessageSigner } from "./envelope.js";
import { answerQuote, parseBody, QUOTE, QUOTE_REQUEST, quoteRequestSchema, type OfferReader } from "./quotes.js";
import { REGISTRATION_PATH, registrationFile } from "./registration-file.js";
import { A2AService } from "./service.js";
import { MessageVerifier, ReplayGuard } from "./verifier.js";

export interface AgentComms {
  service: A2AService;
  peers: A2APeers;
  verifier: MessageVerifier;
  signer: MessageSigner;
  routes: Record<string, Handler>;
  close(): void;
}

export function createComms(options: {
  client: PublicClient<Transport, Chain>;
  addresses: { registry: Hex; identity: Hex };
  account: LocalAccount;
  agentId: () => bigint;
  /** The agent's SQLite store: the replay table lives there. */
  storePath: string;
  url: () => string;
  name: string;
  description: string;
  image?: string;
  version: string;
  offers: OfferReader;
  now: () => Promise<bigint>;
  maxBodyBytes: number;
  logger: Logger;
  /** How long a quote stands (s). */
  quoteValiditySeconds?: number;
}): AgentComms {
  const chainId = options.client.chain.id;
  const signer: MessageSigner = {
    account: options.account,
    agentId: options.agentId,
    domain: a2aDomain(chainId, options.addresses.registry),
  };
  const replay = new ReplayGuard(options.storePath);
  const verifier = new MessageVerifier({
    client: options.client,
    registry: options.addresses.registry,
    domain: signer.domain,
    self: options.agentId,
    replay,
    now: options.now,
  });
  const service = new A2AService({
    name: options.name,
    description: options.description,
    version: options.version,
    url: options.url,
    signer,
    verifier,
    now: options.now,
    maxBodyBytes: options.maxBodyBytes,
    logger: options.logger,
  }).handle(
    QUOTE_REQUEST,
    {
      name: "Quote",
      description:
        'A signed price for units of a service: send {"service": <offer name>, "units": n} as a signed ' +
        '"quote-request"; the answer is a signed "quote" (pricePerUnit, total, validUntil) from the offer on chain.',
      tags: ["aitbc", "quote", "pricing"],
    },
    async (verified) => {
      const request = parseBody(quoteRequestSchema, verified.body);
      const body = await answerQuote(request, {
        requestNonce: verified.envelope.nonce,
        provider: options.agentId(),
        offers: options.offers,
        now: await options.now(),
        validitySeconds: options.quoteValiditySeconds ?? 600,
      });
      return { kind: QUOTE, body };
    },
  );
  const peers = new A2APeers({ signer, verifier, now: options.now });
  const routes: Record<string, Handler> = {
    ...service.routes(),
    [`GET ${REGISTRATION_PATH}`]: async (_req, res) => {
      const agentId = options.agentId();
      const active = await options.client.readContract({
        address: options.addresses.registry,
        abi: registryAbi,
        functionName: "isActive",
        args: [agentId],
      });
      sendJson(
        res,
        200,
        registrationFile({
          name: options.name,
          description: options.description,
          image: options.image ?? "",
          url: options.url(),
          version: options.version,
          chainId,
          identity: options.addresses.identity,
          agentId,
          agentKey: options.account.address,
          active,
        }),
      );
    },
  };
  return {
    service,
    peers,
    verifier,
    signer,
    routes,
    close: () => {
      replay.close();
    },
  };
}
