/**
 * Confidential payloads: the one construction every party uses to seal a JSON value to its recipient and open it,
 * HPKE (RFC 9180) from @hpke/core, base mode, suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM (KEM 0x0020,
 * KDF 0x0001, AEAD 0x0001; OpenSSL primitives underneath, see below). No hand-made crypto: a sealed value is HPKE's single-shot
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
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  type webcrypto,
} from "node:crypto";

import { CipherSuite } from "@hpke/core";
import {
  AeadId,
  Dhkem,
  HkdfSha256Native,
  KemId,
  LABEL_DKP_PRK,
  LABEL_SK,
  type AeadEncryptionContext,
  type AeadInterface,
  type DhkemPrimitives,
} from "@hpke/common";
import { bytesToHex, hexToBytes, type Hex, type TypedDataDomain } from "viem";
import { z } from "zod";

// ---------------------------------------------------------------- the suite: @hpke/core over node:crypto
// @hpke/core's own X25519, HKDF and AES-GCM classes call WebCrypto: about twenty asynchronous calls per seal or open
// (each a thread-pool round trip), which made a step's four seals and opens cost 3 to 4 ms of CPU. Below, the same
// primitives from node:crypto (OpenSSL), called synchronously, are plugged into @hpke/core's extension points
// (DhkemPrimitives, KdfInterface, AeadInterface): the HPKE construction itself (DHKEM encap/decap, the labeled key
// schedule, nonces, the single-shot API) stays the library's. Each adapter is one OpenSSL call:
//  - X25519: generateKeyPairSync, diffieHellman (OpenSSL refuses an all-zero shared secret, the low-order check RFC
//    9180 7.1.4 asks for), key import and export by JWK;
//  - HKDF-SHA256: HMAC-SHA256 (createHmac) for Extract and Expand as RFC 5869 defines them, the key schedule's PRK
//    taken once for its three secrets (see NodeHkdfSha256);
//  - AES-128-GCM: createCipheriv / createDecipheriv, the tag appended (the WebCrypto layout).
// The ciphertexts are byte for byte those of @hpke/core's WebCrypto classes (test/protocol/sealed.test.ts seals with
// one and opens with the other, and checks RFC 9180's test vector).

/**
 * An X25519 key as @hpke/core passes it around: here an OpenSSL key object (@hpke/core's CryptoKey type is only a
 * name to it; the DOM's CryptoKey and CryptoKeyPair are not in this project's libs, hence node's types).
 */
type Key = webcrypto.CryptoKey;
interface KeyPair {
  publicKey: Key;
  privateKey: Key;
}
const keyObject = (key: Key): KeyObject => key as unknown as KeyObject;
const asKey = (key: KeyObject): Key => key as unknown as Key;

const toBytes = (data: ArrayBufferLike | ArrayBufferView): Uint8Array =>
  ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
const toBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/**
 * HKDF-SHA256 (KdfId 0x0001) on OpenSSL's HMAC-SHA256: Extract is HMAC(salt, IKM) (RFC 5869 2.2; an empty salt is
 * HashLen zero bytes, and HMAC pads its key with zeros, so the two are the same) and Expand's blocks are
 * T(i) = HMAC(PRK, T(i-1) | info | i) (RFC 5869 2.3). @hpke/core's key schedule asks for its three secrets (exporter
 * secret, key, base nonce) with three Extract-and-Expand calls over the same (salt, IKM): the PRK of the last call is
 * kept, so that the key schedule takes one Extract and three Expands (one HMAC each) where three hkdfSync calls took
 * three of each; and base mode's psk_id_hash, the Extract of a constant, is taken once. Expand alone (key derivation
 * from a seed only) stays the library's WebCrypto one.
 */
class NodeHkdfSha256 extends HkdfSha256Native {
  /** The last Extract-and-Expand's salt, IKM and PRK (one entry; each seal or open replaces it). */
  #last: { salt: Buffer; ikm: Buffer; prk: Buffer } | undefined;
  /** The key schedule's psk_id_hash in base mode, LabeledExtract("", "psk_id_hash", ""): the same for every message. */
  #pskIdHash: { ikm: Buffer; prk: Buffer } | undefined;

