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

    /// @dev What `agent` declares: above every daily limit these tests set (maxDailyVolume never exceeds it).
    uint256 internal constant DECLARED_VOLUME = 1_000_000 * AITBC;

    function setUp() public {
        _deployCore();
        constitution.grantRole(constitution.REGISTRY_ROLE(), address(this));
        _registerAgent(agent, operator, DECLARED_VOLUME);
        _bondDeclared(agent);
    }

    /// @dev Reports `who`'s declared volume as bonded, as the registry does once its bond is staked. These unit
    /// tests check the constitution's own rules apart from the stake (stakes here test maxStake from zero); the
    /// registry's reports are tested in test/agents/UnbondedVolumeAttack.test.ts and the invariants.
    function _bondDeclared(address who) internal {
        constitution.setBondedVolume(who, constitution.declaredVolumeOf(who));
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

    /// @dev Staking locks funds in the protocol: it charges the STAKE action's gas but no daily volume (maxStake
    /// bounds it), and the registry's pull is not charged a second time as a TRANSFER. A transferFrom by an
    /// ordinary spender is the owner's TRANSFER: its value counts, the spender's gas does not.
    function testFuzz_stake_isNotDailyVolumeButTransferFromIs(
        uint256 stakeAmount,
        uint256 pullAmount,
        uint256 limit
    ) public {
        limit = bound(limit, 1, 1_000_000 * AITBC);
        // At least the bond, so the stake backs all the agent declared; may exceed the daily limit.
        stakeAmount = bound(stakeAmount, _requiredStake(DECLARED_VOLUME), DEFAULT_MAX_STAKE);
        _withDailyVolume(limit);
        _mintTo(agent, (stakeAmount + 2 * limit) / REWARD_RATE + 2);

        vm.prank(agent);
        registry.stake(stakeAmount);
        IAgentConstitution.Usage memory afterStake = constitution.usageOf(agent);
        assertEq(afterStake.volume, 0, "stake is not daily volume");
        assertGe(afterStake.gas, 1, "stake gas charged");

        address spender = address(0x5E4D);
        vm.prank(agent);
        token.approve(spender, type(uint256).max);
        pullAmount = bound(pullAmount, 0, 2 * limit);
        if (pullAmount > limit) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentConstitution.AgentConstitutionDailyVolumeExceeded.selector,
                    agent,
                    0,
                    pullAmount,
                    limit
                )
            );
            vm.prank(spender);
            token.transferFrom(agent, recipient, pullAmount);
        } else {
            vm.prank(spender);
            token.transferFrom(agent, recipient, pullAmount);
            assertEq(constitution.usageOf(agent).volume, pullAmount, "transferFrom value charged to the owner");
            assertEq(constitution.usageOf(agent).gas, afterStake.gas, "the spender's gas is not the owner's");
        }
    }

    /// @dev An agent that declared no volume moves nothing, yet may stake up to maxStake.
    function testFuzz_stake_allowedWithZeroDeclaredVolume(uint256 amount) public {
        address idle = address(0x1D1E);
        _registerAgent(idle, operator, 0);
        assertEq(constitution.constraintsOf(idle).maxDailyVolume, 0, "no declared volume, no daily volume");
        amount = bound(amount, 1, DEFAULT_MAX_STAKE);
        _mintTo(idle, amount / REWARD_RATE + 1);
        vm.prank(idle);
        registry.stake(amount);
        assertEq(registry.stakeOf(registry.getAgentId(idle)), amount, "staked");
        assertEq(constitution.usageOf(idle).volume, 0, "no volume used");

        vm.expectRevert(
            abi.encodeWithSelector(IAgentConstitution.AgentConstitutionDailyVolumeExceeded.selector, idle, 0, 1, 0)
        );
        vm.prank(idle);
        token.transfer(recipient, 1);
    }

    // ---------------------------------------------------------------- transferFrom: owner and spender

    /// @dev Nobody can burn an agent's gas budget: a zero-value transferFrom needs no allowance, and charges the
    /// owner neither volume nor gas, however often it is called.
    function testFuzz_transferFrom_zeroValueByOutsiderNeverChangesAgentGas(
        address outsider,
        uint256 used,
        uint8 calls,
        uint256 timeOfDay
    ) public {
        vm.assume(outsider != address(0) && outsider != agent && outsider != address(vm));
        vm.assume(!constitution.isEnrolled(outsider) && !token.hasRole(token.MODULE_ROLE(), outsider));
        vm.warp(_today() * 1 days + bound(timeOfDay, 0, 1 days - 1));
        _mintTo(agent, 100);
        vm.prank(agent);
        token.transfer(recipient, bound(used, 0, 100 * AITBC)); // the agent has used some gas today
        IAgentConstitution.Usage memory before = constitution.usageOf(agent);
        assertGe(before.gas, 1, "agent gas used");

        uint256 n = bound(calls, 1, 8);
        for (uint256 i = 0; i < n; ++i) {
            vm.prank(outsider);
            token.transferFrom(agent, recipient, 0);
        }
        IAgentConstitution.Usage memory after_ = constitution.usageOf(agent);
        assertEq(after_.gas, before.gas, "agent gas unchanged");
        assertEq(after_.volume, before.volume, "agent volume unchanged");
        assertEq(after_.day, before.day, "same bucket");
    }

    /// @dev A transferFrom whose spender is an agent is the spender's action too: the owner (when an agent) is
    /// charged the value only, the spender the value and the gas.
    function testFuzz_transferFrom_agentSpenderChargedValueAndGas(uint256 value, bool ownerIsAgent) public {
        address spender = address(0x5BE4D);
        _registerAgent(spender, address(0x0BE5), DECLARED_VOLUME);
        _bondDeclared(spender);
        address owner = ownerIsAgent ? agent : address(0x401D);
        value = bound(value, 0, 1_000 * AITBC);
        _mintTo(owner, 1_000);
        vm.prank(owner);
        token.approve(spender, type(uint256).max);
        IAgentConstitution.Usage memory owner0 = constitution.usageOf(owner);
        IAgentConstitution.Usage memory spender0 = constitution.usageOf(spender);

        vm.prank(spender);
        token.transferFrom(owner, recipient, value);

        IAgentConstitution.Usage memory owner1 = constitution.usageOf(owner);
        IAgentConstitution.Usage memory spender1 = constitution.usageOf(spender);
        assertEq(owner1.volume, owner0.volume + (ownerIsAgent ? value : 0), "owner charged the value (if enrolled)");
        assertEq(owner1.gas, owner0.gas, "owner not charged the gas");
        assertEq(spender1.volume, spender0.volume + value, "spender charged the value");
        assertGe(spender1.gas, spender0.gas + 1, "spender charged the gas");
        assertEq(token.balanceOf(recipient), value, "moved");
    }

    /// @dev The spender's own limits and gates apply to what it spends from others.
    function testFuzz_transferFrom_agentSpenderBoundByItsOwnLimit(uint256 limit, uint256 value) public {
        address spender = address(0x5BE4D);
        address holder = address(0x401D);
        _registerAgent(spender, address(0x0BE5), DECLARED_VOLUME);
        _bondDeclared(spender);
        limit = bound(limit, 0, 1_000 * AITBC);
        value = bound(value, limit + 1, 2_000 * AITBC + 1);
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxDailyVolume = uint96(limit);
        _setConstraints(spender, c);
        _mintTo(holder, 2_001);
        vm.prank(holder);
        token.approve(spender, type(uint256).max);

        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionDailyVolumeExceeded.selector,
                spender,
                0,
                value,
                limit
            )
        );
        vm.prank(spender);
        token.transferFrom(holder, recipient, value);

        vm.prank(spender);
        token.transferFrom(holder, recipient, limit);
        assertEq(constitution.usageOf(spender).volume, limit, "up to its limit");

        vm.prank(guardian);
        humanOverride.freeze(spender, "incident");
        vm.expectRevert(abi.encodeWithSelector(IAgentConstitution.AgentConstitutionAgentFrozen.selector, spender));
        vm.prank(spender);
        token.transferFrom(holder, recipient, 0);
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

    /// @dev Enrolment caps the default daily volume at the declared volume.
    function testFuzz_enroll_dailyVolumeIsMinOfDefaultAndDeclared(uint256 declared) public {
        declared = bound(declared, 0, BOUND_MAX_DAILY_VOLUME);
        address newAgent = address(0xA6E48);
        _registerAgent(newAgent, operator, declared);
        IAgentConstitution.Constraints memory c = constitution.constraintsOf(newAgent);
        uint256 expected = declared < DEFAULT_MAX_DAILY_VOLUME ? declared : DEFAULT_MAX_DAILY_VOLUME;
        assertEq(c.maxDailyVolume, expected, "maxDailyVolume == min(default, declared)");
        assertEq(constitution.declaredVolumeOf(newAgent), declared, "declared volume recorded");
        assertEq(c.maxStake, DEFAULT_MAX_STAKE, "other fields are the defaults");
        assertEq(c.maxGasPerDay, DEFAULT_MAX_GAS_PER_DAY, "gas default");
        assertEq(c.allowedActions, ALL_ACTIONS, "allowed default");
    }

    function testFuzz_enroll_declaredAboveBoundReverts(uint256 declared) public {
        declared = bound(declared, uint256(BOUND_MAX_DAILY_VOLUME) + 1, type(uint256).max);
        address newAgent = address(0xA6E48);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionAboveBound.selector,
                "declaredDailyVolume",
                declared,
                BOUND_MAX_DAILY_VOLUME
            )
        );
        vm.prank(newAgent);
        registry.register(_registration(operator, declared));
        assertFalse(constitution.isEnrolled(newAgent), "not enrolled");
    }

    function testFuzz_setConstraints_cannotExceedDeclaredVolume(uint256 declared, uint256 limit) public {
        declared = bound(declared, 0, BOUND_MAX_DAILY_VOLUME);
        limit = bound(limit, 0, BOUND_MAX_DAILY_VOLUME);
        address newAgent = address(0xA6E48);
        _registerAgent(newAgent, operator, declared);
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxDailyVolume = uint96(limit);
        if (limit > declared) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentConstitution.AgentConstitutionAboveDeclaredVolume.selector,
                    newAgent,
                    limit,
                    declared
                )
            );
        }
        vm.prank(operator);
        constitution.setConstraints(newAgent, c);
        uint256 expected =
            limit > declared ? (declared < DEFAULT_MAX_DAILY_VOLUME ? declared : DEFAULT_MAX_DAILY_VOLUME) : limit;
        assertEq(constitution.constraintsOf(newAgent).maxDailyVolume, expected, "maxDailyVolume");
        assertLe(constitution.constraintsOf(newAgent).maxDailyVolume, declared, "never above the declared volume");
    }

    /// @dev Sets `floor` as the bounds' approval floor (the defaults first take it, or the bounds would not hold
    /// them).
    function _setApprovalFloor(uint48 floor) internal {
        IAgentConstitution.Constraints memory d = _defaultConstraints();
        d.humanApprovalActions = floor;
        constitution.setDefaults(d);
        IAgentConstitution.Constraints memory b = _defaultBounds();
        b.humanApprovalActions = floor;
        constitution.setBounds(b);
    }

    /// @dev In the bounds, humanApprovalActions is a floor: every ALLOWED action type in it must need approval;
    /// beyond it the operator may ask for more, and a disallowed type needs nothing.
    function testFuzz_setConstraints_approvalFloor(
        uint48 floor,
        uint48 allowed,
        uint48 approvals,
        bool coverFloor
    ) public {
        _setApprovalFloor(floor);
        approvals &= allowed;
        if (coverFloor) approvals |= floor & allowed;
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.allowedActions = allowed;
        c.humanApprovalActions = approvals;
        uint48 required = floor & allowed;
        bool below = required & ~approvals != 0;
        if (below) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentConstitution.AgentConstitutionBelowApprovalFloor.selector,
                    approvals,
                    required
                )
            );
        }
        vm.prank(operator);
        constitution.setConstraints(agent, c);
        if (!below) {
            assertEq(constitution.constraintsOf(agent).humanApprovalActions, approvals, "approvals stored");
        }
    }

    function test_approvalFloor_newAgentsStartWithItAndMustKeepIt() public {
        uint48 transferBit = uint48(1) << ActionTypes.TRANSFER;
        // The bounds cannot take a floor that the current defaults do not hold.
        IAgentConstitution.Constraints memory b = _defaultBounds();
        b.humanApprovalActions = transferBit;
        vm.expectRevert(
            abi.encodeWithSelector(IAgentConstitution.AgentConstitutionBelowApprovalFloor.selector, 0, transferBit)
        );
        constitution.setBounds(b);

        _setApprovalFloor(transferBit);
        address newAgent = address(0xA6E48);
        _registerAgent(newAgent, operator, DECLARED_VOLUME);
        assertEq(constitution.constraintsOf(newAgent).humanApprovalActions, transferBit, "enrolled with the floor");
        _mintTo(newAgent, 10);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionHumanApprovalRequired.selector,
                newAgent,
                ActionTypes.TRANSFER
            )
        );
        vm.prank(newAgent);
        token.transfer(recipient, 1);

        // The operator cannot drop it, but may forbid the action type altogether.
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        vm.expectRevert(
            abi.encodeWithSelector(IAgentConstitution.AgentConstitutionBelowApprovalFloor.selector, 0, transferBit)
        );
        vm.prank(operator);
        constitution.setConstraints(newAgent, c);
        c.allowedActions = ALL_ACTIONS & ~transferBit;
        vm.prank(operator);
        constitution.setConstraints(newAgent, c);
    }

    function _assertConstraints(
        IAgentConstitution.Constraints memory actual,
        IAgentConstitution.Constraints memory expected,
        string memory message
    ) internal pure {
        assertEq(actual.maxStake, expected.maxStake, string.concat(message, ": maxStake"));
        assertEq(actual.maxDailyVolume, expected.maxDailyVolume, string.concat(message, ": maxDailyVolume"));
        assertEq(actual.maxGasPerDay, expected.maxGasPerDay, string.concat(message, ": maxGasPerDay"));
        assertEq(actual.allowedActions, expected.allowedActions, string.concat(message, ": allowedActions"));
        assertEq(
            actual.humanApprovalActions,
            expected.humanApprovalActions,
            string.concat(message, ": humanApprovalActions")
        );
    }

    struct ClampCase {
        IAgentConstitution.Constraints before;
        IAgentConstitution.Constraints bounds;
        IAgentConstitution.Constraints expected;
    }

    /// @dev New bounds reach an agent enrolled before them through clampToBounds: every limit the min of the
    /// two, allowed actions intersected, the approval floor added; the result is a valid constitution.
    function testFuzz_clampToBounds_bringsAgentWithinBounds(
        IAgentConstitution.Constraints memory c0,
        IAgentConstitution.Constraints memory b
    ) public {
        ClampCase memory t;
        c0.maxStake = uint96(bound(c0.maxStake, 0, BOUND_MAX_STAKE));
        c0.maxDailyVolume = uint96(bound(c0.maxDailyVolume, 0, DECLARED_VOLUME));
        c0.maxGasPerDay = uint48(bound(c0.maxGasPerDay, 0, BOUND_MAX_GAS_PER_DAY));
        c0.humanApprovalActions &= c0.allowedActions;
        _setConstraints(agent, c0);
        t.before = c0;

        b.maxStake = uint96(bound(b.maxStake, 0, BOUND_MAX_STAKE));
        b.maxDailyVolume = uint96(bound(b.maxDailyVolume, 0, BOUND_MAX_DAILY_VOLUME));
        b.maxGasPerDay = uint48(bound(b.maxGasPerDay, 0, BOUND_MAX_GAS_PER_DAY));
        b.humanApprovalActions &= b.allowedActions;
        // Defaults inside the new bounds first (they must hold), then the bounds.
        constitution.setDefaults(
            IAgentConstitution.Constraints({
                maxStake: b.maxStake < DEFAULT_MAX_STAKE ? b.maxStake : DEFAULT_MAX_STAKE,
                maxDailyVolume: b.maxDailyVolume < DEFAULT_MAX_DAILY_VOLUME
                    ? b.maxDailyVolume
                    : DEFAULT_MAX_DAILY_VOLUME,
                maxGasPerDay: b.maxGasPerDay < DEFAULT_MAX_GAS_PER_DAY ? b.maxGasPerDay : DEFAULT_MAX_GAS_PER_DAY,
                allowedActions: b.allowedActions,
                humanApprovalActions: b.humanApprovalActions
            })
        );
        constitution.setBounds(b);
        t.bounds = b;
        // Tighter bounds leave the agent alone until clamped.
        _assertConstraints(constitution.constraintsOf(agent), t.before, "unchanged before clamp");

        t.expected.maxStake = t.before.maxStake < b.maxStake ? t.before.maxStake : b.maxStake;
        t.expected.maxDailyVolume =
            t.before.maxDailyVolume < b.maxDailyVolume ? t.before.maxDailyVolume : b.maxDailyVolume;
        t.expected.maxGasPerDay = t.before.maxGasPerDay < b.maxGasPerDay ? t.before.maxGasPerDay : b.maxGasPerDay;
        t.expected.allowedActions = t.before.allowedActions & b.allowedActions;
        t.expected.humanApprovalActions =
            (t.before.humanApprovalActions | b.humanApprovalActions) & t.expected.allowedActions;

        address[] memory agents = new address[](1);
        agents[0] = agent;
        constitution.clampToBounds(agents);
        IAgentConstitution.Constraints memory clamped = constitution.constraintsOf(agent);
        _assertConstraints(clamped, t.expected, "clamped");

        // Proof that the result is within bounds (and the declared volume): the operator can store it as is.
        _setConstraints(agent, clamped);
        constitution.clampToBounds(agents);
        _assertConstraints(constitution.constraintsOf(agent), t.expected, "clamping again changes nothing");
    }

    function test_clampToBounds_adminOnlyAndEnrolledOnly() public {
        address[] memory agents = new address[](2);
        agents[0] = agent;
        agents[1] = address(0xDEAD);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                operator,
                constitution.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(operator);
        constitution.clampToBounds(agents);

        vm.expectRevert(
            abi.encodeWithSelector(IAgentConstitution.AgentConstitutionNotEnrolled.selector, address(0xDEAD))
        );
        constitution.clampToBounds(agents);
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

    /// @dev The constitution checks the stop itself, first, so no module can forget it; agents only.
    function test_enforce_whileStoppedRevertsForAgents() public {
        constitution.grantRole(constitution.ENFORCER_ROLE(), address(this));
        vm.startPrank(guardian);
        humanOverride.freeze(agent, "incident");
        humanOverride.emergencyStop("exploit");
        vm.stopPrank();
        vm.expectRevert(IHumanOverride.HumanOverrideEmergencyStopped.selector);
        constitution.enforce(agent, ActionTypes.TRANSFER, 0, 0);
        // Not an agent: nothing to enforce.
        constitution.enforce(recipient, ActionTypes.TRANSFER, 1, 1);

        vm.prank(guardian);
        humanOverride.resume();
        vm.expectRevert(abi.encodeWithSelector(IAgentConstitution.AgentConstitutionAgentFrozen.selector, agent));
        constitution.enforce(agent, ActionTypes.TRANSFER, 0, 0);
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
