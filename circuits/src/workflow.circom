pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";
include "lib/hash.circom";

// in[sel] for a table of 2^bits entries and the little-endian bits of sel: a binary tree of 2^bits - 1 muxes.
template TreeMux(bits) {
    var n = 1 << bits;
    signal input in[n];
    signal input sel[bits];
    signal output out;

    signal level[2 * n - 1];
    for (var i = 0; i < n; i++) level[n - 1 + i] <== in[i];
    // Node k's children are 2k+1 and 2k+2; the nodes at depth d (from the root) choose by bit bits-1-d.
    for (var k = n - 2; k >= 0; k--) {
        var d = 0;
        var m = k + 1;
        while (m > 1) { m = m >> 1; d++; }
        level[k] <== level[2 * k + 1] + sel[bits - 1 - d] * (level[2 * k + 2] - level[2 * k + 1]);
    }
    out <== level[0];
}

// One chunk of a workflow execution transcript.
//
// The transcript of an execution of n <= N steps is one output hash per step, outs[0..N) (entries past n unused).
// Step i reads exactly its dependencies (at most K, listed by the workflow, ascending, each < i), or the client's
// inputs if it has none, and its record on chain (the leaf its provider signs) commits to what it read and wrote:
//   leaf_i = Poseidon(x_0, .., x_{K-1}, out_i),  x_k = the output hash of its k-th dependency (0 past the last),
//   except that a root step (no dependency) reads the client's inputsHash as x_0.
// (The public dependency list fixes how many x_k are real, so the zero padding is unambiguous.)
// A chunk proves this for steps start .. start+C-1 against the public commitment outputsRoot = PoseidonMany(outs);
// the contract requires every chunk of an execution to use the same outputsRoot, so chunks chain into one
// transcript, and resultHash = outs[n-1] (the last step's output is the workflow's result).
//
// Public inputs (the contract builds them from chain state and the recorded leaves):
//   outputsRoot, inputsHash, start (a multiple of C), stepCount (n), resultHash,
//   deps: per step K slots of 7 bits (dependency index + 1; 0 = none), floor(252 / (7 K)) steps per element (18 for K = 2),
//   leaves: the chunk's recorded leaves (0 past step n - 1).
template WorkflowChunk(C, N, K) {
    var LOGN = 0;
    while ((1 << LOGN) < N) LOGN++;
    assert((1 << LOGN) == N && N <= 127 && N % C == 0 && K >= 1);
    var SLOT_BITS = 7;
    var PER_ELEMENT = 252 \ (SLOT_BITS * K);
    var D = (C + PER_ELEMENT - 1) \ PER_ELEMENT;
    var CHUNKS = N \ C;

    signal input outputsRoot;
    signal input inputsHash;
    signal input start;
    signal input stepCount;
    signal input resultHash;
    signal input deps[D];
    signal input leaves[C];

    signal input outs[N];

    signal root <== PoseidonMany(N)(outs);
    outputsRoot === root;

    // stepCount in [1, N]; resultHash = outs[stepCount - 1].
    signal lastBits[LOGN] <== Num2Bits(LOGN)(stepCount - 1);
    signal last <== TreeMux(LOGN)(outs, lastBits);
    resultHash === last;

    // start = chunk * C for one chunk < N / C.
    signal chunkSel[CHUNKS];
    var selSum = 0;
    var selStart = 0;
    for (var k = 0; k < CHUNKS; k++) {
        chunkSel[k] <-- start == k * C ? 1 : 0;
        chunkSel[k] * (1 - chunkSel[k]) === 0;
        selSum += chunkSel[k];
        selStart += chunkSel[k] * k * C;
    }
    selSum === 1;
    start === selStart;

    // Dependency slots, unpacked from the public elements (252 bits < the field: the decomposition is unique).
    signal depBits[D][252];
    for (var e = 0; e < D; e++) depBits[e] <== Num2Bits(252)(deps[e]);

    signal active[C];
    signal own[C][CHUNKS];
    signal out[C];
    signal slotNone[C][K];
    signal slotIndexBits[C][K][LOGN];
    signal slotValue[C][K];
    signal depOut[C][K];
    signal firstInput[C];
    signal leafHash[C];

    for (var l = 0; l < C; l++) {
        active[l] <== LessThan(8)([start + l, stepCount]);

        // This step's own output: outs[start + l].
        var o = 0;
        for (var k = 0; k < CHUNKS; k++) {
            own[l][k] <== chunkSel[k] * outs[k * C + l];
            o += own[l][k];
        }
        out[l] <== o;

        for (var s = 0; s < K; s++) {
            var bit0 = ((l % PER_ELEMENT) * K + s) * SLOT_BITS;
            var slot = 0;
            for (var b = 0; b < SLOT_BITS; b++) slot += depBits[l \ PER_ELEMENT][bit0 + b] * (1 << b);
            slotNone[l][s] <== IsZero()(slot);
            // The dependency's index (slot - 1), or 0 for an empty slot, as LOGN bits: slots hold indices < N.
            slotIndexBits[l][s] <== Num2Bits(LOGN)(slot - 1 + slotNone[l][s]);
            slotValue[l][s] <== TreeMux(LOGN)(outs, slotIndexBits[l][s]);
            depOut[l][s] <== (1 - slotNone[l][s]) * slotValue[l][s];
        }

        // Slots fill in order (an empty slot is followed by empty ones), as the contract packs them: so "slot 0
        // empty" means a root.
        for (var s = 0; s + 1 < K; s++) slotNone[l][s] * (1 - slotNone[l][s + 1]) === 0;

        // A root step (first slot empty) reads the client's inputs.
        firstInput[l] <== depOut[l][0] + slotNone[l][0] * inputsHash;
        var xs[K + 1];
        xs[0] = firstInput[l];
        for (var s = 1; s < K; s++) xs[s] = depOut[l][s];
        xs[K] = out[l];
        leafHash[l] <== Poseidon(K + 1)(xs);
        leaves[l] === active[l] * leafHash[l];
    }
}
