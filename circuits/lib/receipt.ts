/**
 * Privacy-preserving compute receipts (circuits/src/receipt.circom): commitments, the receipt's notes (one of 2^k
 * units per set bit k of its units) and their nullifiers, the attestor's Poseidon Merkle tree of commitments, and
 * the receipt circuit's input.
 */
import { RECEIPT_NOTE_BITS, RECEIPT_TREE_DEPTH } from "../circuits.js";
import { FIELD_MODULUS, fieldElement, poseidonHash, uintBits } from "./field.js";

/** The private receipt behind a commitment. `salt` is the provider's secret: keep it. */
export interface PrivateReceipt {
  /** The job, as a field element (see jobFromReceiptId). */
  readonly job: bigint;
  readonly provider: bigint;
  readonly units: bigint;
  /** Price per unit the client paid, in token wei. */
  readonly price: bigint;
  readonly resultHash: bigint;
  readonly salt: bigint;
}

/** A marketplace receipt id (bytes32) as the job field element. */
export function jobFromReceiptId(receiptId: string): bigint {
  if (!/^0x[0-9a-fA-F]{64}$/.test(receiptId)) throw new Error("receiptId: expected a 0x-prefixed 32-byte hex string");
  return BigInt(receiptId) % FIELD_MODULUS;
}

/** Validates every field (range and field bounds) with a message naming it. */
export function checkReceipt(r: PrivateReceipt): PrivateReceipt {
  const units = uintBits("units", r.units, 64);
  if (units === 0n) throw new Error("units: must be at least 1");
  return {
    job: fieldElement("job", r.job),
    provider: uintBits("provider", r.provider, 160),
    units,
    price: uintBits("price", r.price, 128),
    resultHash: fieldElement("resultHash", r.resultHash),
    salt: fieldElement("salt", r.salt),
  };
}

export function receiptCommitment(receipt: PrivateReceipt): bigint {
  const r = checkReceipt(receipt);
  return poseidonHash([r.job, r.provider, r.units, r.price, r.resultHash, r.salt]);
}

/**
 * The denominations of a receipt's notes: the set bits k of `units`, ascending; note k is worth 2^k units, so the
 * notes add up to exactly `units`.
 */
export function receiptNotes(units: bigint): number[] {
  const u = uintBits("units", units, RECEIPT_NOTE_BITS);
  if (u === 0n) throw new Error("units: must be at least 1");
  const notes: number[] = [];
  for (let k = 0; k < RECEIPT_NOTE_BITS; k++) if ((u >> BigInt(k)) & 1n) notes.push(k);
  return notes;
}

/** Checks that `denomination` is a note of the receipt (a set bit of its units), naming the field. */
export function checkDenomination(receipt: PrivateReceipt, denomination: number): number {
  if (!Number.isInteger(denomination) || denomination < 0 || denomination >= RECEIPT_NOTE_BITS) {
    throw new Error(`denomination: ${denomination} is not an integer in 0..${RECEIPT_NOTE_BITS - 1}`);
  }
  const notes = receiptNotes(receipt.units);
  if (!notes.includes(denomination)) {
    throw new Error(
      `denomination: the receipt's ${receipt.units} units hold no note of 2^${denomination} units (its notes: 2^${notes.join(", 2^")})`,
    );
  }
  return denomination;
}

/** Units of the note of denomination `denomination`: 2^denomination. */
export function noteUnits(denomination: number): bigint {
  return 1n << BigInt(denomination);
}

/** The nullifier of the receipt's note `denomination`: Poseidon(job, salt, denomination). */
export function noteNullifier(receipt: PrivateReceipt, denomination: number): bigint {
  const r = checkReceipt(receipt);
  return poseidonHash([r.job, r.salt, BigInt(checkDenomination(r, denomination))]);
}

export interface MerklePath {
  readonly pathElements: bigint[];
  readonly pathIndices: number[];
}

/**
 * An append-only Poseidon Merkle tree with zero leaves (the attestor's tree of receipt commitments).
 *
 * The note nullifiers Poseidon(job, salt, k) depend on the provider's salt, so two commitments to one job would
 * mint twice: an attestor must admit one commitment per job (and must not also sign that job's receipt for the
 * signature door). {insertReceipt} enforces the first rule for the jobs this tree has seen.
 */
