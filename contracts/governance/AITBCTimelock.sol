// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title AITBCTimelock
/// @notice OpenZeppelin's TimelockController, unchanged: it holds the protocol's admin roles after the handover
/// (deploy/modules/Handover.ts) and runs what the AITBCGovernor's proposals queue, after `minDelay`. Its own
/// artifact, so that deployments and tasks can name it.
contract AITBCTimelock is TimelockController {
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
