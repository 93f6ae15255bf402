import { hexlify, randomBytes } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseAddress, parseHash, parseDuration, parseInteger, required } from "../../lib/args.js";
import { writeSignedReceipt } from "../../lib/receipt-file.js";
import { receiptDomain, signReceipt, type ComputeReceipt } from "../../lib/receipts.js";
import { runTask } from "../context.js";

interface Args {
  from: string;
  provider: string;
  client: string;
  units: string;
  work: string;
  result: string;
  receiptId: string;
  validFor: string;
  out: string;
  workload: string;
}

/**
 * An attestor (--from) signs a compute receipt and writes it to --out. No transaction. With --workload, the
 * receipt is the one the marketplace issued when that workload settled (the other receipt flags are ignored).
 */
export default async function sign(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ ethers, signer, protocol }) => {
    const out = required("out", args.out);
    const now = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0);
    const deadline = now + parseDuration("validFor", args.validFor);
    let receipt: ComputeReceipt;
    if (args.workload !== "") {
      const workload = parseInteger("workload", args.workload, { min: 1n });
      const r = await protocol.marketplace.receiptOf(workload);
      // A marketplace receipt rewards the units its protocol fee backs (units × rate <= fee): maybe none.
      if (r.units === 0n) {
        throw new ArgumentError(
          "workload",
          `workload ${workload}'s receipt rewards no unit: its fee is below one unit's reward`,
        );
      }
      receipt = {
        receiptId: r.receiptId,
        provider: r.provider,
        client: r.client,
        units: r.units,
        workHash: r.workHash,
        resultHash: r.resultHash,
        deadline,
      };
    } else {
      receipt = {
        receiptId: args.receiptId === "" ? hexlify(randomBytes(32)) : parseHash("receiptId", args.receiptId),
        provider: parseAddress("provider", args.provider),
        client: parseAddress("client", args.client),
        units: parseInteger("units", args.units, { min: 1n }),
        workHash: parseHash("work", args.work),
        resultHash: parseHash("result", args.result),
        deadline,
      };
    }
    const attestorRole = await protocol.token.ATTESTOR_ROLE();
    if (!(await protocol.token.hasRole(attestorRole, signer.address))) {
      console.warn(`warning: ${signer.address} is not an attestor; the token will reject this receipt`);
    }
    const signature = await signReceipt(signer, await receiptDomain(protocol.token), receipt);
    writeSignedReceipt(out, { receipt, signature });
    console.log(
      `receipt ${receipt.receiptId} (${receipt.units} units for ${receipt.provider}) signed by ${signer.address} -> ${out}`,
    );
  });
}
