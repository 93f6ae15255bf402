// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IAgentVotes} from "../interfaces/IAgentVotes.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {Slashing} from "../libraries/Slashing.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title AgentRegistry
/// @notice Agent identity, stake, unbonding, slashing and reputation.
/// @dev Stake accounting: the registry's token balance equals {totalStaked} + {totalPending}; slashed tokens
/// leave for the treasury in the same transaction. Tokens sent to the registry directly (outside {stake}) are
/// the only way to break the equality (balance above the totals), and {sweepExcess} restores it. Unbonding stake stays slashable until withdrawn, so
/// requesting an unstake never dodges a slash; while the agent has open obligations (an awarded workload, a
/// claimed workflow execution) nothing it staked leaves at all, so an exit cannot outlast the unbonding delay
/// and dodge the penalty of an obligation that runs longer. Withdrawals are paid to the operator, the human custodian of
/// the agent, which also lets a frozen agent's stake leave without the agent's own (frozen) transfers.
contract AgentRegistry is IAgentRegistry, AccessControl, ReentrancyGuard, SafetyGuarded {
    using SafeERC20 for IERC20;

    /// @notice Modules allowed to slash (marketplace, disputes, governance...).
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice Modules allowed to move reputation.
    bytes32 public constant REPUTATION_ROLE = keccak256("REPUTATION_ROLE");
    /// @notice Modules that give agents obligations their stake backs (the marketplace at award, Workflows at a
    /// keeper's claim): while any is open, the agent's stake cannot leave the registry except by a slash.
    bytes32 public constant OBLIGATION_ROLE = keccak256("OBLIGATION_ROLE");

    /// @notice At most half of an agent's stake (active plus pending) per slashing event.
    uint256 public constant MAX_SLASH_BPS = 5_000;
    uint256 public constant MAX_BOND_BPS = 10_000;
    /// @notice Unbonding gives slashers a window: never shorter than this.
    uint256 public constant MIN_UNBONDING_DELAY = 1 hours;
    uint256 public constant MAX_UNBONDING_DELAY = 90 days;
    uint16 public constant MAX_REPUTATION = 1_000;
    uint16 public constant INITIAL_REPUTATION = 500;
    uint256 public constant MAX_CAPABILITIES = 32;
    uint256 public constant MAX_STRING_LENGTH = 256;

    struct Agent {
        address agent;
        address operator;
        AgentType agentType;
        AgentStatus status;
        uint16 reputation;
        uint64 registeredAt;
        uint64 withdrawableAt;
        uint32 openObligations; // packs with withdrawableAt: withdraw reads both in one slot
        uint256 stake;
        uint256 pendingWithdrawal;
        uint256 expectedDailyVolume;
        string metadataURI;
        string endpoint;
        string version;
        bytes32[] capabilities;
    }

    IERC20 private immutable _token;

    uint256 private _minStake;
    uint256 private _bondBps;
    uint256 private _unbondingDelay;
    address private _treasury;
    uint256 private _agentCount;
    uint256 private _totalStaked;
    uint256 private _totalPending;
    IAgentVotes private _votes;
    mapping(address agent => uint256 agentId) private _agentIds;
    mapping(uint256 agentId => Agent agent) private _agents;
    mapping(uint256 agentId => bytes32 key) private _encryptionKeys;
    mapping(address key => uint256 agentId) private _retiredKeys;

    constructor(
        address admin,
        IERC20 token_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        address treasury_,
        uint256 minStake_,
        uint256 bondBps_,
        uint256 unbondingDelay_
    ) SafetyGuarded(humanOverride_, constitution_) {
        if (
            admin == address(0) ||
            address(token_) == address(0) ||
            address(humanOverride_) == address(0) ||
            address(constitution_) == address(0)
        ) revert AgentRegistryZeroAddress();
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setTreasury(treasury_);
        _setMinStake(minStake_);
        _setBondBps(bondBps_);
        _setUnbondingDelay(unbondingDelay_);
    }

    // ---------------------------------------------------------------- identity

    /// @inheritdoc IAgentRegistry
    function register(Registration calldata registration) external whenNotStopped returns (uint256 agentId) {
        if (registration.operator == address(0)) revert AgentRegistryZeroAddress();
        if (registration.operator == msg.sender) revert AgentRegistryOperatorIsAgent(msg.sender);
        if (_humanOverride.isFrozen(msg.sender)) revert AgentRegistryCallerFrozen(msg.sender);
        if (_humanOverride.isFrozen(registration.operator)) revert AgentRegistryOperatorFrozen(registration.operator);
        _requireFreshKey(msg.sender);
        _checkProfile(registration.metadataURI, registration.endpoint, registration.version, registration.capabilities);

        agentId = ++_agentCount;
        _agentIds[msg.sender] = agentId;
        Agent storage a = _agents[agentId];
        a.agent = msg.sender;
        a.operator = registration.operator;
        a.agentType = registration.agentType;
        a.status = AgentStatus.Active;
        a.reputation = INITIAL_REPUTATION;
        a.registeredAt = uint64(block.timestamp);
        a.expectedDailyVolume = registration.expectedDailyVolume;
        a.metadataURI = registration.metadataURI;
        a.endpoint = registration.endpoint;
        a.version = registration.version;
        a.capabilities = registration.capabilities;
        emit AgentRegistered(
            agentId,
            msg.sender,
            registration.operator,
            registration.agentType,
            registration.expectedDailyVolume
        );

        _constitution.enroll(msg.sender, registration.operator, registration.expectedDailyVolume);
    }

    /// @inheritdoc IAgentRegistry
    function updateProfile(
        string calldata metadataURI,
        string calldata endpoint,
        string calldata version,
        bytes32[] calldata capabilities
    ) external whenNotStopped {
        uint256 gasStart = gasleft();
        (uint256 agentId, Agent storage a) = _callerAgent();
        _requireStatus(agentId, a, AgentStatus.Active);
        _checkProfile(metadataURI, endpoint, version, capabilities);
        a.metadataURI = metadataURI;
        a.endpoint = endpoint;
        a.version = version;
        a.capabilities = capabilities;
        emit ProfileUpdated(agentId, metadataURI, endpoint, version, capabilities);
        _enforce(msg.sender, ActionTypes.UPDATE_PROFILE, 0, gasStart);
    }

    /// @inheritdoc IAgentRegistry
    function rotateKey(uint256 agentId, address newKey) external whenNotStopped nonReentrant {
        Agent storage a = _existing(agentId);
        address operator = a.operator;
        if (msg.sender != operator) revert AgentRegistryNotOperator(agentId, msg.sender);
        _requireStatus(agentId, a, AgentStatus.Active); // not frozen: a freeze is keyed by address
        if (newKey == address(0)) revert AgentRegistryZeroAddress();
        if (newKey == operator) revert AgentRegistryOperatorIsAgent(newKey);
        _requireFreshKey(newKey);
        if (_humanOverride.isFrozen(newKey)) revert AgentRegistryCallerFrozen(newKey);
        address oldKey = a.agent;
        // A denial is keyed by address too: the new key would start without it.
        for (uint8 t = 0; t <= ActionTypes.GOVERN; ++t) {
            (, , IHumanOverride.Decision decision) = _humanOverride.gate(oldKey, t);
            if (decision == IHumanOverride.Decision.Denied) revert AgentRegistryRotationDenied(agentId, t);
        }

        delete _agentIds[oldKey];
        _retiredKeys[oldKey] = agentId;
        _agentIds[newKey] = agentId;
        a.agent = newKey;
        emit AgentKeyRotated(agentId, oldKey, newKey, operator);

        // The modules keyed by address follow, in this transaction: the constitution (record, usage, caps; the old
        // key's actions refused from now on), then the votes (power, activity, delegation, delegated votes).
        _constitution.rotate(oldKey, newKey);
        IAgentVotes votes_ = _votes;
        if (address(votes_) != address(0)) votes_.onAgentRotated(oldKey, newKey);
    }

    /// @inheritdoc IAgentRegistry
    function setEncryptionKey(uint256 agentId, bytes32 key) external whenNotStopped {
        _agentOrOperator(agentId);
        if (key == bytes32(0)) revert AgentRegistryZeroEncryptionKey(agentId);
        _encryptionKeys[agentId] = key;
        emit EncryptionKeySet(agentId, key, msg.sender);
    }

    /// @inheritdoc IAgentRegistry
    function declareDailyVolume(uint256 expectedDailyVolume) external whenNotStopped {
        uint256 gasStart = gasleft();
        (uint256 agentId, Agent storage a) = _callerAgent();
        _requireStatus(agentId, a, AgentStatus.Active);
        // The constitution bounds the volume first (a clear error, and no overflow in the bond below).
        _constitution.setDeclaredVolume(msg.sender, expectedDailyVolume);
        bool raising = expectedDailyVolume > a.expectedDailyVolume;
        a.expectedDailyVolume = expectedDailyVolume;
        uint256 required = _requiredStake(a);
        // Lowering is always allowed (it frees bond, e.g. after a slash); raising needs the bond staked.
        if (raising && a.stake < required) revert AgentRegistryStakeBelowRequired(agentId, a.stake, required);
        emit DailyVolumeDeclared(agentId, expectedDailyVolume);
        _constitution.setBondedVolume(msg.sender, _bondedVolume(a));
        _enforce(msg.sender, ActionTypes.UPDATE_PROFILE, 0, gasStart);
    }

    // ---------------------------------------------------------------- stake

    /// @inheritdoc IAgentRegistry
    function stake(uint256 amount) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        if (amount == 0) revert AgentRegistryZeroAmount();
        (uint256 agentId, Agent storage a) = _callerAgent();
        _requireStatus(agentId, a, AgentStatus.Active);
        // Staking is charged as value 0 (below), and stake leaves to the operator: without this, an agent denied
        // TRANSFER could still move its tokens out by staking, unstaking and withdrawing.
        (, , IHumanOverride.Decision transfer) = _humanOverride.gate(msg.sender, ActionTypes.TRANSFER);
        if (transfer == IHumanOverride.Decision.Denied) revert AgentRegistryTransferDenied(agentId);
        uint256 newStake = a.stake + amount;
        _constitution.checkStake(msg.sender, newStake);

        a.stake = newStake;
        _totalStaked += amount;
        emit Staked(agentId, amount, newStake);
        _syncStake(a);

        _token.safeTransferFrom(msg.sender, address(this), amount);
        // Value 0: locking funds in the protocol is not trading volume; maxStake bounds it (checkStake above).
        _enforce(msg.sender, ActionTypes.STAKE, 0, gasStart);
    }

    /// @inheritdoc IAgentRegistry
    function requestUnstake(uint256 agentId, uint256 amount) external whenNotStopped nonReentrant {
        Agent storage a = _agentOrOperator(agentId);
        if (amount == 0) revert AgentRegistryZeroAmount();
        AgentStatus status = _status(a);
        if (status == AgentStatus.Exiting) revert AgentRegistryNotActive(agentId, status);
        uint256 current = a.stake;
        if (amount > current) revert AgentRegistryInsufficientStake(agentId, amount, current);
        if (amount == current) {
            a.status = AgentStatus.Exiting; // a full unstake is the exit
        } else {
            // A frozen agent may only leave, not trim its stake while staying.
            if (status == AgentStatus.Frozen) revert AgentRegistryFrozenPartialExit(agentId, amount, current);
            uint256 required = _requiredStake(a);
            if (current - amount < required) {
                revert AgentRegistryStakeBelowRequired(agentId, current - amount, required);
            }
        }

        // Matured pending stake leaves first, so a new request cannot hold it back behind a fresh delay; not while
        // an obligation is open (it stays slashable, see {withdraw}).
        uint256 matured = block.timestamp >= a.withdrawableAt && a.openObligations == 0 ? a.pendingWithdrawal : 0;
        if (matured != 0) {
            a.pendingWithdrawal = 0;
            _totalPending -= matured;
            emit Withdrawn(agentId, a.operator, matured);
        } else if (a.pendingWithdrawal != 0 && msg.sender != a.operator) {
            // A new request restarts the delay of everything pending: only the operator, whose funds they are,
            // may do that, so the agent key cannot hold them back with endless small requests.
            revert AgentRegistryUnbondingInProgress(agentId, a.withdrawableAt);
        }

        a.stake = current - amount;
        a.pendingWithdrawal += amount;
        uint64 withdrawableAt = uint64(block.timestamp + _unbondingDelay);
        a.withdrawableAt = withdrawableAt;
        _totalStaked -= amount;
        _totalPending += amount;
        emit UnstakeRequested(agentId, amount, a.pendingWithdrawal, withdrawableAt);
        _syncStake(a);

        if (matured != 0) _token.safeTransfer(a.operator, matured);
    }

    /// @inheritdoc IAgentRegistry
    function withdraw(uint256 agentId) external whenNotStopped nonReentrant {
        Agent storage a = _agentOrOperator(agentId);
        uint256 amount = a.pendingWithdrawal;
        if (amount == 0) revert AgentRegistryNothingToWithdraw(agentId);
        if (block.timestamp < a.withdrawableAt) revert AgentRegistryStillUnbonding(agentId, a.withdrawableAt);
        // An open obligation may still end in a penalty: its collateral stays until it ends.
        uint256 obligations = a.openObligations;
        if (obligations != 0) revert AgentRegistryObligationsOpen(agentId, obligations);

        // Effects before the transfer: the pending amount is gone before any token code runs.
        a.pendingWithdrawal = 0;
        _totalPending -= amount;
        address operator = a.operator;
        emit Withdrawn(agentId, operator, amount);

        _token.safeTransfer(operator, amount);
    }

    // ---------------------------------------------------------------- obligations

    /// @inheritdoc IAgentRegistry
    function openObligation(uint256 agentId) external onlyRole(OBLIGATION_ROLE) {
        Agent storage a = _existing(agentId);
        uint32 count = a.openObligations + 1; // checked: 2^32 open obligations cannot happen, and would revert
        a.openObligations = count;
        emit ObligationOpened(agentId, msg.sender, count);
    }

    /// @inheritdoc IAgentRegistry
    function closeObligation(uint256 agentId) external onlyRole(OBLIGATION_ROLE) {
        Agent storage a = _existing(agentId);
        uint32 count = a.openObligations;
        if (count == 0) revert AgentRegistryNoOpenObligation(agentId);
        a.openObligations = count - 1;
        emit ObligationClosed(agentId, msg.sender, count - 1);
    }

    // ---------------------------------------------------------------- slashing and reputation

    /// @inheritdoc IAgentRegistry
    function slash(
        uint256 agentId,
        uint256 amount,
        string calldata reason
    ) external onlyRole(SLASHER_ROLE) whenNotStopped nonReentrant {
        Agent storage a = _existing(agentId);
        if (amount == 0) revert AgentRegistryZeroAmount();
        uint256 staked = a.stake;
        uint256 pending = a.pendingWithdrawal;
        uint256 maxSlash = Slashing.maxSlash(staked, pending, MAX_SLASH_BPS);
        if (amount > maxSlash) revert AgentRegistrySlashTooLarge(agentId, amount, maxSlash);

        (uint256 fromStake, uint256 fromPending) = Slashing.split(amount, staked);
        a.stake = staked - fromStake;
        a.pendingWithdrawal = pending - fromPending;
        _totalStaked -= fromStake;
        _totalPending -= fromPending;
        address treasury_ = _treasury;
        emit Slashed(agentId, msg.sender, fromStake, fromPending, treasury_, reason);
        if (fromStake != 0) _syncStake(a);

        _token.safeTransfer(treasury_, amount);
    }

    /// @inheritdoc IAgentRegistry
    function updateReputation(
        uint256 agentId,
        int256 delta,
        string calldata reason
    ) external onlyRole(REPUTATION_ROLE) whenNotStopped {
        Agent storage a = _existing(agentId);
        uint16 oldScore = a.reputation;
        // Clamp the delta to one full scale first, so the sum cannot overflow for any int256.
        int256 maxDelta = int256(uint256(MAX_REPUTATION));
        int256 step = delta > maxDelta ? maxDelta : (delta < -maxDelta ? -maxDelta : delta);
        int256 next = int256(uint256(oldScore)) + step;
        uint16 newScore = next <= 0 ? 0 : (next >= maxDelta ? MAX_REPUTATION : uint16(uint256(next)));
        a.reputation = newScore;
        emit ReputationUpdated(agentId, msg.sender, oldScore, newScore, reason);
        if (newScore != oldScore) _syncVotes(a);
    }

    /// @inheritdoc IAgentRegistry
    function syncBonds(uint256[] calldata agentIds) external whenNotStopped {
        for (uint256 i = 0; i < agentIds.length; ++i) {
            Agent storage a = _existing(agentIds[i]);
            _constitution.setBondedVolume(a.agent, _bondedVolume(a));
        }
    }

    /// @inheritdoc IAgentRegistry
    function sweepExcess() external whenNotStopped nonReentrant returns (uint256 amount) {
        amount = _token.balanceOf(address(this)) - _totalStaked - _totalPending;
        if (amount == 0) revert AgentRegistryZeroAmount();
        address treasury_ = _treasury;
        emit ExcessSwept(treasury_, amount);
        _token.safeTransfer(treasury_, amount);
    }

    // ---------------------------------------------------------------- parameters

    /// @inheritdoc IAgentRegistry
    function setMinStake(uint256 minStake_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinStake(minStake_);
    }

    /// @inheritdoc IAgentRegistry
    function setBondBps(uint256 bondBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setBondBps(bondBps_);
    }

    /// @inheritdoc IAgentRegistry
    function setUnbondingDelay(uint256 unbondingDelay_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setUnbondingDelay(unbondingDelay_);
    }

    /// @inheritdoc IAgentRegistry
    function setVotes(IAgentVotes votes_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(votes_) != address(0) && address(votes_.registry()) != address(this)) {
            revert AgentRegistryInvalidParameter("votes", uint256(uint160(address(votes_))));
        }
        _votes = votes_;
        emit VotesSet(address(votes_));
    }

    /// @inheritdoc IAgentRegistry
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAgentRegistry
    function getAgentId(address agent) external view returns (uint256 agentId) {
        agentId = _agentIds[agent];
        if (agentId == 0) revert AgentRegistryNotRegistered(agent);
    }

    /// @inheritdoc IAgentRegistry
    function encryptionKeyOf(uint256 agentId) external view returns (bytes32) {
        _existing(agentId);
        return _encryptionKeys[agentId];
    }

    /// @inheritdoc IAgentRegistry
    function getCapabilities(uint256 agentId) external view returns (bytes32[] memory) {
        return _existing(agentId).capabilities;
    }

    /// @inheritdoc IAgentRegistry
    function getVersion(uint256 agentId) external view returns (string memory) {
        return _existing(agentId).version;
    }

    /// @inheritdoc IAgentRegistry
    function getAgent(uint256 agentId) external view returns (AgentView memory) {
        Agent storage a = _existing(agentId);
        return
            AgentView({
                agentId: agentId,
                agent: a.agent,
                operator: a.operator,
                agentType: a.agentType,
                status: _status(a),
                registeredAt: a.registeredAt,
                reputation: a.reputation,
                stake: a.stake,
                requiredStake: _requiredStake(a),
                pendingWithdrawal: a.pendingWithdrawal,
                withdrawableAt: a.withdrawableAt,
                expectedDailyVolume: a.expectedDailyVolume,
                metadataURI: a.metadataURI,
                endpoint: a.endpoint,
                version: a.version,
                capabilities: a.capabilities
            });
    }

    /// @inheritdoc IAgentRegistry
    function bondedVolume(uint256 agentId) external view returns (uint256) {
        return _bondedVolume(_existing(agentId));
    }

    /// @inheritdoc IAgentRegistry
    function agentIdOf(address agent) external view returns (uint256) {
        return _agentIds[agent];
    }

    /// @inheritdoc IAgentRegistry
    function retiredAgentIdOf(address key) external view returns (uint256) {
        return _retiredKeys[key];
    }

    /// @inheritdoc IAgentRegistry
    function summaryOf(uint256 agentId) external view returns (AgentSummary memory) {
        Agent storage a = _existing(agentId);
        AgentStatus status = _status(a);
        uint256 staked = a.stake;
        return
            AgentSummary({
                agent: a.agent,
                operator: a.operator,
                agentType: a.agentType,
                status: status,
                active: status == AgentStatus.Active && _bonded(a, staked),
                reputation: a.reputation,
                stake: staked,
                maxSlash: Slashing.maxSlash(staked, a.pendingWithdrawal, MAX_SLASH_BPS)
            });
    }

    /// @inheritdoc IAgentRegistry
    function agentAddress(uint256 agentId) external view returns (address) {
        return _existing(agentId).agent;
    }

    /// @inheritdoc IAgentRegistry
    function statusOf(uint256 agentId) external view returns (AgentStatus) {
        return _status(_existing(agentId));
    }

    /// @inheritdoc IAgentRegistry
    function isActive(uint256 agentId) external view returns (bool) {
        Agent storage a = _agents[agentId];
        return a.status != AgentStatus.None && _status(a) == AgentStatus.Active && _bonded(a, a.stake);
    }

    /// @inheritdoc IAgentRegistry
    function stakeOf(uint256 agentId) external view returns (uint256) {
        return _existing(agentId).stake;
    }

    /// @inheritdoc IAgentRegistry
    function requiredStake(uint256 agentId) external view returns (uint256) {
        return _requiredStake(_existing(agentId));
    }

    /// @inheritdoc IAgentRegistry
    function openObligations(uint256 agentId) external view returns (uint256) {
        return _existing(agentId).openObligations;
    }

    /// @inheritdoc IAgentRegistry
    function reputationOf(uint256 agentId) external view returns (uint16) {
        return _existing(agentId).reputation;
    }

    /// @inheritdoc IAgentRegistry
    function agentCount() external view returns (uint256) {
        return _agentCount;
    }

    /// @inheritdoc IAgentRegistry
    function totalStaked() external view returns (uint256) {
        return _totalStaked;
    }

    /// @inheritdoc IAgentRegistry
    function totalPending() external view returns (uint256) {
        return _totalPending;
    }

    /// @inheritdoc IAgentRegistry
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IAgentRegistry
    function bondBps() external view returns (uint256) {
        return _bondBps;
    }

    /// @inheritdoc IAgentRegistry
    function unbondingDelay() external view returns (uint256) {
        return _unbondingDelay;
    }

    /// @inheritdoc IAgentRegistry
    function votes() external view returns (IAgentVotes) {
        return _votes;
    }

    /// @inheritdoc IAgentRegistry
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice The staking token.
    function token() external view returns (IERC20) {
        return _token;
    }

    // ---------------------------------------------------------------- internal

    function _existing(uint256 agentId) private view returns (Agent storage a) {
        a = _agents[agentId];
        if (a.status == AgentStatus.None) revert AgentRegistryUnknownAgent(agentId);
    }

    function _callerAgent() private view returns (uint256 agentId, Agent storage a) {
        agentId = _agentIds[msg.sender];
        if (agentId == 0) revert AgentRegistryNotRegistered(msg.sender);
        a = _agents[agentId];
    }

    /// @dev A key that may become an agent's: not an agent now, and never one before (a retired key stays dead).
    function _requireFreshKey(address key) private view {
        uint256 existing = _agentIds[key];
        if (existing != 0) revert AgentRegistryAlreadyRegistered(key, existing);
        uint256 retired = _retiredKeys[key];
        if (retired != 0) revert AgentRegistryKeyRetired(key, retired);
    }

    function _agentOrOperator(uint256 agentId) private view returns (Agent storage a) {
        a = _existing(agentId);
        if (msg.sender != a.agent && msg.sender != a.operator)
            revert AgentRegistryNotAgentOrOperator(agentId, msg.sender);
    }

    /// @dev Frozen is read from the HumanOverride (its single source); Exiting wins over Frozen.
    function _status(Agent storage a) private view returns (AgentStatus) {
        AgentStatus stored = a.status;
        if (stored == AgentStatus.Active && _humanOverride.isFrozen(a.agent)) return AgentStatus.Frozen;
        return stored;
    }

    function _requireStatus(uint256 agentId, Agent storage a, AgentStatus wanted) private view {
        AgentStatus status = _status(a);
        if (status != wanted) revert AgentRegistryNotActive(agentId, status);
    }

    /// @dev After a change of stake (or the exit): the constitution caps the agent's daily volume at what the stake
    /// backs now, and the AgentVotes recounts its power.
    function _syncStake(Agent storage a) private {
        _constitution.setBondedVolume(a.agent, _bondedVolume(a));
        _syncVotes(a);
    }

    /// @dev The daily volume the agent's stake backs. The full bond backs all it declared (tested first: rounding
    /// in the proportional formula below would otherwise shave a fully bonded agent's limit); a partial one backs
    /// what it covers beyond minStake at bondBps; no stake, or less than minStake, backs nothing. An exiting agent
    /// has no protocol role left to back (modules refuse it, its pending stake stays slashable for its open
    /// obligations): only its operator's limit remains, so what it holds is not trapped at its address.
    function _bondedVolume(Agent storage a) private view returns (uint256) {
        uint256 declared = a.expectedDailyVolume;
        if (a.status == AgentStatus.Exiting) return declared;
        uint256 staked = a.stake;
        if (_bonded(a, staked)) return declared;
        uint256 minStake_ = _minStake;
        if (staked == 0 || staked < minStake_) return 0;
        uint256 bondBps_ = _bondBps;
        // bondBps 0 with stake under the required stake cannot happen (then required = minStake <= staked).
        uint256 backed = ((staked - minStake_) * 10_000) / bondBps_;
        return backed < declared ? backed : declared;
    }

    /// @dev Tells the AgentVotes (if any) the agent's new stake, reputation and exit. Not guarded by try/catch on
    /// purpose: a power update that could be made to fail (e.g. by the caller's gas limit) would let an unstaking
    /// agent keep its votes.
    function _syncVotes(Agent storage a) private {
        IAgentVotes votes_ = _votes;
        if (address(votes_) != address(0)) {
            votes_.onAgentChanged(a.agent, a.stake, a.reputation, a.status == AgentStatus.Exiting);
        }
    }

    /// @dev Staked at least its required stake, and something: with minStake 0 and nothing declared, an agent
    /// without stake has nothing to slash, so it is not active (nor a delegate).
    function _bonded(Agent storage a, uint256 staked) private view returns (bool) {
        return staked != 0 && staked >= _requiredStake(a);
    }

    function _requiredStake(Agent storage a) private view returns (uint256) {
        return _minStake + (a.expectedDailyVolume * _bondBps) / 10_000;
    }

    function _checkProfile(
        string calldata metadataURI,
        string calldata endpoint,
        string calldata version,
        bytes32[] calldata capabilities
    ) private pure {
        if (bytes(metadataURI).length > MAX_STRING_LENGTH) {
            revert AgentRegistryStringTooLong("metadataURI", bytes(metadataURI).length, MAX_STRING_LENGTH);
        }
        if (bytes(endpoint).length > MAX_STRING_LENGTH) {
            revert AgentRegistryStringTooLong("endpoint", bytes(endpoint).length, MAX_STRING_LENGTH);
        }
        if (bytes(version).length > MAX_STRING_LENGTH) {
            revert AgentRegistryStringTooLong("version", bytes(version).length, MAX_STRING_LENGTH);
        }
        if (capabilities.length > MAX_CAPABILITIES) {
            revert AgentRegistryTooManyCapabilities(capabilities.length, MAX_CAPABILITIES);
        }
    }

    function _setMinStake(uint256 minStake_) private {
        _minStake = minStake_;
        emit MinStakeSet(minStake_);
    }

    function _setBondBps(uint256 bondBps_) private {
        if (bondBps_ > MAX_BOND_BPS) revert AgentRegistryInvalidParameter("bondBps", bondBps_);
        _bondBps = bondBps_;
        emit BondBpsSet(bondBps_);
    }

    function _setUnbondingDelay(uint256 unbondingDelay_) private {
        if (unbondingDelay_ < MIN_UNBONDING_DELAY || unbondingDelay_ > MAX_UNBONDING_DELAY) {
            revert AgentRegistryInvalidParameter("unbondingDelay", unbondingDelay_);
        }
        _unbondingDelay = unbondingDelay_;
        emit UnbondingDelaySet(unbondingDelay_);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert AgentRegistryZeroAddress();
        if (treasury_ == address(this)) revert AgentRegistryInvalidParameter("treasury", uint160(treasury_));
        _treasury = treasury_;
        emit TreasurySet(treasury_);
    }
}
