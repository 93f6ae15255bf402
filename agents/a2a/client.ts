/**
 * The calling side of A2A: the official SDK's client (ClientFactory: it fetches the agent card at
 * `/.well-known/agent-card.json` and picks the JSON-RPC interface) sending a signed message (envelope.ts) and
 * taking only a signed answer from the agent it asked, checked like any message this agent receives
 * (verifier.ts: the answer's signer is the registered key of that agent, addressed here, fresh, never replayed).
 */
import { type AgentCard, type Message, Role } from "@a2a-js/sdk";
import { type Client, ClientFactory } from "@a2a-js/sdk/client";
import type { Hex } from "viem";

import type { Json } from "../../protocol/values.js";
import { A2ARefusal, ENVELOPE_KEY, signedMessage, type MessageSigner } from "./envelope.js";
import { parseBody, QUOTE, QUOTE_REQUEST, quoteSchema, type Quote } from "./quotes.js";
import type { MessageVerifier, Verified } from "./verifier.js";

export class A2APeers {
  readonly #clients = new Map<string, Client>();
  readonly #factory = new ClientFactory();

  constructor(
    private readonly options: {
      signer: MessageSigner;
      verifier: MessageVerifier;
      now: () => Promise<bigint>;
      ttlSeconds?: number;
    },
  ) {}

  /** The SDK client for the agent at `url` (its card fetched once). */
  async client(url: string): Promise<Client> {
    let client = this.#clients.get(url);
    if (client === undefined) {
      client = await this.#factory.createFromUrl(url);
      this.#clients.set(url, client);
    }
    return client;
  }

  async card(url: string): Promise<AgentCard> {
    return (await this.client(url)).getAgentCard();
  }

  /** Sends a signed `kind` message with `body` to agent `to` at `url`; its verified, signed answer. */
  async send(url: string, to: bigint, kind: string, body: Json): Promise<{ request: Message; answer: Verified }> {
    const request = await signedMessage(this.options.signer, {
      to,
      kind,
      body,
      now: await this.options.now(),
      ttlSeconds: this.options.ttlSeconds ?? 120,
      role: Role.ROLE_USER,
    });
    const result = await (
      await this.client(url)
    ).sendMessage({
      tenant: "",
      message: request,
      configuration: undefined,
      metadata: undefined,
    });
    if (!("parts" in result)) throw new A2ARefusal("answer", "a task, not a signed message");
    const answer = await this.options.verifier.verify(result);
    if (answer.envelope.from !== to)
      throw new A2ARefusal("answer.from", `answered by agent ${answer.envelope.from}, not agent ${to}`);
    return { request, answer };
  }

  /** A signed quote from provider agent `to` at `url` for `units` of its service `service`. */
  async quote(url: string, to: bigint, service: string, units: number): Promise<Quote> {
    const { request, answer } = await this.send(url, to, QUOTE_REQUEST, { service, units });
    if (answer.envelope.kind !== QUOTE) throw new A2ARefusal("answer.kind", `"${answer.envelope.kind}", not a quote`);
    const body = parseBody(quoteSchema, answer.body);
    const nonce = (request.metadata?.[ENVELOPE_KEY] as { nonce: Hex }).nonce;
    if (body.request.toLowerCase() !== nonce.toLowerCase())
      throw new A2ARefusal("answer.body.request", "answers another request");
    if (body.service !== service || body.units !== units || body.provider !== to.toString())
      throw new A2ARefusal("answer.body", "quotes another service, size or provider than asked");
    const pricePerUnit = BigInt(body.pricePerUnit);
    if (BigInt(body.total) !== pricePerUnit * BigInt(units))
      throw new A2ARefusal("answer.body.total", "is not pricePerUnit × units");
    return {
      provider: to,
      providerKey: answer.signer,
      service,
      serviceId: body.serviceId as Hex,
      modelHash: body.modelHash as Hex,
      units: BigInt(units),
      pricePerUnit,
      total: BigInt(body.total),
      validUntil: BigInt(body.validUntil),
      signed: {
        envelope: {
          from: answer.envelope.from.toString(),
          to: answer.envelope.to.toString(),
          kind: answer.envelope.kind,
          nonce: answer.envelope.nonce,
          expiry: answer.envelope.expiry.toString(),
          signature: answer.envelope.signature,
        },
        body: answer.body,
      },
    };
  }
}
