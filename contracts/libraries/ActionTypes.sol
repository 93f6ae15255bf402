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
    /// @notice Updating the agent's profile (metadata URI, endpoint, version, capabilities, declared volume).
    uint8 internal constant UPDATE_PROFILE = 2;
    /// @notice Listing, updating or delisting a service offer in the marketplace.
    uint8 internal constant LIST_SERVICE = 3;
    /// @notice Posting a workload (or a workflow execution request) with escrow, as a client agent.
    uint8 internal constant POST_WORKLOAD = 4;
    /// @notice Bidding on a workload.
    uint8 internal constant BID = 5;
    /// @notice Submitting a workload result (the assigned provider).
    uint8 internal constant SUBMIT_RESULT = 6;
    /// @notice Resolving a dispute as a validator agent.
    uint8 internal constant RESOLVE_DISPUTE = 7;
    /// @notice Defining a workflow or managing its listing.
    uint8 internal constant DEFINE_WORKFLOW = 8;
    /// @notice Claiming and driving a workflow execution as its keeper (claim, step records, completion).
    uint8 internal constant RUN_WORKFLOW = 9;
    /// @notice Permissionless upkeep when an agent calls it: auto-award, finalize, claim a timeout, expire an
    /// execution (each can move others' funds or slash a competitor, so a frozen agent may not).
    uint8 internal constant UPKEEP = 10;
    /// @notice Governance: proposing, voting, delegating or undelegating votes.
    uint8 internal constant GOVERN = 11;

    /// @notice Bitmask with every action type set.
    uint48 internal constant ALL = type(uint48).max;

    /// @notice The bit of `actionType` in a bitmask.
    function bit(uint8 actionType) internal pure returns (uint48) {
        return uint48(1) << actionType;
    }
}
