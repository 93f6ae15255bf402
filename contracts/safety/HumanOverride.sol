// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";

/// @title HumanOverride
/// @notice Guardians (humans) grant or deny action types per agent with an expiry per (agent, action type),
/// freeze agents, and stop the whole protocol.
/// @dev The seed's sketch kept one expiry per agent, so a new grant on one action type silently extended or cut
/// every other; here each (agent, action type) has its own record. A per-agent bitmask of action types that
/// have a record keeps the common case (no decision) to one storage read.
///
/// Emergency stop: while stopped, every state-changing function that agents, users and modules call reverts
/// in every module, exits included (unstake requests, withdrawals, token transfers, approvals, permits, mints).
/// The stop exists for an exploit in progress; any open exit would be a way out for the attacker's funds.
/// Two kinds of functions stay open, because they are how humans recover: this contract's guardian functions
/// (resume, freeze, grant, deny) and the admins' role and parameter functions (e.g. revoking a compromised
/// attestor's role, fixing a parameter) before resuming.
contract HumanOverride is IHumanOverride, AccessControl {
    /// @notice Role of the humans who act here.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @inheritdoc IHumanOverride
    uint256 public constant MAX_DURATION = 365 days;

    struct AgentSafety {
        bool frozen;
        uint48 overrideMask; // action types with a stored record (live or expired)
    }

    bool private _stopped;
    uint64 private _resumedAt;
    mapping(address agent => AgentSafety safety) private _safety;
    mapping(address agent => mapping(uint8 actionType => OverrideRecord record)) private _overrides;

    constructor(address admin, address[] memory guardians) {
        if (admin == address(0)) revert HumanOverrideZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < guardians.length; ++i) {
            if (guardians[i] == address(0)) revert HumanOverrideZeroAddress();
            _grantRole(GUARDIAN_ROLE, guardians[i]);
        }
    }

    /// @inheritdoc IHumanOverride
    function grant(address agent, uint8 actionType, uint256 duration) external onlyRole(GUARDIAN_ROLE) {
        uint64 expiresAt = _record(agent, actionType, duration, Decision.Granted);
        emit OverrideGranted(agent, actionType, msg.sender, expiresAt);
    }

    /// @inheritdoc IHumanOverride
    function deny(address agent, uint8 actionType, uint256 duration) external onlyRole(GUARDIAN_ROLE) {
        uint64 expiresAt = _record(agent, actionType, duration, Decision.Denied);
        emit OverrideDenied(agent, actionType, msg.sender, expiresAt);
    }

    /// @inheritdoc IHumanOverride
    function revoke(address agent, uint8 actionType) external onlyRole(GUARDIAN_ROLE) {
        _requireActionType(actionType);
        AgentSafety storage safety = _safety[agent];
        uint48 bit = ActionTypes.bit(actionType);
        if (safety.overrideMask & bit == 0) revert HumanOverrideNoOverride(agent, actionType);
        safety.overrideMask &= ~bit;
        delete _overrides[agent][actionType];
        emit OverrideRevoked(agent, actionType, msg.sender);
    }

    /// @inheritdoc IHumanOverride
    function freeze(address agent, string calldata reason) external onlyRole(GUARDIAN_ROLE) {
        if (agent == address(0)) revert HumanOverrideZeroAddress();
        AgentSafety storage safety = _safety[agent];
        if (safety.frozen) revert HumanOverrideAlreadyFrozen(agent);
        safety.frozen = true;
        emit AgentFrozen(agent, msg.sender, reason);
    }

    /// @inheritdoc IHumanOverride
    function unfreeze(address agent) external onlyRole(GUARDIAN_ROLE) {
        AgentSafety storage safety = _safety[agent];
        if (!safety.frozen) revert HumanOverrideNotFrozen(agent);
        safety.frozen = false;
        emit AgentUnfrozen(agent, msg.sender);
    }

    /// @inheritdoc IHumanOverride
    function emergencyStop(string calldata reason) external onlyRole(GUARDIAN_ROLE) {
        if (_stopped) revert HumanOverrideEmergencyStopped();
        _stopped = true;
        emit EmergencyStopped(msg.sender, reason);
    }

    /// @inheritdoc IHumanOverride
    function resume() external onlyRole(GUARDIAN_ROLE) {
        if (!_stopped) revert HumanOverrideNotStopped();
        _stopped = false;
        _resumedAt = uint64(block.timestamp);
        emit EmergencyResumed(msg.sender);
    }

    /// @inheritdoc IHumanOverride
    function isStopped() external view returns (bool) {
        return _stopped;
    }

    /// @inheritdoc IHumanOverride
    function lastResumedAt() external view returns (uint64) {
        return _resumedAt;
    }

    /// @inheritdoc IHumanOverride
    function isFrozen(address agent) external view returns (bool) {
        return _safety[agent].frozen;
    }

    /// @inheritdoc IHumanOverride
    function overrideOf(address agent, uint8 actionType) external view returns (OverrideRecord memory) {
        return _overrides[agent][actionType];
    }

    /// @inheritdoc IHumanOverride
    function gate(
        address agent,
        uint8 actionType
    ) external view returns (bool stopped, bool frozen, Decision decision) {
        stopped = _stopped;
        AgentSafety memory safety = _safety[agent];
        frozen = safety.frozen;
        if (actionType < ActionTypes.MAX && safety.overrideMask & ActionTypes.bit(actionType) != 0) {
            OverrideRecord memory record = _overrides[agent][actionType];
            if (block.timestamp < record.expiresAt) decision = record.decision;
        }
    }

    function _record(address agent, uint8 actionType, uint256 duration, Decision decision) private returns (uint64) {
        if (agent == address(0)) revert HumanOverrideZeroAddress();
        _requireActionType(actionType);
        if (duration == 0 || duration > MAX_DURATION) revert HumanOverrideInvalidDuration(duration, MAX_DURATION);
        uint64 expiresAt = uint64(block.timestamp + duration);
        _overrides[agent][actionType] = OverrideRecord(decision, expiresAt);
        _safety[agent].overrideMask |= ActionTypes.bit(actionType);
        return expiresAt;
    }

    function _requireActionType(uint8 actionType) private pure {
        if (actionType >= ActionTypes.MAX) revert HumanOverrideInvalidActionType(actionType, ActionTypes.MAX);
    }
}
