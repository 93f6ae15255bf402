import { id } from "ethers";

import type { ComputeReceipt } from "../../scripts/lib/receipts.js";

/**
 * A maker of fresh compute receipts for one test file: unique ids ("<prefix> receipt <n>"), 10 units, fixed work
 * and result hashes, one hour to live from the chain's latest block; any field can be replaced.
 */
export function receiptMaker(prefix: string, time: { latest(): Promise<number> }) {
  let count = 0;
  return async (
    fields: Pick<ComputeReceipt, "provider" | "client"> & Partial<ComputeReceipt>,
  ): Promise<ComputeReceipt> => {
    count += 1;
    return {
      receiptId: id(`${prefix} receipt ${count}`),
      units: 10n,
      workHash: id("job spec"),
      resultHash: id("job result"),
      deadline: BigInt(await time.latest()) + 3_600n,
      ...fields,
    };
  };
}
