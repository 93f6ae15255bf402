// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentVotes} from "./IAgentVotes.sol";

/// @title IAgentRegistry
/// @notice Agent identity, stake, slashing and reputation. An agent is an address (the key its runtime signs
/// with) registered with a human operator; its stake is AIToken, its standing is its reputation.
interface IAgentRegistry {
    /// @notice Seed 000's agent families.
    enum AgentType {
        ServiceProvider,
        MarketMaker,
        Governance,
        Validator
    }

    /// @notice Active: may act. Frozen: a guardian froze it (safe mode), it may only exit. Exiting: its whole
    /// stake is unbonding; it may only withdraw.
    enum AgentStatus {
        None,
        Active,
        Frozen,
        Exiting
    }

    /// @notice What an agent declares when it registers.
    struct Registration {
        address operator;
        AgentType agentType;
        string metadataURI;
        string endpoint;
        string version;
        bytes32[] capabilities;
        uint256 expectedDailyVolume;
    }

    /// @notice An agent as the registry sees it (see {getAgent}).
    struct AgentView {
        uint256 agentId;
        address agent;
        address operator;
        AgentType agentType;
        AgentStatus status;
        uint64 registeredAt;
        uint16 reputation;
        uint256 stake;
        uint256 requiredStake;
        uint256 pendingWithdrawal;
        uint64 withdrawableAt;
        uint256 expectedDailyVolume;
        string metadataURI;
        string endpoint;
        string version;
        bytes32[] capabilities;
    }

    /// @notice What other modules read about an agent in one call (see {summaryOf}).
    struct AgentSummary {
        address agent;
        address operator;
        AgentType agentType;
        AgentStatus status;
        bool active;
        uint16 reputation;
        uint256 stake;
        uint256 maxSlash;
    }

    /// @notice A constructor argument, an operator or the treasury is the zero address.
    error AgentRegistryZeroAddress();

    /// @notice An amount to stake, unstake or slash is zero, or there is no excess to sweep.
    error AgentRegistryZeroAmount();

    /// @notice `agent` is registered already, as agent `agentId`.
    error AgentRegistryAlreadyRegistered(address agent, uint256 agentId);

    /// @notice `agent` is not a registered agent.
    error AgentRegistryNotRegistered(address agent);

    /// @notice No agent has id `agentId`.
    error AgentRegistryUnknownAgent(uint256 agentId);

    /// @notice Only the agent or its operator may do this (unstake, withdraw).
    error AgentRegistryNotAgentOrOperator(uint256 agentId, address caller);

    /// @notice The agent is not in the status this call needs: Active (frozen or exiting agents may not update, stake
    /// or declare), or anything but Exiting for an unstake request.
    /// @param status Its current status.
    error AgentRegistryNotActive(uint256 agentId, AgentStatus status);

    /// @notice A frozen agent may only unstake everything (leave), not `amount` of its `stake`.
    error AgentRegistryFrozenPartialExit(uint256 agentId, uint256 amount, uint256 stake);

    /// @notice The unstake request is for more than the agent's active `stake`.
    error AgentRegistryInsufficientStake(uint256 agentId, uint256 requested, uint256 stake);

    /// @notice The agent's stake would be `remaining`, below its required stake (minimum stake plus security bond).
    error AgentRegistryStakeBelowRequired(uint256 agentId, uint256 remaining, uint256 required);

    /// @notice The agent has no pending withdrawal.
    error AgentRegistryNothingToWithdraw(uint256 agentId);

    /// @notice The pending withdrawal unbonds until `withdrawableAt`.
    error AgentRegistryStillUnbonding(uint256 agentId, uint64 withdrawableAt);

    /// @notice One slash may take at most `maxSlash`: {MAX_SLASH_BPS} of the agent's stake plus pending withdrawals.
    error AgentRegistrySlashTooLarge(uint256 agentId, uint256 amount, uint256 maxSlash);

    /// @notice A guardian denied the agent TRANSFER: it may not stake either (stake leaves to the operator, so
    /// staking, unstaking and withdrawing would move its tokens around the denial).
    error AgentRegistryTransferDenied(uint256 agentId);

    /// @notice Stake of the agent unbonds until `withdrawableAt` (or is held by an open obligation): a new request
    /// would restart its delay, which only the operator may do.
    error AgentRegistryUnbondingInProgress(uint256 agentId, uint64 withdrawableAt);

    /// @notice The agent has `count` open obligations (awarded workloads, claimed workflow executions): its stake
    /// cannot leave until they end, since each may still end in a slash.
    error AgentRegistryObligationsOpen(uint256 agentId, uint256 count);

