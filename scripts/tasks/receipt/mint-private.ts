import { getAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { Prover } from "../../../circuits/lib/prover.js";
import {
  checkDenomination,
  noteNullifier,
  noteUnits,
  receiptNoteProofInput,
  receiptNotes,
  ReceiptTree,
  type PrivateReceipt,
} from "../../../circuits/lib/receipt.js";
import { proofStruct } from "../../../protocol/proofs.js";
import { ArgumentError, parseInteger, required } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { readPrivateReceipt } from "../../lib/receipt-file.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  file: string;
  to: string;
  denomination: string;
}

/**
 * Mints a committed receipt (`receipt publish-root` wrote --file) as notes of 2^k units, one per set bit k of its
 * units, each proven with the receipt circuit and paid to its own address (--to, one per note, in ascending
 * denomination): the chain sees a root, a nullifier, a denomination and a recipient, not the receipt. Notes already
 * minted are skipped; --denomination mints one note only (mint notes at different times to blur timing too).
 */
export default async function mintPrivate(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const { receiptMinter, token } = protocol;
    const file = readPrivateReceipt(required("file", args.file));
    const tree = new ReceiptTree();
    for (const c of file.commitments) tree.insert(c);
    if (tree.root !== file.root) throw new ArgumentError("file", "its commitments do not hash to its root");
    if (!(await receiptMinter.isKnownRoot(file.root))) {
      throw new ArgumentError("file", `root ${file.root} is not published on ReceiptMinter (receipt publish-root)`);
    }
    const wanted =
      args.denomination === ""
        ? receiptNotes(file.receipt.units)
        : [denominationOf(file.receipt, parseInteger("denomination", args.denomination, { max: 63n }))];
    const pending: number[] = [];
    for (const k of wanted) {
      if (await receiptMinter.isSpent(noteNullifier(file.receipt, k))) {
        console.log(`note 2^${k} units: minted already, skipped`);
      } else pending.push(k);
    }
    if (pending.length === 0) {
      console.log("nothing left to mint");
      return;
    }
    const recipients = required("to", args.to)
      .split(",")
      .map((a) => {
        try {
          return getAddress(a.trim());
        } catch {
          throw new ArgumentError("to", `"${a.trim()}" is not an address`);
        }
      });
    if (recipients.length !== pending.length) {
      throw new ArgumentError(
        "to",
        `give one address per note to mint: ${pending.length} (2^${pending.join(", 2^")} units), got ${recipients.length}`,
      );
    }
    if (new Set(recipients.map((r) => r.toLowerCase())).size !== recipients.length) {
      throw new ArgumentError("to", "an address is named twice: notes paid to one address add back up to the receipt");
    }
    const rate = await token.rewardRate();
    const prover = new Prover();
    try {
      for (const [i, k] of pending.entries()) {
        const to = recipients[i] ?? "";
        const { statement, input } = receiptNoteProofInput(file.receipt, k, tree, BigInt(to), rate);
        const proven = await prover.prove("receipt", input);
        await confirm(
          `mint note 2^${k}`,
          receiptMinter.mint(
            proofStruct(proven.calldata),
            statement.root,
            statement.nullifier,
            to,
            statement.denomination,
          ),
        );
        console.log(
          `minted ${aitbc(noteUnits(k) * rate)} (2^${k} units) to ${to}, proven in ${proven.millis.toFixed(0)} ms`,
        );
      }
    } finally {
      await prover.close();
    }
  });
}

/** `k` if the receipt holds a note of 2^k units, else an error naming --denomination and the receipt's notes. */
function denominationOf(receipt: PrivateReceipt, k: bigint): number {
  try {
    return checkDenomination(receipt, Number(k));
  } catch (error) {
    throw new ArgumentError("denomination", (error as Error).message.replace(/^denomination: /, ""));
  }
}