export class ReceiptTree {
  readonly depth: number;
  readonly #levels: bigint[][];
  readonly #zeros: bigint[];
  readonly #jobs = new Set<bigint>();

  constructor(depth = RECEIPT_TREE_DEPTH) {
    this.depth = depth;
    this.#zeros = [0n];
    for (let i = 0; i < depth; i++) {
      const z = this.#zeros[i] ?? 0n;
      this.#zeros.push(poseidonHash([z, z]));
    }
    this.#levels = Array.from({ length: depth + 1 }, () => []);
  }

  get size(): number {
    return this.#levels[0]?.length ?? 0;
  }

  /** Appends the commitment of `receipt` (checked) unless its job already has one; returns its index. */
  insertReceipt(receipt: PrivateReceipt): number {
    const r = checkReceipt(receipt);
    if (this.#jobs.has(r.job)) throw new Error(`job: ${r.job} already has a commitment in the tree`);
    const index = this.insert(receiptCommitment(r));
    this.#jobs.add(r.job);
    return index;
  }

  /** Appends a commitment and returns its index (see {insertReceipt} for the one-per-job rule). */
  insert(commitment: bigint): number {
    const leaves = this.#level(0);
    if (leaves.length >= 2 ** this.depth) throw new Error(`receipt tree: full (${leaves.length} leaves)`);
    if (leaves.includes(commitment)) throw new Error("commitment: already in the tree");
    let index = leaves.length;
    leaves.push(fieldElement("commitment", commitment));
    let node = commitment;
    for (let level = 0; level < this.depth; level++) {
      const sibling = this.#node(level, index ^ 1);
      node = index % 2 === 0 ? poseidonHash([node, sibling]) : poseidonHash([sibling, node]);
      index = Math.floor(index / 2);
      const parents = this.#level(level + 1);
      parents[index] = node;
    }
    return leaves.length - 1;
  }

  get root(): bigint {
    return this.#node(this.depth, 0);
  }

  indexOf(commitment: bigint): number {
    return this.#level(0).indexOf(commitment);
  }

  path(index: number): MerklePath {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new Error(`index: no leaf ${index}`);
    const pathElements: bigint[] = [];
    const pathIndices: number[] = [];
    let i = index;
    for (let level = 0; level < this.depth; level++) {
      pathElements.push(this.#node(level, i ^ 1));
      pathIndices.push(i % 2);
      i = Math.floor(i / 2);
    }
    return { pathElements, pathIndices };
  }

  #level(level: number): bigint[] {
    const nodes = this.#levels[level];
    if (nodes === undefined) throw new Error(`receipt tree: no level ${level}`);
    return nodes;
  }

  #node(level: number, index: number): bigint {
    return this.#level(level)[index] ?? this.#zeros[level] ?? 0n;
  }
}

/** The public signals of a note mint, in the verifier's order. The note mints 2^denomination × rate. */
export interface ReceiptMintStatement {
  readonly root: bigint;
  readonly nullifier: bigint;
  readonly recipient: bigint;
  readonly rate: bigint;
  readonly denomination: bigint;
}

/**
 * The receipt circuit's input for the receipt's note `denomination` (one of {receiptNotes}): the public statement
 * and the private receipt and path. Mint each note on its own, to its own recipient, at its own time: notes
 * minted together or to one address add back up to the receipt's units.
 */
export function receiptNoteProofInput(
  receipt: PrivateReceipt,
  denomination: number,
  tree: ReceiptTree,
  recipient: bigint,
  rate: bigint,
): { statement: ReceiptMintStatement; input: Record<string, bigint | bigint[] | number[]> } {
  const r = checkReceipt(receipt);
  const index = tree.indexOf(receiptCommitment(r));
  if (index < 0) throw new Error("receipt: its commitment is not in the tree");
  const rateValue = uintBits("rate", rate, 128);
  if (rateValue === 0n) throw new Error("rate: must be positive");
  const statement: ReceiptMintStatement = {
    root: tree.root,
    nullifier: noteNullifier(r, denomination),
    recipient: uintBits("recipient", recipient, 160),
    rate: rateValue,
    denomination: BigInt(denomination),
  };
  const { pathElements, pathIndices } = tree.path(index);
  return {
    statement,
    input: { ...statement, ...r, pathElements, pathIndices },
  };
}