    /// @notice A module closed an obligation of an agent that has none open.
    error AgentRegistryNoOpenObligation(uint256 agentId);

    /// @notice A profile lists `count` capabilities, more than `max`.
    error AgentRegistryTooManyCapabilities(uint256 count, uint256 max);

    /// @notice A profile string is `length` bytes, more than `max`.
    /// @param field Its name: metadataURI, endpoint or version.
    error AgentRegistryStringTooLong(string field, uint256 length, uint256 max);

    /// @notice A registry parameter is out of bounds.
    /// @param name bondBps, unbondingDelay, treasury (this registry) or votes (an AgentVotes of another registry).
    error AgentRegistryInvalidParameter(string name, uint256 value);

    /// @notice An agent may not be its own operator: the operator is the human custodian apart from it.
    error AgentRegistryOperatorIsAgent(address agent);

    /// @notice A frozen address may not register as an agent.
    error AgentRegistryCallerFrozen(address agent);

    /// @notice A frozen address may not be an agent's operator.
    error AgentRegistryOperatorFrozen(address operator);

    /// @notice An encryption key of zero publishes nothing (an X25519 public key is never all zeros).
    error AgentRegistryZeroEncryptionKey(uint256 agentId);

    /// @notice Only agent `agentId`'s operator may rotate its key; `caller` is not.
    error AgentRegistryNotOperator(uint256 agentId, address caller);

    /// @notice `key` was agent `agentId`'s key and was rotated away: a retired key can never be an agent again.
    error AgentRegistryKeyRetired(address key, uint256 agentId);

    /// @notice A guardian denies agent `agentId` action type `actionType`: its key may not rotate away from the
    /// denial (a new key would start without it). The guardian lifts it first.
    error AgentRegistryRotationDenied(uint256 agentId, uint8 actionType);

    /// @notice `agent` registered as agent `agentId` with `operator` as its human custodian.
    /// @param expectedDailyVolume The daily volume it declared; its security bond is a share of it.
    event AgentRegistered(
        uint256 indexed agentId,
        address indexed agent,
        address indexed operator,
        AgentType agentType,
        uint256 expectedDailyVolume
    );

    /// @notice Operator `operator` moved agent `agentId` from key `oldKey` to `newKey`: the id, stake, reputation,
    /// obligations, constitution, votes and encryption key are the new key's; `oldKey` is retired for good.
    event AgentKeyRotated(uint256 indexed agentId, address indexed oldKey, address indexed newKey, address operator);

    /// @notice Agent `agentId`'s encryption key is now `key` (set by `by`, the agent or its operator).
    event EncryptionKeySet(uint256 indexed agentId, bytes32 key, address indexed by);

    /// @notice The agent updated its profile.
    event ProfileUpdated(
        uint256 indexed agentId,
        string metadataURI,
        string endpoint,
        string version,
        bytes32[] capabilities
    );

    /// @notice The agent declared a new expected daily volume; its required stake follows it.
    event DailyVolumeDeclared(uint256 indexed agentId, uint256 expectedDailyVolume);

    /// @notice The agent staked `amount` more; its active stake is now `totalStake`.
    event Staked(uint256 indexed agentId, uint256 amount, uint256 totalStake);

    /// @notice `amount` left the agent's active stake for its pending withdrawal, now `pendingWithdrawal`, withdrawable
    /// from `withdrawableAt` (and slashable until withdrawn).
    event UnstakeRequested(uint256 indexed agentId, uint256 amount, uint256 pendingWithdrawal, uint64 withdrawableAt);

    /// @notice Pending stake `amount` was paid to the agent's operator `to`.
    event Withdrawn(uint256 indexed agentId, address indexed to, uint256 amount);

    /// @notice `slasher` slashed the agent: `fromStake` from its active stake, then `fromPending` from its pending
    /// withdrawal, both sent to `treasury`.
    event Slashed(
        uint256 indexed agentId,
        address indexed slasher,
        uint256 fromStake,
        uint256 fromPending,
        address treasury,
        string reason
    );

    /// @notice Module `by` gave the agent an obligation its stake backs; it has `openCount` open now.
    event ObligationOpened(uint256 indexed agentId, address indexed by, uint256 openCount);

    /// @notice Module `by` ended one of the agent's obligations; it has `openCount` open now.
    event ObligationClosed(uint256 indexed agentId, address indexed by, uint256 openCount);

