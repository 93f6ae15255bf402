pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";

// Verifiable inference of the quantized Iris MLP 4 -> 8 (ReLU) -> 3: the public outputHash commits to
// model(features) for the model whose weights hash to the public modelHash, and the public leaf binds the
// step's input and output (a workflow transcript leaf). JS reference, quantization and bounds:
// circuits/lib/iris.ts (keep the constants below in step with it).
//
// All arithmetic is exact integer arithmetic: no rescaling, every intermediate value stays far below the
// field size. A signed value v enters as the field element v mod p (negative v as p - |v|).
//
//   modelHash  = Poseidon([4, 8, 3, 10, 8, 16, 24, shift1, shift2, word0, word1, word2])       (12 inputs)
//   inputHash  = Poseidon(features[0..3], blind)
//   outputHash = Poseidon(predictedClass, scores[0], scores[1], scores[2], blind)
//   leaf       = Poseidon(inputHash, 0, outputHash): the transcript leaf of a workflow step that reads one
//                source whose hash is inputHash (circuits/lib/workflow.ts stepLeaf with 2 dependency slots)
//
// modelHash preimage (irisModelPreimage in iris.ts): a header [inputs, hidden, classes, feature scale, weight
// bits, b1 bits, b2 bits, shift1, shift2], then the 73 weights and biases packed. Each parameter v of a b-bit
// signed slot is stored as u = v + 2^(b-1) in [0, 2^b), little-endian, exactly the bits its SignedRange check
// decomposes it into. The slots are concatenated in the order w1 row-major (w1[j][i]: j hidden, i input),
// b1[0..7], w2 row-major (w2[k][j]: k class, j hidden), b2[0..2] into one 648-bit string (256 + 128 + 192 + 72);
// bit n of that string is bit n % 252 of word n \ 252 (a slot may straddle two words), so word0 and word1 hold
// 252 bits and word2 the last 144. A word is a sum of at most 252 boolean powers of two, an integer below
// 2^252 < p, so the words determine the bit string, hence the weights, uniquely (the packing is injective) and
// need no check of their own: they are linear combinations of the range-check bits, not witness inputs.
//
// blind: a secret random field element (31 bytes, made by the client, never derived from the data) that the
// input and output commitments carry, so that the chain's inputHash and outputHash cannot be opened by enumerating
// the 2^32 feature vectors. One blind per workload or workflow execution: whoever holds the inputs holds it (the
// client, the keeper, the step's provider); the chain never sees it. It is not range-checked: any field element
// hides the preimage as long as it is secret and uniform (protocol/values.ts makes and checks it off chain).

// `in`, read as a signed integer, lies in [-2^(bits-1), 2^(bits-1)); returns the bits of in + 2^(bits-1).
// Sound because bits < 253: a field element in + 2^(bits-1) that is a sum of `bits` boolean powers of two is an
// integer in [0, 2^bits), so `in` cannot wrap around the field (e.g. -1 = p - 1 passes only as -1).
template SignedRange(bits) {
    signal input in;
    signal output out[bits];

    assert(bits < 253);
    component n2b = Num2Bits(bits);
    n2b.in <== in + (1 << (bits - 1));
    for (var i = 0; i < bits; i++) out[i] <== n2b.out[i];
}

// out = max(in, 0) for `in` in [-2^(bits-1), 2^(bits-1)) (no witness otherwise). With u = in + 2^(bits-1) in
// [0, 2^bits), the top bit of u is 1 exactly when in >= 0, and it is unique (Num2Bits decomposes u uniquely).
template ReLU(bits) {
    signal input in;
    signal output out;

    component range = SignedRange(bits);
    range.in <== in;
    out <== range.out[bits - 1] * in;
}

