// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Groth16Proof} from "./IZkVerifiers.sol";

/// @title IReceiptMinter
/// @notice Privacy-preserving minting (the receipt circuit, circuits/src/receipt.circom). An attestor vouches for
/// compute receipts by publishing Poseidon Merkle roots of their commitments
/// Poseidon(job, provider, units, price, resultHash, salt); whoever knows a receipt's opening (the provider, who
/// chose the salt) mints units × rewardRate to a recipient of its choice with a Groth16 proof, revealing neither
/// the receipt nor which commitment it is. Each receipt's nullifier Poseidon(job, salt) is spent once. The proof
/// itself is never a key: Groth16 proofs are malleable.
/// @dev Trust: the nullifier depends on the provider's salt, so the attestor must admit one commitment per job
/// (circuits/lib/receipt.ts ReceiptTree.insertReceipt) and not also sign that job's receipt for
/// {IAIToken-mintFromReceipt}; published roots stay valid forever.
interface IReceiptMinter {
    error ReceiptMinterZeroAddress();
    error ReceiptMinterInvalidRoot(uint256 root);
    error ReceiptMinterRootExists(uint256 root);
    error ReceiptMinterUnknownRoot(uint256 root);
    error ReceiptMinterNullifierSpent(uint256 nullifier);
    error ReceiptMinterInvalidField(string field, uint256 value);
    error ReceiptMinterZeroRate();
    error ReceiptMinterInvalidAmount(uint256 amount, uint256 rate);
    error ReceiptMinterInvalidProof();

    event RootPublished(uint256 indexed root, address indexed attestor);
    event ProofMinted(uint256 indexed nullifier, uint256 indexed root, address indexed recipient, uint256 amount);

    /// @notice An attestor publishes the root of its receipt tree (attestor role). Every published root stays valid.
    function publishRoot(uint256 root) external;

    /// @notice Mints `amount` to `recipient` against a receipt proof under a published `root`. Anyone may submit
    /// it (the proof binds the recipient). `amount` must equal units × the token's reward rate now.
    function mint(
        Groth16Proof calldata proof,
        uint256 root,
        uint256 nullifier,
        address recipient,
        uint256 amount
    ) external returns (uint256 minted);

    function isKnownRoot(uint256 root) external view returns (bool);

    function isSpent(uint256 nullifier) external view returns (bool);
}
