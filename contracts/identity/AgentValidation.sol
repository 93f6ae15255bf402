// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IAgentValidation} from "../interfaces/IAgentValidation.sol";
import {IERC8004Validation} from "../interfaces/IERC8004.sol";
import {IServiceMarketplace} from "../interfaces/IServiceMarketplace.sol";

/// @dev The marketplace's constants this registry reads once (they are not part of IServiceMarketplace).
interface IMarketplaceConstants {
    function DISPUTE_TIMEOUT() external view returns (uint256);
    function VALIDATOR_ROLE() external view returns (bytes32);
}

/// @title AgentValidation
/// @notice AITBC's ERC-8004 validation registry (see IAgentValidation): the reference's calls and events, with
/// responses accepted only when the marketplace's state backs them (a dispute ruling, an inference proof the
/// InferenceVerifier checked).
/// @dev Its own contract, next to AgentIdentity and AgentReputation: it only reads the marketplace and the
/// registry, so neither changes for it. It moves no money and holds no role.
contract AgentValidation is IAgentValidation {
    /// @notice The ERC-8004 reference version whose interface this registry answers.
    string public constant VERSION = "2.0.0";
    string public constant DISPUTE_TAG = "aitbc.dispute";
    string public constant ZK_INFERENCE_TAG = "aitbc.zk-inference";
    uint8 public constant PASSED = 100;
    uint8 public constant FAILED = 0;

    IServiceMarketplace public immutable marketplace;
    IAgentRegistry public immutable registry;
    address private immutable _identity;
    uint256 private immutable _disputeTimeout;
    bytes32 private immutable _validatorRole;

    struct Validation {
        address validator;
        Subject subject;
        uint32 round;
        bool hasResponse;
        uint8 response;
        uint64 lastUpdate;
        uint256 agentId;
        uint256 workloadId;
        bytes32 responseHash;
        string tag;
    }

    mapping(bytes32 requestHash => Validation validation) private _validations;
    mapping(uint256 agentId => bytes32[] requestHashes) private _agentValidations;
    mapping(address validator => bytes32[] requestHashes) private _validatorRequests;

    constructor(IServiceMarketplace marketplace_, IAgentRegistry registry_, address identity_) {
        if (address(marketplace_) == address(0) || address(registry_) == address(0) || identity_ == address(0)) {
            revert AgentValidationZeroAddress();
        }
        marketplace = marketplace_;
        registry = registry_;
        _identity = identity_;
        _disputeTimeout = IMarketplaceConstants(address(marketplace_)).DISPUTE_TIMEOUT();
        _validatorRole = IMarketplaceConstants(address(marketplace_)).VALIDATOR_ROLE();
    }

    /// @inheritdoc IERC8004Validation
    function getIdentityRegistry() external view returns (address) {
        return _identity;
    }

    // ---------------------------------------------------------------- requests

    /// @inheritdoc IERC8004Validation
    /// @dev Refused: a request for any hash and any validator is one no response could be backed for.
    function validationRequest(address, uint256, string calldata, bytes32) external pure {
        revert AgentValidationUnbackedRequest();
    }

    /// @inheritdoc IAgentValidation
    function requestDisputeValidation(
        uint256 workloadId,
        string calldata requestURI
    ) external returns (bytes32 requestHash) {
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(workloadId);
        if (w.status != IServiceMarketplace.WorkloadStatus.Disputed) {
            revert AgentValidationNoSubject(workloadId, Subject.Dispute);
        }
        uint256 validatorId = _requireValidator(msg.sender);
        // The marketplace's own test of who may rule (ServiceMarketplace._isValidatorFor).
        if (
            !IAccessControl(address(marketplace)).hasRole(_validatorRole, msg.sender) ||
            validatorId == w.providerId ||
            msg.sender == w.client
        ) revert AgentValidationNotResolver(workloadId, msg.sender);
        return _request(Subject.Dispute, workloadId, w, requestURI);
    }

    /// @inheritdoc IAgentValidation
    function requestProofValidation(
        uint256 workloadId,
        string calldata requestURI
    ) external returns (bytes32 requestHash) {
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(workloadId);
        if (!_proven(w)) revert AgentValidationNoSubject(workloadId, Subject.ZkInference);
        _requireValidator(msg.sender);
        return _request(Subject.ZkInference, workloadId, w, requestURI);
    }

    function _request(
        Subject subject,
        uint256 workloadId,
        IServiceMarketplace.Workload memory w,
        string calldata requestURI
    ) private returns (bytes32 requestHash) {
        requestHash = requestHashOf(msg.sender, subject, workloadId, w.round);
        Validation storage v = _validations[requestHash];
        if (v.validator != address(0)) revert AgentValidationRequestExists(requestHash);
        v.validator = msg.sender;
        v.subject = subject;
        v.round = w.round;
        v.lastUpdate = uint64(block.timestamp);
        v.agentId = w.providerId;
        v.workloadId = workloadId;
        _agentValidations[w.providerId].push(requestHash);
        _validatorRequests[msg.sender].push(requestHash);
        emit ValidationRequest(msg.sender, w.providerId, requestURI, requestHash);
    }

    // ---------------------------------------------------------------- responses

    /// @inheritdoc IERC8004Validation
    /// @dev Only the request's validator, still an active Validator agent; once; with the subject's tag and the
    /// response the chain backs (backedResponse).
    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata responseURI,
        bytes32 responseHash,
        string calldata tag
    ) external {
        Validation storage v = _known(requestHash);
        if (msg.sender != v.validator) revert AgentValidationWrongValidator(requestHash, msg.sender);
        _requireValidator(msg.sender);
        if (v.hasResponse) revert AgentValidationAlreadyAnswered(requestHash);
        if (keccak256(bytes(tag)) != keccak256(bytes(_tagOf(v.subject))))
            revert AgentValidationWrongTag(requestHash, tag);
        uint8 expected = _backed(v);
        if (response != expected) revert AgentValidationResponseMismatch(requestHash, expected, response);
        v.hasResponse = true;
        v.response = response;
        v.responseHash = responseHash;
        v.tag = tag;
        v.lastUpdate = uint64(block.timestamp);
        emit ValidationResponse(v.validator, v.agentId, requestHash, response, responseURI, responseHash, tag);
    }

    /// @inheritdoc IAgentValidation
    function backedResponse(bytes32 requestHash) external view returns (uint8) {
        return _backed(_known(requestHash));
    }

    function _backed(Validation storage v) private view returns (uint8) {
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(v.workloadId);
        if (w.round != v.round) revert AgentValidationRulingUnknown(v.workloadId); // a Disputed workload never reopens
        if (v.subject == Subject.ZkInference) {
            if (!_proven(w)) revert AgentValidationNoSubject(v.workloadId, Subject.ZkInference);
            return PASSED;
        }
        // A Disputed workload leaves that state only by resolveDispute (Settled for the provider, Refunded for the
        // client) or by expireDispute (Refunded), which needs the time below to have passed; the stops' grace only
        // pushes that time later.
        if (w.status == IServiceMarketplace.WorkloadStatus.Disputed) revert AgentValidationNotRuled(v.workloadId);
        if (w.status == IServiceMarketplace.WorkloadStatus.Settled) return PASSED;
        if (
            w.status == IServiceMarketplace.WorkloadStatus.Refunded &&
            block.timestamp <= uint256(w.submittedAt) + w.challengeWindow + _disputeTimeout
        ) return FAILED;
        revert AgentValidationRulingUnknown(v.workloadId);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IERC8004Validation
    function getValidationStatus(
        bytes32 requestHash
    )
        external
        view
        returns (
            address validatorAddress,
            uint256 agentId,
            uint8 response,
            bytes32 responseHash,
            string memory tag,
            uint256 lastUpdate
        )
    {
        Validation storage v = _known(requestHash);
        return (v.validator, v.agentId, v.response, v.responseHash, v.tag, v.lastUpdate);
    }

    /// @inheritdoc IERC8004Validation
    function getSummary(
        uint256 agentId,
        address[] calldata validatorAddresses,
        string calldata tag
    ) external view returns (uint64 count, uint8 avgResponse) {
        bytes32[] storage hashes = _agentValidations[agentId];
        bool anyTag = bytes(tag).length == 0;
        bytes32 tagHash = keccak256(bytes(tag));
        uint256 total;
        for (uint256 i; i < hashes.length; ++i) {
            Validation storage v = _validations[hashes[i]];
            if (!v.hasResponse) continue;
            if (!anyTag && keccak256(bytes(v.tag)) != tagHash) continue;
            if (!_listed(v.validator, validatorAddresses)) continue;
            total += v.response;
            ++count;
        }
        if (count != 0) avgResponse = uint8(total / count);
    }

    /// @inheritdoc IERC8004Validation
    function getAgentValidations(uint256 agentId) external view returns (bytes32[] memory) {
        return _agentValidations[agentId];
    }

    /// @inheritdoc IERC8004Validation
    function getValidatorRequests(address validatorAddress) external view returns (bytes32[] memory) {
        return _validatorRequests[validatorAddress];
    }

    /// @inheritdoc IAgentValidation
    function requestHashOf(
        address validator,
        Subject subject,
        uint256 workloadId,
        uint32 round
    ) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), validator, subject, workloadId, round));
    }

    /// @inheritdoc IAgentValidation
    function subjectOf(bytes32 requestHash) external view returns (Subject subject, uint256 workloadId, uint32 round) {
        Validation storage v = _known(requestHash);
        return (v.subject, v.workloadId, v.round);
    }

    /// @inheritdoc IERC8004Validation
    function getVersion() external pure returns (string memory) {
        return VERSION;
    }

    // ---------------------------------------------------------------- internals

    function _requireValidator(address account) private view returns (uint256 agentId) {
        agentId = registry.agentIdOf(account);
        if (agentId == 0) revert AgentValidationNotValidator(account);
        IAgentRegistry.AgentSummary memory s = registry.summaryOf(agentId);
        if (!s.active || s.agentType != IAgentRegistry.AgentType.Validator) revert AgentValidationNotValidator(account);
    }

    /// @dev A Zk workload has a result only through submitProvenResult, which the InferenceVerifier gates.
    function _proven(IServiceMarketplace.Workload memory w) private pure returns (bool) {
        return w.verification == IServiceMarketplace.VerificationLevel.Zk && w.resultHash != bytes32(0);
    }

    function _known(bytes32 requestHash) private view returns (Validation storage v) {
        v = _validations[requestHash];
        if (v.validator == address(0)) revert AgentValidationUnknownRequest(requestHash);
    }

    function _tagOf(Subject subject) private pure returns (string memory) {
        return subject == Subject.Dispute ? DISPUTE_TAG : ZK_INFERENCE_TAG;
    }

    function _listed(address validator, address[] calldata validators) private pure returns (bool) {
        if (validators.length == 0) return true;
        for (uint256 i; i < validators.length; ++i) {
            if (validators[i] == validator) return true;
        }
        return false;
    }
}