template IrisInference() {
    var INPUTS = 4;
    var HIDDEN = 8;
    var CLASSES = 3;
    var FEATURE_SCALE = 10;
    var FEATURE_BITS = 8;   // features in [0, 255]
    var WEIGHT_BITS = 8;    // w1, w2 in [-128, 127]
    var B1_BITS = 16;       // b1 in [-2^15, 2^15)
    var B2_BITS = 24;       // b2 in [-2^23, 2^23)
    var SHIFT_BITS = 5;     // shift1, shift2 in [0, 31]
    // ReLU inputs: |w1 . x + b1| <= 4 * 128 * 255 + 2^15 < 2^18, so [-2^18, 2^18) always holds for in-range weights.
    var HIDDEN_BITS = 19;
    // Scores: |w2 . h + b2| <= 8 * 128 * 2^18 + 2^23 < 2^29, so [-2^29, 2^29) always holds.
    var SCORE_BITS = 30;
    assert(CLASSES == 3); // the argmax below is written out for three classes

    // Public inputs (the verifier's order: modelHash, inputHash, outputHash, leaf).
    signal input modelHash;
    signal input inputHash;
    signal input outputHash;
    signal input leaf;

    // Private inputs.
    signal input features[INPUTS];          // round(10 * cm)
    signal input shifts[2];                 // power-of-two scale exponents (committed, not used in arithmetic)
    signal input w1[HIDDEN][INPUTS];
    signal input b1[HIDDEN];
    signal input w2[CLASSES][HIDDEN];
    signal input b2[CLASSES];
    signal input scores[CLASSES];
    signal input predictedClass;
    signal input blind;                     // secret, shared by the input and output commitments (see the header)

    // --- Range checks on the committed model and the features.
    component featureBits[INPUTS];
    for (var i = 0; i < INPUTS; i++) {
        featureBits[i] = Num2Bits(FEATURE_BITS);
        featureBits[i].in <== features[i];
    }
    component shiftBits[2];
    for (var s = 0; s < 2; s++) {
        shiftBits[s] = Num2Bits(SHIFT_BITS);
        shiftBits[s].in <== shifts[s];
    }
    component w1Range[HIDDEN][INPUTS];
    component b1Range[HIDDEN];
    for (var j = 0; j < HIDDEN; j++) {
        for (var i = 0; i < INPUTS; i++) {
            w1Range[j][i] = SignedRange(WEIGHT_BITS);
            w1Range[j][i].in <== w1[j][i];
        }
        b1Range[j] = SignedRange(B1_BITS);
        b1Range[j].in <== b1[j];
    }
    component w2Range[CLASSES][HIDDEN];
    component b2Range[CLASSES];
    for (var k = 0; k < CLASSES; k++) {
        for (var j = 0; j < HIDDEN; j++) {
            w2Range[k][j] = SignedRange(WEIGHT_BITS);
            w2Range[k][j].in <== w2[k][j];
        }
        b2Range[k] = SignedRange(B2_BITS);
        b2Range[k].in <== b2[k];
    }

    // --- The weights are the committed model: the range checks' bits, packed (see the header), under one Poseidon.
    var PARAM_BITS = HIDDEN * INPUTS * WEIGHT_BITS + HIDDEN * B1_BITS + CLASSES * HIDDEN * WEIGHT_BITS + CLASSES * B2_BITS;
    var WORD_BITS = 252;
    var WORDS = (PARAM_BITS + WORD_BITS - 1) \ WORD_BITS;
    assert(PARAM_BITS == 648 && WORDS == 3); // the layout the header above and iris.ts describe
    var HEADER = 9;
    // words[w] accumulates bit n of the parameter string, as 2^(n % WORD_BITS), into word n \ WORD_BITS.
    var words[WORDS];
    for (var w = 0; w < WORDS; w++) words[w] = 0;
    var n = 0;
    for (var j = 0; j < HIDDEN; j++) {
        for (var i = 0; i < INPUTS; i++) {
            for (var b = 0; b < WEIGHT_BITS; b++) {
                words[n \ WORD_BITS] += w1Range[j][i].out[b] * (1 << (n % WORD_BITS));
                n++;
            }
        }
    }
    for (var j = 0; j < HIDDEN; j++) {
        for (var b = 0; b < B1_BITS; b++) {
            words[n \ WORD_BITS] += b1Range[j].out[b] * (1 << (n % WORD_BITS));
            n++;
        }
    }
    for (var k = 0; k < CLASSES; k++) {
        for (var j = 0; j < HIDDEN; j++) {
            for (var b = 0; b < WEIGHT_BITS; b++) {
                words[n \ WORD_BITS] += w2Range[k][j].out[b] * (1 << (n % WORD_BITS));
                n++;
            }
        }
    }
    for (var k = 0; k < CLASSES; k++) {
        for (var b = 0; b < B2_BITS; b++) {
            words[n \ WORD_BITS] += b2Range[k].out[b] * (1 << (n % WORD_BITS));
            n++;
        }
    }
    assert(n == PARAM_BITS);
    component model = Poseidon(HEADER + WORDS);
    model.inputs[0] <== INPUTS;
    model.inputs[1] <== HIDDEN;
    model.inputs[2] <== CLASSES;
    model.inputs[3] <== FEATURE_SCALE;
    model.inputs[4] <== WEIGHT_BITS;
    model.inputs[5] <== B1_BITS;
    model.inputs[6] <== B2_BITS;
    model.inputs[7] <== shifts[0];
    model.inputs[8] <== shifts[1];
    for (var w = 0; w < WORDS; w++) model.inputs[HEADER + w] <== words[w];
    modelHash === model.out;

    // --- Hidden layer: hidden[j] = ReLU(w1[j] . features + b1[j]).
    signal prod1[HIDDEN][INPUTS];
    component relu[HIDDEN];
    signal hidden[HIDDEN];
    for (var j = 0; j < HIDDEN; j++) {
        var acc = b1[j];
        for (var i = 0; i < INPUTS; i++) {
            prod1[j][i] <== w1[j][i] * features[i];
            acc += prod1[j][i];
        }
        relu[j] = ReLU(HIDDEN_BITS);
        relu[j].in <== acc;
        hidden[j] <== relu[j].out;
    }

    // --- Output layer: scores[k] = w2[k] . hidden + b2[k], range-checked so the comparisons below are sound.
    signal prod2[CLASSES][HIDDEN];
    component scoreRange[CLASSES];
    for (var k = 0; k < CLASSES; k++) {
        var acc = b2[k];
        for (var j = 0; j < HIDDEN; j++) {
            prod2[k][j] <== w2[k][j] * hidden[j];
            acc += prod2[k][j];
        }
        scores[k] === acc;
        scoreRange[k] = SignedRange(SCORE_BITS);
        scoreRange[k].in <== scores[k];
    }

    // --- predictedClass = argmax(scores), ties to the lowest index. With u = score + 2^29 in [0, 2^30) (checked
    // above, as LessThan(30) requires), up[a][b] = 1 iff scores[b] > scores[a], for a < b.
    var OFFSET = 1 << (SCORE_BITS - 1);
    component up[CLASSES][CLASSES];
    for (var a = 0; a < CLASSES; a++) {
        for (var b = a + 1; b < CLASSES; b++) {
            up[a][b] = LessThan(SCORE_BITS);
            up[a][b].in[0] <== scores[a] + OFFSET;
            up[a][b].in[1] <== scores[b] + OFFSET;
        }
    }
    // Class c wins iff it beats every lower index strictly (up[a][c] = 1) and every higher one weakly (up[c][b] = 0).
    signal isMax[CLASSES];
    isMax[0] <== (1 - up[0][1].out) * (1 - up[0][2].out);
    isMax[1] <== up[0][1].out * (1 - up[1][2].out);
    isMax[2] <== up[0][2].out * up[1][2].out;
    // The comparisons are a total preorder, so exactly one class wins; the sum check keeps that explicit.
    isMax[0] + isMax[1] + isMax[2] === 1;
    predictedClass === isMax[1] + 2 * isMax[2];

    // --- Input, output and transcript-leaf commitments, the first two blinded.
    component inHash = Poseidon(INPUTS + 1);
    for (var i = 0; i < INPUTS; i++) inHash.inputs[i] <== features[i];
    inHash.inputs[INPUTS] <== blind;
    inputHash === inHash.out;

    component outHash = Poseidon(1 + CLASSES + 1);
    outHash.inputs[0] <== predictedClass;
    for (var k = 0; k < CLASSES; k++) outHash.inputs[1 + k] <== scores[k];
    outHash.inputs[1 + CLASSES] <== blind;
    outputHash === outHash.out;

    component leafHash = Poseidon(3);
    leafHash.inputs[0] <== inputHash;
    leafHash.inputs[1] <== 0;
    leafHash.inputs[2] <== outputHash;
    leaf === leafHash.out;
}
