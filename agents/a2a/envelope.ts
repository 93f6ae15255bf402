/**
 * Signed agent-to-agent messages: what ties an A2A message to its sender's on-chain identity.
 *
 * An A2A `Message` (the @a2a-js/sdk type) from one AITBC agent to another carries one data part, the body (JSON),
 * and in its metadata under `ENVELOPE_KEY` the envelope: sender and recipient agent ids (AgentRegistry), the
 * body's kind, a fresh nonce, an expiry (unix s), and the sender's EIP-712 signature of
 * `A2AMessage(from, to, kind, keccak256(canonicalJson(body)), nonce, expiry)` (protocol/eip712.ts
 * A2A_MESSAGE_TYPES) under the domain "AITBC Agent2Agent" / 1 / chain / AgentRegistry. The receiver checks it with
 * `MessageVerifier` (verifier.ts): the signer must be the key the registry holds for `from`, now.
 */
import { randomBytes, randomUUID } from "node:crypto";

import type { Message, Part } from "@a2a-js/sdk";
import { Role } from "@a2a-js/sdk";
import { bytesToHex, keccak256, stringToBytes, type Hex, type LocalAccount, type TypedDataDomain } from "viem";

import { A2A_MESSAGE_TYPES } from "../../protocol/eip712.js";
import { canonicalJson, type Json } from "../../protocol/values.js";

/** The metadata key of the envelope in an A2A message. */
export const ENVELOPE_KEY = "aitbc.envelope";

export interface Envelope {
  from: bigint;
  to: bigint;
  kind: string;
  nonce: Hex;
  expiry: bigint;
  signature: Hex;
}

/** How an agent signs: its key, its AgentRegistry id, and the A2A domain of its chain. */
export interface MessageSigner {
  account: LocalAccount;
  agentId: () => bigint;
  domain: TypedDataDomain;
}

/** A refused message: `field` names what is wrong (the envelope's field, or `body`). */
export class A2ARefusal extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "A2ARefusal";
  }
}

export function a2aDomain(chainId: number, registry: Hex): TypedDataDomain {
  return { name: "AITBC Agent2Agent", version: "1", chainId, verifyingContract: registry };
}

export function bodyHash(body: Json): Hex {
  return keccak256(stringToBytes(canonicalJson(body)));
}

/** The typed data a signature covers. */
export function envelopeTypedData(domain: TypedDataDomain, e: Omit<Envelope, "signature">, hash: Hex) {
  return {
    domain,
    types: A2A_MESSAGE_TYPES,
    primaryType: "A2AMessage",
    message: { from: e.from, to: e.to, kind: e.kind, bodyHash: hash, nonce: e.nonce, expiry: e.expiry },
  } as const;
}

/** A signed A2A message from `signer` to agent `to`, valid for `ttlSeconds` from `now` (unix s). */
export async function signedMessage(
  signer: MessageSigner,
  options: { to: bigint; kind: string; body: Json; now: bigint; ttlSeconds: number; role: Role; contextId?: string },
): Promise<Message> {
  const unsigned = {
    from: signer.agentId(),
    to: options.to,
    kind: options.kind,
    nonce: bytesToHex(randomBytes(32)),
    expiry: options.now + BigInt(options.ttlSeconds),
  };
  const signature = await signer.account.signTypedData(
    envelopeTypedData(signer.domain, unsigned, bodyHash(options.body)),
  );
  return {
    messageId: randomUUID(),
    contextId: options.contextId ?? "",
    taskId: "",
    role: options.role,
    parts: [dataPart(options.body)],
    metadata: { [ENVELOPE_KEY]: wireEnvelope({ ...unsigned, signature }) },
    extensions: [],
    referenceTaskIds: [],
  };
}

export function dataPart(body: Json): Part {
  return { content: { $case: "data", value: body }, metadata: undefined, filename: "", mediaType: "application/json" };
}

function wireEnvelope(e: Envelope): Record<string, string> {
  return {
    from: e.from.toString(),
    to: e.to.toString(),
    kind: e.kind,
    nonce: e.nonce,
    expiry: e.expiry.toString(),
    signature: e.signature,
  };
}

const UINT = /^\d{1,78}$/;

/** The envelope and body of `message`, checked for shape only (the signature is verifier.ts's). */
export function openMessage(message: Message | undefined): { envelope: Envelope; body: Json } {
  if (message === undefined) throw new A2ARefusal("message", "required");
  const raw: unknown = message.metadata?.[ENVELOPE_KEY];
  if (typeof raw !== "object" || raw === null) throw new A2ARefusal(ENVELOPE_KEY, "unsigned message: no envelope");
  const w = raw as Record<string, unknown>;
  const uint = (field: string): bigint => {
    const v = w[field];
    if (typeof v !== "string" || !UINT.test(v)) throw new A2ARefusal(field, "must be a decimal integer string");
    return BigInt(v);
  };
  const hex = (field: string, bytes: number): Hex => {
    const v = w[field];
    if (typeof v !== "string" || !new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`).test(v))
      throw new A2ARefusal(field, `must be ${bytes} bytes of hex`);
    return v as Hex;
  };
  if (typeof w.kind !== "string" || !/^[a-z][a-z0-9-]{0,63}$/.test(w.kind))
    throw new A2ARefusal("kind", "must be a lower-case name");
  const envelope: Envelope = {
    from: uint("from"),
    to: uint("to"),
    kind: w.kind,
    nonce: hex("nonce", 32),
    expiry: uint("expiry"),
    signature: hex("signature", 65),
  };
  if (envelope.expiry >= 2n ** 64n) throw new A2ARefusal("expiry", "above uint64");
  const data = message.parts.filter((p) => p.content?.$case === "data");
  if (message.parts.length !== 1 || data.length !== 1)
    throw new A2ARefusal("body", "a signed message has exactly one part, a data part");
  const body = data[0]?.content?.value as Json;
  return { envelope, body };
}

/** The roles of the A2A spec, re-exported for the callers of signedMessage. */
export { Role };