  override extract(salt: ArrayBufferLike | ArrayBufferView, ikm: ArrayBufferLike | ArrayBufferView) {
    const saltBytes = toBytes(salt);
    const ikmBytes = toBytes(ikm);
    if (saltBytes.byteLength === 0) {
      if (this.#pskIdHash === undefined) {
        const constant = Buffer.from(this.buildLabeledIkm(LABEL_PSK_ID_HASH, new Uint8Array(0)));
        this.#pskIdHash = { ikm: constant, prk: createHmac("sha256", saltBytes).update(constant).digest() };
      }
      if (this.#pskIdHash.ikm.equals(ikmBytes)) return Promise.resolve(toBuffer(this.#pskIdHash.prk));
    }
    return Promise.resolve(toBuffer(createHmac("sha256", saltBytes).update(ikmBytes).digest()));
  }

  override extractAndExpand(
    salt: ArrayBufferLike | ArrayBufferView,
    ikm: ArrayBufferLike | ArrayBufferView,
    info: ArrayBufferLike | ArrayBufferView,
    len: number,
  ) {
    const saltBytes = toBytes(salt);
    const ikmBytes = toBytes(ikm);
    let last = this.#last;
    if (last === undefined || !last.salt.equals(saltBytes) || !last.ikm.equals(ikmBytes)) {
      const prk = createHmac("sha256", saltBytes).update(ikmBytes).digest();
      last = { salt: Buffer.from(saltBytes), ikm: Buffer.from(ikmBytes), prk };
      this.#last = last;
    }
    return Promise.resolve(toBuffer(hkdfExpand(last.prk, toBytes(info), len)));
  }
}

/** "psk_id_hash" (RFC 9180 5.1). */
const LABEL_PSK_ID_HASH = new TextEncoder().encode("psk_id_hash");

/** HKDF-Expand (RFC 5869 2.3) with HMAC-SHA256: `len` bytes (at most 255 blocks of 32). */
function hkdfExpand(prk: Buffer, info: Uint8Array, len: number): Buffer {
  if (len > 255 * 32) throw new Error(`HKDF-Expand: ${len} bytes asked, at most ${255 * 32}`);
  // HPKE asks for 32 bytes at most (a key, a nonce, a secret): one block.
  if (len <= 32) return createHmac("sha256", prk).update(info).update(ONE).digest().subarray(0, len);
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * 32 < len; i++) {
    previous = createHmac("sha256", prk).update(previous).update(info).update(Uint8Array.of(i)).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, len);
}
const ONE = Uint8Array.of(1);

const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

function x25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error(`an X25519 public key is 32 bytes, not ${raw.length}`);
  return createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") },
    format: "jwk",
  });
}

function x25519PrivateKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error(`an X25519 private key is 32 bytes, not ${raw.length}`);
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
}

/** Public keys' 32 bytes by key object: a recipient's key is serialized by every seal to it and open with it. */
const publicKeyBytes = new WeakMap<KeyObject, ArrayBuffer>();

function publicBytes(key: KeyObject): ArrayBuffer {
  let bytes = publicKeyBytes.get(key);
  if (bytes === undefined) {
    bytes = jwkBytes(key, "x");
    publicKeyBytes.set(key, bytes);
  }
  return bytes.slice(0);
}

function jwkBytes(key: KeyObject, part: "x" | "d"): ArrayBuffer {
  const value = key.export({ format: "jwk" })[part];
  if (value === undefined) throw new Error(`not an X25519 ${part === "d" ? "private" : "public"} key`);
  return toBuffer(Buffer.from(value, "base64url"));
}

/** DHKEM(X25519)'s primitives (RFC 9180 7.1) on OpenSSL X25519. */
class NodeX25519 implements DhkemPrimitives {
  constructor(private readonly kdf: HkdfSha256Native) {}

  serializePublicKey(key: Key) {
    return Promise.resolve(publicBytes(keyObject(key)));
  }

  deserializePublicKey(key: ArrayBufferLike | ArrayBufferView) {
    return Promise.resolve(asKey(x25519PublicKey(toBytes(key))));
  }

  serializePrivateKey(key: Key) {
    return Promise.resolve(jwkBytes(keyObject(key), "d"));
  }

  deserializePrivateKey(key: ArrayBufferLike | ArrayBufferView) {
    return Promise.resolve(asKey(x25519PrivateKey(toBytes(key))));
  }

  importKey(format: "raw" | "jwk", key: ArrayBuffer | JsonWebKey, isPublic: boolean) {
    if (format === "raw" && key instanceof ArrayBuffer)
      return Promise.resolve(asKey(isPublic ? x25519PublicKey(toBytes(key)) : x25519PrivateKey(toBytes(key))));
    const jwk = { key: key as JsonWebKey, format: "jwk" as const };
    return Promise.resolve(asKey(isPublic ? createPublicKey(jwk) : createPrivateKey(jwk)));
  }

  generateKeyPair() {
    const { publicKey, privateKey } = generateKeyPairSync("x25519");
    const pair: KeyPair = { publicKey: asKey(publicKey), privateKey: asKey(privateKey) };
    return Promise.resolve(pair);
  }

