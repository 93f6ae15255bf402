/**
 * The WorkflowLedger's record tree (contracts/workflows/WorkflowLedger.sol): leaves, the tree over them, its root,
 * and the proofs the ledger checks with OpenZeppelin's MerkleProof (sorted-pair keccak256; a single proof for a
 * challenge, a multiproof for a claim of many leaves). The layout is OpenZeppelin's StandardMerkleTree's: leaves
 * sorted by hash, stored as a complete binary tree in an array (root at 0, children of i at 2i+1 and 2i+2).
 *
 * A leaf: keccak256(bytes.concat(keccak256(abi.encode(uint256 executionId, uint16 step, address provider,
 * uint256 cost, bytes32 detailHash)))), detailHash = keccak256(abi.encode(bytes32 inputHash, bytes32 outputHash,
 * keccak256(signature))), the signature being the provider's EIP-712 StepResult (protocol/eip712.ts).
 */
import { concat, encodeAbiParameters, keccak256, type Hex } from "viem";

/** One committed step record, as the keeper holds it (the provider's signed StepResult plus its provider). */
export interface LedgerRecord {
  executionId: bigint;
  step: number;
  provider: Hex;
  inputHash: Hex;
  outputHash: Hex;
  cost: bigint;
  signature: Hex;
}

/** What a claim or a DAG/budget challenge shows of a record (IWorkflowLedger.Leaf). */
export interface LedgerLeaf {
  executionId: bigint;
  step: number;
  cost: bigint;
  detailHash: Hex;
}

/** keccak256(abi.encode(inputHash, outputHash, keccak256(signature))). */
export function detailHash(r: Pick<LedgerRecord, "inputHash" | "outputHash" | "signature">): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }],
      [r.inputHash, r.outputHash, keccak256(r.signature)],
    ),
  );
}

/** The leaf of a record (double-hashed, as StandardMerkleTree's). */
export function leafHash(r: LedgerRecord): Hex {
  const inner = keccak256(
    encodeAbiParameters(
      [{ type: "uint256" }, { type: "uint16" }, { type: "address" }, { type: "uint256" }, { type: "bytes32" }],
      [r.executionId, r.step, r.provider, r.cost, detailHash(r)],
    ),
  );
  return keccak256(inner);
}

/** The claim form of a record. */
export function toLeaf(r: LedgerRecord): LedgerLeaf {
  return { executionId: r.executionId, step: r.step, cost: r.cost, detailHash: detailHash(r) };
}

function hashPair(a: Hex, b: Hex): Hex {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

const parent = (i: number) => Math.floor((i - 1) / 2);
const sibling = (i: number) => (i % 2 === 1 ? i + 1 : i - 1);

/** An OpenZeppelin multiproof: `leaves` in the order the contract must receive them. */
export interface MultiProof<T> {
  leaves: T[];
  proof: Hex[];
  proofFlags: boolean[];
}

/** The tree over a set of records (of one execution or many). */
export class RecordTree {
  readonly records: LedgerRecord[];
  private readonly tree: Hex[];
  /** Tree index of each record, by record position. */
  private readonly at: number[];

  constructor(records: LedgerRecord[]) {
    if (records.length === 0) throw new Error("records: a record tree needs at least one record");
    const hashed = records.map((r, i) => ({ i, hash: leafHash(r) }));
    const seen = new Set<string>();
    for (const h of hashed) {
      if (seen.has(h.hash)) throw new Error(`records: record ${h.i} is a duplicate`);
      seen.add(h.hash);
    }
    hashed.sort((a, b) => (BigInt(a.hash) < BigInt(b.hash) ? -1 : 1));
    const size = 2 * hashed.length - 1;
    this.tree = new Array<Hex>(size);
    this.at = new Array<number>(records.length);
    hashed.forEach((h, k) => {
      this.tree[size - 1 - k] = h.hash;
      this.at[h.i] = size - 1 - k;
    });
    for (let i = size - 1 - hashed.length; i >= 0; --i) {
      this.tree[i] = hashPair(this.tree[2 * i + 1] as Hex, this.tree[2 * i + 2] as Hex);
    }
    this.records = records;
  }

  get root(): Hex {
    return this.tree[0] as Hex;
  }

  private index(position: number): number {
    const i = this.at[position];
    if (i === undefined) throw new Error(`record ${position}: not in the tree`);
    return i;
  }

  /** The proof of one record (by its position in `records`), for a challenge. */
  proof(position: number): Hex[] {
    const proof: Hex[] = [];
    for (let i = this.index(position); i > 0; i = parent(i)) proof.push(this.tree[sibling(i)] as Hex);
    return proof;
  }

  /** A multiproof of some records (by position), for a claim: the records come back in the proof's order. */
  multiProof(positions: number[]): MultiProof<LedgerRecord> {
    if (positions.length === 0) throw new Error("positions: a multiproof needs at least one record");
    const byIndex = new Map(positions.map((p) => [this.index(p), p] as const));
    if (byIndex.size !== positions.length) throw new Error("positions: a record is named twice");
    const indices = [...byIndex.keys()].sort((a, b) => b - a);
    const stack = [...indices];
    const proof: Hex[] = [];
    const proofFlags: boolean[] = [];
    while (stack.length > 0 && (stack[0] as number) > 0) {
      const j = stack.shift() as number;
      const s = sibling(j);
      if (s === stack[0]) {
        proofFlags.push(true);
        stack.shift();
      } else {
        proofFlags.push(false);
        proof.push(this.tree[s] as Hex);
      }
      stack.push(parent(j));
    }
    const leaves = indices.map((i) => this.records[byIndex.get(i) as number] as LedgerRecord);
    return { leaves, proof, proofFlags };
  }

  /** Positions of the records of `provider` (case-insensitive address), optionally of one execution. */
  positionsOf(provider: Hex, executionId?: bigint): number[] {
    const p = provider.toLowerCase();
    return this.records.flatMap((r, i) =>
      r.provider.toLowerCase() === p && (executionId === undefined || r.executionId === executionId) ? [i] : [],
    );
  }
}
