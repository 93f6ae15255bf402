// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IHumanOverride} from "../../contracts/interfaces/IHumanOverride.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";

contract HumanOverrideTest is CoreFixture {
    uint8 internal constant MAX_ACTION_TYPE = 47; // ActionTypes.MAX - 1

    function setUp() public {
        _deployCore();
    }

    function _assertRecord(
        address agent,
        uint8 actionType,
        IHumanOverride.Decision decision,
        uint256 expiresAt,
        string memory message
    ) internal view {
        IHumanOverride.OverrideRecord memory record = humanOverride.overrideOf(agent, actionType);
        assertEq(uint256(record.decision), uint256(decision), message);
        assertEq(record.expiresAt, expiresAt, message);
    }

    function _gateDecision(address agent, uint8 actionType) internal view returns (IHumanOverride.Decision decision) {
        (, , decision) = humanOverride.gate(agent, actionType);
    }

    struct Pair {
        address agent;
        uint8 typeA;
        uint8 typeB;
        uint256 expiresA;
        uint256 expiresB;
        IHumanOverride.Decision decisionB;
    }

    function testFuzz_grant_expiryIsPerActionType(
        address agent,
        uint8 typeA,
        uint8 typeB,
        uint256 durationA,
        uint256 durationB,
        uint256 gap,
        bool denyB
    ) public {
        vm.assume(agent != address(0));
        Pair memory p;
        p.agent = agent;
        p.typeA = uint8(bound(typeA, 0, MAX_ACTION_TYPE));
        p.typeB = uint8(bound(typeB, 0, MAX_ACTION_TYPE));
        vm.assume(p.typeA != p.typeB);
        durationA = bound(durationA, 1, humanOverride.MAX_DURATION());
        durationB = bound(durationB, 1, humanOverride.MAX_DURATION());

        vm.prank(guardian);
        humanOverride.grant(agent, p.typeA, durationA);
        p.expiresA = block.timestamp + durationA;
        _assertRecord(agent, p.typeA, IHumanOverride.Decision.Granted, p.expiresA, "A after grant");

        vm.warp(block.timestamp + bound(gap, 0, 30 days));
        vm.prank(guardian);
        if (denyB) humanOverride.deny(agent, p.typeB, durationB);
        else humanOverride.grant(agent, p.typeB, durationB);
        p.expiresB = block.timestamp + durationB;
        p.decisionB = denyB ? IHumanOverride.Decision.Denied : IHumanOverride.Decision.Granted;

        // The second decision neither extends nor cuts the first.
        _assertRecord(agent, p.typeA, IHumanOverride.Decision.Granted, p.expiresA, "A unchanged by B");
        _assertRecord(agent, p.typeB, p.decisionB, p.expiresB, "B");

        _checkLapses(p);

        // Revoking B leaves A's record alone.
        vm.prank(guardian);
        humanOverride.revoke(agent, p.typeB);
        _assertRecord(agent, p.typeB, IHumanOverride.Decision.None, 0, "B revoked");
        _assertRecord(agent, p.typeA, IHumanOverride.Decision.Granted, p.expiresA, "A unchanged by revoke B");
    }

    /// @dev Each decision is live until, and lapses at, its own expiry.
    function _checkLapses(Pair memory p) internal {
        IHumanOverride.Decision liveA =
            block.timestamp < p.expiresA ? IHumanOverride.Decision.Granted : IHumanOverride.Decision.None;
        assertEq(uint256(_gateDecision(p.agent, p.typeA)), uint256(liveA), "gate A after B");
        assertEq(uint256(_gateDecision(p.agent, p.typeB)), uint256(p.decisionB), "gate B after B");
        if (p.expiresA > block.timestamp) {
            vm.warp(p.expiresA - 1);
            assertEq(uint256(_gateDecision(p.agent, p.typeA)), uint256(IHumanOverride.Decision.Granted), "A live");
            vm.warp(p.expiresA);
            assertEq(uint256(_gateDecision(p.agent, p.typeA)), uint256(IHumanOverride.Decision.None), "A lapsed");
            IHumanOverride.Decision liveB = p.expiresA < p.expiresB ? p.decisionB : IHumanOverride.Decision.None;
            assertEq(uint256(_gateDecision(p.agent, p.typeB)), uint256(liveB), "B at A's expiry");
        }
        if (p.expiresB > block.timestamp) {
            vm.warp(p.expiresB - 1);
            assertEq(uint256(_gateDecision(p.agent, p.typeB)), uint256(p.decisionB), "B live");
            vm.warp(p.expiresB);
        }
        assertEq(uint256(_gateDecision(p.agent, p.typeB)), uint256(IHumanOverride.Decision.None), "B lapsed");
    }

    /// @dev gate() reports the stop, the agent's freeze and the live decision together, each independently.
    function testFuzz_gate_reportsStopFreezeAndDecision(
        address agent,
        uint8 actionType,
        bool stop,
        bool freeze,
        bool deny
    ) public {
        vm.assume(uint160(agent) > 1); // neither it nor its neighbour below is address(0)
        actionType = uint8(bound(actionType, 0, MAX_ACTION_TYPE));
        vm.startPrank(guardian);
        if (stop) humanOverride.emergencyStop("exploit");
        if (freeze) humanOverride.freeze(agent, "incident");
        if (deny) humanOverride.deny(agent, actionType, 1 days);
        else humanOverride.grant(agent, actionType, 1 days);
        vm.stopPrank();

        (bool stopped, bool frozen, IHumanOverride.Decision decision) = humanOverride.gate(agent, actionType);
        assertEq(stopped, stop, "stopped");
        assertEq(frozen, freeze, "frozen");
        IHumanOverride.Decision expected = deny ? IHumanOverride.Decision.Denied : IHumanOverride.Decision.Granted;
        assertEq(uint256(decision), uint256(expected), "decision");

        // Another agent shares the stop, not the freeze or the decision.
        (stopped, frozen, decision) = humanOverride.gate(address(uint160(agent) ^ 1), actionType);
        assertEq(stopped, stop, "stop is global");
        assertFalse(frozen, "freeze is per agent");
        assertEq(uint256(decision), uint256(IHumanOverride.Decision.None), "decision is per agent");

        // The decision lapses; the stop and the freeze do not.
        vm.warp(block.timestamp + 1 days);
        (stopped, frozen, decision) = humanOverride.gate(agent, actionType);
        assertEq(stopped, stop, "stop has no expiry");
        assertEq(frozen, freeze, "freeze has no expiry");
        assertEq(uint256(decision), uint256(IHumanOverride.Decision.None), "decision lapsed");
    }

    function testFuzz_grant_otherAgentUnaffected(address agent, address other, uint8 actionType, uint256 d) public {
        vm.assume(agent != address(0) && other != address(0) && agent != other);
        actionType = uint8(bound(actionType, 0, MAX_ACTION_TYPE));
        d = bound(d, 1, humanOverride.MAX_DURATION());
        vm.startPrank(guardian);
        humanOverride.grant(agent, actionType, d);
        humanOverride.deny(other, actionType, 1);
        vm.stopPrank();
        _assertRecord(agent, actionType, IHumanOverride.Decision.Granted, block.timestamp + d, "agent");
        _assertRecord(other, actionType, IHumanOverride.Decision.Denied, block.timestamp + 1, "other");
    }

    function testFuzz_grant_invalidDurationReverts(uint256 duration) public {
        uint256 maxDuration = humanOverride.MAX_DURATION();
        duration = bound(duration, maxDuration + 1, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IHumanOverride.HumanOverrideInvalidDuration.selector, duration, maxDuration)
        );
        vm.prank(guardian);
        humanOverride.grant(address(0xA6E47), 0, duration);

        vm.expectRevert(abi.encodeWithSelector(IHumanOverride.HumanOverrideInvalidDuration.selector, 0, maxDuration));
        vm.prank(guardian);
        humanOverride.grant(address(0xA6E47), 0, 0);
    }

    function testFuzz_grant_invalidActionTypeReverts(uint8 actionType) public {
        actionType = uint8(bound(actionType, MAX_ACTION_TYPE + 1, type(uint8).max));
        vm.expectRevert(abi.encodeWithSelector(IHumanOverride.HumanOverrideInvalidActionType.selector, actionType, 48));
        vm.prank(guardian);
        humanOverride.grant(address(0xA6E47), actionType, 1 days);
    }

    function test_grant_nonGuardianReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                address(this),
                humanOverride.GUARDIAN_ROLE()
            )
        );
        humanOverride.grant(address(0xA6E47), 0, 1 days);
    }

    function test_revoke_withoutOverrideReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IHumanOverride.HumanOverrideNoOverride.selector, address(0xA6E47), uint8(3))
        );
        vm.prank(guardian);
        humanOverride.revoke(address(0xA6E47), 3);
    }

    function test_emergencyStop_toggles() public {
        vm.startPrank(guardian);
        vm.expectRevert(IHumanOverride.HumanOverrideNotStopped.selector);
        humanOverride.resume();
        humanOverride.emergencyStop("exploit");
        assertTrue(humanOverride.isStopped(), "stopped");
        vm.expectRevert(IHumanOverride.HumanOverrideEmergencyStopped.selector);
        humanOverride.emergencyStop("again");
        humanOverride.resume();
        assertFalse(humanOverride.isStopped(), "resumed");
        vm.stopPrank();
    }

    function test_freeze_toggles() public {
        address agent = address(0xA6E47);
        vm.startPrank(guardian);
        humanOverride.freeze(agent, "incident");
        assertTrue(humanOverride.isFrozen(agent), "frozen");
        vm.expectRevert(abi.encodeWithSelector(IHumanOverride.HumanOverrideAlreadyFrozen.selector, agent));
        humanOverride.freeze(agent, "again");
        humanOverride.unfreeze(agent);
        assertFalse(humanOverride.isFrozen(agent), "unfrozen");
        vm.expectRevert(abi.encodeWithSelector(IHumanOverride.HumanOverrideNotFrozen.selector, agent));
        humanOverride.unfreeze(agent);
        vm.stopPrank();
    }
}
