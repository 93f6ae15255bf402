/** Signed compute receipts as JSON files: what an attestor hands to whoever submits them. */
import { readFileSync, writeFileSync } from "node:fs";

import { getAddress, isHexString } from "ethers";

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
