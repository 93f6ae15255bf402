/**
 * keepers/common/signatures.ts: the recovery by libsecp256k1 (protocol/eip712.ts digestSigner) gives viem's answer
 * for every typed-data signature and refuses malformed and non-canonical (high-s) ones. protocol/primitives.ts: the
 * native libsecp256k1 and its WebAssembly build give the same answers (signatures, recoveries, verifications, and
 * refusals), and its keccak256 is viem's.
 */
import { expect } from "chai";
import {
  getAddress,
  hashTypedData,
  hexToBytes,
  keccak256 as viemKeccak256,
  recoverTypedDataAddress,
  type Hex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import {
  COMPUTE_RECEIPT_TYPES,
  DELEGATION_TYPES,
  EXECUTION_INPUTS_TYPES,
  KEEPER_REQUEST_TYPES,
  PERMIT_TYPES,
  RESULTS_GRANT_TYPES,
  STEP_REQUEST_TYPES,
  STEP_RESULT_TYPES,
  typedDataDigest,
  WORK_RESULT_TYPES,
} from "../../../protocol/eip712.js";
import { keccak256, nativeCurve, secp256k1, wasmCurve } from "../../../protocol/primitives.js";
import { typedDataSigner } from "../../../keepers/common/signatures.js";
import { DOMAIN } from "../../helpers/keepers.js";

/** viem's hashTypedData over definitions built at run time (its types are for literal tables). */
const viemDigest = hashTypedData as (definition: object) => Hex;

describe("keepers: typed-data signers (signatures.ts)", function () {
  it("recovers what viem recovers, for 50 keys and messages of two types", async function () {
    for (let i = 0; i < 50; i++) {
      const account = privateKeyToAccount(generatePrivateKey());
      const request = {
        domain: DOMAIN,
        types: KEEPER_REQUEST_TYPES,
        primaryType: "KeeperRequest" as const,
        message: { method: "GET", path: `/v1/executions?id=${i}`, signer: account.address, expiry: BigInt(i) },
      };
      const requestSignature = await account.signTypedData(request);
      expect(typedDataSigner(request, requestSignature)).to.equal(account.address);
      const step = {
        domain: DOMAIN,
        types: STEP_RESULT_TYPES,
        primaryType: "StepResult",
        message: {
          executionId: BigInt(i),
          step: i,
          inputHash: `0x${i.toString(16).padStart(64, "0")}`,
          outputHash: `0x${"ab".repeat(32)}`,
          cost: 10n ** BigInt(i % 20),
        },
      } as const;
      expect(typedDataSigner(step, await account.signTypedData(step))).to.equal(account.address);
      // Another message under the same signature: viem's answer too (some other address).
      const other = { ...request, message: { ...request.message, path: "/v1/reports" } };
      expect(typedDataSigner(other, requestSignature)).to.equal(
        await recoverTypedDataAddress({ ...other, signature: requestSignature }),
      );
    }
  });

  it("gives undefined for a malformed signature", async function () {
    const definition = {
      domain: DOMAIN,
      types: KEEPER_REQUEST_TYPES,
      primaryType: "KeeperRequest" as const,
      message: { method: "GET", path: "/", signer: DOMAIN.verifyingContract as Hex, expiry: 1n },
    };
    for (const signature of ["0x", `0x${"00".repeat(65)}`, `0x${"ff".repeat(64)}1b`, "0x1234"] as Hex[])
      expect(typedDataSigner(definition, signature), signature).to.equal(undefined);
    // the same signature with s flipped to n - s (high s, v swapped): valid for the curve, refused like the chain does
    const account = privateKeyToAccount(generatePrivateKey());
    const good = await account.signTypedData(definition);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = (n - BigInt(`0x${good.slice(66, 130)}`)).toString(16).padStart(64, "0");
    const flipped = `${good.slice(0, 66)}${highS}${good.endsWith("1b") ? "1c" : "1b"}` as Hex;
    expect(await recoverTypedDataAddress({ ...definition, signature: flipped })).to.equal(account.address);
    expect(typedDataSigner(definition, flipped)).to.equal(undefined);
  });

  it("typedDataDigest is viem's hashTypedData for every protocol type, and refuses what viem refuses", function () {
    const tables = [
      COMPUTE_RECEIPT_TYPES,
      WORK_RESULT_TYPES,
      STEP_RESULT_TYPES,
      PERMIT_TYPES,
      DELEGATION_TYPES,
      EXECUTION_INPUTS_TYPES,
      RESULTS_GRANT_TYPES,
      KEEPER_REQUEST_TYPES,
      STEP_REQUEST_TYPES,
    ] as const;
    const random = (bytes: number) => crypto.getRandomValues(new Uint8Array(bytes));
    const hex = (bytes: number) => `0x${Buffer.from(random(bytes)).toString("hex")}`;
    const valueOf = (type: string, i: number): unknown => {
      if (type.startsWith("uint")) {
        const bits = Number(type.slice(4));
        // 0, the largest value, and random ones
        if (i === 0) return 0n;
        if (i === 1) return 2n ** BigInt(bits) - 1n;
        return BigInt(hex(bits / 8));
      }
      if (type === "address") return i % 2 === 0 ? getAddress(hex(20)) : hex(20);
      if (type === "bytes32") return hex(32);
      if (type === "string") return i === 0 ? "" : `/v1/executions?id=${i}&ü=${hex(4)}`;
      throw new Error(`no value for ${type}`);
    };
    for (const types of tables) {
      const [primaryType, fields] = Object.entries(types)[0] as [string, readonly { name: string; type: string }[]];
      for (let i = 0; i < 20; i++) {
        const message = Object.fromEntries(fields.map((f) => [f.name, valueOf(f.type, i)]));
        const domain = i % 3 === 0 ? { ...DOMAIN, chainId: 1 + i } : DOMAIN;
        expect(typedDataDigest(domain, types, primaryType, message), `${primaryType} ${i}`).to.equal(
          viemDigest({ domain, types, primaryType, message }),
        );
      }
    }
    const base = { executionId: 1n, reader: DOMAIN.verifyingContract as Hex, expiry: 1n };
    const refused: [string, Record<string, unknown>][] = [
      ["uint256 past 2^256", { ...base, executionId: 2n ** 256n }],
      ["a negative uint", { ...base, executionId: -1n }],
      ["uint64 past 2^64", { ...base, expiry: 2n ** 64n }],
      ["a fractional number", { ...base, expiry: 1.5 }],
      ["a short address", { ...base, reader: "0x1234" }],
      ["a mixed-case address with a wrong checksum", { ...base, reader: "0xAbCdEf0000000000000000000000000000000000" }],
    ];
    for (const [what, message] of refused) {
      expect(() => typedDataDigest(DOMAIN, RESULTS_GRANT_TYPES, "ResultsGrant", message), what).to.throw();
      expect(
        () => viemDigest({ domain: DOMAIN, types: RESULTS_GRANT_TYPES, primaryType: "ResultsGrant", message }),
        `viem: ${what}`,
      ).to.throw();
    }
  });

  it("signs, recovers and verifies with the native libsecp256k1 as with its WebAssembly build", function () {
    // This platform (linux x64, the CI's) has the prebuilt binding: a silent fallback would only be slower.
    expect(nativeCurve, "the secp256k1 package's native binding loads").to.not.equal(undefined);
    expect(secp256k1).to.equal(nativeCurve);
    const native = nativeCurve ?? wasmCurve;
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const word = (x: bigint) => Buffer.from(x.toString(16).padStart(64, "0"), "hex");
    for (let i = 0; i < 50; i++) {
      const key = hexToBytes(generatePrivateKey());
      const digest = random(32);
      const mine = native.signRecoverable(digest, key);
      const theirs = wasmCurve.signRecoverable(digest, key);
      expect(Buffer.from(mine.signature).toString("hex"), `signature ${i}`).to.equal(
        Buffer.from(theirs.signature).toString("hex"),
      );
      expect(mine.recoveryId).to.equal(theirs.recoveryId);
      const id = mine.recoveryId as 0 | 1;
      const publicKey = native.recover(digest, mine.signature, id);
      expect(publicKey && Buffer.from(publicKey).toString("hex")).to.equal(
        Buffer.from(wasmCurve.recover(digest, mine.signature, id) ?? []).toString("hex"),
      );
      expect(native.verify(digest, publicKey ?? new Uint8Array(65), mine.signature)).to.equal(true);
      expect(wasmCurve.verify(digest, publicKey ?? new Uint8Array(65), mine.signature)).to.equal(true);
      // Another digest, the high-s copy, r or s out of range, zero: the same answer from both, never a throw.
      const other = random(32);
      const s = BigInt(`0x${Buffer.from(mine.signature.subarray(32)).toString("hex")}`);
      const highS = Buffer.concat([mine.signature.subarray(0, 32), word(n - s)]);
      const outOfRange = Buffer.concat([word(n + 1n), mine.signature.subarray(32)]);
      const zero = new Uint8Array(64);
      for (const [what, signature, d] of [
        ["another digest", mine.signature, other],
        ["high s", highS, digest],
        ["r >= n", outOfRange, digest],
        ["zero", zero, digest],
      ] as const) {
        const pk = publicKey ?? new Uint8Array(65);
        expect(native.verify(d, pk, signature), `verify ${what}`).to.equal(wasmCurve.verify(d, pk, signature));
        const a = native.recover(d, signature, id);
        const b = wasmCurve.recover(d, signature, id);
        expect(a && Buffer.from(a).toString("hex"), `recover ${what}`).to.equal(b && Buffer.from(b).toString("hex"));
      }
      expect(native.verify(digest, publicKey ?? new Uint8Array(65), highS), "high s refused").to.equal(false);
      expect(native.verify(digest, random(65), mine.signature), "not a public key").to.equal(false);
    }
  });

  it("keccak256 is viem's, over bytes and hex of any length, and refuses what is not hex bytes", function () {
    for (let length = 0; length < 600; length += 7) {
      const data = crypto.getRandomValues(new Uint8Array(length));
      const hex: Hex = `0x${Buffer.from(data).toString("hex")}`;
      expect(keccak256(data), `${length} bytes`).to.equal(viemKeccak256(data));
      expect(keccak256(hex), `${length} bytes as hex`).to.equal(viemKeccak256(hex));
    }
    for (const bad of ["0x1", "0xzz", "12", "0x12 "]) expect(() => keccak256(bad as Hex), bad).to.throw(/not hex/);
  });
});
