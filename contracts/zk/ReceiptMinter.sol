// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IAIToken} from "../interfaces/IAIToken.sol";
import {IReceiptMinter} from "../interfaces/IReceiptMinter.sol";
import {Groth16Proof, IReceiptVerifier} from "../interfaces/IZkVerifiers.sol";
import {FieldChecks} from "../libraries/FieldChecks.sol";

/// @title ReceiptMinter
/// @notice See {IReceiptMinter}. AIToken's coordinator role lets it mint through
/// {IAIToken-mintFromVerifiedReceipt}, keyed by the note's nullifier (so the token refuses a second mint too).
contract ReceiptMinter is IReceiptMinter, AccessControl {
    bytes32 public constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");
    /// @inheritdoc IReceiptMinter
    uint256 public constant NOTE_BITS = 64;

    IAIToken public immutable token;
    IReceiptVerifier public immutable verifier;

    mapping(uint256 root => bool known) private _knownRoots;
    mapping(uint256 nullifier => bool spent) private _spent;

    constructor(IAIToken token_, IReceiptVerifier verifier_, address admin, address attestor) {
        if (
            address(token_) == address(0) ||
            address(verifier_) == address(0) ||
            admin == address(0) ||
            attestor == address(0)
        ) revert ReceiptMinterZeroAddress();
        token = token_;
        verifier = verifier_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ATTESTOR_ROLE, attestor);
    }

    /// @inheritdoc IReceiptMinter
    function publishRoot(uint256 root) external onlyRole(ATTESTOR_ROLE) {
        if (!FieldChecks.isNonZeroElement(root)) revert ReceiptMinterInvalidRoot(root);
        if (_knownRoots[root]) revert ReceiptMinterRootExists(root);
        _knownRoots[root] = true;
        emit RootPublished(root, msg.sender);
    }

    /// @inheritdoc IReceiptMinter
    function mint(
        Groth16Proof calldata proof,
        uint256 root,
        uint256 nullifier,
        address recipient,
        uint256 denomination
    ) external returns (uint256 minted) {
        if (!_knownRoots[root]) revert ReceiptMinterUnknownRoot(root);
        if (!FieldChecks.isElement(nullifier)) revert ReceiptMinterInvalidField("nullifier", nullifier);
        if (_spent[nullifier]) revert ReceiptMinterNullifierSpent(nullifier);
        // The circuit proves the note is a bit of units < 2^64: refuse another denomination before paying for the
        // verification.
        if (denomination >= NOTE_BITS) revert ReceiptMinterInvalidDenomination(denomination);
        uint256 rate = token.rewardRate();
        if (rate == 0) revert ReceiptMinterZeroRate();

        uint256[5] memory signals = [root, nullifier, uint256(uint160(recipient)), rate, denomination];
        if (!verifier.verifyProof(proof.a, proof.b, proof.c, signals)) revert ReceiptMinterInvalidProof();

        // Checks-effects-interactions: the note is spent before the token is called.
        _spent[nullifier] = true;
        minted = token.mintFromVerifiedReceipt(bytes32(nullifier), recipient, uint256(1) << denomination);
        emit ProofMinted(nullifier, root, recipient, denomination, minted);
    }

    /// @inheritdoc IReceiptMinter
    function isKnownRoot(uint256 root) external view returns (bool) {
        return _knownRoots[root];
    }

    /// @inheritdoc IReceiptMinter
    function isSpent(uint256 nullifier) external view returns (bool) {
        return _spent[nullifier];
    }
}
