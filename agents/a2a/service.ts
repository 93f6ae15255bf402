/**
 * The agent's A2A endpoint, on its HTTP API (server.ts), with the official SDK's server parts (@a2a-js/sdk/server:
 * DefaultRequestHandler, JsonRpcTransportHandler; no Express):
 *
 * | Route                               | What                                                                   |
 * | ----------------------------------- | ---------------------------------------------------------------------- |
 * | `GET /.well-known/agent-card.json`  | the A2A agent card: name, skills (one per message kind it answers),    |
 * |                                     | the JSON-RPC interface (A2A 1.0) at `/a2a`                             |
 * | `POST /a2a`                         | A2A JSON-RPC; `SendMessage` only with a signed message (envelope.ts)   |
 *
 * Every message is checked by the MessageVerifier (signature by the sender's registered key, addressed here,
 * fresh, never replayed) before anything else runs; a refusal is a JSON-RPC error (-32602) naming the field. The
 * answer is a signed message from this agent to the sender. Streaming is refused (it would skip the check).
 * Handlers by message kind are registered with `handle(kind, ...)`: quotes (quotes.ts) here, subcontracting by
 * the roles that offer it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

import { A2A_PROTOCOL_VERSION, A2A_VERSION_HEADER, AGENT_CARD_PATH, AgentCard, Role } from "@a2a-js/sdk";
import { RequestMalformedError, UnsupportedOperationError } from "@a2a-js/sdk/errors";
import {
  AgentEvent,
  DefaultRequestHandler,
  defaultServerCallContextBuilder,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  UnauthenticatedUser,
  validateVersion,
  type AgentExecutor,
  type ServerCallContext,
} from "@a2a-js/sdk/server";
import { readJsonBody, sendJson, type Handler } from "../../keepers/common/http.js";
import type { Logger } from "../../keepers/common/log.js";
import type { Json } from "../../protocol/values.js";
import { A2ARefusal, signedMessage, type MessageSigner } from "./envelope.js";
import type { MessageVerifier, Verified } from "./verifier.js";

export const A2A_PATH = "/a2a";
const REPLY = "aitbc.reply";

export interface SkillInfo {
  name: string;
  description: string;
  tags: string[];
}

/** Answers one verified message kind with a reply kind and body (or throws an A2ARefusal). */
export type KindHandler = (verified: Verified) => Promise<{ kind: string; body: Json }>;

/** DefaultRequestHandler with the signature check in front of SendMessage, and no streaming. */
class SignedRequestHandler extends DefaultRequestHandler {
  constructor(
    card: AgentCard,
    executor: AgentExecutor,
    private readonly prepare: (params: Parameters<DefaultRequestHandler["sendMessage"]>[0]) => Promise<unknown>,
  ) {
    super(card, new InMemoryTaskStore(), executor);
  }

  override async sendMessage(
    params: Parameters<DefaultRequestHandler["sendMessage"]>[0],
    context: ServerCallContext,
  ): ReturnType<DefaultRequestHandler["sendMessage"]> {
    let reply: unknown;
    try {
      reply = await this.prepare(params);
    } catch (error) {
      if (error instanceof A2ARefusal) throw new RequestMalformedError(error.message);
      throw error;
    }
    context.state.set(REPLY, reply);
    return super.sendMessage(params, context);
  }

  /** Refused before the first event (throws when called). */
  override sendMessageStream(): ReturnType<DefaultRequestHandler["sendMessageStream"]> {
    throw new UnsupportedOperationError("streaming: not offered; use SendMessage with a signed message");
  }
}

export class A2AService {
  readonly #handlers = new Map<string, { skill: SkillInfo; handler: KindHandler }>();
  readonly #logger: Logger;
  #transport: JsonRpcTransportHandler | undefined;
  #card: AgentCard | undefined;

  constructor(
    private readonly options: {
      name: string;
      description: string;
      version: string;
      /** The agent's base URL (known once the server listens). */
      url: () => string;
      signer: MessageSigner;
      verifier: MessageVerifier;
      now: () => Promise<bigint>;
      replyTtlSeconds?: number;
      maxBodyBytes: number;
      logger: Logger;
    },
  ) {
    this.#logger = options.logger.child({ module: "a2a" });
  }

