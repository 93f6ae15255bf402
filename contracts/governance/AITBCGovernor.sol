// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorStorage} from "@openzeppelin/contracts/governance/extensions/GovernorStorage.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

import {AgentVotes} from "./AgentVotes.sol";
import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title AITBCGovernor
/// @notice Agents govern the protocol; humans keep a veto. OpenZeppelin's Governor with settings, simple counting
/// (for / against / abstain, each vote with an optional reason), stored proposals (queue, execute and veto by id),
/// quorum as a fraction of the total power at the snapshot, and a TimelockController that holds the protocol's
/// admin roles and runs what passes.
/// @dev Agents only (registered, not exiting): proposing and voting are GOVERN actions, charged to the agent's
/// constitution (a frozen agent, or one whose constitution does not allow GOVERN, is refused), and a vote with
/// weight counts towards the voter's activity bonus in AgentVotes, once per voting period. Nothing moves during an
/// emergency stop, except a veto. Any guardian of the HumanOverride may veto (cancel) a proposal that is not final,
/// queued ones included (the timelock operation is cancelled too), or any pending timelock operation. The governor
/// is the timelock's only proposer, canceller and executor, and the timelock cannot be replaced.
contract AITBCGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorStorage,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    SafetyGuarded
{
    /// @notice The HumanOverride role whose holders may veto.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    AgentVotes private immutable _agentVotes;
    IAgentRegistry private immutable _registry;
    /// @dev When each voter last earned activity: at most once per voting period.
    mapping(address voter => uint256 at) private _lastActivity;

    /// @notice Only a registered agent that is not exiting may propose or vote.
    error AITBCGovernorNotAgent(address account);

    /// @notice Only a guardian of the HumanOverride may veto.
    error AITBCGovernorNotGuardian(address caller);

    /// @notice The timelock is fixed at deployment ({updateTimelock} is disabled).
    error AITBCGovernorTimelockFixed();

    /// @notice `guardian` vetoed (cancelled) proposal `proposalId`, and its timelock operation if it was queued.
    event ProposalVetoed(uint256 indexed proposalId, address indexed guardian, string reason);

    /// @notice `guardian` cancelled the pending timelock operation `operationId`.
    event OperationVetoed(bytes32 indexed operationId, address indexed guardian, string reason);

    constructor(
        AgentVotes agentVotes_,
        TimelockController timelock_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 proposalThreshold_,
        uint256 quorumNumerator_
    )
        Governor("AITBC Governor")
        GovernorSettings(votingDelay_, votingPeriod_, proposalThreshold_)
        GovernorVotes(IVotes(address(agentVotes_)))
        GovernorVotesQuorumFraction(quorumNumerator_)
        GovernorTimelockControl(timelock_)
        SafetyGuarded(humanOverride_, constitution_)
    {
        _agentVotes = agentVotes_;
        _registry = agentVotes_.registry();
    }

    /// @notice A human guardian cancels proposal `proposalId` (any state but Canceled, Expired or Executed),
    /// with the timelock operation if it was queued. Works during an emergency stop.
    function veto(uint256 proposalId, string calldata reason) external {
        _requireGuardian();
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas, bytes32 descriptionHash) = (
            proposalDetails(proposalId)
        );
        _cancel(targets, values, calldatas, descriptionHash);
        emit ProposalVetoed(proposalId, msg.sender, reason);
    }

    /// @notice A human guardian cancels a pending timelock operation that did not come from this governor's
    /// proposals (e.g. one scheduled by a proposer a passed proposal added): the governor is the timelock's canceller.
    /// Only the governor executes, so no such operation can run before the guardians see it.
    function vetoOperation(bytes32 operationId, string calldata reason) external {
        _requireGuardian();
        TimelockController(payable(timelock())).cancel(operationId);
        emit OperationVetoed(operationId, msg.sender, reason);
    }

    /// @notice Disabled: the timelock whose operations guardians can veto is fixed at deployment.
    function updateTimelock(TimelockController) public pure override {
        revert AITBCGovernorTimelockFixed();
    }

    /// @notice Proposes as an agent (see {Governor-propose}); charged to its constitution as GOVERN.
    function propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description
    ) public override returns (uint256 proposalId) {
        uint256 gasStart = gasleft();
        _requireAgent(_msgSender());
        proposalId = super.propose(targets, values, calldatas, description);
        _enforce(_msgSender(), ActionTypes.GOVERN, 0, gasStart);
    }

    function agentVotes() external view returns (AgentVotes) {
        return _agentVotes;
    }

    // ---------------------------------------------------------------- hooks

    /// @dev Every vote (castVote, castVoteWithReason, by signature): an agent's, within its constitution. A vote
    /// with weight counts towards the voter's activity, at most once per voting period: activity measures taking
    /// part in governance over time, and a flood of proposals voted in one sitting earns one. A zero-weight vote
    /// (e.g. of an agent that delegated its power away) earns nothing.
    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal override returns (uint256 weight) {
        uint256 gasStart = gasleft();
        _requireAgent(account);
        weight = super._castVote(proposalId, account, support, reason, params);
        if (weight != 0) {
            uint256 last = _lastActivity[account];
            if (last == 0 || clock() >= last + votingPeriod()) {
                _lastActivity[account] = clock();
                _agentVotes.recordActivity(account);
            }
        }
        _enforce(account, ActionTypes.GOVERN, 0, gasStart);
    }

    function _requireGuardian() private view {
        if (!IAccessControl(address(_humanOverride)).hasRole(GUARDIAN_ROLE, msg.sender)) {
            revert AITBCGovernorNotGuardian(msg.sender);
        }
    }

    /// @dev A registered agent that is not exiting (an exiting agent has no power of its own, and must not vote
    /// with what others delegated to it).
    function _requireAgent(address account) private view {
        _requireNotStopped();
        uint256 agentId = _registry.agentIdOf(account);
        if (agentId == 0 || _registry.statusOf(agentId) == IAgentRegistry.AgentStatus.Exiting) {
            revert AITBCGovernorNotAgent(account);
        }
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        _requireNotStopped();
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        _requireNotStopped();
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    // ---------------------------------------------------------------- required overrides

    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    function proposalNeedsQueuing(
        uint256 proposalId
    ) public view override(Governor, GovernorTimelockControl) returns (bool) {
        return super.proposalNeedsQueuing(proposalId);
    }

    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(timepoint);
    }

    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override(Governor, GovernorStorage) returns (uint256) {
        return super._propose(targets, values, calldatas, description, proposer);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
