// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC8004Validation} from "./IERC8004.sol";

/// @title IAgentValidation
/// @notice AITBC's ERC-8004 validation registry: validation responses only for what the chain itself verified, so
/// that nobody can post a response the chain cannot back. Two subjects, both a ServiceMarketplace workload, and
/// the agent validated is always the workload's provider:
/// - Dispute (tag "aitbc.dispute"): a validator asks while the workload is Disputed; once the dispute is ruled,
///   its response must be the ruling the marketplace recorded: 100 when the provider's result was upheld (the
///   workload Settled), 0 when the client was (Refunded before the dispute could have expired).
/// - Zk inference (tag "aitbc.zk-inference"): a Zk-level workload whose result the marketplace accepted only with
///   an inference proof checked by the InferenceVerifier; the response must be 100.
/// A request names its validator (the caller, an active Validator agent; for a dispute also one the marketplace
/// would let rule: VALIDATOR_ROLE, not a party); only it answers, once.
/// @dev The reference's free `validationRequest` (any requestHash, any validator) is refused: a response to it
/// could not be backed. What the registry cannot show: the marketplace does not store who ruled a dispute (its
/// DisputeResolved event does), so a dispute response attests the ruling on chain and that its validator was
/// entitled to rule when it asked, not that its own transaction ruled.
interface IAgentValidation is IERC8004Validation {
    enum Subject {
        None,
        Dispute,
        ZkInference
    }

    /// @notice A constructor argument is the zero address.
    error AgentValidationZeroAddress();
    /// @notice Requests name a marketplace workload: use requestDisputeValidation or requestProofValidation.
    error AgentValidationUnbackedRequest();
    /// @notice `caller` is not an active Validator agent.
    error AgentValidationNotValidator(address caller);
    /// @notice `caller` may not rule on the workload's dispute (no VALIDATOR_ROLE on the marketplace, or a party).
    error AgentValidationNotResolver(uint256 workloadId, address caller);
    /// @notice The workload is not in a state the subject needs (a dispute: Disputed when asked; a proof: a Zk
    /// workload with a proven result).
    error AgentValidationNoSubject(uint256 workloadId, Subject subject);
    /// @notice There is a request under this hash already (the same validator, subject, workload and round).
    error AgentValidationRequestExists(bytes32 requestHash);
    /// @notice No request under this hash.
    error AgentValidationUnknownRequest(bytes32 requestHash);
    /// @notice Only the request's validator answers it.
    error AgentValidationWrongValidator(bytes32 requestHash, address caller);
    /// @notice The request has its response already: what the chain verified does not change.
    error AgentValidationAlreadyAnswered(bytes32 requestHash);
    /// @notice The tag is not the subject's ("aitbc.dispute" or "aitbc.zk-inference").
    error AgentValidationWrongTag(bytes32 requestHash, string tag);
    /// @notice The dispute is not ruled yet.
    error AgentValidationNotRuled(uint256 workloadId);
    /// @notice The workload was refunded after its dispute could have expired: the chain cannot tell a ruling for
    /// the client from an expiry, so no response can be backed.
    error AgentValidationRulingUnknown(uint256 workloadId);
    /// @notice The response is not what the chain verified (`expected`).
    error AgentValidationResponseMismatch(bytes32 requestHash, uint8 expected, uint8 response);

    /// @notice Asks, as validator, to validate the provider's result in the dispute on `workloadId` (Disputed now).
    function requestDisputeValidation(
        uint256 workloadId,
        string calldata requestURI
    ) external returns (bytes32 requestHash);

    /// @notice Asks, as validator, to validate the proven result of the Zk workload `workloadId`.
    function requestProofValidation(
        uint256 workloadId,
        string calldata requestURI
    ) external returns (bytes32 requestHash);

    /// @notice The request hash of `validator`'s request on `subject` for the workload's `round`.
    function requestHashOf(
        address validator,
        Subject subject,
        uint256 workloadId,
        uint32 round
    ) external view returns (bytes32);

    /// @notice What a request is about: its subject, workload and round.
    function subjectOf(bytes32 requestHash) external view returns (Subject subject, uint256 workloadId, uint32 round);

    /// @notice The response the chain backs for the request now; reverts when it backs none (with the reason).
    function backedResponse(bytes32 requestHash) external view returns (uint8);
}
