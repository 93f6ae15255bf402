/** Compute receipts as JSON files: what an attestor hands to whoever submits them (signed, or committed for private minting). */
import { readFileSync, writeFileSync } from "node:fs";

import { getAddress, isHexString } from "ethers";

import { checkReceipt, type PrivateReceipt } from "../../circuits/lib/receipt.js";
import type { ComputeReceipt } from "./receipts.js";

export interface SignedReceipt {
  receipt: ComputeReceipt;
  signature: string;
}

export function writeSignedReceipt(file: string, signed: SignedReceipt): void {
  const json = JSON.stringify(signed, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
  writeFileSync(file, json + "\n");
}

/** Reads and validates a signed receipt file; errors name the file and the field. */
export function readSignedReceipt(file: string): SignedReceipt {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: cannot read a JSON receipt (${error instanceof Error ? error.message : String(error)})`);
  }
  const obj = raw as { receipt?: Record<string, unknown>; signature?: unknown };
  const r = obj.receipt;
  if (typeof r !== "object") throw new Error(`${file}: missing "receipt"`);
  const field = (name: string): string => {
    const v = r[name];
    if (typeof v !== "string") throw new Error(`${file}: receipt.${name} must be a string`);
    return v;
  };
  const bytes32 = (name: string) => {
    const v = field(name);
    if (!isHexString(v, 32)) throw new Error(`${file}: receipt.${name} is not 32 bytes of hex`);
    return v;
  };
  const uint = (name: string) => {
    const v = field(name);
    if (!/^\d+$/.test(v)) throw new Error(`${file}: receipt.${name} is not a whole number`);
    return BigInt(v);
  };
  const address = (name: string) => {
    try {
      return getAddress(field(name));
    } catch {
      throw new Error(`${file}: receipt.${name} is not an address`);
    }
  };
  if (typeof obj.signature !== "string" || !isHexString(obj.signature)) {
    throw new Error(`${file}: "signature" must be a hex string`);
  }
  return {
    receipt: {
      receiptId: bytes32("receiptId"),
      provider: address("provider"),
      client: address("client"),
      units: uint("units"),
      workHash: bytes32("workHash"),
      resultHash: bytes32("resultHash"),
      deadline: uint("deadline"),
    },
    signature: obj.signature,
  };
}

/**
 * A receipt committed to the attestor's tree for private minting (`receipt publish-root` writes one per receipt,
 * `receipt mint-private` reads it): the private receipt (its salt is the secret every note's nullifier derives
 * from: hand the file to the provider alone) and the tree's commitments in order, from which the provider rebuilds
 * its Merkle path. The commitments and root reveal nothing about the receipts behind them.
 */
export interface PrivateReceiptFile {
  workload: bigint;
  root: bigint;
  receipt: PrivateReceipt;
  commitments: bigint[];
}

export function writePrivateReceipt(file: string, content: PrivateReceiptFile): void {
  const json = JSON.stringify(content, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
  writeFileSync(file, json + "\n", { mode: 0o600 });
}

/** Reads and validates a private receipt file; errors name the file and the field. */
export function readPrivateReceipt(file: string): PrivateReceiptFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: cannot read a JSON receipt (${error instanceof Error ? error.message : String(error)})`);
  }
  const obj = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const uint = (where: Record<string, unknown>, name: string, label = name): bigint => {
    const v = where[name];
    if (typeof v !== "string" || !/^\d+$/.test(v)) throw new Error(`${file}: ${label} is not a whole number`);
    return BigInt(v);
  };
  const r = obj.receipt;
  if (typeof r !== "object" || r === null) throw new Error(`${file}: missing "receipt"`);
  const fields = r as Record<string, unknown>;
  const receipt: PrivateReceipt = {
    job: uint(fields, "job", "receipt.job"),
    provider: uint(fields, "provider", "receipt.provider"),
    units: uint(fields, "units", "receipt.units"),
    price: uint(fields, "price", "receipt.price"),
    resultHash: uint(fields, "resultHash", "receipt.resultHash"),
    salt: uint(fields, "salt", "receipt.salt"),
  };
  if (!Array.isArray(obj.commitments) || obj.commitments.length === 0) {
    throw new Error(`${file}: "commitments" must be a non-empty list`);
  }
  const commitments = (obj.commitments as unknown[]).map((c, i) => uint({ c }, "c", `commitments[${i}]`));
  return { workload: uint(obj, "workload"), root: uint(obj, "root"), receipt: checkReceipt(receipt), commitments };
}
