import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { hexlify, randomBytes } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { FIELD_MODULUS } from "../../../circuits/lib/field.js";
import {
  jobFromReceiptId,
  receiptCommitment,
  ReceiptTree,
  type PrivateReceipt,
} from "../../../circuits/lib/receipt.js";
import { WORKLOAD_STATUSES } from "../../../protocol/enums.js";
import { ArgumentError, parseInteger, required } from "../../lib/args.js";
import { writePrivateReceipt } from "../../lib/receipt-file.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workloads: string;
  dir: string;
}

/** The attestor's record of its append-only tree: the workloads committed and the commitments, in order. */
interface TreeRecord {
  workloads: string[];
  commitments: string[];
}

/**
 * An attestor (--from, ATTESTOR_ROLE on ReceiptMinter) commits settled workloads' receipts to its tree and
 * publishes the new root. The tree lives in --dir (tree.json: workloads and commitments, no secrets) and only
 * grows, so every earlier root stays valid and a workload is committed once: a second commitment of one job
 * (another salt, other nullifiers) would mint it twice. For each workload it writes receipt-<id>.json, the private
 * receipt with its salt, for the provider alone (`receipt mint-private`). A receipt already minted with its
 * signature (`receipt mint`) is refused for the same reason.
 */
export default async function publishRoot(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const { marketplace, receiptMinter, token } = protocol;
    const dir = required("dir", args.dir);
    const ids = required("workloads", args.workloads)
      .split(",")
      .map((w) => parseInteger("workloads", w.trim(), { min: 1n }));
    const recordFile = path.join(dir, "tree.json");
    const record = readRecord(recordFile);
    const tree = new ReceiptTree();
    for (const c of record.commitments) tree.insert(BigInt(c));

    const seen = new Set(record.workloads);
    const receipts: { workload: bigint; receipt: PrivateReceipt }[] = [];
    for (const id of ids) {
      if (seen.has(id.toString())) {
        throw new ArgumentError("workloads", `workload ${id} is committed already (listed twice, or in ${recordFile})`);
      }
      seen.add(id.toString());
      const w = await marketplace.getWorkload(id);
      const status = WORKLOAD_STATUSES[Number(w.status)] ?? String(w.status);
      if (status !== "settled") {
        throw new ArgumentError("workloads", `workload ${id} is ${status}: only a settled workload has a receipt`);
      }
      const r = await marketplace.receiptOf(id);
      if (await token.isReceiptMinted(r.receiptId)) {
        throw new ArgumentError("workloads", `workload ${id}'s receipt was minted with its signature already`);
      }
      if (r.units === 0n) {
        throw new ArgumentError(
          "workloads",
          `workload ${id}'s receipt rewards no unit: its fee is below one unit's reward`,
        );
      }
      receipts.push({
        workload: id,
        receipt: {
          job: jobFromReceiptId(r.receiptId),
          provider: BigInt(r.provider),
          units: r.units,
          price: w.pricePerUnit,
          resultHash: BigInt(r.resultHash) % FIELD_MODULUS, // a keccak hash, as a field element
          salt: BigInt(hexlify(randomBytes(31))),
        },
      });
    }
    if (!(await receiptMinter.hasRole(await receiptMinter.ATTESTOR_ROLE(), signer.address))) {
      throw new ArgumentError("from", `${signer.address} is not an attestor of ReceiptMinter (ATTESTOR_ROLE)`);
    }
    for (const { receipt } of receipts) tree.insertReceipt(receipt);
    const commitments = [
      ...record.commitments.map(BigInt),
      ...receipts.map(({ receipt }) => receiptCommitment(receipt)),
    ];

    // The files first: a root published without them would leave its receipts unmintable.
    mkdirSync(dir, { recursive: true });
    for (const { workload, receipt } of receipts) {
      writePrivateReceipt(path.join(dir, `receipt-${workload}.json`), {
        workload,
        root: tree.root,
        receipt,
        commitments,
      });
    }
    writeFileSync(
      recordFile,
      JSON.stringify(
        {
          workloads: [...record.workloads, ...receipts.map((r) => r.workload.toString())],
          commitments: commitments.map(String),
        },
        null,
        2,
      ) + "\n",
    );
    await confirm("publishRoot", receiptMinter.publishRoot(tree.root));
    console.log(`root ${tree.root} published over ${tree.size} receipt(s); wrote ${recordFile}`);
    for (const { workload, receipt } of receipts) {
      console.log(
        `  workload ${workload}: ${receipt.units} units -> ${path.join(dir, `receipt-${workload}.json`)} (secret: give it to the provider only)`,
      );
    }
  });
}

function readRecord(file: string): TreeRecord {
  if (!existsSync(file)) return { workloads: [], commitments: [] };
  try {
    const raw = JSON.parse(readFileSync(file, "utf8")) as Partial<TreeRecord>;
    if (!Array.isArray(raw.workloads) || !Array.isArray(raw.commitments)) throw new Error("missing lists");
    return { workloads: raw.workloads.map(String), commitments: raw.commitments.map(String) };
  } catch (error) {
    throw new ArgumentError("dir", `${file} is not this task's tree record (${(error as Error).message})`);
  }
}
