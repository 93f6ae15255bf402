// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IAgentRegistry} from "../../../contracts/interfaces/IAgentRegistry.sol";
import {IAgentVotes} from "../../../contracts/interfaces/IAgentVotes.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";
import {InvariantTargets} from "../utils/InvariantTargets.sol";
import {AgentVotesHarness, GovernanceFixture, PowerReference} from "./GovernanceFixture.sol";

/// @notice Drives many agents through everything that moves voting power: stake (up to a tier threshold or one
/// below it, or any amount), partial and full unstakes, stake moved from one agent to another, slashes,
/// reputation changes, votes cast (activity), delegation and undelegation, freezes, late registrations and time.
/// Needs SLASHER_ROLE and REPUTATION_ROLE on the registry, ACTIVITY_ROLE on AgentVotes and GUARDIAN_ROLE on the
/// HumanOverride. After each call it records the total at the current timestamp, for the checkpoint invariant.
contract VotesHandler is HandlerBase {
    uint256 internal constant FUNDING = 1_200_000 * AITBC;
    uint256 internal constant MAX_STAKE_PER_CALL = 300_000 * AITBC;

    AgentVotesHarness public agentVotes;

    address[] public candidates; // agent addresses, registered or not
    mapping(address agent => address operator) public operatorFor;
    mapping(address agent => uint256 agentId) public agentIdOf; // 0 while unregistered

    uint256[] public timepoints; // timestamps the handler acted at, ascending
    mapping(uint256 time => uint256 total) public ghostTotalAt; // the total at the end of that timestamp

    bool public ghostDelegationChangedTotal;
    bool public ghostDelegationMisrouted; // the old / new delegate did not lose / gain exactly the agent's power
    bool public ghostMoveOffFormula; // a stake move changed the total other than by the formula's difference
    bool public ghostMoveNotLinear; // within their tiers, the total moved other than stake moved x rate (± rounding)
    bool public ghostSplitPaid; // after a move, the two agents held more than their stake would in one of them
    uint256 public movesWithinTiers; // stake moves that kept both agents at their rates (linear: checked)

    /// @dev A stake move's parties and what they had before it.
    struct Move {
        address from;
        address to;
        uint256 fromId;
        uint256 toId;
        uint256 fromStake;
        uint256 toStake;
        uint256 fromRate;
        uint256 toRate;
        uint256 totalBefore;
        uint256 fromPowerBefore;
        uint256 toPowerBefore;
        IAgentVotes.Schedule schedule;
    }

    modifier snapshot() {
        _;
        if (timepoints.length == 0 || timepoints[timepoints.length - 1] != currentTime) timepoints.push(currentTime);
        ghostTotalAt[currentTime] = countedTotal();
    }

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_,
        AgentVotesHarness agentVotes_,
        uint256 count
    ) HandlerBase(humanOverride_, constitution_, token_, registry_) {
        agentVotes = agentVotes_;
        for (uint256 i = 0; i < count; ++i) {
            address agent = address(uint160(0xA6E7000 + i));
            candidates.push(agent);
            operatorFor[agent] = address(uint160(0x0BE7000 + i));
        }
    }

    /// @notice Funds every candidate and registers the first `registered`, staking each at a stake tier's
    /// threshold or one wei below it (setUp only).
    function prepare(uint256 registered) external {
        uint256[5] memory stakes = [
            uint256(1_000 * AITBC),
            100_000 * AITBC - 1,
            100_000 * AITBC,
            1_000_000 * AITBC - 1,
            1_000_000 * AITBC
        ];
        for (uint256 i = 0; i < candidates.length; ++i) {
            address agent = candidates[i];
            _mintTo(agent, FUNDING / REWARD_RATE);
            vm.startPrank(agent);
            token.approve(address(registry), type(uint256).max);
            if (i < registered) {
                agentIdOf[agent] = registry.register(_registration(operatorFor[agent], 0));
                registry.stake(stakes[i % stakes.length]);
            }
            vm.stopPrank();
        }
        timepoints.push(currentTime);
        ghostTotalAt[currentTime] = countedTotal();
    }

    /// @notice The votes that count now: the total less what idle delegates hold (their delegators' power).
    function countedTotal() public view returns (uint256) {
        return agentVotes.getTotalSupply() - idleHeld();
    }

    /// @notice The power delegated to idle delegates (exiting, or staked below their required stake).
    function idleHeld() public view returns (uint256 held) {
        for (uint256 d = 0; d < candidates.length; ++d) {
            if (!agentVotes.isIdle(candidates[d])) continue;
            for (uint256 i = 0; i < candidates.length; ++i) {
                if (agentVotes.delegates(candidates[i]) == candidates[d]) held += agentVotes.powerOf(candidates[i]);
            }
        }
    }

    function candidateCount() external view returns (uint256) {
        return candidates.length;
    }

    function timepointCount() external view returns (uint256) {
        return timepoints.length;
    }

    // ---------------------------------------------------------------- registry actions

    function register(uint256 seed) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        if (agentIdOf[agent] != 0) return;
        vm.prank(agent);
        try registry.register(_registration(operatorFor[agent], 0)) returns (uint256 id) {
            agentIdOf[agent] = id;
            _ok("register");
        } catch {
            _failed("register");
        }
    }

    /// @notice Stakes any amount, or (`toEdge`) exactly up to a stake tier's threshold (of the schedule in force)
    /// or one wei below it.
    function stake(uint256 seed, uint256 amount, bool toEdge) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        uint256 id = agentIdOf[agent];
        uint256 balance = token.balanceOf(agent);
        if (id == 0 || balance == 0) return;
        if (toEdge) {
            IAgentVotes.Tier[] memory tiers = agentVotes.schedule().stakeMultiplierBps;
            uint256 target = tiers[amount % tiers.length].threshold - ((amount >> 8) & 1);
            uint256 current = registry.stakeOf(id);
            if (target <= current || target - current > balance) return;
            amount = target - current;
        } else {
            amount = bound(amount, 1, balance < MAX_STAKE_PER_CALL ? balance : MAX_STAKE_PER_CALL);
        }
        vm.prank(agent);
        try registry.stake(amount) {
            _ok("stake");
        } catch {
            _failed("stake");
        }
    }

    function requestUnstake(uint256 seed, uint256 amount, bool full, bool byOperator) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        uint256 id = agentIdOf[agent];
        if (id == 0) return;
        uint256 current = registry.stakeOf(id);
        if (current == 0) return;
        amount = full ? current : bound(amount, 1, current);
        vm.prank(byOperator ? operatorFor[agent] : agent);
        try registry.requestUnstake(id, amount) {
            _ok("requestUnstake");
        } catch {
            _failed("requestUnstake");
        }
    }

    /// @notice Unstakes `amount` from one agent and stakes the same amount into another (from its own balance).
    /// Checks what the formula implies exactly: the total moves by the formula's difference for the two agents;
    /// when both keep their rates (stake tiers) it moves by the stake moved times the rates' difference, up to one
    /// rounding per agent; and afterwards the two agents' power is at most what their combined stake would give
    /// one of them (superadditivity: splitting stake never pays).
    function moveStake(uint256 fromSeed, uint256 toSeed, uint256 amount) external syncTime snapshot {
        Move memory m;
        m.from = _pick(candidates, fromSeed);
        m.to = _pick(candidates, toSeed);
        m.fromId = agentIdOf[m.from];
        m.toId = agentIdOf[m.to];
        if (m.from == m.to || m.fromId == 0 || m.toId == 0) return;
        m.fromStake = registry.stakeOf(m.fromId);
        uint256 room = m.fromStake > MIN_STAKE ? m.fromStake - MIN_STAKE : 0; // a partial unstake keeps the minimum
        uint256 balance = token.balanceOf(m.to);
        if (room == 0 || balance == 0) return;
        amount = bound(amount, 1, room < balance ? room : balance);

        m.schedule = agentVotes.schedule();
        m.totalBefore = agentVotes.getTotalSupply();
        m.fromPowerBefore = agentVotes.powerOf(m.from);
        m.toPowerBefore = agentVotes.powerOf(m.to);
        m.toStake = registry.stakeOf(m.toId);
        m.fromRate = _rate(m.schedule, m.from, m.fromStake);
        m.toRate = _rate(m.schedule, m.to, m.toStake);
        // The operator: it may add to stake still unbonding (the agent key may not restart its delay).
        vm.prank(operatorFor[m.from]);
        try registry.requestUnstake(m.fromId, amount) {
            _ok("moveStake.unstake");
        } catch {
            _failed("moveStake.unstake");
            return;
        }
        vm.prank(m.to);
        try registry.stake(amount) {
            _ok("moveStake.stake");
        } catch {
            _failed("moveStake.stake");
        }
        _checkMove(m);
    }

    function slash(uint256 seed, uint256 amount) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        uint256 id = agentIdOf[agent];
        if (id == 0) return;
        IAgentRegistry.AgentSummary memory s = registry.summaryOf(id);
        if (s.maxSlash == 0) return;
        amount = bound(amount, 1, s.maxSlash);
        try registry.slash(id, amount, "votes invariant") {
            _ok("slash");
        } catch {
            _failed("slash");
        }
    }

    function updateReputation(uint256 seed, int256 delta) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        uint256 id = agentIdOf[agent];
        if (id == 0) return;
        delta = bound(delta, -500, 500);
        try registry.updateReputation(id, delta, "votes invariant") {
            _ok("updateReputation");
        } catch {
            _failed("updateReputation");
        }
    }

    function toggleFreeze(uint256 seed) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        bool frozen = humanOverride.isFrozen(agent); // read before the prank, which the next call consumes
        vm.prank(guardian);
        if (frozen) humanOverride.unfreeze(agent);
        else humanOverride.freeze(agent, "votes invariant");
    }

    // ---------------------------------------------------------------- governance actions

    /// @notice Counts `times` (1..6) votes cast by an agent (or by an unregistered candidate: ignored).
    function recordActivity(uint256 seed, uint256 times) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        times = bound(times, 1, 6);
        for (uint256 i = 0; i < times; ++i) agentVotes.recordActivity(agent);
        _ok("recordActivity");
    }

    function delegate(uint256 seed, uint256 toSeed) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        _delegateChecked(agent, _pick(candidates, toSeed), false);
    }

    function undelegate(uint256 seed) external syncTime snapshot {
        address agent = _pick(candidates, seed);
        _delegateChecked(agent, agent, true);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Delegates (or undelegates) and checks that exactly the agent's power left its old delegate for the new
    /// one, and that the total did not move.
    function _delegateChecked(address agent, address to, bool home) internal {
        address old = agentVotes.delegates(agent);
        uint256 power = agentVotes.powerOf(agent);
        uint256 total = agentVotes.getTotalSupply();
        uint256 oldVotes = agentVotes.getVotes(old);
        uint256 toVotes = agentVotes.getVotes(to);
        vm.prank(agent);
        if (home) {
            try agentVotes.undelegate() {
                _ok("undelegate");
            } catch {
                _failed("undelegate");
                return;
            }
        } else {
            try agentVotes.delegate(to) {
                _ok("delegate");
            } catch {
                _failed("delegate");
                return;
            }
        }
        if (agentVotes.getTotalSupply() != total) ghostDelegationChangedTotal = true;
        if (agentVotes.delegates(agent) != to) ghostDelegationMisrouted = true;
        if (old != to) {
            // An idle delegate's votes count for nothing (0 before and after): the units still move.
            if (!agentVotes.isIdle(to) && agentVotes.getVotes(to) != toVotes + power) ghostDelegationMisrouted = true;
            // With no delegate yet the agent has never had power: nothing can leave address(0).
            if (old != address(0) && !agentVotes.isIdle(old) && agentVotes.getVotes(old) != oldVotes - power) {
                ghostDelegationMisrouted = true;
            }
            if (old == address(0) && power != 0) ghostDelegationMisrouted = true;
        } else if (agentVotes.getVotes(to) != toVotes) {
            ghostDelegationMisrouted = true;
        }
    }

    /// @dev After a stake move: the exact formula difference, linearity within the tiers, superadditivity.
    function _checkMove(Move memory m) internal {
        uint256 totalAfter = agentVotes.getTotalSupply();
        if (totalAfter + m.fromPowerBefore + m.toPowerBefore != m.totalBefore + _formula(m.from) + _formula(m.to)) {
            ghostMoveOffFormula = true;
        }

        uint256 fromStakeAfter = registry.stakeOf(m.fromId);
        uint256 toStakeAfter = registry.stakeOf(m.toId);
        if (
            m.fromRate == _rate(m.schedule, m.from, fromStakeAfter) && m.toRate == _rate(m.schedule, m.to, toStakeAfter)
        ) {
            ++movesWithinTiers;
            // Each agent's floor(stake x rate / 1e26) moves by its stake change x rate / 1e26, within one wei.
            int256 d = int256(PowerReference.DENOMINATOR);
            int256 expected =
                (int256(toStakeAfter) - int256(m.toStake)) * int256(m.toRate) -
                    (int256(m.fromStake) - int256(fromStakeAfter)) * int256(m.fromRate);
            int256 error = (int256(totalAfter) - int256(m.totalBefore)) * d - expected;
            if (error <= -2 * d || error >= 2 * d) ghostMoveNotLinear = true;
        }

        if (_formula(m.from) + _formula(m.to) > _bestConcentrated(m.from, m.to)) ghostSplitPaid = true;
    }

    /// @dev What the formula gives `agent` now (0 when exiting or unregistered).
    function _formula(address agent) internal view returns (uint256) {
        if (!_counts(agent)) return 0;
        uint256 id = registry.agentIdOf(agent);
        return agentVotes.computePower(registry.stakeOf(id), registry.reputationOf(id), agentVotes.activityOf(agent));
    }

    /// @dev The reference rate (votes per wei of stake x 1e26) of `agent` at stake `amount`: 0 when exiting or
    /// unregistered.
    function _rate(IAgentVotes.Schedule memory s, address agent, uint256 amount) internal view returns (uint256) {
        if (!_counts(agent)) return 0;
        return
            PowerReference.rate(
                s,
                amount,
                registry.reputationOf(registry.agentIdOf(agent)),
                agentVotes.activityOf(agent)
            );
    }

    /// @dev The power `a` and `b`'s combined stake would give whichever of them has the larger bonuses (only
    /// agents whose power counts: registered, not exiting).
    function _bestConcentrated(address a, address b) internal view returns (uint256 best) {
        uint256 combined = (_counts(a) ? _stake(a) : 0) + (_counts(b) ? _stake(b) : 0);
        if (_counts(a)) best = _powerAt(a, combined);
        if (_counts(b)) {
            uint256 pb = _powerAt(b, combined);
            if (pb > best) best = pb;
        }
    }

    /// @dev The formula's value for `agent`'s reputation and activity at stake `amount`.
    function _powerAt(address agent, uint256 amount) internal view returns (uint256) {
        return
            agentVotes.computePower(
                amount,
                registry.reputationOf(registry.agentIdOf(agent)),
                agentVotes.activityOf(agent)
            );
    }

    function _stake(address agent) internal view returns (uint256) {
        return registry.stakeOf(registry.agentIdOf(agent));
    }

    function _counts(address agent) internal view returns (bool) {
        uint256 id = registry.agentIdOf(agent);
        return id != 0 && registry.statusOf(id) != IAgentRegistry.AgentStatus.Exiting;
    }
}

