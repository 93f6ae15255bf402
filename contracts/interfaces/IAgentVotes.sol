// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentRegistry} from "./IAgentRegistry.sol";

/// @title IAgentVotes
/// @notice Agents' voting power (seed 000): power = base × stake × stake multiplier × (100 + reputation bonus)/100
/// × (100 + activity bonus)/100, checkpointed per timestamp (ERC-6372) so that a vote counts the power at the
/// proposal's snapshot. `base` is the power of one staked AITBC (wei of votes per token); the multiplier and the
/// bonuses come from tier schedules that governance sets. The multiplier never falls as stake grows, so power is
/// superadditive in stake: no agent gains votes by splitting its stake across sybils.
interface IAgentVotes {
    /// @notice One step of a schedule: from `threshold` on (stake in wei, reputation points, votes cast), the
    /// schedule's value is `value` (a stake multiplier in bps, or a bonus in percent), until the next tier.
    struct Tier {
        uint128 threshold;
        uint32 value;
    }

    /// @notice The whole power formula.
    struct Schedule {
        uint256 base;
        Tier[] stakeMultiplierBps;
        Tier[] reputationBonusPct;
        Tier[] activityBonusPct;
    }

    /// @notice A constructor argument is the zero address.
    error AgentVotesZeroAddress();

    /// @notice Only the AgentRegistry reports agent changes.
    error AgentVotesNotRegistry(address caller);

    /// @notice Votes may only be delegated to an active registered agent (staked, not frozen, not exiting).
    error AgentVotesInvalidDelegate(address delegatee);

    /// @notice The power schedule is out of bounds: base zero or too large, no stake tiers, too many tiers, a value
    /// above its maximum, or thresholds not strictly ascending or values decreasing.
    /// @param field The schedule field: base, stakeMultiplierBps, reputationBonusPct or activityBonusPct.
    /// @param index The offending tier (the tier count when there are too many; 0 for base).
    error AgentVotesInvalidSchedule(string field, uint256 index);

    /// @notice The admin set the power formula: base × stake multiplier × (100 + reputation bonus) / 100 × (100 +
    /// activity bonus) / 100, each factor a step function of its tiers.
    event ScheduleSet(uint256 base, Tier[] stakeMultiplierBps, Tier[] reputationBonusPct, Tier[] activityBonusPct);

    /// @notice `agent`'s voting power changed (stake, reputation, activity or exit); its delegate's votes moved by the
    /// difference.
    event PowerUpdated(address indexed agent, uint256 oldPower, uint256 newPower);

    /// @notice An agent's key was rotated from `oldKey` to `newKey`: its `power`, activity and delegation moved, and
    /// `held` votes (its own and its delegators') moved from `oldKey` to `newKey` as a delegate.
    event AgentRotated(address indexed oldKey, address indexed newKey, uint256 power, uint256 held);

    /// @notice The governor counted one more vote of `agent` (its activity bonus grows with `activity`).
    /// @param activity The agent's votes counted so far.
    event ActivityRecorded(address indexed agent, uint256 activity);

    /// @notice `delegate` became idle (slashed below its required stake, or exiting: its votes, its delegators'
    /// included, do not count and leave the total) or bonded again (`idle` false).
    event DelegateIdleSet(address indexed delegate, bool idle);

    /// @notice The registry reports a change of `agent`'s stake, reputation or status (registry only). An agent
    /// below its required stake (or with none) or exiting becomes idle as a delegate.
    function onAgentChanged(address agent, uint256 stake, uint16 reputation, bool exiting) external;

    /// @notice The registry moved an agent from `oldKey` to `newKey` (registry only): its power, activity, idle
    /// state and delegation follow, and so do the votes `oldKey` held as a delegate. Whoever delegated to `oldKey`
    /// delegates to `newKey` from now on ({delegates} follows rotations), so no delegator has to act. Past
    /// checkpoints stay where they were: a proposal whose snapshot predates the rotation counts these votes under
    /// `oldKey`, which the governor no longer lets vote.
    function onAgentRotated(address oldKey, address newKey) external;

    /// @notice Counts one governance act of `agent` (a vote) towards its activity bonus (ACTIVITY_ROLE: the
    /// governor). Accounts that are not registered agents are ignored.
    function recordActivity(address agent) external;

    /// @notice Recomputes the power of `agents` from the registry under the current schedule (anyone; after a
    /// schedule change, or to bring any agent up to date).
    function sync(address[] calldata agents) external;

    /// @notice Moves the caller's votes back to itself (delegation to self is the default).
    function undelegate() external;

    /// @notice Replaces the power formula's parameters (admin: the timelock). Powers change on the agents' next
    /// update or {sync}.
    function setSchedule(Schedule calldata schedule) external;

    /// @notice The formula's value for these inputs under the current schedule.
    function computePower(uint256 stake, uint16 reputation, uint256 activity) external view returns (uint256);

    /// @notice `agent`'s own power as last recorded (what it delegates), whoever holds its votes.
    function powerOf(address agent) external view returns (uint256);

    /// @notice Whether `delegate` is idle: exiting or staked below its required stake (or not at all). The votes it
    /// holds, its delegators' too, do not count (0 votes, left out of the total) until it is bonded again (on its
    /// next stake change or {sync}) or they are delegated elsewhere.
    function isIdle(address delegate) external view returns (bool);

    /// @notice The key `key` was rotated to (zero if it never was).
    function rotatedTo(address key) external view returns (address);

    /// @notice The number of governance acts counted for `agent`.
    function activityOf(address agent) external view returns (uint256);

    function schedule() external view returns (Schedule memory);

    /// @notice The AgentRegistry whose agents' power this holds.
    function registry() external view returns (IAgentRegistry);
}
