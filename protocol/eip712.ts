/**
 * The protocol's EIP-712 typed messages, each defined once, field for field as the contracts hash them:
 * - `ComputeReceipt` (AIToken.mintFromReceipt), signed by an attestor;
 * - `WorkResult` (ServiceMarketplace.submitResult), signed by the assigned provider agent;
 * - `StepResult` (Workflows.recordSteps), signed by the provider agent that ran the step;
 * - `Permit` (EIP-2612, AIToken.permit) and `Delegation` (OpenZeppelin Votes.delegateBySig, AgentVotes);
 * - `StepRequest` (off chain, at the end of this file), signed by the keeper that asks a provider to run a step.
 * Each contract publishes its domain (EIP-5267), so a signature is right on any chain and address. The tables are
 * `as const` for viem; scripts/lib/eip712.ts hands ethers the same tables.
 *
 * Below them, viem helpers for what the daemons sign and check: the StepResult, and the StepRequest.
 */
import {
  bytesToHex,
  domainSeparator,
  hashTypedData,
  hexToBytes,
  isAddress,
  stringToHex,
  type Account,
  type PublicClient,
  type TypedDataDomain,
  type TypedDataParameter,
} from "viem";
import { publicKeyToAddress } from "viem/accounts";

import { workflowsAbi } from "./abi.js";
import { keccak256, secp256k1 } from "./primitives.js";

