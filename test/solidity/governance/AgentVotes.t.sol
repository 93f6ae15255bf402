// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentConstitution} from "../../../contracts/interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../../../contracts/interfaces/IAgentRegistry.sol";
import {IAgentVotes} from "../../../contracts/interfaces/IAgentVotes.sol";
import {GovernanceFixture} from "./GovernanceFixture.sol";

/// @notice AgentVotes' power formula: a hand-computed table under Governance.ts's DEFAULT_SCHEDULE (edges at and
/// one below every threshold, rounding at odd stakes), the single rounding, fuzzed equality with a reference
/// implementation (default and random schedules), monotonicity in stake, reputation and activity, linearity within
/// a stake tier and superadditivity in stake (splitting stake across agents never adds votes); then the
/// registry-driven updates, delegation and checkpoints on a deployed core.
contract AgentVotesTest is GovernanceFixture {
    struct Row {
        uint256 stake;
        uint16 reputation;
        uint256 activity;
        uint256 expected;
    }

    uint256 internal constant VOTE = 1e18;
    /// @dev The largest stake the fuzz tests feed (the tiers' threshold type; the token's supply cap is 1e27): far
    /// from where computePower's result could overflow (its mulDiv reverts only past 2^256).
    uint256 internal constant MAX_FUZZ_STAKE = type(uint128).max;

    address internal agentA = address(0xA6E0A);
    address internal agentB = address(0xA6E0B);
    address internal agentC = address(0xA6E0C);
    address internal operatorA = address(0x0BE0A);
    address internal operatorB = address(0x0BE0B);
    address internal operatorC = address(0x0BE0C);

    function setUp() public {
        _deployGovernance();
        registry.grantRole(registry.SLASHER_ROLE(), address(this));
        registry.grantRole(registry.REPUTATION_ROLE(), address(this));
        agentVotes.grantRole(agentVotes.ACTIVITY_ROLE(), address(this));
    }

    // ---------------------------------------------------------------- the formula, by hand

    /// @dev Every expected value below is computed by hand: stake (AITBC) × multiplier × (1 + rep%) × (1 +
    /// activity%) votes, in wei, rounded down once.
    function test_computePower_defaultScheduleTable() public view {
        Row[30] memory rows = [
            // Below the minimum stake (the first tier) nothing counts, whatever the bonuses.
            Row(0, 500, 0, 0),
            Row(1_000 * AITBC - 1, 1_000, 1_000, 0),
            // 1x from 1,000 AITBC: then each reputation / activity edge (one below, exactly at).
            Row(1_000 * AITBC, 0, 0, 1_000 * VOTE),
            Row(1_000 * AITBC, 500, 0, 1_000 * VOTE),
            Row(1_000 * AITBC, 599, 0, 1_000 * VOTE),
            Row(1_000 * AITBC, 600, 0, 1_100 * VOTE), // 1,000 x 1.10
            Row(1_000 * AITBC, 799, 0, 1_100 * VOTE),
            Row(1_000 * AITBC, 800, 0, 1_250 * VOTE), // 1,000 x 1.25
            Row(1_000 * AITBC, 949, 0, 1_250 * VOTE),
            Row(1_000 * AITBC, 950, 0, 1_500 * VOTE), // 1,000 x 1.50
            Row(1_000 * AITBC, 500, 1, 1_050 * VOTE), // 1,000 x 1.05
            Row(1_000 * AITBC, 500, 4, 1_050 * VOTE),
            Row(1_000 * AITBC, 500, 5, 1_100 * VOTE), // 1,000 x 1.10
            Row(1_000 * AITBC, 500, 19, 1_100 * VOTE),
            Row(1_000 * AITBC, 500, 20, 1_200 * VOTE), // 1,000 x 1.20
            // Rounding: (1e21 + 1) x 1.155 = 1.155e21 + 1.155; (1e21 + 7) x 1.8 = 1.8e21 + 12.6.
            Row(1_000 * AITBC + 1, 600, 1, 1_155 * VOTE + 1),
            Row(1_000 * AITBC + 7, 950, 20, 1_800 * VOTE + 12),
            // Linear within the tier: 10,000 AITBC is no edge any more.
            Row(10_000 * AITBC, 500, 0, 10_000 * VOTE),
            Row(55_555 * AITBC, 700, 7, 67_221.55e18), // 55,555 x 1.10 x 1.10
            // 1.1x from 100,000 AITBC; one wei below is still 1x.
            Row(100_000 * AITBC - 1, 500, 0, 100_000 * VOTE - 1),
            Row(100_000 * AITBC, 500, 0, 110_000 * VOTE),
            Row(100_000 * AITBC - 1, 949, 19, 137_500 * VOTE - 2), // (1e23 - 1) x 1.25 x 1.10 = 1.375e23 - 1.375
            Row(100_000 * AITBC, 950, 20, 198_000 * VOTE), // 100,000 x 1.1 x 1.50 x 1.20
            Row(500_000 * AITBC, 800, 1, 721_875 * VOTE), // 500,000 x 1.1 x 1.25 x 1.05
            Row(1_000_000 * AITBC - 1, 1_000, 0, 1_650_000 * VOTE - 2), // (1e24 - 1) x 1.1 x 1.50 = 1.65e24 - 1.65
            // 1.2x from 1,000,000 AITBC, the top of every schedule, and the extremes of the inputs.
            Row(1_000_000 * AITBC, 500, 0, 1_200_000 * VOTE),
            Row(1_000_000 * AITBC, 800, 5, 1_650_000 * VOTE), // 1,000,000 x 1.2 x 1.25 x 1.10
            Row(1_000_000 * AITBC, 1_000, 1_000, 2_160_000 * VOTE), // 1,000,000 x 1.2 x 1.50 x 1.20
            Row(1e27, type(uint16).max, type(uint256).max, 2_160_000_000 * VOTE), // the supply cap x 2.16
            // (2^128 - 1) x 2.16 = 735009912549227081080889152052619336742.8
            Row(type(uint128).max, type(uint16).max, type(uint256).max, 735009912549227081080889152052619336742)
        ];
        for (uint256 i = 0; i < rows.length; ++i) {
            Row memory r = rows[i];
            assertEq(
                agentVotes.computePower(r.stake, r.reputation, r.activity),
                r.expected,
                string.concat("table row ", _str(i))
            );
        }
    }

    function test_schedule_isGovernanceDefault() public view {
        IAgentVotes.Schedule memory s = agentVotes.schedule();
        IAgentVotes.Schedule memory d = _defaultSchedule();
        assertEq(s.base, d.base, "base");
        assertEq(keccak256(abi.encode(s)), keccak256(abi.encode(d)), "schedule == DEFAULT_SCHEDULE");
    }

    /// @dev Hand-computed: one agent with all the stake has at least the votes of any split of it, and a split
    /// that drops the parts below a tier (or below the minimum stake) loses that tier's votes.
    function test_splittingStake_neverAddsVotes() public view {
        uint256 whole = agentVotes.computePower(1_000_000 * AITBC, 500, 0);
        assertEq(whole, 1_200_000 * VOTE, "1,000,000 AITBC in one agent: 1.2x");
        assertEq(2 * agentVotes.computePower(500_000 * AITBC, 500, 0), 1_100_000 * VOTE, "2 x 500,000: 1.1x");
        assertEq(10 * agentVotes.computePower(100_000 * AITBC, 500, 0), 1_100_000 * VOTE, "10 x 100,000: 1.1x");
        assertEq(1_000 * agentVotes.computePower(1_000 * AITBC, 500, 0), 1_000_000 * VOTE, "1,000 x 1,000: 1x");
        assertEq(2_000 * agentVotes.computePower(500 * AITBC, 500, 0), 0, "2,000 x 500: below the minimum");
        // At reputation 800 and 5 votes cast (x 1.375): within one tier a split is neutral; across a tier it loses
        // the tier's 10%.
        assertEq(agentVotes.computePower(80_000 * AITBC, 800, 5), 110_000 * VOTE, "80,000 x 1.375");
        assertEq(2 * agentVotes.computePower(40_000 * AITBC, 800, 5), 110_000 * VOTE, "2 x 40,000 x 1.375");
        assertEq(agentVotes.computePower(100_000 * AITBC, 800, 5), 151_250 * VOTE, "100,000 x 1.1 x 1.375");
        assertEq(2 * agentVotes.computePower(50_000 * AITBC, 800, 5), 137_500 * VOTE, "2 x 50,000 x 1.375");
    }

    /// @dev base 3, 1.2345x, +7%, +3%, one AITBC staked: 3 x 1.2345 x 1.07 x 1.03 = 4.08 -> 4, where rounding each
    /// factor (3 x 1.2345 -> 3, x 1.07 -> 3, x 1.03 -> 3) would give 3. The stake is not rounded to whole AITBC
    /// first either: 1 wei at base 1e18 is 1.36 -> 1 wei of votes, not 0. With base 1e18 the product is exact.
    function test_computePower_roundsDownOnceAtTheEnd() public {
        IAgentVotes.Schedule memory s;
        s.base = 3;
        s.stakeMultiplierBps = new IAgentVotes.Tier[](1);
        s.stakeMultiplierBps[0] = IAgentVotes.Tier(0, 12_345);
        s.reputationBonusPct = new IAgentVotes.Tier[](1);
        s.reputationBonusPct[0] = IAgentVotes.Tier(0, 7);
        s.activityBonusPct = new IAgentVotes.Tier[](1);
        s.activityBonusPct[0] = IAgentVotes.Tier(0, 3);
        agentVotes.setSchedule(s);
        assertEq(agentVotes.computePower(AITBC, 0, 0), 4, "3 x 1.2345 x 1.07 x 1.03 = 4.08 -> 4");
        assertEq(agentVotes.computePower(0, 0, 0), 0, "no stake, no votes");
        s.base = 1;
        agentVotes.setSchedule(s);
        assertEq(agentVotes.computePower(AITBC, 0, 0), 1, "1 x 1.36 -> 1");
        s.base = VOTE;
        agentVotes.setSchedule(s);
        assertEq(agentVotes.computePower(AITBC, 0, 0), 1.36054245e18, "1e18 x 1.2345 x 1.07 x 1.03, exact");
        assertEq(agentVotes.computePower(1, 0, 0), 1, "1 wei staked: 1.36 -> 1");
        assertEq(agentVotes.computePower(3, 0, 0), 4, "3 wei staked: 4.08 -> 4");
    }

    function test_setSchedule_rejectsDecreasingOrUnorderedTiers() public {
        IAgentVotes.Schedule memory s = _defaultSchedule();
        s.reputationBonusPct[2].value = 20; // below the previous tier's 25
        vm.expectRevert(
            abi.encodeWithSelector(IAgentVotes.AgentVotesInvalidSchedule.selector, "reputationBonusPct", 2)
        );
        agentVotes.setSchedule(s);
        s = _defaultSchedule();
        s.stakeMultiplierBps[2].value = 10_999; // a falling multiplier would pay sybils
        vm.expectRevert(
            abi.encodeWithSelector(IAgentVotes.AgentVotesInvalidSchedule.selector, "stakeMultiplierBps", 2)
        );
        agentVotes.setSchedule(s);
        s = _defaultSchedule();
        s.stakeMultiplierBps[1].threshold = s.stakeMultiplierBps[0].threshold; // not strictly ascending
        vm.expectRevert(
            abi.encodeWithSelector(IAgentVotes.AgentVotesInvalidSchedule.selector, "stakeMultiplierBps", 1)
        );
        agentVotes.setSchedule(s);
    }

    // ---------------------------------------------------------------- the formula, fuzzed

    function testFuzz_computePower_equalsFormula(uint256 stake, uint16 reputation, uint256 activity) public view {
        (stake, activity) = _nearTiers(stake, activity);
        assertEq(
            agentVotes.computePower(stake, reputation, activity),
            _refPower(_defaultSchedule(), stake, reputation, activity),
            "computePower == formula"
        );
    }

    function testFuzz_computePower_monotonicInStake(uint256 a, uint256 b, uint16 rep, uint256 act) public view {
        (a, act) = _nearTiers(a, act);
        (b, ) = _nearTiers(b, 0);
        (uint256 lo, uint256 hi) = a <= b ? (a, b) : (b, a);
        assertLe(agentVotes.computePower(lo, rep, act), agentVotes.computePower(hi, rep, act), "more stake");
    }

    function testFuzz_computePower_monotonicInReputation(uint256 stake, uint16 a, uint16 b, uint256 act) public view {
        (stake, act) = _nearTiers(stake, act);
        (uint16 lo, uint16 hi) = a <= b ? (a, b) : (b, a);
        assertLe(agentVotes.computePower(stake, lo, act), agentVotes.computePower(stake, hi, act), "more reputation");
    }

    function testFuzz_computePower_monotonicInActivity(uint256 stake, uint16 rep, uint256 a, uint256 b) public view {
        (stake, a) = _nearTiers(stake, a);
        (, b) = _nearTiers(0, b);
        (uint256 lo, uint256 hi) = a <= b ? (a, b) : (b, a);
        assertLe(agentVotes.computePower(stake, rep, lo), agentVotes.computePower(stake, rep, hi), "more activity");
    }

    /// @dev Splitting stake across agents never adds votes: f(a + b) >= f(a) + f(b) (the multiplier never falls,
    /// and rounding down once can only favour the whole).
    function testFuzz_computePower_superadditiveInStake(uint256 a, uint256 b, uint16 rep, uint256 act) public view {
        (a, act) = _nearTiers(a, act);
        (b, ) = _nearTiers(b, 0);
        uint256 whole = agentVotes.computePower(a + b, rep, act);
        assertEq(whole, _refPower(_defaultSchedule(), a + b, rep, act), "computePower(a + b) == formula");
        assertGe(
            whole,
            agentVotes.computePower(a, rep, act) + agentVotes.computePower(b, rep, act),
            "f(a + b) >= f(a) + f(b)"
        );
    }

    /// @dev Within one stake tier power is linear in stake: a split only loses what the single rounding gives,
    /// f(a + b) - f(a) - f(b) is 0 or 1 wei.
    function testFuzz_computePower_additiveWithinATier(
        uint256 tier,
        uint256 a,
        uint256 b,
        uint16 rep,
        uint256 act
    ) public view {
        uint256[4] memory edges = [uint256(1_000 * AITBC), 100_000 * AITBC, 1_000_000 * AITBC, MAX_FUZZ_STAKE];
        tier = tier % 3;
        (uint256 lo, uint256 hi) = (edges[tier], edges[tier + 1] - 1); // [lo, hi]: one multiplier
        a = bound(a, lo, hi - lo);
        b = bound(b, lo, hi - a);
        uint256 whole = agentVotes.computePower(a + b, rep, act);
        uint256 parts = agentVotes.computePower(a, rep, act) + agentVotes.computePower(b, rep, act);
        assertGe(whole, parts, "f(a + b) >= f(a) + f(b)");
        assertLe(whole - parts, 1, "within a tier only the rounding differs");
    }

    /// @dev Any schedule governance may set: the contract agrees with the reference and stays monotonic in each
    /// input (the schedule's values are non-decreasing, so the product is).
    function testFuzz_randomSchedule_formulaAndMonotonic(
        uint256 seed,
        uint256 stake,
        uint16 rep,
        uint256 act,
        uint256 moreStake,
        uint16 moreRep,
        uint256 moreAct
    ) public {
        IAgentVotes.Schedule memory s = _randomSchedule(seed);
        agentVotes.setSchedule(s);
        stake = bound(stake, 0, 8e27);
        act = bound(act, 0, 500);
        uint256 power = agentVotes.computePower(stake, rep, act);
        assertEq(power, _refPower(s, stake, rep, act), "computePower == formula (random schedule)");
        moreStake = bound(moreStake, 0, 8e27);
        moreAct = bound(moreAct, 0, 500);
        uint16 higherRep = uint16(bound(moreRep, rep, type(uint16).max));
        assertLe(power, agentVotes.computePower(stake + moreStake, rep, act), "monotonic in stake");
        assertLe(power, agentVotes.computePower(stake, higherRep, act), "monotonic in reputation");
        assertLe(power, agentVotes.computePower(stake, rep, act + moreAct), "monotonic in activity");
    }

    /// @dev Any schedule governance may set is superadditive in stake: computePower(a + b) >= computePower(a) +
    /// computePower(b). Half the runs put a and b just below a stake threshold that their sum reaches.
    function testFuzz_randomSchedule_superadditiveInStake(
        uint256 seed,
        uint256 a,
        uint256 b,
        uint16 rep,
        uint256 act
    ) public {
        IAgentVotes.Schedule memory s = _randomSchedule(seed);
        agentVotes.setSchedule(s);
        act = bound(act, 0, 500);
        uint256 threshold = s.stakeMultiplierBps[seed % s.stakeMultiplierBps.length].threshold;
        if ((seed >> 128) & 1 == 1 && threshold >= 2) {
            a = bound(a, 1, threshold - 1); // a below the threshold
            b = bound(b, threshold - a, threshold - a + 2); // a + b at, or just past, it
        } else {
            a = bound(a, 0, 8e27);
            b = bound(b, 0, 8e27);
        }
        uint256 fa = agentVotes.computePower(a, rep, act);
        uint256 fb = agentVotes.computePower(b, rep, act);
        uint256 whole = agentVotes.computePower(a + b, rep, act);
        assertEq(fa, _refPower(s, a, rep, act), "f(a) == formula");
        assertEq(fb, _refPower(s, b, rep, act), "f(b) == formula");
        assertEq(whole, _refPower(s, a + b, rep, act), "f(a + b) == formula");
        assertGe(whole, fa + fb, "f(a + b) >= f(a) + f(b) (random schedule)");
    }

    /// @dev Through the registry: whatever the stake, reputation and activity, the recorded power is the formula's,
    /// and it is all the agent's votes and the whole total.
    function testFuzz_registryPower_equalsFormula(uint256 amount, int256 repDelta, uint256 acts) public {
        amount = bound(amount, 1, 1_000_000 * AITBC);
        repDelta = bound(repDelta, -600, 600);
        acts = bound(acts, 0, 22);
        uint256 id = _registerAgent(agentA, operatorA, 0);
        _fundAndStake(agentA, amount);
        registry.updateReputation(id, repDelta, "fuzz");
        for (uint256 i = 0; i < acts; ++i) agentVotes.recordActivity(agentA);

        uint16 rep = registry.reputationOf(id);
        uint256 expected = _refPower(_defaultSchedule(), amount, rep, acts);
        assertEq(agentVotes.activityOf(agentA), acts, "activity");
        assertEq(agentVotes.computePower(amount, rep, acts), expected, "computePower == formula");
        assertEq(agentVotes.powerOf(agentA), expected, "powerOf == formula");
        assertEq(agentVotes.getVotes(agentA), expected, "self-delegated votes");
        assertEq(agentVotes.getTotalSupply(), expected, "total");
    }

    // ---------------------------------------------------------------- through the registry

    function test_registry_drivesPowerThroughEveryChange() public {
        uint256 id = _registerAgent(agentA, operatorA, 0);
        assertEq(agentVotes.powerOf(agentA), 0, "registered, unstaked");
        assertEq(agentVotes.delegates(agentA), address(0), "no delegate before any power");

        _fundAndStake(agentA, 100_000 * AITBC);
        _expectPower(agentA, 110_000 * VOTE, "100,000 staked: 1.1x");
        assertEq(agentVotes.delegates(agentA), agentA, "self-delegated on first power");

        registry.updateReputation(id, 100, "up"); // 600
        _expectPower(agentA, 121_000 * VOTE, "reputation 600: +10%");

        agentVotes.recordActivity(agentA);
        _expectPower(agentA, 127_050 * VOTE, "one vote cast: +5%");

        registry.slash(id, 1, "one wei"); // 100,000 AITBC - 1 wei: back to 1x
        _expectPower(agentA, 115_500 * VOTE - 2, "slashed below the 1.1x tier: (1e23 - 1) x 1.155");

        registry.updateReputation(id, -1_000, "down"); // clamped to 0
        _expectPower(agentA, 105_000 * VOTE - 2, "reputation 0: (1e23 - 1) x 1.05");

        uint256 staked = registry.stakeOf(id); // read before the prank, which the next call consumes
        vm.prank(agentA);
        registry.requestUnstake(id, staked); // full exit
        _expectPower(agentA, 0, "exiting: no power");

        agentVotes.recordActivity(agentA); // counted, but an exiting agent has no power
        assertEq(agentVotes.activityOf(agentA), 2, "activity still counted");
        _expectPower(agentA, 0, "still exiting");
        registry.updateReputation(id, 1_000, "up");
        _expectPower(agentA, 0, "reputation does not revive an exiting agent");
    }

    function test_recordActivity_ignoresNonAgentsAndNeedsTheRole() public {
        agentVotes.recordActivity(address(0xBEEF));
        assertEq(agentVotes.activityOf(address(0xBEEF)), 0, "not an agent: ignored");
        assertEq(agentVotes.getTotalSupply(), 0, "no votes");
        vm.prank(agentA);
        vm.expectPartialRevert(bytes4(keccak256("AccessControlUnauthorizedAccount(address,bytes32)")));
        agentVotes.recordActivity(agentA);
        vm.expectRevert(abi.encodeWithSelector(IAgentVotes.AgentVotesNotRegistry.selector, address(this)));
        agentVotes.onAgentChanged(agentA, 1_000_000 * AITBC, 1_000, false);
    }

    /// @dev Moving stake from one agent to another within the same tiers leaves the total exactly where it was
    /// (power is linear in stake there); concentrating it across a tier gains that tier's votes, and splitting it
    /// back loses them: splitting never creates votes.
    function test_moveStake_betweenAgentsNeverCreatesVotes() public {
        uint256 idA = _registerAgent(agentA, operatorA, 0);
        uint256 idB = _registerAgent(agentB, operatorB, 0);
        _fundAndStake(agentA, 60_000 * AITBC);
        _fundAndStake(agentB, 60_000 * AITBC);
        assertEq(agentVotes.getTotalSupply(), 120_000 * VOTE, "60,000 + 60,000 at 1x");

        vm.prank(agentA);
        registry.requestUnstake(idA, 5_000 * AITBC);
        _fundAndStake(agentB, 5_000 * AITBC); // A: 55,000, B: 65,000
        assertEq(agentVotes.getTotalSupply(), 120_000 * VOTE, "same tiers: total unchanged");

        vm.prank(operatorA); // the agent key may not add to stake still unbonding
        registry.requestUnstake(idA, 35_000 * AITBC); // A: 20,000 (1x)
        _fundAndStake(agentB, 35_000 * AITBC); // B: 100,000 (1.1x)
        assertEq(agentVotes.getTotalSupply(), 130_000 * VOTE, "concentrating across the 1.1x tier: 20,000 + 110,000");
        assertEq(agentVotes.getVotes(agentA) + agentVotes.getVotes(agentB), 130_000 * VOTE, "sum of votes");

        vm.prank(agentB);
        registry.requestUnstake(idB, 35_000 * AITBC); // B: 65,000 (1x)
        _fundAndStake(agentA, 35_000 * AITBC); // A: 55,000 (1x)
        assertEq(agentVotes.getTotalSupply(), 120_000 * VOTE, "splitting back loses the tier's votes");
        assertEq(agentVotes.powerOf(agentA), 55_000 * VOTE, "A");
        assertEq(agentVotes.powerOf(agentB), 65_000 * VOTE, "B");
    }

    function test_delegation_movesVotesNeverTheTotal() public {
        uint256 idA = _registerAgent(agentA, operatorA, 0);
        _registerAgent(agentB, operatorB, 0);
        _registerAgent(agentC, operatorC, 0);
        _fundAndStake(agentA, 10_000 * AITBC);
        _fundAndStake(agentB, 1_000 * AITBC);
        assertEq(agentVotes.getTotalSupply(), 11_000 * VOTE, "total");

        vm.prank(agentA);
        agentVotes.delegate(agentB);
        assertEq(agentVotes.getVotes(agentA), 0, "A delegated away");
        assertEq(agentVotes.getVotes(agentB), 11_000 * VOTE, "B holds A's votes");
        assertEq(agentVotes.powerOf(agentA), 10_000 * VOTE, "A's own power unchanged");
        assertEq(agentVotes.getTotalSupply(), 11_000 * VOTE, "total unchanged");

        registry.updateReputation(idA, 100, "up"); // A: 10,000 x 1.1
        assertEq(agentVotes.getVotes(agentB), 12_000 * VOTE, "A's new power reaches its delegate");
        assertEq(agentVotes.getTotalSupply(), 12_000 * VOTE, "total follows the power");

        // C is registered but unstaked: nothing to slash, so not a valid delegate until it stakes.
        vm.prank(agentA);
        vm.expectRevert(abi.encodeWithSelector(IAgentVotes.AgentVotesInvalidDelegate.selector, agentC));
        agentVotes.delegate(agentC);
        _fundAndStake(agentC, 1_000 * AITBC);

        vm.prank(agentA);
        agentVotes.delegate(agentC);
        assertEq(agentVotes.getVotes(agentB), 1_000 * VOTE, "B back to its own");
        assertEq(agentVotes.getVotes(agentC), 12_000 * VOTE, "C holds A's votes and its own");

        vm.prank(agentA);
        agentVotes.undelegate();
        assertEq(agentVotes.getVotes(agentA), 11_000 * VOTE, "A's votes home");
        assertEq(agentVotes.getVotes(agentC), 1_000 * VOTE, "C back to its own");
        assertEq(agentVotes.getTotalSupply(), 13_000 * VOTE, "total unchanged by delegation");
    }

    function test_delegate_refusesNonAgentsFrozenAndExiting() public {
        uint256 idB = _registerAgent(agentB, operatorB, 0);
        _registerAgent(agentA, operatorA, 0);
        _registerAgent(agentC, operatorC, 0);
        _fundAndStake(agentA, 10_000 * AITBC);
        _fundAndStake(agentB, 1_000 * AITBC);

        vm.prank(address(0xBEEF));
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotRegistered.selector, address(0xBEEF)));
        agentVotes.delegate(agentA);

        vm.prank(agentA);
        vm.expectRevert(abi.encodeWithSelector(IAgentVotes.AgentVotesInvalidDelegate.selector, address(0xBEEF)));
        agentVotes.delegate(address(0xBEEF));

        vm.prank(guardian);
        humanOverride.freeze(agentC, "test");
        vm.prank(agentA);
        vm.expectRevert(abi.encodeWithSelector(IAgentVotes.AgentVotesInvalidDelegate.selector, agentC));
        agentVotes.delegate(agentC);
        vm.prank(agentC);
        vm.expectPartialRevert(IAgentConstitution.AgentConstitutionAgentFrozen.selector);
        agentVotes.undelegate();

        vm.prank(agentB);
        registry.requestUnstake(idB, 1_000 * AITBC);
        vm.prank(agentA);
        vm.expectRevert(abi.encodeWithSelector(IAgentVotes.AgentVotesInvalidDelegate.selector, agentB));
        agentVotes.delegate(agentB);

        assertEq(agentVotes.getVotes(agentA), 10_000 * VOTE, "A kept its votes");
        assertEq(agentVotes.getTotalSupply(), 10_000 * VOTE, "B exited");
    }

    /// @dev Documents a design choice: votes delegated to an agent that later exits stay with it until the
    /// delegator moves them, but the delegate is idle: they count for nothing, nor in the past total (quorum).
    function test_delegatedVotes_stayWithADelegateThatExits() public {
        _registerAgent(agentA, operatorA, 0);
        uint256 idB = _registerAgent(agentB, operatorB, 0);
        _fundAndStake(agentA, 10_000 * AITBC);
        _fundAndStake(agentB, 1_000 * AITBC);
        vm.prank(agentA);
        agentVotes.delegate(agentB);
        vm.prank(agentB);
        registry.requestUnstake(idB, 1_000 * AITBC);
        assertEq(agentVotes.powerOf(agentB), 0, "B's own power gone");
        assertTrue(agentVotes.isIdle(agentB), "B idle");
        assertEq(agentVotes.getVotes(agentB), 0, "A's delegation still with B, counting for nothing");
        assertEq(agentVotes.getTotalSupply(), 10_000 * VOTE, "total == A's power");
        vm.warp(block.timestamp + 1);
        assertEq(agentVotes.getPastTotalSupply(block.timestamp - 1), 0, "none of it counts toward a quorum");
        vm.prank(agentA);
        agentVotes.undelegate();
        assertEq(agentVotes.getVotes(agentB), 0, "moved home");
        assertEq(agentVotes.getVotes(agentA), 10_000 * VOTE, "and counts again");
    }

    function test_pastVotes_checkpointedByTimestamp() public {
        assertEq(agentVotes.clock(), block.timestamp, "clock is the timestamp");
        assertEq(keccak256(bytes(agentVotes.CLOCK_MODE())), keccak256("mode=timestamp"), "clock mode");
        uint256 id = _registerAgent(agentA, operatorA, 0);
        _fundAndStake(agentA, 1_000 * AITBC);
        uint256 t1 = block.timestamp;
        vm.warp(t1 + 1 hours);
        _fundAndStake(agentA, 99_000 * AITBC); // 100,000: 1.1x
        uint256 t2 = block.timestamp;
        vm.warp(t2 + 1 hours);
        vm.prank(agentA);
        registry.requestUnstake(id, 100_000 * AITBC);
        vm.warp(block.timestamp + 1);

        assertEq(agentVotes.getPastVotes(agentA, t1 - 1), 0, "before staking");
        assertEq(agentVotes.getPastVotes(agentA, t1), 1_000 * VOTE, "at t1");
        assertEq(agentVotes.getPastVotes(agentA, t2 - 1), 1_000 * VOTE, "just before t2");
        assertEq(agentVotes.getPastVotes(agentA, t2), 110_000 * VOTE, "at t2");
        assertEq(agentVotes.getPastTotalSupply(t2), 110_000 * VOTE, "total at t2");
        assertEq(agentVotes.getPastTotalSupply(block.timestamp - 1), 0, "after the exit");
    }

    // ---------------------------------------------------------------- helpers

    function _expectPower(address agent, uint256 expected, string memory message) internal view {
        uint256 id = registry.agentIdOf(agent);
        bool exiting = registry.statusOf(id) == IAgentRegistry.AgentStatus.Exiting;
        uint256 formula =
            exiting
                ? 0
                : agentVotes.computePower(
                    registry.stakeOf(id),
                    registry.reputationOf(id),
                    agentVotes.activityOf(agent)
                );
        assertEq(agentVotes.powerOf(agent), expected, message);
        assertEq(formula, expected, string.concat(message, " (formula)"));
        assertEq(agentVotes.getVotes(agent), expected, string.concat(message, " (votes)"));
        assertEq(agentVotes.getTotalSupply(), expected, string.concat(message, " (total)"));
    }

    /// @dev Half the time, pulls the fuzzer's values into the ranges where the tiers are (stake up to 2M AITBC,
    /// activity up to 40), so the edges get exercised; otherwise keeps activity raw and the stake anywhere up to
    /// {MAX_FUZZ_STAKE} (far past the token's supply cap).
    function _nearTiers(uint256 stake, uint256 activity) internal pure returns (uint256, uint256) {
        stake = stake & 1 == 0 ? bound(stake, 0, 2_000_000 * AITBC) : bound(stake, 0, MAX_FUZZ_STAKE);
        if (activity & 1 == 0) activity = bound(activity, 0, 40);
        return (stake, activity);
    }

    function _randomSchedule(uint256 seed) internal pure returns (IAgentVotes.Schedule memory s) {
        s.base = bound(uint256(keccak256(abi.encode(seed, "base"))), 1, 1e30);
        s.stakeMultiplierBps = _randomTiers(seed, "stake", 1, 1_000_000, 1e27);
        s.reputationBonusPct = _randomTiers(seed, "reputation", 0, 1_000, 300);
        s.activityBonusPct = _randomTiers(seed, "activity", 0, 1_000, 40);
    }

    /// @dev 1..8 (or 0..8) tiers, thresholds strictly ascending by up to `maxStep`, values non-decreasing within
    /// `maxValue`.
    function _randomTiers(
        uint256 seed,
        string memory tag,
        uint256 minLength,
        uint32 maxValue,
        uint256 maxStep
    ) internal pure returns (IAgentVotes.Tier[] memory tiers) {
        uint256 r = uint256(keccak256(abi.encode(seed, tag)));
        tiers = new IAgentVotes.Tier[](bound(r, minLength, 8));
        uint256 threshold;
        uint256 value;
        for (uint256 i = 0; i < tiers.length; ++i) {
            r = uint256(keccak256(abi.encode(r)));
            threshold += i == 0 ? r % maxStep : 1 + (r % maxStep);
            value += (r >> 128) % (uint256(maxValue) / tiers.length + 1);
            if (value > maxValue) value = maxValue;
            tiers[i] = IAgentVotes.Tier(uint128(threshold), uint32(value));
        }
    }

    function _str(uint256 x) internal pure returns (string memory) {
        if (x == 0) return "0";
        bytes memory b;
        while (x != 0) {
            b = abi.encodePacked(bytes1(uint8(48 + (x % 10))), b);
            x /= 10;
        }
        return string(b);
    }
}
