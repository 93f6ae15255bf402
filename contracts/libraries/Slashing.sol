// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title Slashing
/// @notice How much a slash may take and where it comes from: the registry's cap per slashing event, its split
/// between active stake and pending withdrawals, and the marketplace's penalty for a failed assignment.
/// @dev Unbonding stake stays slashable until it is withdrawn, so requesting an unstake never dodges a slash: the cap
/// counts pending withdrawals, and a slash larger than the active stake takes the rest from them. Amounts round
/// down, in the slashed agent's favour.
library Slashing {
    /// @notice Basis points in a whole.
    uint256 internal constant BPS = 10_000;

    /// @notice The most one slashing event may take from an agent: `maxSlashBps` of its active plus pending stake.
    function maxSlash(uint256 stake, uint256 pending, uint256 maxSlashBps) internal pure returns (uint256) {
        return ((stake + pending) * maxSlashBps) / BPS;
    }

    /// @notice Where a slash of `amount` comes from: active stake first, the rest from pending withdrawals.
    function split(uint256 amount, uint256 stake) internal pure returns (uint256 fromStake, uint256 fromPending) {
        fromStake = Math.min(amount, stake);
        fromPending = amount - fromStake;
    }

    /// @notice A failed assignment's slash: `slashBps` of the workload's escrowed value (units × maxPricePerUnit, not
    /// the price bid, so a token bid cannot make failure free), capped at `cap` (the registry's {maxSlash}).
    function assignmentPenalty(uint256 escrow, uint256 slashBps, uint256 cap) internal pure returns (uint256 amount) {
        amount = (escrow * slashBps) / BPS;
        if (amount > cap) amount = cap;
    }
}
