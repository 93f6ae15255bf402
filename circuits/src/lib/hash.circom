pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";

// Poseidon over n >= 1 inputs. Up to 16 hash at once (circomlib's Poseidon(n)); beyond that the first 16 hash,
// then each further group of up to 15 hashes with the running value. Mirrors poseidonMany in circuits/lib/field.ts.
template PoseidonMany(n) {
    signal input in[n];
    signal output out;

    if (n <= 16) {
        component h = Poseidon(n);
        for (var i = 0; i < n; i++) h.inputs[i] <== in[i];
        out <== h.out;
    } else {
        var rounds = 1 + (n - 16 + 14) \ 15;
        component hs[rounds];
        hs[0] = Poseidon(16);
        for (var i = 0; i < 16; i++) hs[0].inputs[i] <== in[i];
        var next = 16;
        for (var r = 1; r < rounds; r++) {
            var take = n - next < 15 ? n - next : 15;
            hs[r] = Poseidon(take + 1);
            hs[r].inputs[0] <== hs[r - 1].out;
            for (var i = 0; i < take; i++) hs[r].inputs[i + 1] <== in[next + i];
            next += take;
        }
        out <== hs[rounds - 1].out;
    }
}
