// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAIToken} from "../interfaces/IAIToken.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title AIToken
/// @notice AITBC, minted only against verified compute receipts, with a supply cap.
/// @dev Receipts are signed under this token's EIP-712 domain ("AITBC", "1", chain id, this address), the same
/// domain as permit. OpenZeppelin's EIP712 rebuilds the separator when `block.chainid` differs from the
/// deployment chain, so a receipt signed for one chain or one contract never verifies on another.
/// Replay protection is by receipt id, never by signature bytes (a signature has several valid encodings);
/// ECDSA rejects high-s signatures outright.
///
/// Constitution: a transfer out of an enrolled agent's address is the agent's TRANSFER action. In a
/// `transferFrom` by someone else, the owner's constitution is charged the value (its funds move) but not the
/// gas (the spender pays it; charging it would let anyone burn an agent's gas budget with zero-value calls), and
/// the spender, when it is an agent, is charged value and gas (spending is its action too). A `transferFrom` by a
/// MODULE_ROLE spender (the registry pulling stake, later the marketplace pulling escrow) is not charged here:
/// that module enforces its own action type; charging both would count the value twice.
contract AIToken is IAIToken, ERC20Capped, ERC20Permit, AccessControl, SafetyGuarded {
    /// @notice Signers of compute receipts.
    bytes32 public constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");
    /// @notice Modules that verify receipts by other means (proof verifiers, settlement) and mint for them.
    bytes32 public constant COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");
    /// @notice Protocol modules whose `transferFrom` pulls are enforced by the module itself.
    bytes32 public constant MODULE_ROLE = keccak256("MODULE_ROLE");

    /// @notice Upper bound of {rewardRate}: 1,000 AITBC per unit.
    uint256 public constant MAX_REWARD_RATE = 1_000e18;

    bytes32 private constant _RECEIPT_TYPEHASH = keccak256(
        "ComputeReceipt(bytes32 receiptId,address provider,address client,uint256 units,bytes32 workHash,bytes32 resultHash,uint64 deadline)"
    );

    uint256 private _rewardRate;
    mapping(bytes32 receiptId => bool minted) private _minted;
    mapping(bytes32 coordinatorKey => bool minted) private _verifiedMinted;

    constructor(
        address admin,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        uint256 supplyCap,
        uint256 rewardRate_,
        address[] memory attestors
    ) ERC20("AITBC", "AITBC") ERC20Capped(supplyCap) ERC20Permit("AITBC") SafetyGuarded(humanOverride_, constitution_) {
        if (admin == address(0) || address(humanOverride_) == address(0) || address(constitution_) == address(0)) {
            revert AITokenZeroAddress();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < attestors.length; ++i) {
            if (attestors[i] == address(0)) revert AITokenZeroAddress();
            _grantRole(ATTESTOR_ROLE, attestors[i]);
        }
        _setRewardRate(rewardRate_);
    }

    /// @inheritdoc IAIToken
    function mintFromReceipt(
        ComputeReceipt calldata receipt,
        bytes calldata signature
    ) external returns (uint256 amount) {
        amount = _spendAttested(receipt, signature);
        _mint(receipt.provider, amount); // reverts past the cap and while stopped (_update)
    }

    /// @inheritdoc IAIToken
    /// @dev Every receipt is spent (and its ReceiptMinted emitted) first; then each distinct provider is minted
    /// its sum once, so a batch pays one balance update and one Transfer event per provider, not per receipt.
    function mintFromReceipts(
        ComputeReceipt[] calldata receipts,
        bytes[] calldata signatures
    ) external whenNotStopped returns (uint256 total) {
        uint256 count = receipts.length;
        if (count == 0) revert AITokenEmptyBatch();
        if (count != signatures.length) revert AITokenLengthMismatch(count, signatures.length);
        address[] memory payees = new address[](count);
        uint256[] memory amounts = new uint256[](count);
        uint256 payeeCount;
        for (uint256 i = 0; i < count; ++i) {
            ComputeReceipt calldata receipt = receipts[i];
            if (_minted[receipt.receiptId]) {
                emit ReceiptSkipped(receipt.receiptId);
                continue;
            }
            uint256 amount = _spendAttested(receipt, signatures[i]);
            uint256 j = 0;
            while (j < payeeCount && payees[j] != receipt.provider) ++j;
            if (j == payeeCount) {
                payees[j] = receipt.provider;
                ++payeeCount;
            }
            amounts[j] += amount;
            total += amount;
        }
        for (uint256 j = 0; j < payeeCount; ++j) {
            _mint(payees[j], amounts[j]); // reverts past the cap and while stopped (_update)
        }
    }

    /// @inheritdoc IAIToken
    function mintFromVerifiedReceipt(
        bytes32 receiptKey,
        address provider,
        uint256 units
    ) external onlyRole(COORDINATOR_ROLE) returns (uint256 amount) {
        amount = _spendReceipt(
            true,
            _verifiedKey(msg.sender, receiptKey),
            receiptKey,
            provider,
            address(0),
            units,
            msg.sender
        );
        _mint(provider, amount); // reverts past the cap and while stopped (_update)
    }

    /// @inheritdoc IAIToken
    function setRewardRate(uint256 rewardRate_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRewardRate(rewardRate_);
    }

    /// @notice A transfer; from an enrolled agent it is a TRANSFER action checked by its constitution.
    function transfer(address to, uint256 value) public override returns (bool) {
        uint256 gasStart = gasleft();
        super.transfer(to, value);
        _enforce(msg.sender, ActionTypes.TRANSFER, value, gasStart);
        return true;
    }

    /// @notice A transfer by an approved spender: the value is charged to `from`'s constitution and value and gas
    /// to the spender's, unless the spender is a protocol module that enforces the action itself.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        uint256 gasStart = gasleft();
        super.transferFrom(from, to, value);
        if (hasRole(MODULE_ROLE, msg.sender)) return true;
        if (msg.sender != from) _constitution.enforce(from, ActionTypes.TRANSFER, value, 0);
        _enforce(msg.sender, ActionTypes.TRANSFER, value, gasStart);
        return true;
    }

    /// @inheritdoc IAIToken
    function hashReceipt(ComputeReceipt calldata receipt) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_RECEIPT_TYPEHASH, receipt)));
    }

    /// @inheritdoc IAIToken
    function isReceiptMinted(bytes32 receiptId) external view returns (bool) {
        return _minted[receiptId];
    }

    /// @inheritdoc IAIToken
    function isVerifiedReceiptMinted(address coordinator, bytes32 receiptKey) external view returns (bool) {
        return _verifiedMinted[_verifiedKey(coordinator, receiptKey)];
    }

    /// @inheritdoc IAIToken
    function rewardRate() external view returns (uint256) {
        return _rewardRate;
    }

    /// @dev Verifies an attested receipt (deadline, signature, attestor), then spends it.
    function _spendAttested(ComputeReceipt calldata receipt, bytes calldata signature) private returns (uint256) {
        if (block.timestamp > receipt.deadline) {
            revert AITokenReceiptExpired(receipt.receiptId, receipt.deadline, block.timestamp);
        }
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hashReceipt(receipt), signature);
        if (err != ECDSA.RecoverError.NoError) revert AITokenInvalidSignature(receipt.receiptId);
        if (!hasRole(ATTESTOR_ROLE, signer)) revert AITokenSignerNotAttestor(receipt.receiptId, signer);
        return
            _spendReceipt(
                false,
                receipt.receiptId,
                receipt.receiptId,
                receipt.provider,
                receipt.client,
                receipt.units,
                signer
            );
    }

    /// @dev The single gate of new supply: spends `spentKey` (in the attested or the coordinator set) once and returns the reward (units × rate) that the
    /// caller then mints to `provider`. `receiptId` is the id the event reports; `verifier` is who vouched for the
    /// receipt: the attestor that signed it, or the coordinator module that verified it.
    function _spendReceipt(
        bool verified,
        bytes32 spentKey,
        bytes32 receiptId,
        address provider,
        address client,
        uint256 units,
        address verifier
    ) private returns (uint256 amount) {
        // Attested ids and coordinator keys live in separate sets: neither door can spend the other's keys.
        mapping(bytes32 => bool) storage spent = verified ? _verifiedMinted : _minted;
        if (spent[spentKey]) revert AITokenReceiptAlreadyMinted(receiptId);
        if (units == 0) revert AITokenZeroUnits(receiptId);
        if (provider == address(0)) revert AITokenZeroAddress();
        uint256 rate = _rewardRate;
        uint256 maxUnits = type(uint256).max / rate;
        if (units > maxUnits) revert AITokenUnitsTooLarge(receiptId, units, maxUnits);
        spent[spentKey] = true;
        amount = units * rate;
        emit ReceiptMinted(receiptId, provider, verifier, client, units, amount);
    }

    /// @dev A coordinator's receipt key, bound to the coordinator: attested receipt ids and other coordinators'
    /// keys can never collide with it.
    function _verifiedKey(address coordinator, bytes32 receiptKey) private pure returns (bytes32) {
        return keccak256(abi.encode(coordinator, receiptKey));
    }

    function _setRewardRate(uint256 rewardRate_) private {
        if (rewardRate_ == 0 || rewardRate_ > MAX_REWARD_RATE) {
            revert AITokenInvalidRewardRate(rewardRate_, MAX_REWARD_RATE);
        }
        _rewardRate = rewardRate_;
        emit RewardRateSet(rewardRate_);
    }

    /// @dev Every balance change (mint, transfer) stops with the emergency stop.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        _requireNotStopped();
        super._update(from, to, value);
    }

    /// @dev Approvals (and so permits) are state changes too: they stop with the emergency stop.
    function _approve(address owner, address spender, uint256 value, bool emitEvent) internal override {
        _requireNotStopped();
        super._approve(owner, spender, value, emitEvent);
    }
}
