// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IHumanOverride
/// @notice The humans' controls over the protocol: guardians grant or deny an action type to an agent for a
/// limited time, freeze an agent (safe mode), and stop every module at once. Every call here emits an event;
/// together they are the audit log of human intervention.
interface IHumanOverride {
    /// @notice A guardian's standing decision on one (agent, action type).
    enum Decision {
        None,
        Granted,
        Denied
    }

    /// @notice A decision and when it lapses.
    struct OverrideRecord {
        Decision decision;
        uint64 expiresAt;
    }

    /// @notice The emergency stop is on: every protocol action is blocked (and a second stop is refused).
    error HumanOverrideEmergencyStopped();

    /// @notice The emergency stop is not on, so there is nothing to resume.
    error HumanOverrideNotStopped();

    /// @notice A constructor argument, a guardian or an agent is the zero address.
    error HumanOverrideZeroAddress();

    /// @notice `actionType` is not below `max`, the number of action types ({ActionTypes-MAX}).
    error HumanOverrideInvalidActionType(uint8 actionType, uint8 max);

    /// @notice A decision's duration must be above zero and at most `maxDuration`.
    error HumanOverrideInvalidDuration(uint256 duration, uint256 maxDuration);

    /// @notice There is no decision on (`agent`, `actionType`) to revoke.
    error HumanOverrideNoOverride(address agent, uint8 actionType);

    /// @notice `agent` is frozen already.
    error HumanOverrideAlreadyFrozen(address agent);

    /// @notice `agent` is not frozen.
    error HumanOverrideNotFrozen(address agent);

    /// @notice `guardian` allowed `actionType` for `agent` until `expiresAt` (the human approval a constitution may
    /// require).
    event OverrideGranted(address indexed agent, uint8 indexed actionType, address indexed guardian, uint64 expiresAt);

    /// @notice `guardian` denied `actionType` to `agent` until `expiresAt`.
    event OverrideDenied(address indexed agent, uint8 indexed actionType, address indexed guardian, uint64 expiresAt);

    /// @notice `guardian` removed the decision on (`agent`, `actionType`) before it lapsed.
    event OverrideRevoked(address indexed agent, uint8 indexed actionType, address indexed guardian);

    /// @notice `guardian` froze `agent` (safe mode): it may not act until unfrozen; it may still exit.
    event AgentFrozen(address indexed agent, address indexed guardian, string reason);

    /// @notice `guardian` unfroze `agent`.
    event AgentUnfrozen(address indexed agent, address indexed guardian);

    /// @notice `guardian` stopped every protocol module.
    event EmergencyStopped(address indexed guardian, string reason);

    /// @notice `guardian` ended the emergency stop; deadlines it hit are extended (see {extendedDeadline}).
    event EmergencyResumed(address indexed guardian);

    /// @notice Allows `actionType` for `agent` for `duration` seconds (this is the human approval that a
    /// constitution may require). Replaces any earlier decision on the same (agent, action type).
    function grant(address agent, uint8 actionType, uint256 duration) external;

    /// @notice Forbids `actionType` for `agent` for `duration` seconds, whatever its constitution allows.
    function deny(address agent, uint8 actionType, uint256 duration) external;

    /// @notice Ends the decision on (agent, action type) before it expires.
    function revoke(address agent, uint8 actionType) external;

    /// @notice Puts `agent` in safe mode: it can do nothing but exit until unfrozen.
    function freeze(address agent, string calldata reason) external;

    /// @notice Lifts safe mode.
    function unfreeze(address agent) external;

    /// @notice Stops every state-changing function of every module that agents, users and modules call, until
    /// {resume}. Guardian functions and admins' role and parameter functions stay open (see HumanOverride).
    function emergencyStop(string calldata reason) external;

    /// @notice Ends the emergency stop.
    function resume() external;

    /// @notice Whether the emergency stop is on.
    function isStopped() external view returns (bool);

    /// @notice When the last emergency stop ended (0 if none has). Deadlines are extended by
    /// {extendedDeadline}, which reads every stop, not this.
    function lastResumedAt() external view returns (uint64);

    /// @notice The deadline of an obligation that began at `since` and was due at `deadline`, extended by each
    /// emergency stop that hit it while it was still running: a stop from s to e with max(s, since) at or before
    /// the (so far extended) deadline moves it to max(deadline + (e - max(s, since)), e + {GRACE_AFTER_RESUME}).
    /// A deadline that lapsed before a stop began is never moved; a stop still on counts as ending now. Modules
    /// read every deadline through this (SafetyGuarded), so a stop never turns into slashes, lost challenge rights
    /// or expired executions, and never revives a right that had already lapsed.
    function extendedDeadline(uint64 since, uint64 deadline) external view returns (uint64);

    /// @notice How many emergency stops there have been (each recorded with its start and end).
    function stopCount() external view returns (uint256);

    /// @notice The `index`-th emergency stop: when it started, and when it ended (0 while it lasts).
    function stopAt(uint256 index) external view returns (uint64 start, uint64 end);

    /// @notice After an emergency stop ends, a deadline it hit runs at least this much longer (see
    /// {extendedDeadline}).
    function GRACE_AFTER_RESUME() external view returns (uint256);

    /// @notice Whether `agent` is frozen.
    function isFrozen(address agent) external view returns (bool);

    /// @notice The stored decision on (agent, action type), expired or not.
    function overrideOf(address agent, uint8 actionType) external view returns (OverrideRecord memory);

    /// @notice What an action of `agent` of type `actionType` faces now: whether the protocol is stopped, whether
    /// the agent is frozen, and the live (unexpired) decision on that action type. One call, for the
    /// constitution's hot path.
    function gate(address agent, uint8 actionType) external view returns (bool stopped, bool frozen, Decision decision);

    /// @notice Longest duration of a grant or denial.
    function MAX_DURATION() external view returns (uint256);
}
