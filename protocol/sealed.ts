/**
 * Confidential payloads: the one construction every party uses to seal a JSON value to its recipient and open it,
 * HPKE (RFC 9180) from @hpke/core, base mode, suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM (KEM 0x0020,
 * KDF 0x0001, AEAD 0x0001; WebCrypto underneath). No hand-made crypto: a sealed value is HPKE's single-shot
 * `seal` of the value's JSON text, `{ enc, ct }` (the encapsulated key, 32 bytes hex, and the ciphertext, base64).
 *
 * Who seals what to whom (README "Confidential payloads"):
 *   purpose "inputs"       client -> keeper     subject the inputsHash       POST /v1/inputs `sealed`
 *   purpose "step-input"   keeper -> provider   subject "<executionId>/<step>"  the StepRequest's `sealedInput`
 *   purpose "step-output"  provider -> keeper   subject "<executionId>/<step>"  the StepResponse's `sealedOutput`
 *   purpose "result"       keeper -> reader     subject "<executionId>/<reader address>"  GET /v1/executions
 *   purpose "keeper-store" keeper -> itself     subject the row ("step/<id>/<n>", "report/<id>/<n>")  its database
 *
 * The context is HPKE's `info` (`sealInfo`): "AITBC sealed v1", the chain id, the deployment's Workflows address,
 * the purpose and the subject. It enters the key schedule, so a ciphertext opens only in the context it was sealed
 * for: one replayed into another execution, step, direction, reader or chain fails to open (OpenError). The
 * recipient's public key is bound by the KEM itself.
 *
 * Keys: an X25519 key pair is derived (HPKE DeriveKeyPair) from a secret seed of at least 32 bytes. Agents (keeper,
 * provider) keep a random seed in a key file (keepers/common/encryption.ts) and publish the public key on chain
 * (AgentRegistry.setEncryptionKey); a client derives its seed from its wallet's signature of CLIENT_KEY_MESSAGE
 * (deterministic, RFC 6979), so it needs no key file and names its public key in its signed requests.
 */
import type { webcrypto } from "node:crypto";

import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { bytesToHex, hexToBytes, type Hex, type TypedDataDomain } from "viem";
import { z } from "zod";

type CryptoKey = webcrypto.CryptoKey;

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

/** What a client signs (EIP-191 personal message) to derive its encryption key: the same wallet, the same key. */
export const CLIENT_KEY_MESSAGE =
  "AITBC encryption key v1\n\nSigning this derives your X25519 key for reading sealed AITBC results. " +
  "Sign it only for an AITBC client.";

const hex32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex string")
  .transform((s) => s.toLowerCase() as Hex);

/** An X25519 public key as published (AgentRegistry.encryptionKeyOf) and named in requests. */
export const encryptionKeySchema = hex32.refine((s) => /[1-9a-f]/.test(s.slice(2)), "must not be zero");

/** A sealed value on the wire and at rest. */
export const sealedSchema = z.strictObject({
  enc: hex32,
  ct: z
    .string()
    .min(24, "must hold at least the 16-byte tag")
    .max(12_000_000)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64"),
});
export type Sealed = z.output<typeof sealedSchema>;

export type SealPurpose = "inputs" | "step-input" | "step-output" | "result" | "keeper-store";

/** Where a sealed value belongs: a ciphertext opens only under the context it was sealed with. */
export interface SealContext {
  chainId: number | bigint;
  /** The deployment's Workflows contract (its EIP-712 verifyingContract). */
  workflows: Hex;
  purpose: SealPurpose;
  /** What the value is about, by purpose (see the file header). */
  subject: string;
}

/** HPKE's `info` for `context` (see the file header). */
export function sealInfo(context: SealContext): Uint8Array {
  const { chainId, workflows, purpose, subject } = context;
  return new TextEncoder().encode(
    `AITBC sealed v1\n${chainId.toString()}\n${workflows.toLowerCase()}\n${purpose}\n${subject}`,
  );
}

