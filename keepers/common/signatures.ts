/**
 * Who signed an EIP-712 message, quickly: the typed-data hash by viem, the public key recovered by libsecp256k1
 * (Bitcoin Core's C library, through the `secp256k1` package's native binding, prebuilt in the package for
 * linux-x64, darwin-arm64 and win32-x64), the address by viem. A recovery there takes about 0.1 ms where viem's pure
 * JavaScript one takes about 3 ms (2-core EPYC; `npm run bench:auth`). That matters where anyone may make the keeper
 * check a signature, its API: at 3 ms a recovery, a flood of well-formed signed requests fills a core at a few
 * hundred a second. Where the binding does not load (another platform), viem recovers, same answers, slower.
 */
import { createRequire } from "node:module";

import {
  hashTypedData,
  hexToBytes,
  parseSignature,
  recoverTypedDataAddress,
  toHex,
  type Hex,
  type TypedData,
  type TypedDataDefinition,
} from "viem";
import { publicKeyToAddress } from "viem/accounts";

interface Binding {
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

/** The native binding, or undefined where it does not load (then viem recovers). */
const native: Binding | undefined = (() => {
  try {
    // bindings.js loads the prebuilt addon only; the package's index.js would fall back to `elliptic` instead.
    return createRequire(import.meta.url)("secp256k1/bindings") as Binding;
  } catch {
    return undefined;
  }
})();

/** Which recovery runs here: "libsecp256k1" (native) or "viem" (pure JavaScript). */
export const RECOVERY: "libsecp256k1" | "viem" = native ? "libsecp256k1" : "viem";

/** The address that signed the typed data `definition`, or undefined when the signature is malformed. */
export async function typedDataSigner<
  const types extends TypedData | Record<string, unknown>,
  primaryType extends string,
>(definition: TypedDataDefinition<types, primaryType>, signature: Hex): Promise<Hex | undefined> {
  try {
    if (!native) return await recoverTypedDataAddress({ ...definition, signature } as never);
    const { r, s, yParity } = parseSignature(signature);
    const compact = new Uint8Array(64);
    compact.set(hexToBytes(r, { size: 32 }), 0);
    compact.set(hexToBytes(s, { size: 32 }), 32);
    const digest = hexToBytes(hashTypedData(definition));
    const publicKey = native.ecdsaRecover(compact, yParity, digest, false);
    return publicKeyToAddress(toHex(publicKey));
  } catch {
    return undefined;
  }
}
