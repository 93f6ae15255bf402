// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A Groth16 proof as the generated verifiers take it (G2 coordinates in the EVM's order).
struct Groth16Proof {
    uint256[2] a;
    uint256[2][2] b;
    uint256[2] c;
}

/// @dev The BN254 scalar field: every public signal must lie below it (the verifiers return false otherwise).
uint256 constant SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

/// @notice contracts/zk/verifiers/ReceiptVerifier.sol (circuit "receipt"): root, nullifier, recipient, rate, amount.
interface IReceiptVerifier {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[5] calldata pubSignals
    ) external view returns (bool);
}

/// @notice contracts/zk/verifiers/WorkflowVerifier.sol (circuit "workflow"): outputsRoot, inputsHash, start,
/// stepCount, resultHash, deps[2], leaves[32].
interface IWorkflowVerifier {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[39] calldata pubSignals
    ) external view returns (bool);
}

/// @notice contracts/zk/verifiers/InferenceVerifier.sol (circuit "inference"): modelHash, inputHash, outputHash,
/// leaf.
interface IInferenceVerifier {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[4] calldata pubSignals
    ) external view returns (bool);
}
