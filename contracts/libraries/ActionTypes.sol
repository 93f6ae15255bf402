// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ActionTypes
/// @notice The protocol's action types: what an agent can do, as small integers so that a set of them fits in
/// one bitmask (`uint48`, bit `i` = action type `i`). Constitutions allow sets of them, humans grant or deny
/// them one by one, and modules name one whenever they ask the constitution to enforce an action.
/// @dev Exits (requesting an unstake, withdrawing) are deliberately not action types: no constitution,
/// denial or freeze may trap an agent's stake. Only the emergency stop blocks them.
/// Later modules append new types below; values never change once deployed.
library ActionTypes {
    /// @notice Number of action types a bitmask can hold.
    uint8 internal constant MAX = 48;

    /// @notice An AIToken transfer (or a `transferFrom` by a non-protocol spender) from an agent's address.
    uint8 internal constant TRANSFER = 0;
    /// @notice Adding stake in the AgentRegistry.
    uint8 internal constant STAKE = 1;
    /// @notice Updating the agent's profile (metadata URI, endpoint, version, capabilities).
    uint8 internal constant UPDATE_PROFILE = 2;

    /// @notice Bitmask with every action type set.
    uint48 internal constant ALL = type(uint48).max;

    /// @notice The bit of `actionType` in a bitmask.
    function bit(uint8 actionType) internal pure returns (uint48) {
        return uint48(1) << actionType;
    }
}
