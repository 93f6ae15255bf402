// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IAIToken
/// @notice AITBC: an ERC-20 with EIP-2612 permit whose new supply is minted only against verified compute
/// receipts. Two doors lead to one internal gate: an EIP-712 receipt signed by an attestor ({mintFromReceipt},
/// {mintFromReceipts}), and a receipt that a coordinator module verified by other means, such as a Groth16
/// proof ({mintFromVerifiedReceipt}). Each spends a receipt key exactly once; the keys of the two doors live in
/// separate namespaces (a coordinator's key is bound to the coordinator), so neither door can block the other.
interface IAIToken {
    /// @notice A unit of verified work, signed by an attestor (EIP-712 type `ComputeReceipt`).
    /// @param receiptId Unique id; each id mints at most once.
    /// @param provider Who did the work and receives the reward.
    /// @param client Who the work was for.
    /// @param units Work units (e.g. GPU-seconds or tokens inferred); reward = units × {rewardRate}.
    /// @param workHash Commitment to the job specification.
    /// @param resultHash Commitment to the result.
    /// @param deadline Last timestamp at which the receipt may be minted.
    struct ComputeReceipt {
        bytes32 receiptId;
        address provider;
        address client;
        uint256 units;
        bytes32 workHash;
        bytes32 resultHash;
        uint64 deadline;
    }

    /// @notice The receipt (or the coordinator's receipt key) was minted already: each mints once.
    error AITokenReceiptAlreadyMinted(bytes32 receiptId);

    /// @notice The receipt's `deadline` is before the block's `timestamp`.
    error AITokenReceiptExpired(bytes32 receiptId, uint64 deadline, uint256 timestamp);

    /// @notice The receipt's signature is malformed (no signer can be recovered from it).
    error AITokenInvalidSignature(bytes32 receiptId);

    /// @notice The receipt was signed by `signer`, which does not hold the attestor role.
    error AITokenSignerNotAttestor(bytes32 receiptId, address signer);

    /// @notice The receipt is for zero work units.
    error AITokenZeroUnits(bytes32 receiptId);

    /// @notice `units` × the reward rate would overflow.
    /// @param maxUnits The most units a receipt may carry at the current rate.
    error AITokenUnitsTooLarge(bytes32 receiptId, uint256 units, uint256 maxUnits);

    /// @notice A constructor argument, an attestor or a receipt's provider is the zero address.
    error AITokenZeroAddress();

    /// @notice A batch has `receipts` receipts but `signatures` signatures.
    error AITokenLengthMismatch(uint256 receipts, uint256 signatures);

    /// @notice A batch has no receipts.
    error AITokenEmptyBatch();

    /// @notice The reward rate must be above zero and at most `maxRate`.
    error AITokenInvalidRewardRate(uint256 rate, uint256 maxRate);

    /// @notice A receipt minted its reward to its provider.
    /// @param verifier The attestor that signed the receipt, or the coordinator module that verified it.
    /// @param amount units × the reward rate, in token wei.
    event ReceiptMinted(
        bytes32 indexed receiptId,
        address indexed provider,
        address indexed verifier,
        address client,
        uint256 units,
        uint256 amount
    );

    /// @notice A batch skipped a receipt that was minted already (e.g. submitted alone first).
    event ReceiptSkipped(bytes32 indexed receiptId);

    /// @notice The reward per work unit changed (in token wei).
    event RewardRateSet(uint256 rewardRate);

    /// @notice Mints the reward of one attested receipt to its provider.
    function mintFromReceipt(
        ComputeReceipt calldata receipt,
        bytes calldata signature
    ) external returns (uint256 amount);

    /// @notice Mints many attested receipts in one transaction. A receipt id already minted (e.g. submitted alone
    /// by someone else first) is skipped with {ReceiptSkipped} before any other check, so one front-run receipt
    /// cannot sink a batch; any other invalid receipt reverts the whole batch.
    function mintFromReceipts(
        ComputeReceipt[] calldata receipts,
        bytes[] calldata signatures
    ) external returns (uint256 total);

    /// @notice Mints for a receipt that the calling coordinator module verified itself (e.g. a receipt proof
    /// whose nullifier is `receiptKey`). Coordinator role only. The key is spent as (coordinator, receiptKey).
    function mintFromVerifiedReceipt(
        bytes32 receiptKey,
        address provider,
        uint256 units
    ) external returns (uint256 amount);

    /// @notice Sets the reward per work unit, in token wei (admin now; governance later).
    function setRewardRate(uint256 rewardRate) external;

    /// @notice EIP-712 digest of `receipt` under this token's domain (chain id and address bound).
    function hashReceipt(ComputeReceipt calldata receipt) external view returns (bytes32);

    /// @notice Whether the attested receipt `receiptId` was minted.
    function isReceiptMinted(bytes32 receiptId) external view returns (bool);

    /// @notice Whether `coordinator` spent `receiptKey` through {mintFromVerifiedReceipt}.
    function isVerifiedReceiptMinted(address coordinator, bytes32 receiptKey) external view returns (bool);

    function rewardRate() external view returns (uint256);
}
