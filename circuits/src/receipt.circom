pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";

// One step up a Poseidon Merkle path: `isRight` = 1 puts the running node on the right.
template MerkleStep() {
    signal input node;
    signal input sibling;
    signal input isRight;
    signal output parent;

    isRight * (1 - isRight) === 0;
    signal left <== node + isRight * (sibling - node);
    signal right <== sibling + node - left;
    parent <== Poseidon(2)([left, right]);
}

// Privacy-preserving minting from a compute receipt, one fixed-denomination note at a time.
//
// A receipt (job, provider, units, price, resultHash, salt) is committed as
//   commitment = Poseidon(job, provider, units, price, resultHash, salt)
// and an attestor publishes Merkle roots (Poseidon, depth `depth`) of the commitments it vouches for. A receipt is
// minted as notes: one per set bit k of its units, worth 2^k units (the binary decomposition, so the notes of a
// receipt add up to exactly its units). The proof shows, without revealing which receipt: the commitment is a leaf
// under `root`; bit `denomination` of its units is set; and nullifier = Poseidon(job, salt, denomination), which
// the minter spends once. The chain learns only the denomination, which every receipt holding that bit shares (the
// units are public at settlement, so a whole-units amount would name the receipt). `recipient` and `rate` are
// bound so a copied proof cannot mint elsewhere or at another rate.
//
// Ranges: units < 2^64 (its bits), denomination in 0..63 (exactly one of the 64 selectors is 1), rate and price
// < 2^128, provider and recipient are addresses (< 2^160). The minter mints 2^denomination x rate itself.
template ReceiptNoteMint(depth) {
    signal input root;
    signal input nullifier;
    signal input recipient;
    signal input rate;
    signal input denomination;

    signal input job;
    signal input provider;
    signal input units;
    signal input price;
    signal input resultHash;
    signal input salt;
    signal input pathElements[depth];
    signal input pathIndices[depth];

    _ = Num2Bits(160)(recipient);
    _ = Num2Bits(160)(provider);
    _ = Num2Bits(128)(price);
    _ = Num2Bits(128)(rate);
    signal bits[64] <== Num2Bits(64)(units);

    // The note: bit `denomination` of units. isDenomination[i] = (denomination == i); exactly one is 1, so
    // denomination is in 0..63, and the bit it selects must be set (so units >= 1: no free mints).
    signal isDenomination[64];
    signal selected[64];
    var selectors = 0;
    var held = 0;
    for (var i = 0; i < 64; i++) {
        isDenomination[i] <== IsEqual()([denomination, i]);
        selected[i] <== isDenomination[i] * bits[i];
        selectors += isDenomination[i];
        held += selected[i];
    }
    selectors === 1;
    held === 1;

    // One nullifier per (receipt, denomination): each note spends once, and the notes of one receipt are unlinkable.
    signal commitment <== Poseidon(6)([job, provider, units, price, resultHash, salt]);
    signal expectedNullifier <== Poseidon(3)([job, salt, denomination]);
    nullifier === expectedNullifier;

    signal nodes[depth + 1];
    nodes[0] <== commitment;
    for (var i = 0; i < depth; i++) {
        nodes[i + 1] <== MerkleStep()(nodes[i], pathElements[i], pathIndices[i]);
    }
    root === nodes[depth];
}