    /// @notice `updater` moved the agent's reputation from `oldScore` to `newScore` (0 to {MAX_REPUTATION}).
    event ReputationUpdated(
        uint256 indexed agentId,
        address indexed updater,
        uint16 oldScore,
        uint16 newScore,
        string reason
    );

    /// @notice The admin set the minimum stake every agent needs to be active.
    event MinStakeSet(uint256 minStake);

    /// @notice The admin set the security bond: `bondBps` of an agent's declared daily volume, on top of the minimum
    /// stake.
    event BondBpsSet(uint256 bondBps);

    /// @notice The admin set the delay between an unstake request and the withdrawal.
    event UnbondingDelaySet(uint256 unbondingDelay);

    /// @notice The admin set the treasury that receives slashed stake.
    event TreasurySet(address treasury);

    /// @notice Tokens sent to the registry outside {stake}, `amount`, went to the treasury.
    event ExcessSwept(address indexed treasury, uint256 amount);

    /// @notice The admin set the AgentVotes told of every stake, reputation and exit change (zero: none).
    event VotesSet(address votes);

    /// @notice Registers `msg.sender` as an agent. It starts Active with zero stake; it counts as active for
    /// other modules ({isActive}) once its stake reaches {requiredStake}. The operator must be another address
    /// (the human custodian), and neither the caller nor the operator may be frozen.
    function register(Registration calldata registration) external returns (uint256 agentId);

    /// @notice Replaces the caller's profile (metadata URI, endpoint, version, capabilities).
    function updateProfile(
        string calldata metadataURI,
        string calldata endpoint,
        string calldata version,
        bytes32[] calldata capabilities
    ) external;

    /// @notice Moves agent `agentId` to a new key (its operator only, e.g. when the agent's key leaked or its
    /// keystore is replaced). Everything keyed by the agent id stays (stake, pending withdrawal, reputation,
    /// obligations, services, bids, claimed executions, encryption key); what other modules key by the agent's
    /// address moves in the same transaction: the constitution record with today's usage (AgentConstitution), the
    /// voting power, activity, delegation and the votes delegated to it (AgentVotes). Workflows credits left at the
    /// old key are moved by {IWorkflows-moveCredits}. The old key is retired: it is no agent any more, every module
    /// refuses it as one (its constitution refuses all its actions) and it can never register again. Refused while
    /// the agent is not Active (frozen: the freeze is keyed by address and would not follow) or a guardian denies it
    /// an action type (same reason); the new key must be a fresh address (not registered, never retired, not the
    /// operator, not frozen).
    function rotateKey(uint256 agentId, address newKey) external;

    /// @notice The agent id `key` belonged to before it was rotated away ({rotateKey}), or 0 if it never was.
    function retiredAgentIdOf(address key) external view returns (uint256);

    /// @notice Publishes agent `agentId`'s encryption key: the X25519 public key (32 bytes, RFC 7748) that clients
    /// and other agents seal payloads to with HPKE (RFC 9180; protocol/sealed.ts). Only the agent or its operator;
    /// a zero key reverts. Replacing the key makes what was sealed to the old one unreadable by the new one.
    function setEncryptionKey(uint256 agentId, bytes32 key) external;

    /// @notice Declares a new expected daily volume (the caller, an agent). Raising it needs its bond already
    /// staked; lowering it is always allowed. The constitution's daily volume limit never exceeds it.
    function declareDailyVolume(uint256 expectedDailyVolume) external;

    /// @notice Adds `amount` AIToken from the caller (an agent) to its stake. Needs an allowance. Bounded by the
    /// constitution's maxStake; staking locks funds in the protocol, so it does not count as daily volume. Refused
    /// while a guardian denies the agent TRANSFER (stake leaves to the operator).
    function stake(uint256 amount) external;

    /// @notice Moves `amount` of `agentId`'s stake into the unbonding queue (agent or operator). Unstaking the
    /// whole stake is an exit: the agent becomes Exiting. A partial unstake must leave {requiredStake}.
    /// Pending stake whose delay has already passed is paid to the operator first (unless an obligation is open,
    /// see {withdraw}), then the new amount starts a
    /// fresh delay (one queue entry per agent, so a new request never holds back matured stake). While stake that
    /// is not paid out is pending, only the operator may add to it (the agent key would restart its delay).
    function requestUnstake(uint256 agentId, uint256 amount) external;

    /// @notice Pays the unbonded stake of `agentId` to its operator once the unbonding delay has passed and the
    /// agent has no open obligation ({openObligations}); until then it stays slashable.
    function withdraw(uint256 agentId) external;

