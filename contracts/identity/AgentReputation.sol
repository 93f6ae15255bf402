// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IERC8004Reputation} from "../interfaces/IERC8004.sol";

/// @title AgentReputation
/// @notice AITBC's reputation as an ERC-8004 reputation registry, read-only: the standard's read calls
/// (IERC8004Reputation) answered from the AgentRegistry's reputation score.
/// @dev In AITBC reputation is earned, not given: only protocol outcomes move it (settled work, failed
/// assignments, lost disputes, slashes, by the modules that hold REPUTATION_ROLE). Free-form feedback from any
/// address is what ERC-8004 leaves readers to filter by naming the clients they trust; AITBC has one source worth
/// trusting, the protocol itself. So the registry answers as if the AgentRegistry were the only client that ever
/// gave feedback, once per agent and always current: feedback 1 of client `registry` is the agent's reputation
/// (0 to 1000) with one decimal, i.e. 0.0 to 100.0, tagged "aitbc" / "reputation". The write calls revert.
contract AgentReputation is IERC8004Reputation {
    string public constant VERSION = "2.0.0";
    string public constant TAG1 = "aitbc";
    string public constant TAG2 = "reputation";
    uint8 public constant VALUE_DECIMALS = 1;

    IAgentRegistry public immutable registry;
    address private immutable _identity;

    /// @notice A constructor argument is the zero address.
    error AgentReputationZeroAddress();
    /// @notice Reputation moves only by protocol outcomes: feedback, revocations and responses are not taken.
    error AgentReputationEarnedOnly();
    /// @notice A summary needs the clients whose feedback it counts (as in ERC-8004's reference).
    error AgentReputationClientsRequired();
    /// @notice There is no feedback `feedbackIndex` from `clientAddress` for the agent.
    error AgentReputationNoFeedback(uint256 agentId, address clientAddress, uint64 feedbackIndex);

    constructor(IAgentRegistry registry_, address identity_) {
        if (address(registry_) == address(0) || identity_ == address(0)) revert AgentReputationZeroAddress();
        registry = registry_;
        _identity = identity_;
    }

    /// @inheritdoc IERC8004Reputation
    function getIdentityRegistry() external view returns (address) {
        return _identity;
    }

    /// @inheritdoc IERC8004Reputation
    function giveFeedback(
        uint256,
        int128,
        uint8,
        string calldata,
        string calldata,
        string calldata,
        string calldata,
        bytes32
    ) external pure {
        revert AgentReputationEarnedOnly();
    }

    /// @inheritdoc IERC8004Reputation
    function revokeFeedback(uint256, uint64) external pure {
        revert AgentReputationEarnedOnly();
    }

    /// @inheritdoc IERC8004Reputation
    function appendResponse(uint256, address, uint64, string calldata, bytes32) external pure {
        revert AgentReputationEarnedOnly();
    }

    /// @inheritdoc IERC8004Reputation
    function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64) {
        registry.statusOf(agentId); // reverts for an unknown agent
        return clientAddress == address(registry) ? 1 : 0;
    }

    /// @inheritdoc IERC8004Reputation
    function readFeedback(
        uint256 agentId,
        address clientAddress,
        uint64 feedbackIndex
    )
        external
        view
        returns (int128 value, uint8 valueDecimals, string memory tag1, string memory tag2, bool isRevoked)
    {
        if (clientAddress != address(registry) || feedbackIndex != 1) {
            revert AgentReputationNoFeedback(agentId, clientAddress, feedbackIndex);
        }
        return (int128(uint128(registry.reputationOf(agentId))), VALUE_DECIMALS, TAG1, TAG2, false);
    }

    /// @inheritdoc IERC8004Reputation
    /// @dev Counts the protocol's feedback once per time `registry` is named, when the tags match (an empty tag
    /// matches any); the average of equal values is that value.
    function getSummary(
        uint256 agentId,
        address[] calldata clientAddresses,
        string calldata tag1,
        string calldata tag2
    ) external view returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals) {
        if (clientAddresses.length == 0) revert AgentReputationClientsRequired();
        uint16 reputation = registry.reputationOf(agentId); // reverts for an unknown agent
        if (!_matches(tag1, TAG1) || !_matches(tag2, TAG2)) return (0, 0, 0);
        for (uint256 i; i < clientAddresses.length; ++i) {
            if (clientAddresses[i] == address(registry)) ++count;
        }
        if (count == 0) return (0, 0, 0);
        return (count, int128(uint128(reputation)), VALUE_DECIMALS);
    }

    /// @inheritdoc IERC8004Reputation
    function getClients(uint256 agentId) external view returns (address[] memory clients) {
        registry.statusOf(agentId); // reverts for an unknown agent
        clients = new address[](1);
        clients[0] = address(registry);
    }

    /// @inheritdoc IERC8004Reputation
    function getVersion() external pure returns (string memory) {
        return VERSION;
    }

    function _matches(string calldata wanted, string memory tag) private pure returns (bool) {
        return bytes(wanted).length == 0 || keccak256(bytes(wanted)) == keccak256(bytes(tag));
    }
}
