/**
 * keepers/common/signatures.ts: the recovery by libsecp256k1 (protocol/eip712.ts digestSigner) gives viem's answer
 * for every typed-data signature and refuses malformed and non-canonical (high-s) ones.
 */
import { expect } from "chai";
import { recoverTypedDataAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { KEEPER_REQUEST_TYPES, STEP_RESULT_TYPES } from "../../../protocol/eip712.js";
import { typedDataSigner } from "../../../keepers/common/signatures.js";
import { DOMAIN } from "../../helpers/keepers.js";

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
});
