// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IAgentConstitution
/// @notice Per-agent limits (seed 000's constitution), set by the agent's operator within protocol-wide bounds,
/// and enforced by every module on every action the agent takes.
interface IAgentConstitution {
    /// @notice An agent's constraints. Action-type sets are bitmasks over {ActionTypes} (bit i = type i).
    /// @param maxStake Largest total active stake the agent may hold in the registry (token wei).
    /// @param maxDailyVolume Largest value the agent may move per UTC day bucket (token wei), as its operator set
    /// it; {enforce} caps it further at the volume the agent's stake backs ({bondedVolumeOf}).
    /// @param maxGasPerDay Largest gas its actions may use per UTC day bucket, as measured by the modules.
    /// @param allowedActions Action types the agent may take at all.
    /// @param humanApprovalActions Action types that go through only while a human grant
    /// ({IHumanOverride-grant}) is live; the seed's `requiresHumanApproval` flag, made per action type. A grant
    /// covers every action of its type until it expires or is revoked. In the protocol bounds this field is a
    /// floor instead: allowed action types in it always need approval, whatever the operator sets.
    struct Constraints {
        uint96 maxStake;
        uint96 maxDailyVolume;
        uint48 maxGasPerDay;
        uint48 allowedActions;
        uint48 humanApprovalActions;
    }

    /// @notice What an agent has used in its current day bucket.
    struct Usage {
        uint32 day;
        uint96 volume;
        uint64 gas;
    }

    /// @notice `agent` was never enrolled (the registry enrolls every agent it registers).
    error AgentConstitutionNotEnrolled(address agent);

    /// @notice `agent` is enrolled already.
    error AgentConstitutionAlreadyEnrolled(address agent);

    /// @notice `key` was an agent's key and was rotated away ({rotate}): it may do nothing as an agent any more.
    error AgentConstitutionKeyRetired(address key);

    /// @notice Only the agent's `operator`, not `caller`, may set its constraints.
    error AgentConstitutionNotOperator(address agent, address caller, address operator);

    /// @notice A constructor argument, an agent or an operator is the zero address.
    error AgentConstitutionZeroAddress();

    /// @notice A value is above the protocol's bound for it.
    /// @param field Its name: maxStake, maxDailyVolume, maxGasPerDay, allowedActions (not a subset of the allowed
    /// bound) or declaredDailyVolume.
    error AgentConstitutionAboveBound(string field, uint256 value, uint256 bound);

    /// @notice The human-approval mask names action types that are not allowed (approving a forbidden action means
    /// nothing).
    error AgentConstitutionInvalidActionMask(uint48 mask);

    /// @notice A guardian froze `agent`: it may not act.
    error AgentConstitutionAgentFrozen(address agent);

    /// @notice The agent's constitution does not allow `actionType`.
    error AgentConstitutionActionNotAllowed(address agent, uint8 actionType);

    /// @notice A guardian denied `actionType` to the agent (a live {IHumanOverride-deny}).
    error AgentConstitutionActionDenied(address agent, uint8 actionType);

    /// @notice `actionType` needs a live human grant for the agent ({IHumanOverride-grant}) and has none.
    error AgentConstitutionHumanApprovalRequired(address agent, uint8 actionType);

    /// @notice The action's `value` on top of `usedToday` would exceed the agent's daily volume.
    error AgentConstitutionDailyVolumeExceeded(address agent, uint256 usedToday, uint256 value, uint256 maxDailyVolume);

    /// @notice The action's `gasUsed` on top of `usedToday` would exceed the agent's daily gas.
    error AgentConstitutionDailyGasExceeded(address agent, uint256 usedToday, uint256 gasUsed, uint256 maxGasPerDay);

    /// @notice Staking would bring the agent's stake to `newStake`, above its `maxStake`.
    error AgentConstitutionMaxStakeExceeded(address agent, uint256 newStake, uint256 maxStake);

    /// @notice The daily volume may not exceed the volume the agent declared (the one its security bond backs).
    error AgentConstitutionAboveDeclaredVolume(address agent, uint256 maxDailyVolume, uint256 declaredDailyVolume);

    /// @notice The constraints drop human approval for allowed action types that the protocol bounds always make need
    /// it.
    /// @param required The approval mask the bounds require for the allowed action types.
    error AgentConstitutionBelowApprovalFloor(uint48 humanApprovalActions, uint48 required);

    /// @notice The registry enrolled a new agent under the default constraints.
    event AgentEnrolled(address indexed agent, address indexed operator, uint256 declaredDailyVolume);

