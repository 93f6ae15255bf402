// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IAgentVotes} from "../interfaces/IAgentVotes.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title AgentVotes
/// @notice The governance token of AITBC is not a token: an agent's votes are its power, computed from its stake,
/// reputation and governance activity, and recorded as OpenZeppelin {Votes} voting units whenever one of them
/// changes (the AgentRegistry reports stake and reputation, the governor reports votes cast). Delegation,
/// delegation by signature, checkpoints and the total are {Votes}' own, so no vote is counted twice: an agent's
/// units sit with exactly one delegate (itself by default), and every change of power moves the total with it.
/// @dev Clock: timestamps (ERC-6372 "mode=timestamp"). An exiting agent has no power; a frozen one keeps its
/// units but cannot vote, propose or delegate (its constitution refuses). A schedule change reaches each agent on
/// its next update, or at once through {sync}.
///
/// Idle delegates: votes count only while they sit with a delegate that is bonded (staked at least its required
/// stake, and something) and not exiting, i.e. one with stake to slash. A delegate slashed below its required stake
/// or exiting holds its delegators' units but they do not count: its {getVotes} and {getPastVotes} are 0 and they
/// leave {getPastTotalSupply} (so the quorum) until it is bonded again or the delegators move them. Checkpointed
/// (per delegate, and the idle total), so past votes and quorums answer for the time they are asked about.
contract AgentVotes is IAgentVotes, Votes, AccessControl, SafetyGuarded {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice The governor: counts votes cast towards the activity bonus.
    bytes32 public constant ACTIVITY_ROLE = keccak256("ACTIVITY_ROLE");

    uint256 public constant MAX_TIERS = 8;
    uint256 public constant MAX_BASE = 1e30;
    /// @notice A stake multiplier of at most 100× (in bps).
    uint32 public constant MAX_MULTIPLIER_BPS = 1_000_000;
    /// @notice A bonus of at most +1000%.
    uint32 public constant MAX_BONUS_PCT = 1_000;

    IAgentRegistry private immutable _registry;

    uint256 private _base;
    Tier[] private _stakeTiers;
    Tier[] private _reputationTiers;
    Tier[] private _activityTiers;
    mapping(address agent => uint256 power) private _power;
    mapping(address agent => uint256 count) private _activity;
    mapping(address delegate => bool idle) private _idle;
    mapping(address delegate => Checkpoints.Trace208 idle) private _idleHistory; // 1 while idle
    Checkpoints.Trace208 private _idleVotes; // votes held by idle delegates, left out of the total
    mapping(address oldKey => address newKey) private _rotatedTo;

    constructor(
        address admin,
        IAgentRegistry registry_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        Schedule memory schedule_
    ) EIP712("AITBC Agent Votes", "1") SafetyGuarded(humanOverride_, constitution_) {
        if (admin == address(0) || address(registry_) == address(0)) revert AgentVotesZeroAddress();
        _registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setSchedule(schedule_);
    }

    // ---------------------------------------------------------------- updates

    /// @inheritdoc IAgentVotes
    function onAgentChanged(address agent, uint256 stake, uint16 reputation, bool exiting) external {
        if (msg.sender != address(_registry)) revert AgentVotesNotRegistry(msg.sender);
        // Called once the registry's books are updated, so its required stake is the one that now applies. An idle
        // agent (exiting, or staked below its required stake) has no power of its own either: otherwise it could
        // delegate the votes its idleness voids to an active agent, where they would count again.
        bool idle = exiting || stake == 0 || stake < _registry.requiredStake(_registry.agentIdOf(agent));
        _setIdle(agent, idle);
        _update(agent, idle ? 0 : _compute(stake, reputation, _activity[agent]));
    }

    /// @inheritdoc IAgentVotes
    function onAgentRotated(address oldKey, address newKey) external {
        if (msg.sender != address(_registry)) revert AgentVotesNotRegistry(msg.sender);
        // Forward first: from now on {delegates} of anyone who named oldKey (oldKey itself included) is newKey.
        _rotatedTo[oldKey] = newKey;
        address delegatee = delegates(oldKey);
        uint256 power = _power[oldKey];
        // newKey holds no units yet: delegating moves nothing, it only names where its units will sit.
        if (delegatee != address(0)) Votes._delegate(newKey, delegatee);
        // newKey takes oldKey's idle state before the votes move, so the idle total does not change.
        _setIdle(newKey, _idle[oldKey]);
        uint256 held = super.getVotes(oldKey);
        _moveDelegateVotes(oldKey, newKey, held);
        _setIdle(oldKey, false); // it holds nothing now
        _power[newKey] = power;
        _power[oldKey] = 0;
        _activity[newKey] = _activity[oldKey];
        _activity[oldKey] = 0;
        emit AgentRotated(oldKey, newKey, power, held);
    }

    /// @inheritdoc IAgentVotes
    function recordActivity(address agent) external onlyRole(ACTIVITY_ROLE) {
        uint256 agentId = _registry.agentIdOf(agent);
        if (agentId == 0) return;
        uint256 activity = ++_activity[agent];
        emit ActivityRecorded(agent, activity);
        _update(agent, _powerFromRegistry(agent, agentId));
    }

    /// @inheritdoc IAgentVotes
    function sync(address[] calldata agents) external whenNotStopped {
        for (uint256 i = 0; i < agents.length; ++i) {
            uint256 agentId = _registry.agentIdOf(agents[i]);
            if (agentId == 0) continue;
            _setIdle(agents[i], _idleInRegistry(agentId));
            _update(agents[i], _powerFromRegistry(agents[i], agentId));
        }
    }

    // ---------------------------------------------------------------- delegation

    /// @inheritdoc IAgentVotes
    function undelegate() external {
        _delegate(msg.sender, msg.sender);
    }

    /// @dev Every public path ({delegate}, {delegateBySig}, {undelegate}): a registered agent delegating to itself
    /// or to an active agent (not frozen, not exiting, staked at least its required stake: a delegate has something
    /// to slash), within its constitution, while the protocol runs.
    function _delegate(address account, address delegatee) internal override {
        uint256 gasStart = gasleft();
        _requireNotStopped();
        if (_registry.agentIdOf(account) == 0) revert IAgentRegistry.AgentRegistryNotRegistered(account);
        if (delegatee != account) {
            uint256 delegateeId = _registry.agentIdOf(delegatee);
            if (delegateeId == 0 || !_registry.isActive(delegateeId)) {
                revert AgentVotesInvalidDelegate(delegatee);
            }
        }
        Votes._delegate(account, delegatee);
        _enforce(account, ActionTypes.GOVERN, 0, gasStart);
    }

    // ---------------------------------------------------------------- parameters

    /// @inheritdoc IAgentVotes
    function setSchedule(Schedule calldata schedule_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSchedule(schedule_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAgentVotes
    function computePower(uint256 stake, uint16 reputation, uint256 activity) external view returns (uint256) {
        return _compute(stake, reputation, activity);
    }

    /// @notice `account`'s delegate, following key rotations: a delegation to an agent's old key is one to its
    /// current key (so delegators never have to move their votes after a rotation).
    function delegates(address account) public view override returns (address delegatee) {
        delegatee = super.delegates(account);
        for (address next = _rotatedTo[delegatee]; next != address(0); next = _rotatedTo[next]) delegatee = next;
    }

    /// @inheritdoc IAgentVotes
    function rotatedTo(address key) external view returns (address) {
        return _rotatedTo[key];
    }

    /// @inheritdoc IAgentVotes
    function isIdle(address delegate) external view returns (bool) {
        return _idle[delegate];
    }

    /// @notice The votes `account` holds as a delegate: 0 while it is idle (see the contract's notes).
    function getVotes(address account) public view override returns (uint256) {
        return _idle[account] ? 0 : super.getVotes(account);
    }

    /// @notice The votes `account` held at `timepoint`: 0 if it was idle then.
    function getPastVotes(address account, uint256 timepoint) public view override returns (uint256) {
        uint256 votes_ = super.getPastVotes(account, timepoint); // validates the timepoint first
        return _idleHistory[account].upperLookupRecent(uint48(timepoint)) == 1 ? 0 : votes_;
    }

    /// @notice The votes that counted at `timepoint`: every agent's power, less what idle delegates held.
    function getPastTotalSupply(uint256 timepoint) public view override returns (uint256) {
        uint256 total = super.getPastTotalSupply(timepoint); // validates the timepoint first
        return total - _idleVotes.upperLookupRecent(uint48(timepoint));
    }

    /// @inheritdoc IAgentVotes
    function powerOf(address agent) external view returns (uint256) {
        return _power[agent];
    }

    /// @inheritdoc IAgentVotes
    function activityOf(address agent) external view returns (uint256) {
        return _activity[agent];
    }

    /// @inheritdoc IAgentVotes
    function schedule() external view returns (Schedule memory) {
        return Schedule(_base, _stakeTiers, _reputationTiers, _activityTiers);
    }

    /// @inheritdoc IAgentVotes
    function registry() external view returns (IAgentRegistry) {
        return _registry;
    }

    /// @notice ERC-6372: votes are checkpointed by block timestamp.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    // ---------------------------------------------------------------- internals

    /// @dev Records `power` as `agent`'s voting units: the difference is minted to or burned from its delegate
    /// (itself, the first time) and the total.
    function _update(address agent, uint256 power) private {
        uint256 old = _power[agent];
        if (power == old) return;
        if (delegates(agent) == address(0)) Votes._delegate(agent, agent);
        _power[agent] = power;
        emit PowerUpdated(agent, old, power);
        if (power > old) _transferVotingUnits(address(0), agent, power - old);
        else _transferVotingUnits(agent, address(0), old - power);
    }

    /// @dev Marks `delegate` idle or not; the votes it holds now leave or rejoin the counted total.
    function _setIdle(address delegate, bool idle) private {
        if (_idle[delegate] == idle) return;
        _idle[delegate] = idle;
        _idleHistory[delegate].push(clock(), idle ? 1 : 0);
        uint256 held = super.getVotes(delegate);
        if (held != 0) {
            uint208 idleVotes = _idleVotes.latest();
            // held <= the total, which Votes keeps within uint208.
            _idleVotes.push(clock(), idle ? idleVotes + uint208(held) : idleVotes - uint208(held));
        }
        emit DelegateIdleSet(delegate, idle);
    }

    /// @dev Votes moving into or out of an idle delegate enter or leave the idle total (mints and burns too).
    function _moveDelegateVotes(address from, address to, uint256 amount) internal override {
        super._moveDelegateVotes(from, to, amount);
        bool fromIdle = from != address(0) && _idle[from];
        bool toIdle = to != address(0) && _idle[to];
        if (fromIdle == toIdle || amount == 0) return;
        uint208 idleVotes = _idleVotes.latest();
        // amount <= the total, which Votes keeps within uint208.
        _idleVotes.push(clock(), toIdle ? idleVotes + uint208(amount) : idleVotes - uint208(amount));
    }

    function _idleInRegistry(uint256 agentId) private view returns (bool) {
        if (_registry.statusOf(agentId) == IAgentRegistry.AgentStatus.Exiting) return true;
        uint256 stake = _registry.stakeOf(agentId);
        return stake == 0 || stake < _registry.requiredStake(agentId);
    }

    function _powerFromRegistry(address agent, uint256 agentId) private view returns (uint256) {
        if (_idleInRegistry(agentId)) return 0;
        return _compute(_registry.stakeOf(agentId), _registry.reputationOf(agentId), _activity[agent]);
    }

    /// @dev base × stake/1e18 × multiplier(stake)/10_000 × (100 + bonus(reputation))/100 × (100 + bonus(activity))/100,
    /// rounded down once at the end.
    function _compute(uint256 stake, uint16 reputation, uint256 activity) private view returns (uint256) {
        uint256 multiplierBps = _tierValue(_stakeTiers, stake);
        if (multiplierBps == 0) return 0;
        uint256 reputationPct = 100 + _tierValue(_reputationTiers, reputation);
        uint256 activityPct = 100 + _tierValue(_activityTiers, activity);
        // At most 1e30 × 1e6 × 1100 × 1100 < 2^141: the product fits; mulDiv keeps stake × product exact.
        return Math.mulDiv(stake, _base * multiplierBps * reputationPct * activityPct, 1e26);
    }

    /// @dev The value of the last tier whose threshold is at most `x` (0 below the first). Thresholds ascend, so
    /// the scan stops at the first tier above `x`.
    function _tierValue(Tier[] storage tiers, uint256 x) private view returns (uint256 value) {
        uint256 n = tiers.length;
        for (uint256 i = 0; i < n; ++i) {
            Tier memory t = tiers[i];
            if (t.threshold > x) break;
            value = t.value;
        }
    }

    function _getVotingUnits(address account) internal view override returns (uint256) {
        return _power[account];
    }

    function _setSchedule(Schedule memory s) private {
        if (s.base == 0 || s.base > MAX_BASE) revert AgentVotesInvalidSchedule("base", 0);
        if (s.stakeMultiplierBps.length == 0) revert AgentVotesInvalidSchedule("stakeMultiplierBps", 0);
        _copyTiers(_stakeTiers, s.stakeMultiplierBps, MAX_MULTIPLIER_BPS, "stakeMultiplierBps");
        _copyTiers(_reputationTiers, s.reputationBonusPct, MAX_BONUS_PCT, "reputationBonusPct");
        _copyTiers(_activityTiers, s.activityBonusPct, MAX_BONUS_PCT, "activityBonusPct");
        _base = s.base;
        emit ScheduleSet(s.base, s.stakeMultiplierBps, s.reputationBonusPct, s.activityBonusPct);
    }

    /// @dev At most {MAX_TIERS} tiers, thresholds strictly ascending, values non-decreasing and at most
    /// `maxValue`. Non-decreasing values make power non-decreasing in stake, reputation and activity, and, since
    /// power is stake × a non-decreasing multiplier, superadditive in stake: splitting stake across agents never
    /// adds votes (a falling multiplier would pay sybils).
    function _copyTiers(Tier[] storage to, Tier[] memory from, uint32 maxValue, string memory field) private {
        if (from.length > MAX_TIERS) revert AgentVotesInvalidSchedule(field, from.length);
        while (to.length != 0) to.pop();
        for (uint256 i = 0; i < from.length; ++i) {
            Tier memory t = from[i];
            if (t.value > maxValue) revert AgentVotesInvalidSchedule(field, i);
            if (i > 0 && (t.threshold <= from[i - 1].threshold || t.value < from[i - 1].value)) {
                revert AgentVotesInvalidSchedule(field, i);
            }
            to.push(t);
        }
    }
}