export const COMPUTE_RECEIPT_TYPES = {
  ComputeReceipt: [
    { name: "receiptId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "client", type: "address" },
    { name: "units", type: "uint256" },
    { name: "workHash", type: "bytes32" },
    { name: "resultHash", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export const WORK_RESULT_TYPES = {
  WorkResult: [
    { name: "workloadId", type: "uint256" },
    { name: "round", type: "uint32" },
    { name: "resultHash", type: "bytes32" },
  ],
} as const;

export const STEP_RESULT_TYPES = {
  StepResult: [
    { name: "executionId", type: "uint256" },
    { name: "step", type: "uint16" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "cost", type: "uint256" },
  ],
} as const;

export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const DELEGATION_TYPES = {
  Delegation: [
    { name: "delegatee", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
} as const;

// ---------------------------------------------------------------- the keeper's client API
// Signed off chain under the Workflows domain (no contract hashes them) and checked by the keeper's API
// (keepers/keeper/auth.ts); the bodies and the header that carry them are in protocol/keeper-api.ts. Expiries are
// unix seconds.

/** A client's inputs, by their value hash: the keeper runs an execution only with inputs its client signed. */
export const EXECUTION_INPUTS_TYPES = {
  ExecutionInputs: [
    { name: "inputsHash", type: "bytes32" },
    { name: "client", type: "address" },
    { name: "expiry", type: "uint64" },
  ],
} as const;

/**
 * An execution's client lets `reader` read the execution's results from the keeper until `expiry`. `issuedAt` (unix
 * milliseconds, the client's clock) orders it against the client's revocations: a ResultsRevoke voids the grants
 * issued at or before its own `issuedAt`, so an old grant posted again after a revocation stays void.
 */
export const RESULTS_GRANT_TYPES = {
  ResultsGrant: [
    { name: "executionId", type: "uint256" },
    { name: "reader", type: "address" },
    { name: "expiry", type: "uint64" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

/**
 * An execution's client revokes `reader`'s grants for the execution issued at or before `issuedAt` (unix
 * milliseconds): the keeper refuses the reader from then on, and keeps the revocation (no expiry: posting it again
 * changes nothing). A grant issued later reads again.
 */
export const RESULTS_REVOKE_TYPES = {
  ResultsRevoke: [
    { name: "executionId", type: "uint256" },
    { name: "reader", type: "address" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

/** One request to the keeper's API (`path` with its query, as sent) by `signer`, valid until a near `expiry`. */
export const KEEPER_REQUEST_TYPES = {
  KeeperRequest: [
    { name: "method", type: "string" },
    { name: "path", type: "string" },
    { name: "signer", type: "address" },
    { name: "expiry", type: "uint64" },
  ],
} as const;

/**
 * One agent-to-agent message (agents/a2a/): agent `from` (an AgentRegistry id, signed by that agent's key) to agent
 * `to`, a body of `kind` whose canonical JSON hashes (keccak256) to `bodyHash`, used once (`nonce`), before `expiry`
 * (unix s). Domain: "AITBC Agent2Agent", version 1, the chain, the AgentRegistry as verifying contract.
 */
export const A2A_MESSAGE_TYPES = {
  A2AMessage: [
    { name: "from", type: "uint256" },
    { name: "to", type: "uint256" },
    { name: "kind", type: "string" },
    { name: "bodyHash", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
    { name: "expiry", type: "uint64" },
  ],
} as const;

export interface StepResultMessage {
  executionId: bigint;
  step: number;
  inputHash: `0x${string}`;
  outputHash: `0x${string}`;
  cost: bigint;
}

export async function workflowsDomain(client: PublicClient, workflows: `0x${string}`): Promise<TypedDataDomain> {
  const [, name, version, chainId, verifyingContract] = await client.readContract({
    address: workflows,
    abi: workflowsAbi,
    functionName: "eip712Domain",
  });
  return { name, version, chainId: Number(chainId), verifyingContract };
}

export async function signStepResult(
  account: Account,
  domain: TypedDataDomain,
  message: StepResultMessage,
): Promise<`0x${string}`> {
  if (!account.signTypedData)
    throw new Error("account: cannot sign typed data (a local private-key account is needed)");
  return account.signTypedData({ domain, types: STEP_RESULT_TYPES, primaryType: "StepResult", message });
}

/**
 * The address that signed `message`, or undefined when the signature is malformed or not canonical (libsecp256k1
 * over typedDataDigest, as for every signature the daemons check: about a seventh of viem's pure-JS recovery).
 */
export function stepResultSigner(
  domain: TypedDataDomain,
  message: StepResultMessage,
  signature: `0x${string}`,
): Promise<`0x${string}` | undefined> {
  try {
    return Promise.resolve(digestSigner(typedDataDigest(domain, STEP_RESULT_TYPES, "StepResult", message), signature));
  } catch {
    return Promise.resolve(undefined); // a message field out of its type's range
  }
}

// ---------------------------------------------------------------- StepRequest: a keeper's signed step request

/**
 * `StepRequest` (off chain only; no contract hashes it): the keeper of a running execution asks a provider node to
 * run one step (`POST /v1/steps`, the credentials of protocol/steps.ts). The domain is the Workflows contract's, as
 * for StepResult, so a signature holds for one chain and one deployment.
 * - `inputHash`: the inputHash the step's record will hold (protocol/steps.ts recordInputHash);
 * - `bodyHash`: keccak256 of the request body's exact bytes, so that no signature serves another body;
 * - `nonce`: 32 random bytes, so that a provider admits each signed request once;
 * - `expiry`: unix seconds, after which the request is refused.
 *
 * Signed and recovered with libsecp256k1 (protocol/primitives.ts: the native binding, else its WebAssembly build)
 * over viem's EIP-712 digest, because every step pays for both: natively about 0.05 ms each to sign and to verify,
 * three to five times less than in WebAssembly and thirty times less than viem's pure-JS curve
 * (`npm run bench:auth` 4b). Both sign by RFC 6979, so the signature is the one viem would make.
 */
export const STEP_REQUEST_TYPES = {
  StepRequest: [
    { name: "executionId", type: "uint256" },
    { name: "step", type: "uint16" },
    { name: "inputHash", type: "bytes32" },
    { name: "bodyHash", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
    { name: "expiry", type: "uint64" },
  ],
} as const;

export interface StepRequestMessage {
  executionId: bigint;
  step: number;
  inputHash: `0x${string}`;
  bodyHash: `0x${string}`;
  nonce: `0x${string}`;
  expiry: bigint;
}

/** The EIP-712 digest of `message` (typedDataDigest). */
export function stepRequestDigest(domain: TypedDataDomain, message: StepRequestMessage): `0x${string}` {
  return typedDataDigest(domain, STEP_REQUEST_TYPES, "StepRequest", message);
}

/** The 65-byte signature (r, s, v = 27 or 28, low s) of `message` by `privateKey`. */
export function signStepRequest(
  privateKey: `0x${string}`,
  domain: TypedDataDomain,
  message: StepRequestMessage,
): `0x${string}` {
  const { signature, recoveryId } = secp256k1.signRecoverable(
    hexToBytes(stepRequestDigest(domain, message)),
    hexToBytes(privateKey),
  );
  // 2 and 3 (r above the group order) have probability ~2^-127 and no Ethereum encoding.
  if (recoveryId > 1) throw new Error("signature: recovery id above 1, sign again with another nonce");
  return `${bytesToHex(signature)}${recoveryId === 0 ? "1b" : "1c"}`;
}

/** The address that signed `message`, or undefined when the signature is malformed or not canonical. */
export function stepRequestSigner(
  domain: TypedDataDomain,
  message: StepRequestMessage,
  signature: `0x${string}`,
): `0x${string}` | undefined {
  try {
    return digestSigner(stepRequestDigest(domain, message), signature);
  } catch {
    return undefined; // a message field out of its type's range
  }
}

/**
 * The address that signed the 32-byte `digest` (an EIP-712 hash), recovered by libsecp256k1 (protocol/primitives.ts:
 * about 0.05 ms of CPU natively where viem's pure-JS curve takes 2-3 ms), or undefined when the signature is
 * malformed or not canonical (65 bytes, v 27 or 28, low s: what the contracts accept). The one recovery the daemons
 * use for signatures anyone can make them check (keepers/common/signatures.ts for any typed data).
 */
export function digestSigner(digest: `0x${string}`, signature: `0x${string}`): `0x${string}` | undefined {
  return digestSignerKey(digest, signature)?.address;
}

/** digestSigner, with the signer's uncompressed public key (65 bytes), for digestSignedBy's later checks. */
export function digestSignerKey(
  digest: `0x${string}`,
  signature: `0x${string}`,
): { address: `0x${string}`; publicKey: Uint8Array } | undefined {
  if (!isCanonicalSignature(signature)) return undefined;
  const rs = hexToBytes(`0x${signature.slice(2, 130)}`);
  const publicKey = secp256k1.recover(hexToBytes(digest), rs, signature.endsWith("1b") ? 0 : 1);
  return publicKey === undefined ? undefined : { address: publicKeyToAddress(bytesToHex(publicKey)), publicKey };
}

/**
 * Whether `signature` is a canonical signature (as digestSigner requires) of `digest` by the key `publicKey`
 * (digestSignerKey's): libsecp256k1's verify, about a fifth cheaper than a recovery and its address hash. For a
 * party whose key is already known (a provider checking an execution's keeper it has seen before). Verification
 * does not read v: of a signature and its copy with the other v, both pass here, where a recovery names another
 * address for one of them. Neither copy can be made without the key, so a caller that admits a signed message once
 * by what it signs (a nonce) refuses the other copy as a replay.
 */
export function digestSignedBy(digest: `0x${string}`, signature: `0x${string}`, publicKey: Uint8Array): boolean {
  if (!isCanonicalSignature(signature)) return false;
  return secp256k1.verify(hexToBytes(digest), publicKey, hexToBytes(`0x${signature.slice(2, 130)}`));
}

// ---------------------------------------------------------------- the EIP-712 digest, its constants computed once

/** Domain separators by domain, and type hashes by type table and primary type: each computed once. */
const separators = new Map<string, `0x${string}`>();
const typeHashes = new WeakMap<object, Map<string, `0x${string}` | null>>();

function separatorOf(domain: TypedDataDomain): `0x${string}` {
  const key = [domain.name, domain.version, domain.chainId, domain.verifyingContract, domain.salt].join("|");
  let separator = separators.get(key);
  if (separator === undefined) {
    separator = domainSeparator({ domain });
    if (separators.size < 64) separators.set(key, separator);
  }
  return separator;
}

/** An atomic EIP-712 field type this file encodes itself (uintN, address, bool, bytes32, string, bytes). */
const FLAT_TYPE = /^(uint(8|16|32|64|128|256)|address|bool|bytes32|string|bytes)$/;

/** keccak256 of the encoded type, or null when `primaryType` is not a flat struct (viem then hashes it all). */
function typeHashOf(types: Record<string, readonly TypedDataParameter[]>, primaryType: string): `0x${string}` | null {
  let byPrimary = typeHashes.get(types);
  if (byPrimary === undefined) {
    byPrimary = new Map();
    typeHashes.set(types, byPrimary);
  }
  let hash = byPrimary.get(primaryType);
  if (hash === undefined) {
    const fields = types[primaryType] ?? [];
    hash =
      fields.length > 0 && fields.every((f) => FLAT_TYPE.test(f.type))
        ? keccak256(stringToHex(`${primaryType}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`))
        : null;
    byPrimary.set(primaryType, hash);
  }
  return hash;
}

/** One field's 32-byte word (64 hex digits), its value checked against its type. Throws naming the field. */
function word(field: TypedDataParameter, value: unknown): string {
  const { name, type } = field;
  if (type.startsWith("uint")) {
    const bits = BigInt(type.slice(4));
    const n =
      typeof value === "bigint" ? value : typeof value === "number" && Number.isInteger(value) ? BigInt(value) : -1n;
    if (n < 0n || n >= 1n << bits) throw new Error(`${name}: not a ${type}`);
    return n.toString(16).padStart(64, "0");
  }
  if (type === "address") {
    // isAddress as viem's hashTypedData checks it: a mixed-case address must carry its checksum.
    if (typeof value !== "string" || !isAddress(value)) throw new Error(`${name}: not an address`);
    return value.slice(2).toLowerCase().padStart(64, "0");
  }
  if (type === "bytes32") {
    if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) throw new Error(`${name}: not a bytes32`);
    return value.slice(2).toLowerCase();
  }
  if (type === "bool") {
    if (typeof value !== "boolean") throw new Error(`${name}: not a bool`);
    return value ? "1".padStart(64, "0") : "0".padStart(64, "0");
  }
  if (type === "string") {
    if (typeof value !== "string") throw new Error(`${name}: not a string`);
    return keccak256(stringToHex(value)).slice(2);
  }
  // bytes
  if (typeof value !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(value)) throw new Error(`${name}: not bytes`);
  return keccak256(value as `0x${string}`).slice(2);
}

/**
 * The EIP-712 digest of `message` of `primaryType` under `domain`, viem's hashTypedData's value (the tests compare
 * them), with the domain separator and the type hash computed once each and a flat struct's fields encoded here:
 * viem encodes the type string again, and the separator, on every call, a third of a step request's signature
 * check. Types with arrays or nested structs go to viem whole. Throws when a field's value is out of its type.
 */
export function typedDataDigest(
  domain: TypedDataDomain,
  types: Record<string, readonly TypedDataParameter[]>,
  primaryType: string,
  message: object,
): `0x${string}` {
  const typeHash = typeHashOf(types, primaryType);
  if (typeHash === null)
    return hashTypedData({ domain, types, primaryType, message } as Parameters<typeof hashTypedData>[0]);
  const fields = types[primaryType] ?? [];
  const struct = keccak256(
    `${typeHash}${fields.map((f) => word(f, (message as Record<string, unknown>)[f.name])).join("")}`,
  );
  return keccak256(`0x1901${separatorOf(domain).slice(2)}${struct.slice(2)}`);
}

/** secp256k1's group order / 2: signatures with a larger s are malleable and the contracts (OpenZeppelin) refuse them. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** 65 bytes, v 27 or 28, low s: what OpenZeppelin's ECDSA.recover (the chain) accepts. */
export function isCanonicalSignature(signature: string): boolean {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return false;
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130, 132), 16);
  return (v === 27 || v === 28) && s > 0n && s <= HALF_N;
}
