// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CoreFixture} from "../utils/CoreFixture.sol";

/// @notice HumanOverride's stop history and {IHumanOverride-extendedDeadline}: fuzzed series of stops against
/// obligations that began at any time, with any length.
contract StopIntervalsTest is CoreFixture {
    uint64 internal constant GRACE = 1 days;

    function setUp() public {
        _deployCore();
    }

    /// @dev Stops the protocol `gaps[i]` after the previous resume (or now) for `lengths[i]` seconds, each bounded.
    function _stops(uint32[4] memory gaps, uint32[4] memory lengths, uint256 count) internal {
        for (uint256 i = 0; i < count; ++i) {
            vm.warp(block.timestamp + bound(gaps[i], 0, 20 days));
            vm.prank(guardian);
            humanOverride.emergencyStop("fuzz");
            vm.warp(block.timestamp + bound(lengths[i], 1, 10 days));
            vm.prank(guardian);
            humanOverride.resume();
        }
    }

    /// @notice A stop never shortens a deadline; a deadline that lapsed before every stop never moves; and a deadline
    /// still running when a stop began ends at least a grace period after that stop.
    function testFuzz_extendedDeadline_neverShortensNorRevives(
        uint32[4] memory gaps,
        uint32[4] memory lengths,
        uint8 count,
        uint32 sinceOffset,
        uint32 duration
    ) public {
        uint256 start = block.timestamp;
        _stops(gaps, lengths, bound(count, 0, 4));
        uint64 since = uint64(start + bound(sinceOffset, 0, 60 days));
        uint64 deadline = since + uint64(bound(duration, 0, 30 days));
        uint64 extended = humanOverride.extendedDeadline(since, deadline);
        assertTrue(extended >= deadline, "never shortened");

        uint256 n = humanOverride.stopCount();
        bool hit;
        uint64 running = deadline;
        for (uint256 i = 0; i < n; ++i) {
            (uint64 s, uint64 e) = humanOverride.stopAt(i);
            if (e <= since) continue; // ended before the obligation began
            uint64 from = s > since ? s : since;
            if (from > running) break; // lapsed before this stop
            hit = true;
            uint64 shifted = running + (e - from);
            running = shifted > e + GRACE ? shifted : e + GRACE;
            assertTrue(extended >= e + GRACE, "at least a grace period after each stop that hit it");
        }
        assertEq(extended, running, "the documented rule");
        if (!hit) assertEq(extended, deadline, "a lapsed deadline is never moved");
    }

    /// @notice Two stops that each hit a running deadline each extend it.
    function test_extendedDeadline_repeatedStopsEachExtend() public {
        uint64 since = uint64(block.timestamp);
        uint64 deadline = since + 10 days;
        vm.warp(block.timestamp + 1 days);
        vm.prank(guardian);
        humanOverride.emergencyStop("first");
        vm.warp(block.timestamp + 3 days);
        vm.prank(guardian);
        humanOverride.resume();
        uint64 afterFirst = humanOverride.extendedDeadline(since, deadline);
        assertEq(afterFirst, deadline + 3 days, "the first stop adds its length");
        vm.warp(block.timestamp + 1 days);
        vm.prank(guardian);
        humanOverride.emergencyStop("second");
        vm.warp(block.timestamp + 2 days);
        vm.prank(guardian);
        humanOverride.resume();
        assertEq(humanOverride.extendedDeadline(since, deadline), deadline + 5 days, "the second adds its length too");
    }

    /// @notice A one-minute stop long after a deadline lapsed leaves it lapsed.
    function test_extendedDeadline_lapsedBeforeTheStop_staysLapsed() public {
        uint64 since = uint64(block.timestamp);
        uint64 deadline = since + 1 days;
        vm.warp(block.timestamp + 11 days);
        vm.prank(guardian);
        humanOverride.emergencyStop("unrelated");
        vm.warp(block.timestamp + 1 minutes);
        vm.prank(guardian);
        humanOverride.resume();
        assertEq(humanOverride.extendedDeadline(since, deadline), deadline, "not revived");
        assertEq(humanOverride.stopCount(), 1, "one stop recorded");
    }

    /// @notice A stop that ended before an obligation began does not touch it.
    function test_extendedDeadline_stopBeforeTheObligation_ignored() public {
        vm.prank(guardian);
        humanOverride.emergencyStop("earlier");
        vm.warp(block.timestamp + 1 hours);
        vm.prank(guardian);
        humanOverride.resume();
        vm.warp(block.timestamp + 1 hours);
        uint64 since = uint64(block.timestamp);
        assertEq(humanOverride.extendedDeadline(since, since + 1 hours), since + 1 hours, "untouched");
    }
}