    /// @notice The registry moved an agent from key `oldKey` to `newKey`: its constraints, declared and bonded
    /// volumes and today's usage are `newKey`'s now; `oldKey` is retired (every action of it is refused).
    event AgentRotated(address indexed oldKey, address indexed newKey);

    /// @notice The agent declared a new daily volume (the ceiling of its maxDailyVolume).
    event DeclaredVolumeSet(address indexed agent, uint256 declaredDailyVolume);

    /// @notice The agent's stake now backs `bondedDailyVolume` a day (the registry reports every change of stake):
    /// its daily volume limit in force is the lower of this and its maxDailyVolume.
    event BondedVolumeSet(address indexed agent, uint256 bondedDailyVolume);

    /// @notice `setter` (the operator, or the admin clamping constitutions to the bounds) set the agent's constraints.
    event ConstraintsSet(address indexed agent, address indexed setter, Constraints constraints);

    /// @notice The admin set the protocol bounds every constitution must stay within.
    event BoundsSet(Constraints bounds);

    /// @notice The admin set the constraints newly enrolled agents start with.
    event DefaultsSet(Constraints defaults);

    /// @notice Starts enforcing the defaults for a newly registered agent; called by the registry.
    /// `declaredDailyVolume` is the volume its security bond is for: its maxDailyVolume never exceeds it. It has
    /// no stake yet, so it backs no volume: it moves no value until {setBondedVolume}.
    function enroll(address agent, address operator, uint256 declaredDailyVolume) external;

    /// @notice Moves an agent's record from `oldKey` to `newKey` (the registry, at a key rotation): constraints,
    /// operator, declared and bonded volumes and today's usage (so a rotation never resets a daily limit). `oldKey`
    /// stays enrolled as retired: {enforce} refuses every action of it, and nothing can change its record again.
    function rotate(address oldKey, address newKey) external;

    /// @notice Records a new declared daily volume (the registry checked the bond); lowers maxDailyVolume to it
    /// when above. Called by the registry.
    function setDeclaredVolume(address agent, uint256 declaredDailyVolume) external;

    /// @notice Records the daily volume `agent`'s stake backs now (at most its declared volume; see
    /// {IAgentRegistry-bondedVolume}). Called by the registry after every change of the agent's stake.
    function setBondedVolume(address agent, uint256 bondedDailyVolume) external;

    /// @notice Replaces `agent`'s constraints; only its operator. Each field at most the protocol bound,
    /// maxDailyVolume at most the declared (bonded) volume, and the bounds' approval floor kept.
    function setConstraints(address agent, Constraints calldata constraints) external;

    /// @notice Checks one action of `agent` against its constitution and the humans' overrides, and charges
    /// `value` and `gasUsed` to its day bucket. Reverts with the constraint and the figures when blocked.
    /// Returns at once for addresses that are not enrolled agents. Called by protocol modules only.
    function enforce(address agent, uint8 actionType, uint256 value, uint256 gasUsed) external;

    /// @notice Reverts if `newStake` exceeds `agent`'s `maxStake`.
    function checkStake(address agent, uint256 newStake) external view;

    /// @notice Sets the protocol-wide upper bounds of every operator-set field (admin).
    function setBounds(Constraints calldata bounds) external;

    /// @notice Sets the constraints newly enrolled agents start with (admin).
    function setDefaults(Constraints calldata defaults) external;

    /// @notice Brings enrolled agents within the current bounds (admin): new bounds apply to constraints set
    /// afterwards, and this is how they reach agents enrolled before them.
    function clampToBounds(address[] calldata agents) external;

    function isEnrolled(address agent) external view returns (bool);

    function operatorOf(address agent) external view returns (address);

    function declaredVolumeOf(address agent) external view returns (uint256);

    /// @notice The daily volume `agent`'s stake backs; its limit in force is
    /// `min(constraintsOf(agent).maxDailyVolume, bondedVolumeOf(agent))`.
    function bondedVolumeOf(address agent) external view returns (uint256);

    function constraintsOf(address agent) external view returns (Constraints memory);

    /// @notice Usage in the current day bucket (zero when the stored bucket is an earlier day).
    function usageOf(address agent) external view returns (Usage memory);

    /// @notice Seed 000's flag: whether any action type of `agent` needs human approval.
    function requiresHumanApproval(address agent) external view returns (bool);

    function bounds() external view returns (Constraints memory);

    function defaults() external view returns (Constraints memory);
}
