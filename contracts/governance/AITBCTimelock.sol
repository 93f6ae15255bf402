// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title AITBCTimelock
/// @notice OpenZeppelin's TimelockController, holding the protocol's admin roles after the handover
/// (deploy/modules/Handover.ts) and running what the AITBCGovernor's proposals queue, after `minDelay`: the window
/// in which human guardians can veto. That window has a floor, set at deployment: no proposal can shrink it below.
contract AITBCTimelock is TimelockController {
    /// @notice The smallest `minDelay` a proposal may set (the deployment's delay).
    uint256 public immutable delayFloor;

    /// @notice A proposal may not set the delay below {delayFloor}.
    error AITBCTimelockDelayBelowFloor(uint256 newDelay, uint256 floor);

    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {
        delayFloor = minDelay;
    }

    /// @notice See {TimelockController-updateDelay}; never below {delayFloor}.
    function updateDelay(uint256 newDelay) public override {
        if (newDelay < delayFloor) revert AITBCTimelockDelayBelowFloor(newDelay, delayFloor);
        super.updateDelay(newDelay);
    }
}
