// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";

/// @title AgentConstitution
/// @notice Seed 000's constitutional constraints, per agent, enforced by every module on every agent action.
/// @dev Daily windows are FIXED UTC DAY BUCKETS (`block.timestamp / 1 days`), not a rolling 24 hours. Why: the
/// whole usage record (day, volume, gas) fits in one storage slot, so an enforced action costs one read and one
/// write of a warm-ish slot; an exact rolling window needs a ring of buckets to sum on every action, and an
/// approximate one (two weighted buckets) gives no hard guarantee. The price: across a bucket boundary an agent
/// can move up to twice its daily limit within a few minutes. Within any one bucket the limit is exact.
///
/// Check order (each with its own error): emergency stop, frozen, action type allowed, human denial, human
/// approval when the type needs one, daily volume, daily gas. Gas is measured by the calling module for the
/// action itself. The daily volume limit in force never exceeds the volume the agent declared in the registry nor the
/// volume its stake backs there (reported by the registry on every change of stake): an agent moves no value before
/// it stakes its bond, and a slash lowers its limit at once.
contract AgentConstitution is IAgentConstitution, AccessControl {
    /// @notice Modules that enforce actions (the token, the registry, later the marketplace...).
    bytes32 public constant ENFORCER_ROLE = keccak256("ENFORCER_ROLE");
    /// @notice The registry, which enrolls agents.
    bytes32 public constant REGISTRY_ROLE = keccak256("REGISTRY_ROLE");

    /// @dev Packed per-agent record. Slot 0 holds everything {enforce} reads: one SLOAD per action.
    struct AgentRecord {
        // slot 0
        uint96 maxDailyVolume; // in force: min(VolumeCaps.chosen, VolumeCaps.bonded)
        uint48 maxGasPerDay;
        uint48 allowedActions;
        uint48 humanApprovalActions;
        bool enrolled;
        bool retired; // a key rotated away: every action refused
        // slot 1
        uint96 maxStake;
        address operator;
    }

    /// @dev The two caps of an agent's daily volume, kept apart so that either can change without losing the other;
    /// their minimum is stored in the record's slot 0 for {enforce}.
    struct VolumeCaps {
        uint96 chosen; // the operator's maxDailyVolume (or the default's), at most the declared volume
        uint96 bonded; // what the agent's stake backs, reported by the registry
    }

    IHumanOverride private immutable _humanOverride;

    Constraints private _bounds;
    Constraints private _defaults;
    mapping(address agent => AgentRecord record) private _records;
    mapping(address agent => Usage usage) private _usage;
    mapping(address agent => uint256 volume) private _declaredVolume;
    mapping(address agent => VolumeCaps caps) private _volumeCaps;

    constructor(
        address admin,
        IHumanOverride humanOverride_,
        Constraints memory bounds_,
        Constraints memory defaults_
    ) {
        if (admin == address(0) || address(humanOverride_) == address(0)) revert AgentConstitutionZeroAddress();
        _humanOverride = humanOverride_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setBounds(bounds_);
        _setDefaults(defaults_);
    }

    /// @inheritdoc IAgentConstitution
    function enroll(address agent, address operator, uint256 declaredDailyVolume) external onlyRole(REGISTRY_ROLE) {
        if (agent == address(0) || operator == address(0)) revert AgentConstitutionZeroAddress();
        if (_records[agent].enrolled) revert AgentConstitutionAlreadyEnrolled(agent);
        _checkDeclaredVolume(declaredDailyVolume);
        Constraints memory c = _defaults;
        if (c.maxDailyVolume > declaredDailyVolume) c.maxDailyVolume = uint96(declaredDailyVolume);
        _declaredVolume[agent] = declaredDailyVolume;
        _store(agent, c, operator);
        emit AgentEnrolled(agent, operator, declaredDailyVolume);
    }

    /// @inheritdoc IAgentConstitution
    function rotate(address oldKey, address newKey) external onlyRole(REGISTRY_ROLE) {
        AgentRecord storage from = _live(oldKey);
        if (newKey == address(0)) revert AgentConstitutionZeroAddress();
        if (_records[newKey].enrolled) revert AgentConstitutionAlreadyEnrolled(newKey);
        _records[newKey] = from;
        _usage[newKey] = _usage[oldKey];
        _declaredVolume[newKey] = _declaredVolume[oldKey];
        _volumeCaps[newKey] = _volumeCaps[oldKey];
        from.retired = true;
        emit AgentRotated(oldKey, newKey);
    }

    /// @inheritdoc IAgentConstitution
    function setDeclaredVolume(address agent, uint256 declaredDailyVolume) external onlyRole(REGISTRY_ROLE) {
        AgentRecord storage record = _live(agent);
        _checkDeclaredVolume(declaredDailyVolume);
        _declaredVolume[agent] = declaredDailyVolume;
        VolumeCaps storage caps = _volumeCaps[agent];
        // The bound checked above keeps the declared volume within uint96.
        if (caps.chosen > declaredDailyVolume) caps.chosen = uint96(declaredDailyVolume);
        emit DeclaredVolumeSet(agent, declaredDailyVolume);
        if (caps.bonded > declaredDailyVolume) {
            caps.bonded = uint96(declaredDailyVolume);
            emit BondedVolumeSet(agent, declaredDailyVolume);
        }
        record.maxDailyVolume = _inForce(caps);
    }

    /// @inheritdoc IAgentConstitution
    function setBondedVolume(address agent, uint256 bondedDailyVolume) external onlyRole(REGISTRY_ROLE) {
        AgentRecord storage record = _live(agent);
        uint256 declared = _declaredVolume[agent];
        // The registry never reports more than declared; the cap keeps it so (and within uint96) regardless.
        uint96 bonded = uint96(bondedDailyVolume < declared ? bondedDailyVolume : declared);
        VolumeCaps storage caps = _volumeCaps[agent];
        if (caps.bonded == bonded) return; // a top-up of a full bond changes nothing
        caps.bonded = bonded;
        record.maxDailyVolume = _inForce(caps);
        emit BondedVolumeSet(agent, bonded);
    }

    /// @inheritdoc IAgentConstitution
    function setConstraints(address agent, Constraints calldata constraints) external {
        if (_humanOverride.isStopped()) revert IHumanOverride.HumanOverrideEmergencyStopped();
        AgentRecord storage record = _live(agent);
        if (msg.sender != record.operator) revert AgentConstitutionNotOperator(agent, msg.sender, record.operator);
        _checkWithinBounds(constraints, _bounds);
        uint256 declared = _declaredVolume[agent];
        if (constraints.maxDailyVolume > declared) {
            revert AgentConstitutionAboveDeclaredVolume(agent, constraints.maxDailyVolume, declared);
        }
        _store(agent, constraints, record.operator);
        emit ConstraintsSet(agent, msg.sender, constraints);
    }

    /// @inheritdoc IAgentConstitution
    /// @dev The enrolment test comes before the role test on purpose: a transfer from a non-agent (the common
    /// case, charged by the token on every transfer) then costs one storage read here. The role test still
    /// guards every path that changes state.
    function enforce(address agent, uint8 actionType, uint256 value, uint256 gasUsed) external {
        AgentRecord memory record = _records[agent];
        if (!record.enrolled) return;
        _checkRole(ENFORCER_ROLE);
        if (record.retired) revert AgentConstitutionKeyRetired(agent);

        (bool stopped, bool frozen, IHumanOverride.Decision decision) = _humanOverride.gate(agent, actionType);
        // Modules check the stop themselves; checking it here too means no module can forget it.
        if (stopped) revert IHumanOverride.HumanOverrideEmergencyStopped();
        if (frozen) revert AgentConstitutionAgentFrozen(agent);
        uint48 bit = actionType < ActionTypes.MAX ? ActionTypes.bit(actionType) : 0;
        if (record.allowedActions & bit == 0) revert AgentConstitutionActionNotAllowed(agent, actionType);
        if (decision == IHumanOverride.Decision.Denied) revert AgentConstitutionActionDenied(agent, actionType);
        if (record.humanApprovalActions & bit != 0 && decision != IHumanOverride.Decision.Granted) {
            revert AgentConstitutionHumanApprovalRequired(agent, actionType);
        }

        Usage memory usage = _usage[agent];
        uint32 today = uint32(block.timestamp / 1 days);
        if (usage.day != today) usage = Usage(today, 0, 0);
        uint256 volume = usage.volume + value;
        if (volume > record.maxDailyVolume) {
            revert AgentConstitutionDailyVolumeExceeded(agent, usage.volume, value, record.maxDailyVolume);
        }
        uint256 gas = usage.gas + gasUsed;
        if (gas > record.maxGasPerDay) {
            revert AgentConstitutionDailyGasExceeded(agent, usage.gas, gasUsed, record.maxGasPerDay);
        }
        // Both fit: volume <= maxDailyVolume (uint96) and gas <= maxGasPerDay (uint48).
        _usage[agent] = Usage(today, uint96(volume), uint64(gas));
    }

    /// @inheritdoc IAgentConstitution
    function checkStake(address agent, uint256 newStake) external view {
        AgentRecord storage record = _records[agent];
        if (record.enrolled && newStake > record.maxStake) {
            revert AgentConstitutionMaxStakeExceeded(agent, newStake, record.maxStake);
        }
    }

    /// @inheritdoc IAgentConstitution
    function setBounds(Constraints calldata bounds_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setBounds(bounds_);
    }

    /// @inheritdoc IAgentConstitution
    function setDefaults(Constraints calldata defaults_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDefaults(defaults_);
    }

    /// @inheritdoc IAgentConstitution
    function clampToBounds(address[] calldata agents) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Constraints memory b = _bounds;
        for (uint256 i = 0; i < agents.length; ++i) {
            AgentRecord storage record = _live(agents[i]);
            Constraints memory c = Constraints({
                maxStake: record.maxStake < b.maxStake ? record.maxStake : b.maxStake,
                maxDailyVolume: _chosenWithin(agents[i], b.maxDailyVolume),
                maxGasPerDay: record.maxGasPerDay < b.maxGasPerDay ? record.maxGasPerDay : b.maxGasPerDay,
                allowedActions: record.allowedActions & b.allowedActions,
                humanApprovalActions: 0
            });
            c.humanApprovalActions = (record.humanApprovalActions | b.humanApprovalActions) & c.allowedActions;
            _store(agents[i], c, record.operator);
            emit ConstraintsSet(agents[i], msg.sender, c);
        }
    }

    /// @inheritdoc IAgentConstitution
    function isEnrolled(address agent) external view returns (bool) {
        return _records[agent].enrolled;
    }

    /// @inheritdoc IAgentConstitution
    function operatorOf(address agent) external view returns (address) {
        return _records[agent].operator;
    }

    /// @inheritdoc IAgentConstitution
    function declaredVolumeOf(address agent) external view returns (uint256) {
        return _declaredVolume[agent];
    }

    /// @inheritdoc IAgentConstitution
    function bondedVolumeOf(address agent) external view returns (uint256) {
        return _volumeCaps[agent].bonded;
    }

    /// @inheritdoc IAgentConstitution
    function constraintsOf(address agent) external view returns (Constraints memory) {
        AgentRecord storage record = _records[agent];
        return
            Constraints({
                maxStake: record.maxStake,
                maxDailyVolume: _volumeCaps[agent].chosen,
                maxGasPerDay: record.maxGasPerDay,
                allowedActions: record.allowedActions,
                humanApprovalActions: record.humanApprovalActions
            });
    }

    /// @inheritdoc IAgentConstitution
    function usageOf(address agent) external view returns (Usage memory usage) {
        usage = _usage[agent];
        if (usage.day != uint32(block.timestamp / 1 days)) usage = Usage(uint32(block.timestamp / 1 days), 0, 0);
    }

    /// @inheritdoc IAgentConstitution
    function requiresHumanApproval(address agent) external view returns (bool) {
        return _records[agent].humanApprovalActions != 0;
    }

    /// @inheritdoc IAgentConstitution
    function bounds() external view returns (Constraints memory) {
        return _bounds;
    }

    /// @inheritdoc IAgentConstitution
    function defaults() external view returns (Constraints memory) {
        return _defaults;
    }

    /// @dev New bounds must still hold the current defaults (at construction the defaults are still zero).
    function _setBounds(Constraints memory bounds_) private {
        _checkMasks(bounds_);
        _checkWithinBounds(_defaults, bounds_);
        _bounds = bounds_;
        emit BoundsSet(bounds_);
    }

    function _setDefaults(Constraints memory defaults_) private {
        _checkWithinBounds(defaults_, _bounds);
        _defaults = defaults_;
        emit DefaultsSet(defaults_);
    }

    /// @dev Stores the operator's constraints; the volume limit in force is the lower of theirs and the bonded one.
    function _store(address agent, Constraints memory c, address operator) private {
        VolumeCaps storage caps = _volumeCaps[agent];
        caps.chosen = c.maxDailyVolume;
        _records[agent] = AgentRecord({
            maxDailyVolume: _inForce(caps),
            maxGasPerDay: c.maxGasPerDay,
            allowedActions: c.allowedActions,
            humanApprovalActions: c.humanApprovalActions,
            enrolled: true,
            retired: false,
            maxStake: c.maxStake,
            operator: operator
        });
    }

    /// @dev The record of an enrolled agent whose key was not rotated away.
    function _live(address agent) private view returns (AgentRecord storage record) {
        record = _records[agent];
        if (!record.enrolled) revert AgentConstitutionNotEnrolled(agent);
        if (record.retired) revert AgentConstitutionKeyRetired(agent);
    }

    function _inForce(VolumeCaps storage caps) private view returns (uint96) {
        (uint96 chosen, uint96 bonded) = (caps.chosen, caps.bonded);
        return chosen < bonded ? chosen : bonded;
    }

    function _chosenWithin(address agent, uint96 bound) private view returns (uint96) {
        uint96 chosen = _volumeCaps[agent].chosen;
        return chosen < bound ? chosen : bound;
    }

    /// @dev Every limit at most its bound; allowed actions a subset of the allowed bound; every allowed action in
    /// the bounds' approval floor needs approval. Beyond the floor an operator may always ask for more oversight.
    function _checkWithinBounds(Constraints memory c, Constraints memory b) private pure {
        _checkMasks(c);
        if (c.maxStake > b.maxStake) revert AgentConstitutionAboveBound("maxStake", c.maxStake, b.maxStake);
        if (c.maxDailyVolume > b.maxDailyVolume) {
            revert AgentConstitutionAboveBound("maxDailyVolume", c.maxDailyVolume, b.maxDailyVolume);
        }
        if (c.maxGasPerDay > b.maxGasPerDay) {
            revert AgentConstitutionAboveBound("maxGasPerDay", c.maxGasPerDay, b.maxGasPerDay);
        }
        if (c.allowedActions & ~b.allowedActions != 0) {
            revert AgentConstitutionAboveBound("allowedActions", c.allowedActions, b.allowedActions);
        }
        uint48 floor = b.humanApprovalActions & c.allowedActions;
        if (floor & ~c.humanApprovalActions != 0) {
            revert AgentConstitutionBelowApprovalFloor(c.humanApprovalActions, floor);
        }
    }

    /// @dev A declared volume above the protocol's daily volume bound could never be allowed anyway; bounding it
    /// also keeps the registry's bond arithmetic far from overflow.
    function _checkDeclaredVolume(uint256 declaredDailyVolume) private view {
        if (declaredDailyVolume > _bounds.maxDailyVolume) {
            revert AgentConstitutionAboveBound("declaredDailyVolume", declaredDailyVolume, _bounds.maxDailyVolume);
        }
    }

    /// @dev Human-approval actions must be allowed actions (approving a forbidden action means nothing).
    function _checkMasks(Constraints memory c) private pure {
        if (c.humanApprovalActions & ~c.allowedActions != 0) {
            revert AgentConstitutionInvalidActionMask(c.humanApprovalActions);
        }
    }
}
