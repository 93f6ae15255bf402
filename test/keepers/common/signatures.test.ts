/**
 * keepers/common/signatures.ts: the native recovery (libsecp256k1) gives viem's answer for every typed-data
 * signature, refuses malformed ones, and is the one that loads on this platform (linux-x64 prebuild).
 */
import { expect } from "chai";
import { recoverTypedDataAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { KEEPER_REQUEST_TYPES, STEP_RESULT_TYPES } from "../../../protocol/eip712.js";
import { RECOVERY, typedDataSigner } from "../../../keepers/common/signatures.js";
import { DOMAIN } from "../../helpers/keepers.js";

describe("keepers: typed-data signers (signatures.ts)", function () {
  it("loads libsecp256k1 here", function () {
    expect(RECOVERY).to.equal("libsecp256k1");
  });

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
      expect(await typedDataSigner(request, requestSignature)).to.equal(account.address);
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
      expect(await typedDataSigner(step, await account.signTypedData(step))).to.equal(account.address);
      // Another message under the same signature: viem's answer too (some other address).
      const other = { ...request, message: { ...request.message, path: "/v1/reports" } };
      expect(await typedDataSigner(other, requestSignature)).to.equal(
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
      expect(await typedDataSigner(definition, signature), signature).to.equal(undefined);
  });
});
