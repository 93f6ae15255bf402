// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Groth16Proof} from "./IZkVerifiers.sol";

/// @title IReceiptMinter
/// @notice Privacy-preserving minting (the receipt circuit, circuits/src/receipt.circom). An attestor vouches for
/// compute receipts by publishing Poseidon Merkle roots of their commitments
/// Poseidon(job, provider, units, price, resultHash, salt); whoever knows a receipt's opening (the provider, who
/// chose the salt) mints it as fixed-denomination notes, one per set bit k of its units, each worth 2^k units ×
/// rewardRate, to a recipient of its choice, with one Groth16 proof per note revealing neither the receipt nor which
/// commitment it is. The marketplace emits every receipt's units at settlement, so a mint of a receipt's whole
/// units would name the receipt; a note of 2^k units could come from any receipt under the root with bit k set.
/// Each note's nullifier Poseidon(job, salt, k) is spent once; the notes of a receipt add up to exactly its units.
/// The proof itself is never a key: Groth16 proofs are malleable.
/// @dev Trust: the nullifiers depend on the provider's salt, so the attestor must admit one commitment per job
/// (circuits/lib/receipt.ts ReceiptTree.insertReceipt) and not also sign that job's receipt for
/// {IAIToken-mintFromReceipt}; published roots stay valid forever. Privacy: what still leaks (the root, the
/// recipient, the time, notes minted together) is in docs/design.md.
interface IReceiptMinter {
    /// @notice A constructor argument is the zero address.
    error ReceiptMinterZeroAddress();

    /// @notice A root must be a non-zero BN254 scalar field element.
    error ReceiptMinterInvalidRoot(uint256 root);

    /// @notice The root was published already.
    error ReceiptMinterRootExists(uint256 root);

    /// @notice No attestor published this root.
    error ReceiptMinterUnknownRoot(uint256 root);

    /// @notice The note behind this nullifier was minted already.
    error ReceiptMinterNullifierSpent(uint256 nullifier);

    /// @notice A note is 2^denomination units with denomination < {NOTE_BITS} (the receipt circuit proves units
    /// < 2^64).
    error ReceiptMinterInvalidDenomination(uint256 denomination);

    /// @notice A public signal is not a BN254 scalar field element.
    /// @param field Its name (nullifier).
    error ReceiptMinterInvalidField(string field, uint256 value);

    /// @notice The token's reward rate is zero: a note would mint nothing.
    error ReceiptMinterZeroRate();

    /// @notice The receipt proof does not verify for the root, nullifier, recipient, the token's rate and the
    /// denomination given (among others: the receipt holds no note of that denomination).
    error ReceiptMinterInvalidProof();

    /// @notice `attestor` published the root of a receipt tree; it stays valid for ever.
    event RootPublished(uint256 indexed root, address indexed attestor);

    /// @notice A receipt note of 2^`denomination` units, proven under `root`, minted `amount` (2^denomination ×
    /// the reward rate) to `recipient`, spending `nullifier`.
    event ProofMinted(
        uint256 indexed nullifier,
        uint256 indexed root,
        address indexed recipient,
        uint256 denomination,
        uint256 amount
    );

    /// @notice An attestor publishes the root of its receipt tree (attestor role). Every published root stays valid.
    function publishRoot(uint256 root) external;

    /// @notice Bits of a receipt's units, so denominations 0 .. NOTE_BITS − 1.
    function NOTE_BITS() external view returns (uint256);

    /// @notice Mints one receipt note, 2^`denomination` units × the token's reward rate, to `recipient` against a
    /// receipt proof under a published `root`, and spends its `nullifier`. Anyone may submit it (the proof binds
    /// the recipient, and the rate it was made for: the token's rate now).
    /// @return minted The amount minted, 2^denomination × rewardRate.
    function mint(
        Groth16Proof calldata proof,
        uint256 root,
        uint256 nullifier,
        address recipient,
        uint256 denomination
    ) external returns (uint256 minted);

    function isKnownRoot(uint256 root) external view returns (bool);

    function isSpent(uint256 nullifier) external view returns (bool);
}