/** The context `purpose` / `subject` on the deployment of the Workflows EIP-712 `domain` (chain id and address). */
export function sealContext(domain: TypedDataDomain, purpose: SealPurpose, subject: string): SealContext {
  if (domain.chainId === undefined || domain.verifyingContract === undefined)
    throw new Error("domain: the Workflows domain needs its chainId and verifyingContract");
  return { chainId: domain.chainId, workflows: domain.verifyingContract, purpose, subject };
}

/** The subject of a step's input and output: "<executionId>/<step>". */
export function stepSubject(executionId: bigint | string, step: number): string {
  return `${executionId.toString()}/${step}`;
}

/** The subject of results sealed to a reader: "<executionId>/<reader address, lower case>". */
export function resultSubject(executionId: bigint | string, reader: Hex): string {
  return `${executionId.toString()}/${reader.toLowerCase()}`;
}

/** A key pair: the public key as hex (what is published), the private key as an opaque WebCrypto key. */
export interface EncryptionKeys {
  publicKey: Hex;
  privateKey: CryptoKey;
}

/** The key pair derived from `seed` (HPKE DeriveKeyPair; at least 32 bytes of secret). */
export async function encryptionKeysFrom(seed: Hex | Uint8Array): Promise<EncryptionKeys> {
  const ikm = typeof seed === "string" ? hexToBytes(seed) : seed;
  if (ikm.length < 32) throw new Error(`encryption seed: ${ikm.length} bytes, at least 32 needed`);
  // Typed here: the DOM's CryptoKeyPair is not in this project's libs.
  const pair = (await suite.kem.deriveKeyPair(ikm)) as unknown as { publicKey: CryptoKey; privateKey: CryptoKey };
  const publicKey = bytesToHex(new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)));
  return { publicKey, privateKey: pair.privateKey };
}

/** A fresh random seed for a key file. */
export function newEncryptionSeed(): Hex {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

const publicKeys = new Map<string, Promise<CryptoKey>>();

function publicKeyOf(key: Hex): Promise<CryptoKey> {
  const hex = encryptionKeySchema.parse(key);
  let imported = publicKeys.get(hex);
  if (imported === undefined) {
    imported = suite.kem.deserializePublicKey(hexToBytes(hex));
    if (publicKeys.size >= 1024) publicKeys.clear();
    publicKeys.set(hex, imported);
  }
  return imported;
}

/** Seals `value` (any JSON value, the whole of it) to `recipient`'s public key, for `context`. */
export async function seal(recipient: Hex, value: unknown, context: SealContext): Promise<Sealed> {
  const text = JSON.stringify(value) as string | undefined; // undefined for undefined, a function, a symbol
  if (text === undefined) throw new Error("seal: the value is not JSON");
  const { ct, enc } = await suite.seal(
    { recipientPublicKey: await publicKeyOf(recipient), info: sealInfo(context) },
    new TextEncoder().encode(text),
  );
  return { enc: bytesToHex(new Uint8Array(enc)), ct: Buffer.from(ct).toString("base64") };
}

/** Why a sealed value did not open: another recipient's, another context's, or altered. */
export class SealedOpenError extends Error {
  override name = "SealedOpenError";
}

/**
 * Why a request's sealed payload cannot be used once received: `field` names the request field at fault (the sealed
 * field when it does not open or does not hold what it must, a field inside it, such as `blind`, when that is bad).
 * The message starts with the field.
 */
export class PayloadError extends Error {
  override name = "PayloadError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * Opens `sealed` with `keys` under `context` and parses its JSON. Throws SealedOpenError when it was sealed to
 * another key, for another context, or altered.
 */
export async function open(keys: EncryptionKeys, sealed: Sealed, context: SealContext): Promise<unknown> {
  let plaintext: ArrayBuffer;
  try {
    plaintext = await suite.open(
      { recipientKey: keys.privateKey, enc: hexToBytes(sealed.enc), info: sealInfo(context) },
      Buffer.from(sealed.ct, "base64"),
    );
  } catch (error) {
    throw new SealedOpenError(
      `does not open with key ${keys.publicKey} for ${context.purpose} ${context.subject} on chain ${context.chainId} ` +
        `(sealed to another key, for another context, or altered: ${(error as Error).name})`,
    );
  }
  return JSON.parse(new TextDecoder().decode(plaintext)) as unknown;
}
