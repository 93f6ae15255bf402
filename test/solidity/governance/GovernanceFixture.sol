// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentVotes} from "../../../contracts/governance/AgentVotes.sol";
import {IAgentConstitution} from "../../../contracts/interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../../../contracts/interfaces/IAgentRegistry.sol";
import {IAgentVotes} from "../../../contracts/interfaces/IAgentVotes.sol";
import {IHumanOverride} from "../../../contracts/interfaces/IHumanOverride.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";

/// @title AgentVotesHarness
/// @notice AgentVotes unchanged, plus a view of {Votes}' current total (internal in OpenZeppelin's Votes, which
/// only exposes past totals).
contract AgentVotesHarness is AgentVotes {
    constructor(
        address admin,
        IAgentRegistry registry_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        Schedule memory schedule_
    ) AgentVotes(admin, registry_, humanOverride_, constitution_, schedule_) {}

    /// @notice The sum of every delegate's votes now (what getPastTotalSupply will report for this timestamp).
    function getTotalSupply() external view returns (uint256) {
        return _getTotalSupply();
    }
}

/// @title PowerReference
/// @notice An independent reference implementation of AgentVotes' power formula, written from its specification
/// (IAgentVotes): power = base × stake/1e18 × multiplier(stake)/10_000 × (100 + repBonus)/100 × (100 +
/// activityBonus)/100, rounded down once. It scans every tier (the contract stops at the first one above the
/// input) and divides by splitting the stake at 1e26 (the contract uses Math.mulDiv): exact, with checked
/// arithmetic, for any stake up to 2^128 (tier thresholds are uint128) under any schedule AgentVotes accepts.
library PowerReference {
    /// @dev 1e18 (stake per AITBC) × 10_000 (bps) × 100 × 100 (percent, twice).
    uint256 internal constant DENOMINATOR = 1e26;

    /// @dev The value of the highest tier whose threshold is at most `x` (0 below the first tier).
    function tierValue(IAgentVotes.Tier[] memory tiers, uint256 x) internal pure returns (uint256 value) {
        uint256 best;
        bool found;
        for (uint256 i = 0; i < tiers.length; ++i) {
            if (tiers[i].threshold <= x && (!found || tiers[i].threshold >= best)) {
                best = tiers[i].threshold;
                value = tiers[i].value;
                found = true;
            }
        }
    }

    /// @dev Votes per wei of stake, scaled by {DENOMINATOR}: base × multiplier × (100 + repBonus) × (100 +
    /// activityBonus). Constant between two stake thresholds, so power is linear in stake within a tier.
    function rate(
        IAgentVotes.Schedule memory s,
        uint256 stake,
        uint256 reputation,
        uint256 activity
    ) internal pure returns (uint256) {
        return
            s.base *
            tierValue(s.stakeMultiplierBps, stake) *
            (100 + tierValue(s.reputationBonusPct, reputation)) *
            (100 + tierValue(s.activityBonusPct, activity));
    }

    /// @dev floor(stake × rate / 1e26) = (stake / 1e26) × rate + floor((stake % 1e26) × rate / 1e26), exactly.
    function power(
        IAgentVotes.Schedule memory s,
        uint256 stake,
        uint256 reputation,
        uint256 activity
    ) internal pure returns (uint256) {
        uint256 r = rate(s, stake, reputation, activity);
        return (stake / DENOMINATOR) * r + ((stake % DENOMINATOR) * r) / DENOMINATOR;
    }
}

/// @title GovernanceFixture
/// @notice The core of {CoreFixture} plus AgentVotes, deployed and wired as deploy/modules/Governance.ts does
/// (DEFAULT_SCHEDULE; the registry reports to it; the constitution lets it enforce GOVERN), with this contract as
/// the admin. AgentVotes is deployed as {AgentVotesHarness} to read the current total. The governor and timelock
/// are left out: tests that need ACTIVITY_ROLE grant it to themselves or to a handler. The power formula's
/// reference is {PowerReference}.
abstract contract GovernanceFixture is CoreFixture {
    AgentVotesHarness internal agentVotes;

    function _deployGovernance() internal {
        _deployCore();
        agentVotes = new AgentVotesHarness(address(this), registry, humanOverride, constitution, _defaultSchedule());
        registry.setVotes(agentVotes);
        constitution.grantRole(constitution.ENFORCER_ROLE(), address(agentVotes));
        vm.label(address(agentVotes), "AgentVotes");
    }

    /// @dev Governance.ts DEFAULT_SCHEDULE: one vote per staked AITBC; 1× from the minimum stake, 1.1× from
    /// 100,000 AITBC, 1.2× from 1,000,000 AITBC.
    function _defaultSchedule() internal pure returns (IAgentVotes.Schedule memory s) {
        s.base = AITBC;
        s.stakeMultiplierBps = new IAgentVotes.Tier[](3);
        s.stakeMultiplierBps[0] = IAgentVotes.Tier(uint128(1_000 * AITBC), 10_000);
        s.stakeMultiplierBps[1] = IAgentVotes.Tier(uint128(100_000 * AITBC), 11_000);
        s.stakeMultiplierBps[2] = IAgentVotes.Tier(uint128(1_000_000 * AITBC), 12_000);
        s.reputationBonusPct = new IAgentVotes.Tier[](3);
        s.reputationBonusPct[0] = IAgentVotes.Tier(600, 10);
        s.reputationBonusPct[1] = IAgentVotes.Tier(800, 25);
        s.reputationBonusPct[2] = IAgentVotes.Tier(950, 50);
        s.activityBonusPct = new IAgentVotes.Tier[](3);
        s.activityBonusPct[0] = IAgentVotes.Tier(1, 5);
        s.activityBonusPct[1] = IAgentVotes.Tier(5, 10);
        s.activityBonusPct[2] = IAgentVotes.Tier(20, 20);
    }

    /// @dev Reference: the formula's value under schedule `s` ({PowerReference-power}).
    function _refPower(
        IAgentVotes.Schedule memory s,
        uint256 stake,
        uint256 reputation,
        uint256 activity
    ) internal pure returns (uint256) {
        return PowerReference.power(s, stake, reputation, activity);
    }
}
