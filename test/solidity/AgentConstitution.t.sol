// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IAgentConstitution} from "../../contracts/interfaces/IAgentConstitution.sol";
import {IHumanOverride} from "../../contracts/interfaces/IHumanOverride.sol";
import {ActionTypes} from "../../contracts/libraries/ActionTypes.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";

contract AgentConstitutionTest is CoreFixture {
    address internal agent = address(0xA6E47);
    address internal operator = address(0x0BE7A7);
    address internal recipient = address(0x7EC1);

    function setUp() public {
        _deployCore();
        _registerAgent(agent, operator, 0);
    }

    function _withDailyVolume(uint256 limit) internal {
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxDailyVolume = uint96(limit);
        _setConstraints(agent, c);
    }

    function _today() internal view returns (uint256) {
        return block.timestamp / 1 days;
    }

    // ---------------------------------------------------------------- daily volume

    function testFuzz_transfer_aboveRemainingDailyVolumeRevertsUntilNextDay(
        uint256 limit,
        uint256 used,
        uint256 amount,
        uint256 timeOfDay
    ) public {
        limit = bound(limit, 1, 1_000_000 * AITBC);
        used = bound(used, 1, limit);
        uint256 remaining = limit - used;
        amount = bound(amount, remaining + 1, limit);
        // Start anywhere in a day bucket.
        vm.warp(_today() * 1 days + bound(timeOfDay, 0, 1 days - 1));
        _withDailyVolume(limit);
        _mintTo(agent, (2 * limit) / REWARD_RATE + 2);

        vm.prank(agent);
        token.transfer(recipient, used);
        assertEq(constitution.usageOf(agent).volume, used, "usage after first transfer");

        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionDailyVolumeExceeded.selector,
                agent,
                used,
                amount,
                limit
            )
        );
        vm.prank(agent);
        token.transfer(recipient, amount);

        // Still the same bucket at its last second.
        uint256 nextDay = (_today() + 1) * 1 days;
        vm.warp(nextDay - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionDailyVolumeExceeded.selector,
                agent,
                used,
                amount,
                limit
            )
        );
        vm.prank(agent);
        token.transfer(recipient, amount);

        // A new UTC day bucket starts from zero.
        vm.warp(nextDay);
        assertEq(constitution.usageOf(agent).volume, 0, "new bucket is empty");
        vm.prank(agent);
        token.transfer(recipient, amount);
        assertEq(constitution.usageOf(agent).volume, amount, "usage in the new bucket");
        assertEq(constitution.usageOf(agent).day, nextDay / 1 days, "bucket day");
        assertEq(token.balanceOf(recipient), used + amount, "recipient");
    }

    function testFuzz_transfer_exactlyRemainingDailyVolumeSucceeds(uint256 limit, uint256 used) public {
        limit = bound(limit, 1, 1_000_000 * AITBC);
        used = bound(used, 0, limit);
        _withDailyVolume(limit);
        _mintTo(agent, limit / REWARD_RATE + 1);
        vm.startPrank(agent);
        token.transfer(recipient, used);
        token.transfer(recipient, limit - used);
        vm.stopPrank();
        assertEq(constitution.usageOf(agent).volume, limit, "limit reached exactly");

        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionDailyVolumeExceeded.selector,
                agent,
                limit,
                1,
                limit
            )
        );
        vm.prank(agent);
        token.transfer(recipient, 1);
    }

    function testFuzz_stakeAndTransferFrom_shareTheDailyVolume(
        uint256 stakeAmount,
        uint256 pullAmount,
        uint256 limit
    ) public {
        limit = bound(limit, MIN_STAKE, 1_000_000 * AITBC);
        stakeAmount = bound(stakeAmount, 1, limit);
        _withDailyVolume(limit);
        _mintTo(agent, (2 * limit) / REWARD_RATE + 1);

        // Staking is the STAKE action; the registry's pull is not charged a second time as a TRANSFER.
        vm.prank(agent);
        registry.stake(stakeAmount);
        assertEq(constitution.usageOf(agent).volume, stakeAmount, "stake charged once");

        // A transferFrom by an ordinary spender is the owner's TRANSFER action.
        address spender = address(0x5E4D);
        vm.prank(agent);
        token.approve(spender, type(uint256).max);
        uint256 remaining = limit - stakeAmount;
        pullAmount = bound(pullAmount, 0, limit);
        if (pullAmount > remaining) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentConstitution.AgentConstitutionDailyVolumeExceeded.selector,
                    agent,
                    stakeAmount,
                    pullAmount,
                    limit
                )
            );
            vm.prank(spender);
            token.transferFrom(agent, recipient, pullAmount);
        } else {
            vm.prank(spender);
            token.transferFrom(agent, recipient, pullAmount);
            assertEq(constitution.usageOf(agent).volume, stakeAmount + pullAmount, "transferFrom charged to owner");
        }
    }

    function test_transfer_nonAgentIsNotLimited() public {
        address holder = address(0x401D);
        _mintTo(holder, (2 * DEFAULT_MAX_DAILY_VOLUME) / REWARD_RATE);
        vm.prank(holder);
        token.transfer(recipient, 2 * uint256(DEFAULT_MAX_DAILY_VOLUME));
        assertEq(constitution.usageOf(holder).volume, 0, "not enrolled, not charged");
    }

    // ---------------------------------------------------------------- gates

    function test_transfer_frozenAgentReverts() public {
        _mintTo(agent, 10);
        vm.prank(guardian);
        humanOverride.freeze(agent, "incident");
        vm.expectRevert(abi.encodeWithSelector(IAgentConstitution.AgentConstitutionAgentFrozen.selector, agent));
        vm.prank(agent);
        token.transfer(recipient, 1);
    }

    function test_transfer_deniedThenAllowedAfterExpiry() public {
        _mintTo(agent, 10);
        vm.prank(guardian);
        humanOverride.deny(agent, ActionTypes.TRANSFER, 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionActionDenied.selector,
                agent,
                ActionTypes.TRANSFER
            )
        );
        vm.prank(agent);
        token.transfer(recipient, 1);

        vm.warp(block.timestamp + 1 hours);
        vm.prank(agent);
        token.transfer(recipient, 1);
    }

    function test_transfer_humanApprovalRequiredUntilGranted() public {
        _mintTo(agent, 10);
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.humanApprovalActions = uint48(1) << ActionTypes.TRANSFER;
        _setConstraints(agent, c);
        assertTrue(constitution.requiresHumanApproval(agent), "requires approval");

        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionHumanApprovalRequired.selector,
                agent,
                ActionTypes.TRANSFER
            )
        );
        vm.prank(agent);
        token.transfer(recipient, 1);

        vm.prank(guardian);
        humanOverride.grant(agent, ActionTypes.TRANSFER, 1 hours);
        vm.prank(agent);
        token.transfer(recipient, 1);
    }

    function test_transfer_disallowedActionReverts() public {
        _mintTo(agent, 10);
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.allowedActions = ALL_ACTIONS & ~(uint48(1) << ActionTypes.TRANSFER);
        _setConstraints(agent, c);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionActionNotAllowed.selector,
                agent,
                ActionTypes.TRANSFER
            )
        );
        vm.prank(agent);
        token.transfer(recipient, 1);
    }

    // ---------------------------------------------------------------- configuration

    function testFuzz_setConstraints_aboveBoundReverts(uint256 maxDailyVolume) public {
        maxDailyVolume = bound(maxDailyVolume, uint256(BOUND_MAX_DAILY_VOLUME) + 1, type(uint96).max);
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxDailyVolume = uint96(maxDailyVolume);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionAboveBound.selector,
                "maxDailyVolume",
                maxDailyVolume,
                BOUND_MAX_DAILY_VOLUME
            )
        );
        vm.prank(operator);
        constitution.setConstraints(agent, c);
    }

    function test_setConstraints_notOperatorReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAgentConstitution.AgentConstitutionNotOperator.selector, agent, agent, operator)
        );
        vm.prank(agent);
        constitution.setConstraints(agent, _defaultConstraints());
    }

    function test_setConstraints_whileStoppedReverts() public {
        vm.prank(guardian);
        humanOverride.emergencyStop("exploit");
        vm.expectRevert(IHumanOverride.HumanOverrideEmergencyStopped.selector);
        vm.prank(operator);
        constitution.setConstraints(agent, _defaultConstraints());
    }

    function test_enforce_onlyEnforcer() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                address(this),
                constitution.ENFORCER_ROLE()
            )
        );
        constitution.enforce(agent, ActionTypes.TRANSFER, 1, 0);
    }

    function testFuzz_stake_aboveMaxStakeReverts(uint256 maxStake, uint256 amount) public {
        maxStake = bound(maxStake, MIN_STAKE, 50_000 * AITBC);
        amount = bound(amount, maxStake + 1, DEFAULT_MAX_DAILY_VOLUME);
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxStake = uint96(maxStake);
        _setConstraints(agent, c);
        _mintTo(agent, amount / REWARD_RATE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionMaxStakeExceeded.selector,
                agent,
                amount,
                maxStake
            )
        );
        vm.prank(agent);
        registry.stake(amount);
    }
}
