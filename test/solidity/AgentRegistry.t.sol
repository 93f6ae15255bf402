// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {AgentRegistry} from "../../contracts/agents/AgentRegistry.sol";
import {IAgentConstitution} from "../../contracts/interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../../contracts/interfaces/IAgentRegistry.sol";
import {IHumanOverride} from "../../contracts/interfaces/IHumanOverride.sol";
import {ReentrantToken} from "../../contracts/test/ReentrantToken.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";

contract AgentRegistryTest is CoreFixture {
    address internal agent = address(0xA6E47);
    address internal operator = address(0x0BE7A7);
    address internal slasher = address(0x51A5E7);
    address internal reputer = address(0x7E9D7E);
    uint256 internal agentId;

    function setUp() public {
        _deployCore();
        registry.grantRole(registry.SLASHER_ROLE(), slasher);
        registry.grantRole(registry.REPUTATION_ROLE(), reputer);
        agentId = _registerAgent(agent, operator, 0);
    }

    // ---------------------------------------------------------------- register

    function test_register_startsActiveAndEnrolled() public view {
        IAgentRegistry.AgentView memory view_ = registry.getAgent(agentId);
        assertEq(view_.agent, agent, "agent");
        assertEq(view_.operator, operator, "operator");
        assertEq(uint256(view_.status), uint256(IAgentRegistry.AgentStatus.Active), "status");
        assertEq(view_.reputation, registry.INITIAL_REPUTATION(), "reputation");
        assertEq(view_.requiredStake, MIN_STAKE, "required stake");
        assertTrue(constitution.isEnrolled(agent), "enrolled");
        assertEq(constitution.operatorOf(agent), operator, "constitution operator");
        assertFalse(registry.isActive(agentId), "not active before staking");
    }

    function test_register_twiceReverts() public {
        vm.prank(agent);
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryAlreadyRegistered.selector, agent, agentId));
        registry.register(_registration(operator, 0));
    }

    function testFuzz_register_operatorCannotBeTheAgent(address who) public {
        vm.assume(who != address(0) && who != agent);
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryOperatorIsAgent.selector, who));
        vm.prank(who);
        registry.register(_registration(who, 0));
        assertFalse(constitution.isEnrolled(who), "not enrolled");
    }

    function test_register_frozenCallerReverts() public {
        address candidate = address(0xCA4D);
        vm.prank(guardian);
        humanOverride.freeze(candidate, "known bad key");
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryCallerFrozen.selector, candidate));
        vm.prank(candidate);
        registry.register(_registration(operator, 0));

        vm.prank(guardian);
        humanOverride.unfreeze(candidate);
        vm.prank(candidate);
        registry.register(_registration(operator, 0));
        assertTrue(constitution.isEnrolled(candidate), "registers once unfrozen");
    }

    function testFuzz_register_declaredVolumeReachesTheConstitution(uint256 volume) public {
        volume = bound(volume, 0, BOUND_MAX_DAILY_VOLUME);
        address candidate = address(0xCA4D);
        uint256 id = _registerAgent(candidate, operator, volume);
        assertEq(registry.getAgent(id).expectedDailyVolume, volume, "registry");
        assertEq(constitution.declaredVolumeOf(candidate), volume, "constitution");
        assertEq(registry.requiredStake(id), _requiredStake(volume), "bond");
        uint256 cap = volume < DEFAULT_MAX_DAILY_VOLUME ? volume : DEFAULT_MAX_DAILY_VOLUME;
        assertEq(constitution.constraintsOf(candidate).maxDailyVolume, cap, "maxDailyVolume");
    }

    // ---------------------------------------------------------------- declared volume

    /// @dev A new declared volume needs its bond already staked. When it is, the constitution follows: the
    /// declared volume is recorded, maxDailyVolume drops to it when above, and the operator may raise the limit
    /// up to it (never past it).
    function testFuzz_declareDailyVolume_requiresTheBond(
        uint256 initialVolume,
        uint256 stakeAmount,
        uint256 volume
    ) public {
        address bonded = address(0xB0D);
        initialVolume = bound(initialVolume, 0, 200_000 * AITBC);
        uint256 id = _registerAgent(bonded, operator, initialVolume);
        uint256 max0 = constitution.constraintsOf(bonded).maxDailyVolume;
        stakeAmount = bound(stakeAmount, 1, DEFAULT_MAX_STAKE);
        _fundAndStake(bonded, stakeAmount);
        volume = bound(volume, 0, BOUND_MAX_DAILY_VOLUME);
        uint256 required = _requiredStake(volume);

        // Raising needs the bond; lowering (or keeping) the volume is always accepted.
        if (volume > initialVolume && stakeAmount < required) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentRegistry.AgentRegistryStakeBelowRequired.selector,
                    id,
                    stakeAmount,
                    required
                )
            );
            vm.prank(bonded);
            registry.declareDailyVolume(volume);
            assertEq(registry.getAgent(id).expectedDailyVolume, initialVolume, "registry unchanged");
            assertEq(constitution.declaredVolumeOf(bonded), initialVolume, "constitution unchanged");
            assertEq(constitution.constraintsOf(bonded).maxDailyVolume, max0, "limit unchanged");
            return;
        }

        vm.expectEmit(address(registry));
        emit IAgentRegistry.DailyVolumeDeclared(id, volume);
        vm.prank(bonded);
        registry.declareDailyVolume(volume);
        assertEq(registry.getAgent(id).expectedDailyVolume, volume, "registry");
        assertEq(registry.requiredStake(id), required, "required stake");
        assertEq(registry.isActive(id), stakeAmount >= required, "active exactly when bonded");
        assertEq(constitution.declaredVolumeOf(bonded), volume, "constitution");
        assertEq(constitution.constraintsOf(bonded).maxDailyVolume, max0 < volume ? max0 : volume, "min(limit, new)");

        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxDailyVolume = uint96(volume);
        _setConstraints(bonded, c);
        assertEq(constitution.constraintsOf(bonded).maxDailyVolume, volume, "operator raises the limit to it");
        if (volume < BOUND_MAX_DAILY_VOLUME) {
            c.maxDailyVolume = uint96(volume + 1);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentConstitution.AgentConstitutionAboveDeclaredVolume.selector,
                    bonded,
                    volume + 1,
                    volume
                )
            );
            vm.prank(operator);
            constitution.setConstraints(bonded, c);
        }
    }

    function test_declareDailyVolume_aboveBoundReverts() public {
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxStake = BOUND_MAX_STAKE;
        c.maxDailyVolume = 0; // the agent declared nothing yet
        _setConstraints(agent, c);
        uint256 volume = uint256(BOUND_MAX_DAILY_VOLUME) + 1;
        _fundAndStake(agent, _requiredStake(volume));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionAboveBound.selector,
                "declaredDailyVolume",
                volume,
                BOUND_MAX_DAILY_VOLUME
            )
        );
        vm.prank(agent);
        registry.declareDailyVolume(volume);
    }

    function test_declareDailyVolume_onlyActiveAgentsWhileRunning() public {
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotRegistered.selector, operator));
        vm.prank(operator);
        registry.declareDailyVolume(0);

        _fundAndStake(agent, 2 * MIN_STAKE);
        vm.prank(guardian);
        humanOverride.emergencyStop("exploit");
        vm.expectRevert(IHumanOverride.HumanOverrideEmergencyStopped.selector);
        vm.prank(agent);
        registry.declareDailyVolume(0);
        vm.startPrank(guardian);
        humanOverride.resume();
        humanOverride.freeze(agent, "incident");
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentRegistry.AgentRegistryNotActive.selector,
                agentId,
                IAgentRegistry.AgentStatus.Frozen
            )
        );
        vm.prank(agent);
        registry.declareDailyVolume(0);

        vm.prank(operator);
        registry.requestUnstake(agentId, 2 * MIN_STAKE);
        vm.prank(guardian);
        humanOverride.unfreeze(agent);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentRegistry.AgentRegistryNotActive.selector,
                agentId,
                IAgentRegistry.AgentStatus.Exiting
            )
        );
        vm.prank(agent);
        registry.declareDailyVolume(0);
    }

    // ---------------------------------------------------------------- slash

    function testFuzz_slash_atMostHalfOfStakeAndPendingToTreasury(
        uint256 stakeAmount,
        uint256 unstakeAmount,
        bool exit,
        uint256 slashAmount
    ) public {
        stakeAmount = bound(stakeAmount, MIN_STAKE, DEFAULT_MAX_DAILY_VOLUME);
        _fundAndStake(agent, stakeAmount);
        if (exit) unstakeAmount = stakeAmount;
        else unstakeAmount = bound(unstakeAmount, 0, stakeAmount - MIN_STAKE);
        if (unstakeAmount > 0) {
            vm.prank(operator);
            registry.requestUnstake(agentId, unstakeAmount);
        }
        uint256 stake0 = stakeAmount - unstakeAmount;
        uint256 pending0 = unstakeAmount;
        uint256 maxSlash = (stake0 + pending0) / 2; // MAX_SLASH_BPS = 50%
        assertEq(registry.MAX_SLASH_BPS(), 5_000, "MAX_SLASH_BPS");

        slashAmount = bound(slashAmount, 1, stake0 + pending0);
        uint256 registryBalance0 = token.balanceOf(address(registry));
        uint256 treasury0 = token.balanceOf(treasury);

        if (slashAmount > maxSlash) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentRegistry.AgentRegistrySlashTooLarge.selector,
                    agentId,
                    slashAmount,
                    maxSlash
                )
            );
            vm.prank(slasher);
            registry.slash(agentId, slashAmount, "too much");
            slashAmount = 0; // nothing moved
        } else {
            vm.prank(slasher);
            registry.slash(agentId, slashAmount, "fuzz");
        }

        IAgentRegistry.AgentView memory a = registry.getAgent(agentId);
        uint256 fromStake = slashAmount < stake0 ? slashAmount : stake0;
        assertLe(2 * slashAmount, stake0 + pending0, "slash <= 50% of stake + pending");
        assertEq(a.stake, stake0 - fromStake, "active stake goes first");
        assertEq(a.pendingWithdrawal, pending0 - (slashAmount - fromStake), "then pending");
        assertEq(token.balanceOf(treasury), treasury0 + slashAmount, "slashed funds reach the treasury");
        assertEq(token.balanceOf(address(registry)), registryBalance0 - slashAmount, "and leave the registry");
        assertEq(
            token.balanceOf(address(registry)),
            registry.totalStaked() + registry.totalPending(),
            "registry balance == staked + pending"
        );
    }

    function testFuzz_slash_repeatedSlashesEachCappedAtHalf(uint256 stakeAmount, uint256[6] memory amounts) public {
        stakeAmount = bound(stakeAmount, MIN_STAKE, DEFAULT_MAX_DAILY_VOLUME);
        _fundAndStake(agent, stakeAmount);
        uint256 slashed;
        for (uint256 i = 0; i < amounts.length; ++i) {
            uint256 total = registry.stakeOf(agentId) + registry.getAgent(agentId).pendingWithdrawal;
            uint256 maxSlash = (total * registry.MAX_SLASH_BPS()) / 10_000;
            if (maxSlash == 0) break;
            uint256 amount = bound(amounts[i], 1, maxSlash);
            vm.prank(slasher);
            registry.slash(agentId, amount, "again");
            slashed += amount;
            assertLe(2 * amount, total, "each slash <= 50%");
            // One wei past the cap always reverts.
            uint256 after_ = total - amount;
            uint256 nextMax = (after_ * registry.MAX_SLASH_BPS()) / 10_000;
            vm.prank(slasher);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentRegistry.AgentRegistrySlashTooLarge.selector,
                    agentId,
                    nextMax + 1,
                    nextMax
                )
            );
            registry.slash(agentId, nextMax + 1, "over");
        }
        assertEq(token.balanceOf(treasury), slashed, "treasury got every slash");
        assertEq(registry.stakeOf(agentId), stakeAmount - slashed, "stake");
    }

    function test_slash_nonSlasherReverts() public {
        _fundAndStake(agent, MIN_STAKE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                operator,
                registry.SLASHER_ROLE()
            )
        );
        vm.prank(operator);
        registry.slash(agentId, 1, "no");
    }

    function test_slash_unknownAgentReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryUnknownAgent.selector, 99));
        vm.prank(slasher);
        registry.slash(99, 1, "who");
    }

    // ---------------------------------------------------------------- reputation

    /// @dev Any int256 deltas, extremes included: the score is always clamp(previous + delta) within [0, 1000].
    function testFuzz_updateReputation_staysWithinBounds(int256[8] memory deltas) public {
        int256 maxRep = int256(uint256(registry.MAX_REPUTATION()));
        int256 expected = int256(uint256(registry.INITIAL_REPUTATION()));
        for (uint256 i = 0; i < deltas.length; ++i) {
            int256 delta = deltas[i];
            vm.prank(reputer);
            registry.updateReputation(agentId, delta, "fuzz");
            // Model without overflow: a delta beyond one full scale saturates whatever the previous score.
            if (delta >= maxRep) expected = maxRep;
            else if (delta <= -maxRep) expected = 0;
            else {
                int256 next = expected + delta;
                expected =
                    next < 0
                        ? int256(0)
                        : next > maxRep
                            ? maxRep
                            : next;
            }
            uint16 score = registry.reputationOf(agentId);
            assertLe(score, uint256(maxRep), "reputation <= MAX_REPUTATION");
            assertEq(int256(uint256(score)), expected, "reputation == clamp(previous + delta)");
        }
    }

    function testFuzz_updateReputation_smallDeltasStayWithinBounds(int16[16] memory deltas) public {
        uint256 maxRep = registry.MAX_REPUTATION();
        for (uint256 i = 0; i < deltas.length; ++i) {
            vm.prank(reputer);
            registry.updateReputation(agentId, deltas[i], "fuzz");
            assertLe(registry.reputationOf(agentId), maxRep, "reputation <= MAX_REPUTATION");
        }
    }

    /// @dev The interface promises that a delta is clamped to [0, MAX_REPUTATION]: a huge positive delta gives
    /// MAX_REPUTATION, it does not revert on overflow.
    function test_updateReputation_maxInt256DeltaClampsToMax() public {
        vm.prank(reputer);
        registry.updateReputation(agentId, type(int256).max, "max");
        assertEq(registry.reputationOf(agentId), registry.MAX_REPUTATION(), "clamped to MAX_REPUTATION");
    }

    function test_updateReputation_minInt256DeltaClampsToZero() public {
        vm.prank(reputer);
        registry.updateReputation(agentId, type(int256).min, "min");
        assertEq(registry.reputationOf(agentId), 0, "clamped to 0");
    }

    // ---------------------------------------------------------------- unstake and withdraw

    function testFuzz_requestUnstake_partialOrFull(
        uint256 expectedDailyVolume,
        uint256 stakeAmount,
        uint256 amount,
        bool full,
        bool byOperator
    ) public {
        // A second agent, with a security bond on top of the minimum stake.
        address bonded = address(0xB0D);
        expectedDailyVolume = bound(expectedDailyVolume, 0, 100_000 * AITBC);
        uint256 id = _registerAgent(bonded, operator, expectedDailyVolume);
        uint256 required = MIN_STAKE + (expectedDailyVolume * BOND_BPS) / 10_000;
        assertEq(registry.requiredStake(id), required, "required stake");

        stakeAmount = bound(stakeAmount, required, DEFAULT_MAX_DAILY_VOLUME);
        _fundAndStake(bonded, stakeAmount);
        amount = full ? stakeAmount : bound(amount, 1, stakeAmount + MIN_STAKE);
        address caller = byOperator ? operator : bonded;

        if (amount > stakeAmount) {
            vm.expectRevert(
                abi.encodeWithSelector(IAgentRegistry.AgentRegistryInsufficientStake.selector, id, amount, stakeAmount)
            );
            vm.prank(caller);
            registry.requestUnstake(id, amount);
            return;
        }
        if (amount < stakeAmount && stakeAmount - amount < required) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentRegistry.AgentRegistryStakeBelowRequired.selector,
                    id,
                    stakeAmount - amount,
                    required
                )
            );
            vm.prank(caller);
            registry.requestUnstake(id, amount);
            return;
        }

        vm.prank(caller);
        registry.requestUnstake(id, amount);
        IAgentRegistry.AgentView memory a = registry.getAgent(id);
        assertEq(a.stake, stakeAmount - amount, "stake");
        assertEq(a.pendingWithdrawal, amount, "pending");
        assertEq(a.withdrawableAt, block.timestamp + UNBONDING_DELAY, "withdrawableAt");
        assertEq(registry.totalStaked(), stakeAmount - amount, "totalStaked");
        assertEq(registry.totalPending(), amount, "totalPending");
        if (amount == stakeAmount) {
            assertEq(uint256(a.status), uint256(IAgentRegistry.AgentStatus.Exiting), "full unstake exits");
            assertFalse(registry.isActive(id), "exiting is not active");
            // An exiting agent can neither unstake again nor stake.
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentRegistry.AgentRegistryNotActive.selector,
                    id,
                    IAgentRegistry.AgentStatus.Exiting
                )
            );
            vm.prank(caller);
            registry.requestUnstake(id, 1);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAgentRegistry.AgentRegistryNotActive.selector,
                    id,
                    IAgentRegistry.AgentStatus.Exiting
                )
            );
            vm.prank(bonded);
            registry.stake(1);
        } else {
            assertEq(uint256(a.status), uint256(IAgentRegistry.AgentStatus.Active), "partial unstake stays active");
            assertTrue(registry.isActive(id), "still at least the required stake");
        }

        // Withdrawal: not before the delay, then all of it to the operator.
        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryStillUnbonding.selector, id, a.withdrawableAt)
        );
        vm.prank(caller);
        registry.withdraw(id);

        vm.warp(a.withdrawableAt);
        uint256 operatorBefore = token.balanceOf(operator);
        vm.prank(caller);
        registry.withdraw(id);
        assertEq(token.balanceOf(operator), operatorBefore + amount, "operator paid");
        assertEq(registry.totalPending(), 0, "nothing pending");
        assertEq(token.balanceOf(address(registry)), registry.totalStaked(), "registry balance");

        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryNothingToWithdraw.selector, id));
        vm.prank(caller);
        registry.withdraw(id);
    }

    struct MaturedCase {
        uint256 first;
        uint256 second;
        uint64 firstAt;
        bool matured;
        uint256 expectedPending;
        uint256 operator0;
    }

    /// @dev Pending stake whose delay has passed is paid to the operator before a new request queues its amount
    /// with a fresh delay; pending stake still unbonding is merged into the new request instead.
    function testFuzz_requestUnstake_paysMaturedPendingFirst(
        uint256 stakeAmount,
        uint256 first,
        uint256 second,
        uint256 wait,
        bool full,
        bool byOperator
    ) public {
        MaturedCase memory t;
        stakeAmount = bound(stakeAmount, MIN_STAKE + 2, DEFAULT_MAX_STAKE);
        _fundAndStake(agent, stakeAmount);
        address caller = byOperator ? operator : agent;
        t.first = bound(first, 1, stakeAmount - MIN_STAKE - 1);
        vm.prank(caller);
        registry.requestUnstake(agentId, t.first);
        t.firstAt = registry.getAgent(agentId).withdrawableAt;

        vm.warp(block.timestamp + bound(wait, 0, 2 * UNBONDING_DELAY));
        t.matured = block.timestamp >= t.firstAt;
        uint256 remaining = stakeAmount - t.first;
        t.second = full ? remaining : bound(second, 1, remaining - MIN_STAKE);
        t.expectedPending = t.matured ? t.second : t.first + t.second;
        t.operator0 = token.balanceOf(operator);

        if (t.matured) {
            vm.expectEmit(address(registry));
            emit IAgentRegistry.Withdrawn(agentId, operator, t.first);
        }
        vm.expectEmit(address(registry));
        emit IAgentRegistry.UnstakeRequested(
            agentId,
            t.second,
            t.expectedPending,
            uint64(block.timestamp + UNBONDING_DELAY)
        );
        // Unmatured pending stake: only the operator may add to it (the agent key may not restart its delay).
        vm.prank(t.matured ? caller : operator);
        registry.requestUnstake(agentId, t.second);

        IAgentRegistry.AgentView memory a = registry.getAgent(agentId);
        assertEq(a.stake, remaining - t.second, "stake");
        assertEq(a.pendingWithdrawal, t.expectedPending, "pending: matured part paid out, new part queued");
        assertEq(a.withdrawableAt, block.timestamp + UNBONDING_DELAY, "fresh delay");
        assertEq(token.balanceOf(operator), t.operator0 + (t.matured ? t.first : 0), "matured stake to the operator");
        assertEq(registry.totalPending(), t.expectedPending, "totalPending");
        assertEq(registry.totalStaked(), a.stake, "totalStaked");
        assertEq(
            token.balanceOf(address(registry)),
            registry.totalStaked() + registry.totalPending(),
            "registry balance == staked + pending"
        );
        uint256 expectedStatus = uint256(full ? IAgentRegistry.AgentStatus.Exiting : IAgentRegistry.AgentStatus.Active);
        assertEq(uint256(a.status), expectedStatus, "status");
    }

    function test_requestUnstake_maturesAtExactlyTheDelay() public {
        _fundAndStake(agent, 3 * MIN_STAKE);
        vm.prank(agent);
        registry.requestUnstake(agentId, MIN_STAKE);
        uint256 at = registry.getAgent(agentId).withdrawableAt;

        vm.warp(at - 1); // one second early: merged (by the operator: the agent key may not), nothing paid
        vm.prank(operator);
        registry.requestUnstake(agentId, 1);
        assertEq(registry.getAgent(agentId).pendingWithdrawal, MIN_STAKE + 1, "merged");
        assertEq(token.balanceOf(operator), 0, "nothing paid early");

        vm.warp(registry.getAgent(agentId).withdrawableAt); // exactly matured: paid
        vm.prank(agent);
        registry.requestUnstake(agentId, 2);
        assertEq(registry.getAgent(agentId).pendingWithdrawal, 2, "only the new amount pending");
        assertEq(token.balanceOf(operator), MIN_STAKE + 1, "matured stake paid");
    }

    /// @dev requestUnstake is nonReentrant: a token hook firing during the matured payout cannot re-enter it.
    function test_requestUnstake_reentryFromMaturedPayoutReverts() public {
        ReentrantToken rToken = new ReentrantToken();
        AgentRegistry rRegistry = new AgentRegistry(
            address(this),
            IERC20(address(rToken)),
            humanOverride,
            constitution,
            treasury,
            MIN_STAKE,
            BOND_BPS,
            UNBONDING_DELAY
        );
        constitution.grantRole(constitution.ENFORCER_ROLE(), address(rRegistry));
        constitution.grantRole(constitution.REGISTRY_ROLE(), address(rRegistry));
        address rAgent = address(0xEE47);
        rToken.mint(rAgent, 3 * MIN_STAKE);
        vm.startPrank(rAgent);
        uint256 id = rRegistry.register(_registration(operator, 0));
        rToken.approve(address(rRegistry), type(uint256).max);
        rRegistry.stake(3 * MIN_STAKE);
        rRegistry.requestUnstake(id, MIN_STAKE);
        vm.stopPrank();
        vm.warp(block.timestamp + UNBONDING_DELAY);

        bytes memory reenter = abi.encodeCall(IAgentRegistry.requestUnstake, (id, 1));
        // Bubble: the re-entry's revert sinks the whole request.
        rToken.arm(address(rRegistry), reenter, ReentrantToken.Mode.Bubble);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        vm.prank(operator);
        rRegistry.requestUnstake(id, MIN_STAKE);

        // Catch: the re-entry fails on the guard, and the request pays the matured stake exactly once.
        rToken.arm(address(rRegistry), reenter, ReentrantToken.Mode.Catch);
        vm.prank(operator);
        rRegistry.requestUnstake(id, MIN_STAKE);
        assertEq(rToken.reentryFailures(), 1, "re-entry failed");
        assertEq(
            keccak256(rToken.lastRevertData()),
            keccak256(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector)),
            "on the reentrancy guard"
        );
        assertEq(rToken.balanceOf(operator), MIN_STAKE, "matured stake paid once");
        assertEq(rRegistry.getAgent(id).pendingWithdrawal, MIN_STAKE, "new request queued");
        assertEq(
            rToken.balanceOf(address(rRegistry)),
            rRegistry.totalStaked() + rRegistry.totalPending(),
            "balance == staked + pending"
        );
    }

    function testFuzz_setUnbondingDelay_atLeastOneHourAtMost90Days(uint256 delay) public {
        uint256 minDelay = registry.MIN_UNBONDING_DELAY();
        uint256 maxDelay = registry.MAX_UNBONDING_DELAY();
        assertEq(minDelay, 1 hours, "MIN_UNBONDING_DELAY");
        // Mostly around the edges.
        uint256 mode = delay % 3;
        if (mode == 0) delay = bound(delay >> 2, 0, 2 * minDelay);
        else if (mode == 1) delay = bound(delay >> 2, maxDelay - minDelay, maxDelay + minDelay);
        if (delay < minDelay || delay > maxDelay) {
            vm.expectRevert(
                abi.encodeWithSelector(IAgentRegistry.AgentRegistryInvalidParameter.selector, "unbondingDelay", delay)
            );
            registry.setUnbondingDelay(delay);
            assertEq(registry.unbondingDelay(), UNBONDING_DELAY, "unchanged");
        } else {
            registry.setUnbondingDelay(delay);
            assertEq(registry.unbondingDelay(), delay, "set");
        }
    }

    function test_constructor_unbondingDelayBelowMinimumReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryInvalidParameter.selector, "unbondingDelay", 1 hours - 1)
        );
        new AgentRegistry(
            address(this),
            IERC20(address(token)),
            humanOverride,
            constitution,
            treasury,
            MIN_STAKE,
            BOND_BPS,
            1 hours - 1
        );
    }

    function test_requestUnstake_strangerReverts() public {
        _fundAndStake(agent, MIN_STAKE);
        address stranger = address(0x5757);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotAgentOrOperator.selector, agentId, stranger)
        );
        vm.prank(stranger);
        registry.requestUnstake(agentId, 1);
    }

    function test_requestUnstake_frozenAgentMayOnlyExit() public {
        _fundAndStake(agent, 2 * MIN_STAKE);
        vm.prank(guardian);
        humanOverride.freeze(agent, "incident");
        assertEq(uint256(registry.statusOf(agentId)), uint256(IAgentRegistry.AgentStatus.Frozen), "frozen");

        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryFrozenPartialExit.selector, agentId, 1, 2 * MIN_STAKE)
        );
        vm.prank(operator);
        registry.requestUnstake(agentId, 1);

        vm.prank(operator);
        registry.requestUnstake(agentId, 2 * MIN_STAKE);
        assertEq(uint256(registry.statusOf(agentId)), uint256(IAgentRegistry.AgentStatus.Exiting), "exiting");
    }

    function test_requestUnstake_zeroReverts() public {
        vm.expectRevert(IAgentRegistry.AgentRegistryZeroAmount.selector);
        vm.prank(agent);
        registry.requestUnstake(agentId, 0);
    }
}
