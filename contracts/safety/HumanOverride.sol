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

    /// @inheritdoc IHumanOverride
    uint256 public constant GRACE_AFTER_RESUME = 1 days;

    struct AgentSafety {
        bool frozen;
        uint48 overrideMask; // action types with a stored record (live or expired)
    }

    /// @dev One emergency stop: its start, and its end (0 while it lasts). A second stop is refused while one
    /// lasts, so stops never overlap and both starts and ends ascend with the index. One slot each.
    struct StopInterval {
        uint64 start;
        uint64 end;
    }

    bool private _stopped;
    uint64 private _resumedAt;
    StopInterval[] private _stops; // append-only: the whole history, which {extendedDeadline} reads
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
        _stops.push(StopInterval(uint64(block.timestamp), 0));
        emit EmergencyStopped(msg.sender, reason);
    }

    /// @inheritdoc IHumanOverride
    function resume() external onlyRole(GUARDIAN_ROLE) {
        if (!_stopped) revert HumanOverrideNotStopped();
        _stopped = false;
        _resumedAt = uint64(block.timestamp);
        _stops[_stops.length - 1].end = uint64(block.timestamp); // the stop that is on is always the last
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
    function extendedDeadline(uint64 since, uint64 deadline) external view returns (uint64) {
        uint256 n = _stops.length;
        // Binary search for the first stop that had not ended at `since` (ends ascend; a stop still on, end 0,
        // is the last): earlier stops ended before the obligation began.
        uint256 lo = 0;
        uint256 hi = n;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            uint64 stopEnd = _stops[mid].end;
            if (stopEnd != 0 && stopEnd <= since) lo = mid + 1;
            else hi = mid;
        }
        for (uint256 i = lo; i < n; ++i) {
            StopInterval memory stop = _stops[i];
            uint64 start = stop.start > since ? stop.start : since;
            // The deadline had lapsed before this stop hit it: it stays lapsed (and later stops start later).
            if (start > deadline) break;
            uint64 end = stop.end == 0 ? uint64(block.timestamp) : stop.end;
            // A stop that took no time from the obligation (resumed in the block it began, or still on and begun
            // this block) extends nothing; later stops still may.
            if (end <= start) continue;
            uint64 shifted = deadline + (end - start); // the time the stop took from the running obligation
            uint64 graceEnd = end + uint64(GRACE_AFTER_RESUME);
            deadline = shifted > graceEnd ? shifted : graceEnd;
        }
        return deadline;
    }

    /// @inheritdoc IHumanOverride
    function stopCount() external view returns (uint256) {
        return _stops.length;
    }

    /// @inheritdoc IHumanOverride
    function stopAt(uint256 index) external view returns (uint64 start, uint64 end) {
        StopInterval memory stop = _stops[index];
        return (stop.start, stop.end);
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
