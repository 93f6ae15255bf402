// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Slashing} from "../../../contracts/libraries/Slashing.sol";
import {Assertions} from "../utils/Assertions.sol";

/// @notice Slashing: the registry's cap and split, the marketplace's assignment penalty, against the inline
/// arithmetic they replaced (AgentRegistry.slash and summaryOf, ServiceMarketplace._penalise).
contract SlashingTest is Assertions {
    uint256 internal constant MAX_SLASH_BPS = 5_000; // AgentRegistry.MAX_SLASH_BPS
    uint256 internal constant MAX_TIMEOUT_SLASH_BPS = 10_000; // ServiceMarketplace.MAX_TIMEOUT_SLASH_BPS
    uint256 internal constant MAX_TOKENS = 1e30; // far above any AITBC supply

    function test_maxSlash_isHalfOfActivePlusPending() public pure {
        assertEq(Slashing.maxSlash(2_000e18, 0, MAX_SLASH_BPS), 1_000e18, "half of the stake");
        assertEq(Slashing.maxSlash(1_500e18, 500e18, MAX_SLASH_BPS), 1_000e18, "pending stake counts");
        assertEq(Slashing.maxSlash(0, 0, MAX_SLASH_BPS), 0, "nothing staked");
        assertEq(Slashing.maxSlash(3, 0, MAX_SLASH_BPS), 1, "rounds down");
    }

    function test_split_takesActiveStakeFirst() public pure {
        (uint256 fromStake, uint256 fromPending) = Slashing.split(300, 1_000);
        assertEq(fromStake, 300, "all from stake");
        assertEq(fromPending, 0, "none from pending");
        (fromStake, fromPending) = Slashing.split(300, 100);
        assertEq(fromStake, 100, "the whole stake");
        assertEq(fromPending, 200, "the rest from pending");
        (fromStake, fromPending) = Slashing.split(300, 0);
        assertEq(fromStake, 0, "no stake left");
        assertEq(fromPending, 300, "all from pending");
    }

    function test_assignmentPenalty_isBpsOfEscrow() public pure {
        assertEq(Slashing.assignmentPenalty(200e18, 1_000, type(uint256).max), 20e18, "10% of the escrow");
        assertEq(Slashing.assignmentPenalty(200e18, 0, type(uint256).max), 0, "no slash configured");
        assertEq(Slashing.assignmentPenalty(200e18, 10_000, type(uint256).max), 200e18, "the whole escrow");
    }

    function test_assignmentPenalty_cappedByMaxSlash() public pure {
        assertEq(Slashing.assignmentPenalty(200e18, 10_000, 50e18), 50e18, "capped");
        assertEq(Slashing.assignmentPenalty(200e18, 1_000, 0), 0, "nothing slashable");
    }

    function testFuzz_split_conservesTheAmount(uint256 amount, uint256 stake, uint256 pending) public pure {
        stake = bound(stake, 0, MAX_TOKENS);
        pending = bound(pending, 0, MAX_TOKENS);
        amount = bound(amount, 0, Slashing.maxSlash(stake, pending, MAX_SLASH_BPS));
        (uint256 fromStake, uint256 fromPending) = Slashing.split(amount, stake);
        assertEq(fromStake + fromPending, amount, "the parts add up");
        assertLe(fromStake, stake, "never more than the stake");
        assertLe(fromPending, pending, "a capped slash never takes more than is pending");
        if (fromPending != 0) assertEq(fromStake, stake, "pending only once the stake is gone");
    }

    function testFuzz_maxSlash_neverAboveHalf(uint256 stake, uint256 pending) public pure {
        stake = bound(stake, 0, MAX_TOKENS);
        pending = bound(pending, 0, MAX_TOKENS);
        uint256 cap = Slashing.maxSlash(stake, pending, MAX_SLASH_BPS);
        assertLe(cap * 2, stake + pending, "at most half");
        assertLe(stake + pending, cap * 2 + 1, "at least half, rounded down");
    }

    /// @dev AgentRegistry.slash before Slashing: maxSlash, then Math.min(amount, stake) and the rest from pending.
    function testFuzz_registry_matchesInlineArithmetic(uint256 amount, uint256 stake, uint256 pending) public pure {
        stake = bound(stake, 0, MAX_TOKENS);
        pending = bound(pending, 0, MAX_TOKENS);
        amount = bound(amount, 0, 2 * MAX_TOKENS);
        assertEq(
            Slashing.maxSlash(stake, pending, MAX_SLASH_BPS),
            ((stake + pending) * MAX_SLASH_BPS) / 10_000,
            "maxSlash"
        );
        uint256 fromStake = amount < stake ? amount : stake;
        (uint256 fromStake_, uint256 fromPending_) = Slashing.split(amount, stake);
        assertEq(fromStake_, fromStake, "fromStake");
        assertEq(fromPending_, amount - fromStake, "fromPending");
    }

    /// @dev ServiceMarketplace._penalise before Slashing: units × maxPricePerUnit × bps / 10000, capped.
    function testFuzz_assignmentPenalty_matchesInlineArithmetic(
        uint256 units,
        uint256 maxPrice,
        uint256 bps,
        uint256 cap
    ) public pure {
        units = bound(units, 1, type(uint96).max);
        maxPrice = bound(maxPrice, 1, type(uint128).max);
        bps = bound(bps, 0, MAX_TIMEOUT_SLASH_BPS);
        uint256 expected = (units * maxPrice * bps) / 10_000;
        if (expected > cap) expected = cap;
        assertEq(Slashing.assignmentPenalty(units * maxPrice, bps, cap), expected, "penalty");
    }

    function testFuzz_assignmentPenalty_neverAboveCapOrEscrow(uint256 escrow, uint256 bps, uint256 cap) public pure {
        escrow = bound(escrow, 0, type(uint224).max);
        bps = bound(bps, 0, MAX_TIMEOUT_SLASH_BPS);
        uint256 penalty = Slashing.assignmentPenalty(escrow, bps, cap);
        assertLe(penalty, cap, "cap");
        assertLe(penalty, escrow, "at most the escrowed value");
    }
}
