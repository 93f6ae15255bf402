import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

import type { AIToken, IAIToken } from "../../typechain-types/index.js";
import { domainOf } from "./eip712.js";

/** A compute receipt as the AIToken's EIP-712 `ComputeReceipt` type defines it. */
export interface ComputeReceipt {
  receiptId: string;
  provider: string;
  client: string;
  units: bigint;
  workHash: string;
  resultHash: string;
  deadline: bigint;
}

/** The EIP-712 type, field for field as in contracts/token/AIToken.sol. */
export const COMPUTE_RECEIPT_TYPES: Record<string, TypedDataField[]> = {
  ComputeReceipt: [
    { name: "receiptId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "client", type: "address" },
    { name: "units", type: "uint256" },
    { name: "workHash", type: "bytes32" },
    { name: "resultHash", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
};

/** The token's EIP-712 domain, read from the chain (EIP-5267), so it is right for any chain and address. */
export async function receiptDomain(token: AIToken | IAIToken): Promise<TypedDataDomain> {
  return domainOf(token as AIToken);
}

/** An attestor's signature over `receipt` (65 bytes, low-s, as ethers produces). */
export async function signReceipt(attestor: Signer, domain: TypedDataDomain, receipt: ComputeReceipt): Promise<string> {
  return attestor.signTypedData(domain, COMPUTE_RECEIPT_TYPES, receipt);
}
