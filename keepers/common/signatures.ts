/**
 * Who signed an EIP-712 message, quickly: the typed-data hash by viem, the signer recovered by libsecp256k1
 * (protocol/eip712.ts digestSigner: tiny-secp256k1, WebAssembly, about 0.3 ms of CPU where viem's pure JavaScript
 * recovery takes about 3 ms on 2 cores; `npm run bench:auth`). That matters where anyone may make a daemon check a
 * signature, the keeper's API: at 3 ms a recovery, a flood of well-formed signed requests fills a core at a few
 * hundred a second.
 */
import { hashTypedData, type Hex, type TypedData, type TypedDataDefinition } from "viem";

import { digestSigner } from "../../protocol/eip712.js";

/** The address that signed the typed data `definition`, or undefined when the signature is malformed. */
export function typedDataSigner<const types extends TypedData | Record<string, unknown>, primaryType extends string>(
  definition: TypedDataDefinition<types, primaryType>,
  signature: Hex,
): Hex | undefined {
  try {
    return digestSigner(hashTypedData(definition), signature);
  } catch {
    return undefined; // a message field out of its type's range
  }
}
