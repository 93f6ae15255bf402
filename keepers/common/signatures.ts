/**
 * Who signed an EIP-712 message, quickly: the typed-data hash by protocol/eip712.ts typedDataDigest (viem's value,
 * the domain separator and type hash computed once), the signer recovered by libsecp256k1
 * (protocol/eip712.ts digestSigner: protocol/primitives.ts, the native binding or its WebAssembly build, about
 * 0.05 or 0.3 ms of CPU where viem's pure JavaScript recovery takes about 3 ms on 2 cores; `npm run bench:auth`). That matters where anyone may make a daemon check a
 * signature, the keeper's API: at 3 ms a recovery, a flood of well-formed signed requests fills a core at a few
 * hundred a second.
 */
import type { Hex, TypedData, TypedDataDefinition, TypedDataParameter } from "viem";

import { digestSigner, typedDataDigest } from "../../protocol/eip712.js";

/** The address that signed the typed data `definition`, or undefined when the signature is malformed. */
export function typedDataSigner<const types extends TypedData | Record<string, unknown>, primaryType extends string>(
  definition: TypedDataDefinition<types, primaryType>,
  signature: Hex,
): Hex | undefined {
  try {
    const { domain, types, primaryType, message } = definition as {
      domain?: Parameters<typeof typedDataDigest>[0];
      types: Record<string, readonly TypedDataParameter[]>;
      primaryType: string;
      message: Record<string, unknown>;
    };
    return digestSigner(typedDataDigest(domain ?? {}, types, primaryType, message), signature);
  } catch {
    return undefined; // a message field out of its type's range
  }
}
