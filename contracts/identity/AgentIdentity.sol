// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IERC8004Identity} from "../interfaces/IERC8004.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title AgentIdentity
/// @notice AITBC's agents as an ERC-8004 identity registry: the calls and events of the standard's identity
/// registry (IERC8004Identity), answered from the AgentRegistry, so that ERC-8004 clients and indexers find AITBC
/// agents without a second identity to keep in step.
/// @dev What maps to what:
/// - agentId: the AgentRegistry's agent id. An identity exists exactly when the registry has the agent; there is
///   no identity without stake, so `register` here does not create one: a registered agent calls it to announce
///   itself to ERC-8004 indexers (the `Registered` event), once.
/// - owner (`ownerOf`): the agent's operator, the human custodian. `getApproved`: the agent's own key. Both are
///   "authorized or owner"; identities are not transferable (there are no transfer functions).
/// - agentURI (`tokenURI`): the registry's metadataURI, which the agent sets with AgentRegistry.updateProfile and
///   which points to its registration file (`/.well-known/agent-registration.json`). `setAgentURI` therefore
///   reverts and names the registry.
/// - agentWallet: the agent's key in the registry (reserved metadata key "agentWallet"). It changes only by the
///   registry's own paths, so `setAgentWallet` and `unsetAgentWallet` revert.
/// - other metadata: stored here, set by the agent (charged to its constitution as a profile update) or by its
///   operator, bounded in size.
contract AgentIdentity is IERC8004Identity, SafetyGuarded {
    /// @notice The ERC-8004 reference version whose interface this registry answers.
    string public constant VERSION = "2.0.0";
    uint256 public constant MAX_METADATA_KEY_LENGTH = 64;
    uint256 public constant MAX_METADATA_VALUE_LENGTH = 1_024;
    uint256 public constant MAX_METADATA_ENTRIES = 16;

    bytes32 private constant _AGENT_WALLET_KEY_HASH = keccak256("agentWallet");

    IAgentRegistry public immutable registry;

    mapping(uint256 agentId => mapping(string key => bytes value)) private _metadata;
    mapping(uint256 agentId => bool announced) private _announced;

    /// @notice A constructor argument is the zero address.
    error AgentIdentityZeroAddress();
    /// @notice `caller` is not a registered AITBC agent: register in the AgentRegistry (with stake) first.
    error AgentIdentityNotAnAgent(address caller);
    /// @notice The agent is not Active (frozen or exiting agents do not announce or change metadata).
    error AgentIdentityNotActive(uint256 agentId, IAgentRegistry.AgentStatus status);
    /// @notice The agent announced itself already.
    error AgentIdentityAlreadyRegistered(uint256 agentId);
    /// @notice The agentURI given is not the agent's metadataURI in the registry (`registryURI`): change it there.
    error AgentIdentityURIMismatch(uint256 agentId, string registryURI);
    /// @notice Only the agent or its operator may do this.
    error AgentIdentityNotAuthorized(uint256 agentId, address caller);
    /// @notice "agentWallet" is the agent's key in the registry: it cannot be set as metadata.
    error AgentIdentityReservedKey(string metadataKey);
    /// @notice A metadata key is empty or over MAX_METADATA_KEY_LENGTH bytes, a value over
    /// MAX_METADATA_VALUE_LENGTH bytes, or more than MAX_METADATA_ENTRIES entries at once.
    error AgentIdentityBadMetadata(string metadataKey);
    /// @notice The agentURI and the agentWallet are the registry's (AgentRegistry.updateProfile, the agent's key):
    /// this registry does not change them.
    error AgentIdentityManagedByRegistry(address agentRegistry);

    constructor(
        IAgentRegistry registry_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_
    ) SafetyGuarded(humanOverride_, constitution_) {
        if (
            address(registry_) == address(0) ||
            address(humanOverride_) == address(0) ||
            address(constitution_) == address(0)
        ) revert AgentIdentityZeroAddress();
        registry = registry_;
    }

    // ---------------------------------------------------------------- announcing

    /// @inheritdoc IERC8004Identity
    function register() external whenNotStopped returns (uint256 agentId) {
        uint256 gasStart = gasleft();
        agentId = _announce();
        _enforce(msg.sender, ActionTypes.UPDATE_PROFILE, 0, gasStart);
    }

    /// @inheritdoc IERC8004Identity
    /// @dev `agentURI` must be the agent's metadataURI in the registry (or empty).
    function register(string memory agentURI) external whenNotStopped returns (uint256 agentId) {
        uint256 gasStart = gasleft();
        agentId = _announce();
        _requireRegistryURI(agentId, agentURI);
        _enforce(msg.sender, ActionTypes.UPDATE_PROFILE, 0, gasStart);
    }

    /// @inheritdoc IERC8004Identity
    function register(
        string memory agentURI,
        MetadataEntry[] memory metadata
    ) external whenNotStopped returns (uint256 agentId) {
        uint256 gasStart = gasleft();
        agentId = _announce();
        _requireRegistryURI(agentId, agentURI);
        if (metadata.length > MAX_METADATA_ENTRIES) revert AgentIdentityBadMetadata("");
        for (uint256 i; i < metadata.length; ++i) {
            _setMetadata(agentId, metadata[i].metadataKey, metadata[i].metadataValue);
        }
        _enforce(msg.sender, ActionTypes.UPDATE_PROFILE, 0, gasStart);
    }

    // ---------------------------------------------------------------- metadata

    /// @inheritdoc IERC8004Identity
    function getMetadata(uint256 agentId, string memory metadataKey) external view returns (bytes memory) {
        if (keccak256(bytes(metadataKey)) == _AGENT_WALLET_KEY_HASH) {
            return abi.encodePacked(registry.agentAddress(agentId));
        }
        registry.statusOf(agentId); // reverts for an unknown agent
        return _metadata[agentId][metadataKey];
    }

    /// @inheritdoc IERC8004Identity
    function setMetadata(
        uint256 agentId,
        string memory metadataKey,
        bytes memory metadataValue
    ) external whenNotStopped {
        uint256 gasStart = gasleft();
        IAgentRegistry.AgentSummary memory a = registry.summaryOf(agentId);
        if (msg.sender != a.agent && msg.sender != a.operator) revert AgentIdentityNotAuthorized(agentId, msg.sender);
        if (a.status != IAgentRegistry.AgentStatus.Active) revert AgentIdentityNotActive(agentId, a.status);
        _setMetadata(agentId, metadataKey, metadataValue);
        if (msg.sender == a.agent) _enforce(msg.sender, ActionTypes.UPDATE_PROFILE, 0, gasStart);
    }

    /// @inheritdoc IERC8004Identity
    function setAgentURI(uint256, string calldata) external view {
        revert AgentIdentityManagedByRegistry(address(registry));
    }

    // ---------------------------------------------------------------- wallet

    /// @inheritdoc IERC8004Identity
    function getAgentWallet(uint256 agentId) external view returns (address) {
        return registry.agentAddress(agentId);
    }

    /// @inheritdoc IERC8004Identity
    function setAgentWallet(uint256, address, uint256, bytes calldata) external view {
        revert AgentIdentityManagedByRegistry(address(registry));
    }

    /// @inheritdoc IERC8004Identity
    function unsetAgentWallet(uint256) external view {
        revert AgentIdentityManagedByRegistry(address(registry));
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IERC8004Identity
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool) {
        IAgentRegistry.AgentSummary memory a = registry.summaryOf(agentId);
        return spender == a.operator || spender == a.agent;
    }

    /// @inheritdoc IERC8004Identity
    function ownerOf(uint256 agentId) external view returns (address) {
        return registry.summaryOf(agentId).operator;
    }

    /// @inheritdoc IERC8004Identity
    function getApproved(uint256 agentId) external view returns (address) {
        return registry.agentAddress(agentId);
    }

    /// @inheritdoc IERC8004Identity
    /// @dev No operator-wide approvals: each agent's own key is its only approved address.
    function isApprovedForAll(address, address) external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IERC8004Identity
    function tokenURI(uint256 agentId) external view returns (string memory) {
        return registry.getAgent(agentId).metadataURI;
    }

    /// @notice Whether the agent announced itself with {register}.
    function isRegistered(uint256 agentId) external view returns (bool) {
        return _announced[agentId];
    }

    /// @notice The collection's name, as ERC-721 metadata (the reference registry is an ERC-721).
    function name() external pure returns (string memory) {
        return "AITBC Agent Identity";
    }

    /// @notice The collection's symbol, as ERC-721 metadata.
    function symbol() external pure returns (string memory) {
        return "AGENT";
    }

    /// @inheritdoc IERC8004Identity
    function getVersion() external pure returns (string memory) {
        return VERSION;
    }

    // ---------------------------------------------------------------- internal

    function _announce() private returns (uint256 agentId) {
        agentId = registry.agentIdOf(msg.sender);
        if (agentId == 0) revert AgentIdentityNotAnAgent(msg.sender);
        IAgentRegistry.AgentSummary memory a = registry.summaryOf(agentId);
        if (a.status != IAgentRegistry.AgentStatus.Active) revert AgentIdentityNotActive(agentId, a.status);
        if (_announced[agentId]) revert AgentIdentityAlreadyRegistered(agentId);
        _announced[agentId] = true;
        emit Registered(agentId, registry.getAgent(agentId).metadataURI, a.operator);
        emit MetadataSet(agentId, "agentWallet", "agentWallet", abi.encodePacked(msg.sender));
    }

    function _requireRegistryURI(uint256 agentId, string memory agentURI) private view {
        if (bytes(agentURI).length == 0) return;
        string memory registryURI = registry.getAgent(agentId).metadataURI;
        if (keccak256(bytes(agentURI)) != keccak256(bytes(registryURI))) {
            revert AgentIdentityURIMismatch(agentId, registryURI);
        }
    }

    function _setMetadata(uint256 agentId, string memory metadataKey, bytes memory metadataValue) private {
        uint256 keyLength = bytes(metadataKey).length;
        if (keyLength == 0 || keyLength > MAX_METADATA_KEY_LENGTH || metadataValue.length > MAX_METADATA_VALUE_LENGTH) {
            revert AgentIdentityBadMetadata(metadataKey);
        }
        if (keccak256(bytes(metadataKey)) == _AGENT_WALLET_KEY_HASH) revert AgentIdentityReservedKey(metadataKey);
        _metadata[agentId][metadataKey] = metadataValue;
        emit MetadataSet(agentId, metadataKey, metadataKey, metadataValue);
    }
}