  /** Answers messages of `kind` (before the server starts). */
  handle(kind: string, skill: SkillInfo, handler: KindHandler): this {
    if (this.#transport !== undefined) throw new Error("a2a: handlers are registered before the first request");
    this.#handlers.set(kind, { skill, handler });
    return this;
  }

  card(): AgentCard {
    this.#card ??= {
      name: this.options.name,
      description: this.options.description,
      version: this.options.version,
      supportedInterfaces: [
        {
          url: `${this.options.url()}${A2A_PATH}`,
          protocolBinding: "JSONRPC",
          tenant: "",
          protocolVersion: A2A_PROTOCOL_VERSION,
        },
      ],
      provider: undefined,
      capabilities: { streaming: false, pushNotifications: false, extensions: [], extendedAgentCard: false },
      securitySchemes: {},
      securityRequirements: [],
      defaultInputModes: ["application/json"],
      defaultOutputModes: ["application/json"],
      skills: [...this.#handlers].map(([kind, { skill }]) => ({
        id: kind,
        name: skill.name,
        description: skill.description,
        tags: skill.tags,
        examples: [],
        inputModes: ["application/json"],
        outputModes: ["application/json"],
        securityRequirements: [],
      })),
      signatures: [],
    };
    return this.#card;
  }

  /** The routes to mount on the agent's HTTP API. */
  routes(): Record<string, Handler> {
    return {
      [`GET /${AGENT_CARD_PATH}`]: (_req, res) => {
        sendJson(res, 200, cardJson(this.card()));
      },
      [`POST ${A2A_PATH}`]: (req, res) => this.#rpc(req, res),
    };
  }

  #transportHandler(): JsonRpcTransportHandler {
    if (this.#transport !== undefined) return this.#transport;
    const executor: AgentExecutor = {
      execute: async (context, bus) => {
        const reply = context.context.state.get(REPLY) as { to: bigint; kind: string; body: Json };
        const message = await signedMessage(this.options.signer, {
          to: reply.to,
          kind: reply.kind,
          body: reply.body,
          now: await this.options.now(),
          ttlSeconds: this.options.replyTtlSeconds ?? 300,
          role: Role.ROLE_AGENT,
          contextId: context.contextId,
        });
        bus.publish(AgentEvent.message(message));
        bus.finished();
      },
      cancelTask: () => Promise.resolve(),
    };
    const handler = new SignedRequestHandler(this.card(), executor, async (params) => {
      const verified = await this.options.verifier.verify(params.message);
      const entry = this.#handlers.get(verified.envelope.kind);
      if (entry === undefined)
        throw new A2ARefusal(
          "kind",
          `"${verified.envelope.kind}" is not answered here (skills: ${[...this.#handlers.keys()].join(", ")})`,
        );
      const reply = await entry.handler(verified);
      this.#logger.info(
        { event: "a2a-message", from: verified.envelope.from, kind: verified.envelope.kind, reply: reply.kind },
        `A2A ${verified.envelope.kind} from agent ${verified.envelope.from} answered`,
      );
      return { to: verified.envelope.from, ...reply };
    });
    this.#transport = new JsonRpcTransportHandler(handler);
    return this.#transport;
  }

  async #rpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req, this.options.maxBodyBytes);
    const id = typeof body === "object" && body !== null && "id" in body ? body.id : null;
    try {
      const header = req.headers[A2A_VERSION_HEADER.toLowerCase()];
      const context = defaultServerCallContextBuilder({
        extensions: undefined,
        user: new UnauthenticatedUser(),
        headers: req.headers,
        ...(typeof header === "string" ? { requestedVersion: header } : {}),
      });
      validateVersion(context.requestedVersion, this.card(), "JSONRPC");
      if (typeof body !== "object" || body === null || Array.isArray(body))
        throw new RequestMalformedError("body: a JSON-RPC request object");
      const answer = await this.#transportHandler().handle(body as Record<string, unknown>, context);
      if (typeof (answer as AsyncGenerator)[Symbol.asyncIterator] === "function")
        throw new UnsupportedOperationError("streaming: not offered");
      sendJson(res, 200, answer);
    } catch (error) {
      if (!(error instanceof A2ARefusal)) this.#logger.warn({ err: (error as Error).message }, "A2A request failed");
      sendJson(res, 200, { jsonrpc: "2.0", id: id as Json, error: JsonRpcTransportHandler.mapToJSONRPCError(error) });
    }
  }
}

/** The card as JSON (the SDK's AgentCard.toJSON: the wire form of A2A 1.0). */
function cardJson(card: AgentCard): Record<string, unknown> {
  return AgentCard.toJSON(card) as Record<string, unknown>;
}