    /// @notice Opens an obligation of `agentId` (OBLIGATION_ROLE: the marketplace at an award, Workflows at a
    /// keeper's claim). While any is open, {withdraw} reverts and {requestUnstake} pays nothing out.
    function openObligation(uint256 agentId) external;

    /// @notice Ends an obligation {openObligation} opened (settlement, failure, timeout, dispute resolution,
    /// completion, expiry), after any slash it caused.
    function closeObligation(uint256 agentId) external;

    /// @notice Takes `amount` of `agentId`'s stake to the treasury (slasher modules only), at most
    /// {MAX_SLASH_BPS} of its stake plus pending withdrawal; active stake goes first.
    function slash(uint256 agentId, uint256 amount, string calldata reason) external;

    /// @notice Moves `agentId`'s reputation by `delta`, clamped to [0, {MAX_REPUTATION}] (reputation modules).
    function updateReputation(uint256 agentId, int256 delta, string calldata reason) external;

    /// @notice Sends tokens that reached the registry outside staking (direct transfers) to the treasury, so
    /// that the balance equals {totalStaked} + {totalPending} again. Anyone may call it.
    function sweepExcess() external returns (uint256 amount);

    /// @notice Reports to the constitution the daily volume each agent's stake backs ({bondedVolume}) under the
    /// current minStake and bondBps. Every change of an agent's stake does it already; after a parameter change
    /// this brings agents up to date at once (else it reaches each on its next change of stake). Anyone may call.
    function syncBonds(uint256[] calldata agentIds) external;

    function setMinStake(uint256 minStake) external;

    function setBondBps(uint256 bondBps) external;

    function setUnbondingDelay(uint256 unbondingDelay) external;

    function setTreasury(address treasury) external;

    /// @notice The AgentVotes told of every change of an agent's stake, reputation or exit (admin; zero: none).
    function setVotes(IAgentVotes votes) external;

    /// @notice Seed 000's IAITBCAgent view: the id of agent address `agent` (reverts if unregistered).
    function getAgentId(address agent) external view returns (uint256);

    /// @notice Agent `agentId`'s published encryption key (zero: none published yet); reverts for an unknown agent.
    function encryptionKeyOf(uint256 agentId) external view returns (bytes32);

    /// @notice Seed 000's IAITBCAgent view.
    function getCapabilities(uint256 agentId) external view returns (bytes32[] memory);

    /// @notice Seed 000's IAITBCAgent view.
    function getVersion(uint256 agentId) external view returns (string memory);

    function getAgent(uint256 agentId) external view returns (AgentView memory);

    /// @notice The daily volume the agent's stake backs, the cap of its constitution's volume limit: all it
    /// declared once its stake covers {requiredStake}; (stake - minStake) x 10,000 / bondBps below that; nothing
    /// with no stake or less than minStake. An exiting agent (no protocol role left to back) keeps all it declared,
    /// under its operator's own limit.
    function bondedVolume(uint256 agentId) external view returns (uint256);

    /// @notice The id of agent address `agent`, or 0 when it is not registered (never reverts).
    function agentIdOf(address agent) external view returns (uint256);

    /// @notice Address, operator, type, status, activity, reputation, stake and the largest slash allowed now.
    function summaryOf(uint256 agentId) external view returns (AgentSummary memory);

    function agentAddress(uint256 agentId) external view returns (address);

    function statusOf(uint256 agentId) external view returns (AgentStatus);

    /// @notice Registered, not frozen, not exiting, and staked at least {requiredStake} (and above zero, even when
    /// the requirement is zero).
    function isActive(uint256 agentId) external view returns (bool);

    function stakeOf(uint256 agentId) external view returns (uint256);

    /// @notice Minimum stake plus the security bond ({bondBps} of the declared expected daily volume).
    function requiredStake(uint256 agentId) external view returns (uint256);

    function reputationOf(uint256 agentId) external view returns (uint16);

    /// @notice How many obligations of `agentId` are open (see {openObligation}).
    function openObligations(uint256 agentId) external view returns (uint256);

    function agentCount() external view returns (uint256);

    /// @notice Sum of all active stakes.
    function totalStaked() external view returns (uint256);

    /// @notice Sum of all pending withdrawals.
    function totalPending() external view returns (uint256);

    function minStake() external view returns (uint256);

    function bondBps() external view returns (uint256);

    function unbondingDelay() external view returns (uint256);

    function treasury() external view returns (address);

    function votes() external view returns (IAgentVotes);
}
