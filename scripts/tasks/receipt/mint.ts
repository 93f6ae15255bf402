import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { required } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { readSignedReceipt } from "../../lib/receipt-file.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  files: string;
}

/** Mints signed receipts (one file: mintFromReceipt; several, comma-separated: one mintFromReceipts batch). */
export default async function mint(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const signed = required("files", args.files)
      .split(",")
      .map((f) => readSignedReceipt(f.trim()));
    const { token } = protocol;
    const rate = await token.rewardRate();
    const [first] = signed;
    if (signed.length === 1 && first) {
      await confirm("mintFromReceipt", token.mintFromReceipt(first.receipt, first.signature));
    } else {
      await confirm(
        "mintFromReceipts",
        token.mintFromReceipts(
          signed.map((s) => s.receipt),
          signed.map((s) => s.signature),
        ),
      );
    }
    for (const { receipt } of signed) {
      console.log(`minted ${aitbc(receipt.units * rate)} to ${receipt.provider} for receipt ${receipt.receiptId}`);
    }
  });
}
