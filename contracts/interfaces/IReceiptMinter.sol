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
    /// @notice A constructor argument is the zero address.
    error ReceiptMinterZeroAddress();

    /// @notice A root must be a non-zero BN254 scalar field element.
    error ReceiptMinterInvalidRoot(uint256 root);

    /// @notice The root was published already.
    error ReceiptMinterRootExists(uint256 root);

    /// @notice No attestor published this root.
    error ReceiptMinterUnknownRoot(uint256 root);

    /// @notice The receipt behind this nullifier was minted already.
    error ReceiptMinterNullifierSpent(uint256 nullifier);

    /// @notice A public signal is not a BN254 scalar field element.
    /// @param field Its name (nullifier).
    error ReceiptMinterInvalidField(string field, uint256 value);

    /// @notice The token's reward rate is zero, so no amount is a whole number of units.
    error ReceiptMinterZeroRate();

    /// @notice `amount` must be a non-zero multiple of the token's reward rate `rate` (units × rate), of fewer than
    /// 2^64 units: the receipt circuit proves units < 2^64.
    error ReceiptMinterInvalidAmount(uint256 amount, uint256 rate);

    /// @notice The receipt proof does not verify for the root, nullifier, recipient, rate and amount given.
    error ReceiptMinterInvalidProof();

    /// @notice `attestor` published the root of a receipt tree; it stays valid for ever.
    event RootPublished(uint256 indexed root, address indexed attestor);

    /// @notice A receipt proof under `root` minted `amount` to `recipient`, spending `nullifier`.
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
