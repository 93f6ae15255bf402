/**
 * The receiver's check of a signed A2A message (envelope.ts), against the chain:
 *
 * 1. shape: an envelope, one data part (else refused: "unsigned");
 * 2. addressed to this agent (`to` is its AgentRegistry id: a message to another agent is not replayed here);
 * 3. fresh: `expiry` after now and at most `maxTtlSeconds` ahead (so the replay table stays bounded);
 * 4. signed: the EIP-712 signer (keepers/common/signatures.ts) is the key the AgentRegistry holds for `from`, and
 *    `from` is Active. Identities are cached for `cacheMs`; a signer that does not match a cached key re-reads the
 *    chain (at most once per `minRefreshMs` per agent), so a rotated key is honoured at once and a revoked one
 *    within `cacheMs`;
 * 5. once: (from, nonce) is recorded in the agent's store until its expiry; a second use is refused, also after a
 *    restart.
 */
import { DatabaseSync } from "node:sqlite";

import {
  BaseError,
  ContractFunctionRevertedError,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
} from "viem";

import { typedDataSigner } from "../../keepers/common/signatures.js";
import { registryAbi } from "../../protocol/abi.js";
import type { Json } from "../../protocol/values.js";
import { A2ARefusal, bodyHash, envelopeTypedData, openMessage, type Envelope } from "./envelope.js";
import type { Message } from "@a2a-js/sdk";
import type { TypedDataDomain } from "viem";

/** IAgentRegistry.AgentStatus.Active. */
const ACTIVE = 1;
const MAX_CACHED = 10_000;

export interface Verified {
  envelope: Envelope;
  body: Json;
  /** The sender's key (the signer), as the registry holds it. */
  signer: Hex;
}

interface Identity {
  key: Hex | undefined;
  active: boolean;
  readAt: number;
}

/** Nonces seen, until their expiry, in the agent's SQLite store. */
export class ReplayGuard {
  readonly #db: DatabaseSync;

  constructor(file: string) {
    this.#db = new DatabaseSync(file);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS a2a_nonces (
         sender TEXT NOT NULL, nonce TEXT NOT NULL, expiry INTEGER NOT NULL, PRIMARY KEY (sender, nonce)
       )`,
    );
  }

  /** Records (sender, nonce) and answers true, or false when it was used before. Drops expired entries. */
  use(sender: bigint, nonce: Hex, expiry: bigint, now: bigint): boolean {
    this.#db.prepare("DELETE FROM a2a_nonces WHERE expiry < ?").run(Number(now));
    const result = this.#db
      .prepare("INSERT OR IGNORE INTO a2a_nonces (sender, nonce, expiry) VALUES (?, ?, ?)")
      .run(sender.toString(), nonce.toLowerCase(), Number(expiry));
    return result.changes === 1;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

export class MessageVerifier {
  readonly #identities = new Map<bigint, Identity>();
  readonly #cacheMs: number;
  readonly #minRefreshMs: number;
  readonly #maxTtl: bigint;
  /** Chain reads made (for tests and figures). */
  reads = 0;

  constructor(
    private readonly options: {
      client: PublicClient<Transport, Chain>;
      registry: Hex;
      domain: TypedDataDomain;
      /** This agent's AgentRegistry id: messages must be addressed to it. */
      self: () => bigint;
      replay: ReplayGuard;
      /** The chain's time, unix s. */
      now: () => Promise<bigint>;
      maxTtlSeconds?: number;
      cacheMs?: number;
      minRefreshMs?: number;
    },
  ) {
    this.#cacheMs = options.cacheMs ?? 60_000;
    this.#minRefreshMs = options.minRefreshMs ?? 5_000;
    this.#maxTtl = BigInt(options.maxTtlSeconds ?? 600);
  }

  /** The verified envelope and body of `message`, or an A2ARefusal naming what is wrong. */
  async verify(message: Message | undefined): Promise<Verified> {
    const { envelope, body } = openMessage(message);
    const self = this.options.self();
    if (self === 0n) throw new A2ARefusal("to", "this agent is not registered yet");
    if (envelope.to !== self) throw new A2ARefusal("to", `addressed to agent ${envelope.to}, this is agent ${self}`);
    const now = await this.options.now();
    if (envelope.expiry <= now) throw new A2ARefusal("expiry", `expired at ${envelope.expiry} (now ${now})`);
    if (envelope.expiry > now + this.#maxTtl)
      throw new A2ARefusal("expiry", `more than ${this.#maxTtl} s ahead (now ${now})`);
    let hash: Hex;
    try {
      hash = bodyHash(body);
    } catch (error) {
      throw new A2ARefusal("body", (error as Error).message);
    }
    const signer = typedDataSigner(envelopeTypedData(this.options.domain, envelope, hash), envelope.signature);
    if (signer === undefined) throw new A2ARefusal("signature", "malformed");
    let identity = await this.#identity(envelope.from, false);
    // A signer that is not the cached key may be a rotated one: read the chain again (rate-limited per agent).
    if (identity.key?.toLowerCase() !== signer.toLowerCase()) identity = await this.#identity(envelope.from, true);
    if (identity.key === undefined) throw new A2ARefusal("from", `agent ${envelope.from} is not registered`);
    if (identity.key.toLowerCase() !== signer.toLowerCase())
      throw new A2ARefusal("signature", `signed by ${signer}, not agent ${envelope.from}'s key ${identity.key}`);
    if (!identity.active) throw new A2ARefusal("from", `agent ${envelope.from} is not active`);
    if (!this.options.replay.use(envelope.from, envelope.nonce, envelope.expiry, now))
      throw new A2ARefusal("nonce", `replayed: agent ${envelope.from} used nonce ${envelope.nonce} before`);
    return { envelope, body, signer: identity.key };
  }

  async #identity(agentId: bigint, refresh: boolean): Promise<Identity> {
    const cached = this.#identities.get(agentId);
    const age = cached === undefined ? Infinity : Date.now() - cached.readAt;
    if (cached !== undefined && age < (refresh ? this.#minRefreshMs : this.#cacheMs)) return cached;
    this.reads += 1;
    let identity: Identity;
    try {
      const summary = await this.options.client.readContract({
        address: this.options.registry,
        abi: registryAbi,
        functionName: "summaryOf",
        args: [agentId],
      });
      identity = { key: summary.agent, active: summary.status === ACTIVE && summary.active, readAt: Date.now() };
    } catch (error) {
      const reverted =
        error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionRevertedError) !== null;
      if (!reverted) throw error; // the chain is unreachable: not the sender's fault, not cached
      identity = { key: undefined, active: false, readAt: Date.now() };
    }
    if (this.#identities.size >= MAX_CACHED) this.#identities.clear(); // bounded: ids are the sender's choice
    this.#identities.set(agentId, identity);
    return identity;
  }
}
