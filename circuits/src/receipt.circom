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

// Privacy-preserving minting from a compute receipt.
//
// A receipt (job, provider, units, price, resultHash, salt) is committed as
//   commitment = Poseidon(job, provider, units, price, resultHash, salt)
// and an attestor publishes Merkle roots (Poseidon, depth `depth`) of the commitments it vouches for. The proof
// shows, without revealing which receipt: the commitment is a leaf under `root`; amount = units x rate; and
// nullifier = Poseidon(job, salt), which the minter spends once. `recipient` is bound so a copied proof cannot mint
// elsewhere. Range checks keep every product below the field: units < 2^64, rate and price < 2^128,
// provider and recipient are addresses (< 2^160).
template ReceiptMint(depth) {
    signal input root;
    signal input nullifier;
    signal input recipient;
    signal input rate;
    signal input amount;

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
    _ = Num2Bits(64)(units);
    _ = Num2Bits(128)(price);
    _ = Num2Bits(128)(rate);

    // No free mints: at least one unit, and the amount is exactly units x rate (< 2^192, no wrap-around).
    signal noUnits <== IsZero()(units);
    noUnits === 0;
    amount === units * rate;

    signal commitment <== Poseidon(6)([job, provider, units, price, resultHash, salt]);
    signal expectedNullifier <== Poseidon(2)([job, salt]);
    nullifier === expectedNullifier;

    signal nodes[depth + 1];
    nodes[0] <== commitment;
    for (var i = 0; i < depth; i++) {
        nodes[i + 1] <== MerkleStep()(nodes[i], pathElements[i], pathIndices[i]);
    }
    root === nodes[depth];
}