  /** DeriveKeyPair (RFC 9180 7.1.3): sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk", "", 32). */
  async deriveKeyPair(ikm: ArrayBufferLike | ArrayBufferView) {
    const dkpPrk = await this.kdf.labeledExtract(new Uint8Array(0), LABEL_DKP_PRK, toBytes(ikm));
    const sk = new Uint8Array(await this.kdf.labeledExpand(dkpPrk, LABEL_SK, new Uint8Array(0), 32));
    const privateKey = x25519PrivateKey(sk);
    sk.fill(0);
    const pair: KeyPair = { publicKey: asKey(createPublicKey(privateKey)), privateKey: asKey(privateKey) };
    return pair;
  }

  derivePublicKey(key: Key) {
    return Promise.resolve(asKey(createPublicKey(keyObject(key))));
  }

  dh(sk: Key, pk: Key) {
    return Promise.resolve(toBuffer(diffieHellman({ privateKey: keyObject(sk), publicKey: keyObject(pk) })));
  }
}

/** DHKEM(X25519, HKDF-SHA256), KemId 0x0020, with @hpke/common's Dhkem doing encap and decap. */
class DhkemX25519 extends Dhkem {
  override readonly secretSize = 32;
  override readonly encSize = 32;
  override readonly publicKeySize = 32;
  override readonly privateKeySize = 32;
  constructor() {
    const kdf = new NodeHkdfSha256();
    super(KemId.DhkemX25519HkdfSha256, new NodeX25519(kdf), kdf);
  }
}

/** AES-128-GCM (AeadId 0x0001): ciphertext || 16-byte tag. */
class NodeAes128Gcm implements AeadInterface {
  readonly id = AeadId.Aes128Gcm;
  readonly keySize = 16;
  readonly nonceSize = 12;
  readonly tagSize = 16;

  createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    const k = Buffer.from(toBytes(key));
    return {
      seal(iv, data, aad) {
        const cipher = createCipheriv("aes-128-gcm", k, toBytes(iv)).setAAD(toBytes(aad));
        const ct = Buffer.concat([cipher.update(toBytes(data)), cipher.final(), cipher.getAuthTag()]);
        return Promise.resolve(toBuffer(ct));
      },
      open(iv, data, aad) {
        const bytes = toBytes(data);
        if (bytes.length < 16) return Promise.reject(new Error("ciphertext shorter than its tag"));
        const decipher = createDecipheriv("aes-128-gcm", k, toBytes(iv)).setAAD(toBytes(aad));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        const pt = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
        return Promise.resolve(toBuffer(pt));
      },
    };
  }
}

/** The suite every seal and open uses (exported for the tests against RFC 9180's vectors and @hpke/core's classes). */
export const suite = new CipherSuite({ kem: new DhkemX25519(), kdf: new NodeHkdfSha256(), aead: new NodeAes128Gcm() });

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

/** A key pair: the public key as hex (what is published), the pair as opaque OpenSSL key objects (never logged). */
export interface EncryptionKeys {
  publicKey: Hex;
  keyPair: { publicKey: KeyObject; privateKey: KeyObject };
}

/** The key pair derived from `seed` (HPKE DeriveKeyPair; at least 32 bytes of secret). */
export async function encryptionKeysFrom(seed: Hex | Uint8Array): Promise<EncryptionKeys> {
  const ikm = typeof seed === "string" ? hexToBytes(seed) : seed;
  if (ikm.length < 32) throw new Error(`encryption seed: ${ikm.length} bytes, at least 32 needed`);
  const pair = (await suite.kem.deriveKeyPair(ikm)) as unknown as KeyPair;
  const publicKey = bytesToHex(new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)));
  return { publicKey, keyPair: { publicKey: keyObject(pair.publicKey), privateKey: keyObject(pair.privateKey) } };
}

/** A fresh random seed for a key file. */
export function newEncryptionSeed(): Hex {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** Recipients' public keys as imported, by their hex as given (a keeper seals to a few providers and readers, over and over). */
const publicKeys = new Map<string, Promise<Key>>();

function publicKeyOf(key: Hex): Promise<Key> {
  let imported = publicKeys.get(key);
  if (imported === undefined) {
    imported = suite.kem.deserializePublicKey(hexToBytes(encryptionKeySchema.parse(key))) as Promise<Key>;
    if (publicKeys.size >= 1024) publicKeys.clear();
    publicKeys.set(key, imported);
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
      // The pair, not the private key alone: @hpke/core would derive the public key again on every open.
      { recipientKey: keys.keyPair, enc: hexToBytes(sealed.enc), info: sealInfo(context) },
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