/// @notice Voting power is conserved: the total is the sum of every delegate's votes and of every agent's power;
/// each agent's power is the formula's value for its current stake, reputation and activity (0 when exiting); each
/// delegate holds exactly the power delegated to it; splitting stake across agents never pays (the total is at
/// most what all the stake would give one agent); and the checkpoint history agrees with what the handler saw.
contract VotesInvariantTest is GovernanceFixture, InvariantTargets {
    VotesHandler internal handler;

    function setUp() public {
        _deployGovernance();
        handler = new VotesHandler(humanOverride, constitution, token, registry, agentVotes, 8);
        handler.prepare(6);
        registry.grantRole(registry.SLASHER_ROLE(), address(handler));
        registry.grantRole(registry.REPUTATION_ROLE(), address(handler));
        agentVotes.grantRole(agentVotes.ACTIVITY_ROLE(), address(handler));
        humanOverride.grantRole(humanOverride.GUARDIAN_ROLE(), address(handler));

        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = handler.register.selector;
        selectors[1] = handler.stake.selector;
        selectors[2] = handler.requestUnstake.selector;
        selectors[3] = handler.moveStake.selector;
        selectors[4] = handler.slash.selector;
        selectors[5] = handler.updateReputation.selector;
        selectors[6] = handler.toggleFreeze.selector;
        selectors[7] = handler.recordActivity.selector;
        selectors[8] = handler.delegate.selector;
        selectors[9] = handler.undelegate.selector;
        selectors[10] = handler.warpTime.selector;
        selectors[11] = handler.stake.selector; // power changes and delegation twice as often
        selectors[12] = handler.delegate.selector;
        selectors[13] = handler.moveStake.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_totalEqualsSumOfVotesAndOfPowers() public view {
        uint256 votesSum;
        uint256 powerSum;
        uint256 count = handler.candidateCount();
        for (uint256 i = 0; i < count; ++i) {
            address agent = handler.candidates(i);
            votesSum += agentVotes.getVotes(agent);
            powerSum += agentVotes.powerOf(agent);
        }
        uint256 total = agentVotes.getTotalSupply();
        assertEq(votesSum + handler.idleHeld(), total, "sum of getVotes + what idle delegates hold == total");
        assertEq(powerSum, total, "sum of powerOf == total");
    }

    /// @dev Also the "no ghost votes" check: the total is the sum of the formula's values, so no stake move,
    /// delegation, slash or exit leaves votes behind.
    function invariant_powerFollowsFormula() public view {
        uint256 formulaSum;
        uint256 count = handler.candidateCount();
        for (uint256 i = 0; i < count; ++i) {
            address agent = handler.candidates(i);
            uint256 id = handler.agentIdOf(agent);
            if (id == 0) {
                assertEq(agentVotes.powerOf(agent), 0, "unregistered: no power");
                assertEq(agentVotes.activityOf(agent), 0, "unregistered: no activity");
                continue;
            }
            bool exiting = registry.statusOf(id) == IAgentRegistry.AgentStatus.Exiting;
            uint256 stake = registry.stakeOf(id);
            uint16 reputation = registry.reputationOf(id);
            uint256 activity = agentVotes.activityOf(agent);
            uint256 expected = exiting ? 0 : agentVotes.computePower(stake, reputation, activity);
            assertEq(
                exiting ? 0 : _refPower(_defaultSchedule(), stake, reputation, activity),
                expected,
                "computePower == reference formula"
            );
            assertEq(agentVotes.powerOf(agent), expected, "powerOf == formula(stake, reputation, activity)");
            formulaSum += expected;
        }
        assertEq(agentVotes.getTotalSupply(), formulaSum, "total == sum of formula values (no ghost votes)");
    }

    function invariant_delegatesHoldExactlyTheDelegatedPower() public view {
        uint256 count = handler.candidateCount();
        for (uint256 d = 0; d < count; ++d) {
            address delegatee = handler.candidates(d);
            uint256 delegated;
            for (uint256 i = 0; i < count; ++i) {
                address agent = handler.candidates(i);
                if (agentVotes.delegates(agent) == delegatee) delegated += agentVotes.powerOf(agent);
            }
            // An idle delegate (exiting, or below its required stake) holds the units but they count for nothing.
            bool idle = agentVotes.isIdle(delegatee);
            assertEq(agentVotes.getVotes(delegatee), idle ? 0 : delegated, "getVotes == power delegated to it");
            if (idle) {
                // Idle only as the registry last reported it: exiting or below its required stake.
                uint256 id = handler.agentIdOf(delegatee);
                uint256 stake = registry.stakeOf(id);
                bool unbonded =
                    registry.statusOf(id) == IAgentRegistry.AgentStatus.Exiting ||
                        stake == 0 ||
                        stake < registry.requiredStake(id);
                assertTrue(unbonded, "idle only when exiting or below its required stake");
            }
        }
    }

    function invariant_delegationAndStakeMovesConserveVotes() public view {
        assertFalse(handler.ghostDelegationChangedTotal(), "a delegation changed the total");
        assertFalse(handler.ghostDelegationMisrouted(), "a delegation moved other than the agent's power");
        assertFalse(handler.ghostMoveOffFormula(), "a stake move changed the total other than the formula says");
        assertFalse(handler.ghostMoveNotLinear(), "within its tiers, a stake move was not linear in stake");
        assertFalse(handler.ghostSplitPaid(), "two agents held more votes than their stake concentrated in one");
    }

    /// @dev Superadditivity, over every agent at once: the whole total is at most what all the counted stake (of
    /// registered agents not exiting) would give a single agent with the best bonuses among them. No split of
    /// stake across agents, however made, pays.
    function invariant_splittingStakeNeverPays() public view {
        uint256 count = handler.candidateCount();
        uint256 stakeSum;
        for (uint256 i = 0; i < count; ++i) {
            uint256 id = handler.agentIdOf(handler.candidates(i));
            if (id != 0 && registry.statusOf(id) != IAgentRegistry.AgentStatus.Exiting)
                stakeSum += registry.stakeOf(id);
        }
        uint256 best;
        for (uint256 i = 0; i < count; ++i) {
            address agent = handler.candidates(i);
            uint256 id = handler.agentIdOf(agent);
            if (id == 0 || registry.statusOf(id) == IAgentRegistry.AgentStatus.Exiting) continue;
            uint256 p = agentVotes.computePower(stakeSum, registry.reputationOf(id), agentVotes.activityOf(agent));
            if (p > best) best = p;
        }
        assertLe(agentVotes.getTotalSupply(), best, "total <= all the stake in the best-placed agent");
    }

    /// @dev For every timestamp the handler acted at (before now): the checkpointed total is the total the handler
    /// saw at the end of that timestamp, and the checkpointed votes add up to it.
    function invariant_checkpointsMatchHistory() public {
        uint256 now_ = handler.currentTime();
        vm.warp(now_);
        uint256 n = handler.timepointCount();
        uint256 count = handler.candidateCount();
        for (uint256 k = 0; k < n; ++k) {
            uint256 t = handler.timepoints(k);
            if (t >= now_) break;
            uint256 total = agentVotes.getPastTotalSupply(t);
            assertEq(total, handler.ghostTotalAt(t), "past total == total seen then");
            uint256 sum;
            for (uint256 i = 0; i < count; ++i) sum += agentVotes.getPastVotes(handler.candidates(i), t);
            assertEq(sum, total, "sum of past votes == past total");
        }
    }

    /// @dev Guards against a vacuous invariant: each handler action really moves power, votes or delegation.
    function test_handlerActions_movePowerAndKeepTheInvariants() public {
        address a0 = handler.candidates(0); // 1,000 AITBC: 1x
        address a1 = handler.candidates(1); // 100,000 AITBC - 1 wei: 1x
        address a2 = handler.candidates(2); // 100,000 AITBC: 1.1x
        address a3 = handler.candidates(3); // 1,000,000 AITBC - 1 wei: 1.1x
        address a4 = handler.candidates(4); // 1,000,000 AITBC: 1.2x
        address a6 = handler.candidates(6); // unregistered
        assertEq(agentVotes.powerOf(a0), 1_000e18, "a0");
        assertEq(agentVotes.powerOf(a1), 100_000e18 - 1, "a1");
        assertEq(agentVotes.powerOf(a2), 110_000e18, "a2");
        assertEq(agentVotes.powerOf(a3), 1_100_000e18 - 2, "a3: (1e24 - 1) x 1.1 = 1.1e24 - 1.1");
        assertEq(agentVotes.powerOf(a4), 1_200_000e18, "a4");
        uint256 total = agentVotes.getTotalSupply();

        handler.delegate(0, 3); // a0 -> a3
        assertEq(agentVotes.getVotes(a3), 1_101_000e18 - 2, "a3 holds a0's votes");
        assertEq(agentVotes.getTotalSupply(), total, "delegation keeps the total");
        handler.delegate(6, 0); // unregistered delegator: refused
        assertEq(handler.reverted("delegate"), 1, "non-agent delegation refused");

        handler.stake(0, 256, true); // a0 up to the 1.1x threshold (100,000 AITBC) - 1 wei: still 1x
        assertEq(agentVotes.powerOf(a0), 100_000e18 - 1, "one wei below the 1.1x tier");
        handler.stake(0, 1, true); // and the last wei: 1.1x, delegated to a3
        assertEq(agentVotes.powerOf(a0), 110_000e18, "at the 1.1x tier");
        assertEq(agentVotes.getVotes(a3), 1_210_000e18 - 2, "delegate follows");

        total = agentVotes.getTotalSupply();
        handler.moveStake(1, 3, 1); // one wei from a1 (1x) lifts a3 to the 1.2x threshold
        assertEq(handler.movesWithinTiers(), 0, "crossed a tier");
        assertEq(agentVotes.powerOf(a1), 100_000e18 - 2, "a1 lost a wei's vote");
        assertEq(agentVotes.powerOf(a3), 1_200_000e18, "a3 reached 1.2x");
        assertEq(agentVotes.getTotalSupply(), total + 100_000e18 + 1, "concentrating across a tier adds its votes");

        handler.moveStake(1, 2, 1e18); // one AITBC from a1 (1x) to a2 (1.1x): both stay in their tiers
        assertEq(handler.movesWithinTiers(), 1, "within tiers");
        assertEq(agentVotes.powerOf(a1), 99_999e18 - 2, "a1");
        assertEq(agentVotes.powerOf(a2), 110_001.1e18, "a2: 100,001 x 1.1");
        assertEq(agentVotes.getTotalSupply(), total + 100_000e18 + 1 + 0.1e18, "one AITBC moved from 1x to 1.1x");

        handler.updateReputation(2, 100); // a2: 600
        assertEq(agentVotes.powerOf(a2), 121_001.21e18, "a2 reputation bonus: 100,001 x 1.1 x 1.1");
        handler.recordActivity(2, 4); // a2: 4 votes cast, +5%
        assertEq(agentVotes.powerOf(a2), 127_051.2705e18, "a2 activity bonus: 100,001 x 1.1 x 1.1 x 1.05");
        handler.recordActivity(6, 1); // unregistered: ignored
        assertEq(agentVotes.activityOf(a6), 0, "non-agent activity ignored");

        handler.slash(3, type(uint256).max); // a3 slashed
        handler.toggleFreeze(3); // a3 frozen: keeps its units, refused as a delegate
        handler.delegate(2, 3);
        assertEq(handler.reverted("delegate"), 2, "frozen delegate refused");
        handler.warpTime(1 hours);
        handler.requestUnstake(3, 0, true, true); // a3 exits (frozen agents may leave)
        assertEq(agentVotes.powerOf(a3), 0, "exiting");
        assertEq(agentVotes.getVotes(a3), 0, "a0's delegation stays with a3, idle: it counts for nothing");
        assertEq(handler.idleHeld(), agentVotes.powerOf(a0), "held by the idle a3");
        handler.undelegate(0);
        assertEq(agentVotes.getVotes(a3), 0, "a0 took its votes home");
        handler.register(6);
        assertTrue(handler.agentIdOf(a6) != 0, "late registration");
        handler.warpTime(1 hours);

        assertFalse(handler.ghostMoveOffFormula(), "moves follow the formula");
        assertFalse(handler.ghostMoveNotLinear(), "moves within tiers are linear");
        assertFalse(handler.ghostSplitPaid(), "no split paid");
        invariant_totalEqualsSumOfVotesAndOfPowers();
        invariant_powerFollowsFormula();
        invariant_delegatesHoldExactlyTheDelegatedPower();
        invariant_delegationAndStakeMovesConserveVotes();
        invariant_splittingStakeNeverPays();
        invariant_checkpointsMatchHistory();
    }
}
