// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";

/// @title SafetyGuarded
/// @notice Base of every protocol module: the emergency stop and the agent constitution in one place, so each
/// module wires the safety layer the same way.
/// @dev The constitution is enforced at the END of an agent action ({_enforce}), because it charges the gas
/// the action used, which is only known then. A blocked action reverts the whole transaction, so none of its
/// effects survive; modules that make external calls inside an action are also `nonReentrant`.
abstract contract SafetyGuarded {
    /// @notice After an emergency stop ends, a deadline it hit runs at least this much longer (HumanOverride's
    /// {IHumanOverride-extendedDeadline}, which has the same constant): nobody can act while stopped, so nobody may
    /// be slashed, refunded or settled against for not having acted.
    uint256 public constant GRACE_AFTER_RESUME = 1 days;

    IHumanOverride internal immutable _humanOverride;
    IAgentConstitution internal immutable _constitution;

    modifier whenNotStopped() {
        _requireNotStopped();
        _;
    }

    constructor(IHumanOverride humanOverride_, IAgentConstitution constitution_) {
        _humanOverride = humanOverride_;
        _constitution = constitution_;
    }

    /// @notice The HumanOverride whose emergency stop and freezes this module obeys.
    function humanOverride() external view returns (IHumanOverride) {
        return _humanOverride;
    }

    /// @notice The AgentConstitution this module enforces.
    function constitution() external view returns (IAgentConstitution) {
        return _constitution;
    }

    /// @dev `deadline` of an obligation that began at `since`, extended by every emergency stop that hit it while
    /// it ran (by the time the stop took from it, and at least to a grace period after the stop). A deadline that
    /// lapsed before a stop stays lapsed: a stop never revives a right (a late rejection, a late submission).
    function _graced(uint64 since, uint64 deadline) internal view returns (uint64) {
        return _humanOverride.extendedDeadline(since, deadline);
    }

    function _requireNotStopped() internal view {
        if (_humanOverride.isStopped()) revert IHumanOverride.HumanOverrideEmergencyStopped();
    }

    /// @dev Charges an action of `agent` started when `gasStart` gas was left.
    function _enforce(address agent, uint8 actionType, uint256 value, uint256 gasStart) internal {
        _constitution.enforce(agent, actionType, value, gasStart - gasleft());
    }
}
