/**
 * The two primitives every step pays for several times, from the fastest well-kept implementation that loads here:
 *
 * - secp256k1 (the keeper's StepRequest signature, the provider's check of it, every signed API request, the
 *   keeper's check of a StepResult): libsecp256k1, the Bitcoin Core library, through the `secp256k1` package's
 *   native binding (N-API, prebuilt for linux, macOS and Windows in the npm package: nothing is compiled at
 *   install). Where that binding does not load, the same library compiled to WebAssembly (`tiny-secp256k1`),
 *   three to five times slower, with the same answers (both sign by RFC 6979 with low s; test/keepers/common/
 *   signatures.test.ts runs the same vectors through both). The `secp256k1` package's own fallback (elliptic, pure
 *   JavaScript) is never used: its `bindings` entry is loaded, not its main one.
 * - keccak256 (every EIP-712 digest, the step request's body hash): hash-wasm's WebAssembly Keccak, a tenth of
 *   viem's pure-JavaScript one on a step request's body (`npm run bench:auth`); the same function, checked against
 *   viem's on random inputs in test/keepers/common/signatures.test.ts.
 *
 * Figures of one step's share: scripts/bench/auth.ts section 4b. No hand-made crypto: each call is the library's.
 */
import { createRequire } from "node:module";

import { createKeccak } from "hash-wasm";
import * as wasmSecp256k1 from "tiny-secp256k1";
import type { Hex } from "viem";

/** The secp256k1 operations the protocol uses (32-byte digests, 64-byte compact r || s signatures). */
export interface Secp256k1 {
  readonly name: string;
  /** The low-s RFC 6979 signature of `digest` by `privateKey` and its recovery id (0 to 3). */
  signRecoverable(digest: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recoveryId: number };
  /** The uncompressed public key (65 bytes) that signed `digest`, or undefined (r or s out of range, no point). */
  recover(digest: Uint8Array, signature: Uint8Array, recoveryId: 0 | 1): Uint8Array | undefined;
  /** Whether `signature` (low s only) of `digest` verifies under `publicKey`; false for any malformed input. */
  verify(digest: Uint8Array, publicKey: Uint8Array, signature: Uint8Array): boolean;
}

/** libsecp256k1 compiled to WebAssembly (tiny-secp256k1): always loads. */
export const wasmCurve: Secp256k1 = {
  name: "libsecp256k1 in WebAssembly (tiny-secp256k1)",
  signRecoverable: (digest, privateKey) => wasmSecp256k1.signRecoverable(digest, privateKey),
  recover(digest, signature, recoveryId) {
    try {
      return wasmSecp256k1.recover(digest, signature, recoveryId, false) ?? undefined;
    } catch {
      return undefined; // r or s out of range
    }
  },
  verify(digest, publicKey, signature) {
    try {
      return wasmSecp256k1.verify(digest, publicKey, signature, true);
    } catch {
      return false;
    }
  },
};

/** The `secp256k1` package's native API, as far as used here (its `bindings` entry: no pure-JS fallback). */
interface NativeBinding {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
  ecdsaVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

function nativeCurveOf(binding: NativeBinding): Secp256k1 {
  return {
    name: "libsecp256k1 native (secp256k1)",
    signRecoverable(digest, privateKey) {
      const { signature, recid } = binding.ecdsaSign(digest, privateKey);
      return { signature, recoveryId: recid };
    },
    recover(digest, signature, recoveryId) {
      try {
        return binding.ecdsaRecover(signature, recoveryId, digest, false);
      } catch {
        return undefined; // r or s out of range, or no point to recover
      }
    },
    verify(digest, publicKey, signature) {
      try {
        return binding.ecdsaVerify(signature, digest, publicKey);
      } catch {
        return false; // r or s out of range, or not a public key
      }
    },
  };
}

/** The native binding, or undefined where its prebuilt library does not load on this platform. */
function loadNativeCurve(): Secp256k1 | undefined {
  try {
    return nativeCurveOf(createRequire(import.meta.url)("secp256k1/bindings") as NativeBinding);
  } catch {
    return undefined;
  }
}

/** The native libsecp256k1 when it loads (undefined otherwise; the tests compare it with wasmCurve). */
export const nativeCurve: Secp256k1 | undefined = loadNativeCurve();

/** The secp256k1 every signature of the protocol goes through: native libsecp256k1, else its WebAssembly build. */
export const secp256k1: Secp256k1 = nativeCurve ?? wasmCurve;

const keccak = await createKeccak(256);

/** keccak256 of `data` (bytes, or 0x-prefixed hex meaning its bytes), as 0x-prefixed hex: viem's keccak256. */
export function keccak256(data: Uint8Array | Hex): Hex {
  if (typeof data === "string" && !/^0x([0-9a-fA-F]{2})*$/.test(data)) throw new Error("keccak256: not hex bytes");
  keccak.init();
  keccak.update(typeof data === "string" ? Buffer.from(data.slice(2), "hex") : data);
  return `0x${keccak.digest("hex")}`;
}
