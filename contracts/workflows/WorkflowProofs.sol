// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IWorkflows} from "../interfaces/IWorkflows.sol";
import {Groth16Proof, IInferenceVerifier, IWorkflowVerifier} from "../interfaces/IZkVerifiers.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {FieldChecks} from "../libraries/FieldChecks.sol";
import {WorkflowGraph} from "../libraries/WorkflowGraph.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title WorkflowProofs
/// @notice What the Full and Zk verification levels add to {Workflows}: at definition, the workflow circuit's packed
/// dependencies and each proven step's model commitment; at execution, {recordProvenSteps}, which records a chunk of
/// step records only with a workflow (transcript) proof over them and, at the Zk level, an inference proof per
/// `requiresProof` step.
/// @dev Owns the two verifiers, the packed dependencies and the step models. The core calls
/// {_packProvenDependencies} and {_requireProvableStep} while it defines a workflow; this module asks the core for
/// the execution its caller keeps ({_keeperExecution}) and to record a batch ({_recordBatch}), the same checks and
/// payments as the basic level's recordSteps.
abstract contract WorkflowProofs is IWorkflows, SafetyGuarded {
    /// @inheritdoc IWorkflows
    uint256 public constant MAX_PROVEN_STEPS = WorkflowGraph.MAX_PROVEN_STEPS;
    /// @inheritdoc IWorkflows
    uint256 public constant MAX_PROVEN_DEPS = WorkflowGraph.MAX_PROVEN_DEPS;
    /// @inheritdoc IWorkflows
    uint256 public constant PROVEN_CHUNK = WorkflowGraph.PROVEN_CHUNK;
    /// @dev Packed dependency words per chunk (WorkflowGraph.packProvenDependencies).
    uint256 private constant _DEPS_WORDS = WorkflowGraph.DEPS_WORDS;
    /// @dev Public signals of a chunk proof: outputsRoot, inputsHash, start, stepCount, resultHash, deps, leaves.
    uint256 private constant _LEAVES_AT = 5 + _DEPS_WORDS;

    IWorkflowVerifier private immutable _workflowVerifier;
    IInferenceVerifier private immutable _inferenceVerifier;

    mapping(uint256 workflowId => mapping(uint256 word => uint256 packed)) private _provenDeps;
    mapping(uint256 workflowId => mapping(uint256 step => bytes32 model)) private _stepModels;

    constructor(IWorkflowVerifier workflowVerifier_, IInferenceVerifier inferenceVerifier_) {
        if (address(workflowVerifier_) == address(0) || address(inferenceVerifier_) == address(0)) {
            revert WorkflowsZeroAddress();
        }
        _workflowVerifier = workflowVerifier_;
        _inferenceVerifier = inferenceVerifier_;
    }

    /// @inheritdoc IWorkflows
    function recordProvenSteps(
        uint256 executionId,
        StepRecord[] calldata records,
        TranscriptProof calldata transcript,
        InferenceProof[] calldata inferences
    ) external whenNotStopped {
        uint256 gasStart = gasleft();
        (Execution storage e, Workflow storage wf) = _keeperExecution(executionId);
        if (wf.verification == VerificationLevel.Basic) revert WorkflowsNotProven(executionId);
        uint256[39] memory signals = _chunkSignals(executionId, e, wf.stepCount, records);
        _recordBatch(executionId, e, records);

        // The first chunk fixes the transcript (its outputs root and result); the others must prove the same one.
        if (e.outputsRoot == 0) {
            _requireField("outputsRoot", transcript.outputsRoot);
            _requireField("resultHash", transcript.resultHash);
            if (transcript.outputsRoot == 0) revert WorkflowsNotFieldElement("outputsRoot", 0);
            e.outputsRoot = transcript.outputsRoot;
            e.resultHash = transcript.resultHash;
        } else if (e.outputsRoot != transcript.outputsRoot || e.resultHash != transcript.resultHash) {
            revert WorkflowsTranscriptMismatch(executionId);
        }
        signals[0] = uint256(transcript.outputsRoot);
        signals[4] = uint256(transcript.resultHash);
        Groth16Proof calldata p = transcript.proof;
        if (!_workflowVerifier.verifyProof(p.a, p.b, p.c, signals)) {
            revert WorkflowsInvalidTranscriptProof(executionId, signals[2]);
        }
        if (wf.verification == VerificationLevel.Zk) {
            _checkInferences(executionId, e.workflowId, wf.proofMask, records, inferences);
        } else if (inferences.length != 0) {
            revert WorkflowsInferenceProofCount(executionId, 0, inferences.length);
        }
        emit TranscriptChunkProven(executionId, signals[2], records.length, transcript.outputsRoot);
        _enforce(msg.sender, ActionTypes.RUN_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function provenDependencies(uint256 workflowId, uint256 chunk) external view returns (uint256[2] memory words) {
        uint256 base = WorkflowGraph.chunkWordIndex(chunk);
        for (uint256 w = 0; w < _DEPS_WORDS; ++w) words[w] = _provenDeps[workflowId][base + w];
    }

    // ---------------------------------------------------------------- for the core (definitions)

    /// @dev Stores step `step`'s dependencies in the workflow circuit's packing (WorkflowGraph checks the proven
    /// levels' rules).
    function _packProvenDependencies(uint256 workflowId, uint256 step, uint16[] calldata dependsOn) internal {
        (uint256 index, uint256 word) = WorkflowGraph.packProvenDependencies(dependsOn, step);
        if (word != 0) _provenDeps[workflowId][index] |= word;
    }

    /// @dev A `requiresProof` step must be an Inference step of a Zk workflow whose model is a non-zero field
    /// element (the inference proof's public modelHash); stores the model.
    function _requireProvableStep(
        uint256 workflowId,
        uint256 step,
        StepSpec calldata spec,
        VerificationLevel verification
    ) internal {
        if (
            verification != VerificationLevel.Zk ||
            spec.stepType != StepType.Inference ||
            !FieldChecks.isNonZeroElement(uint256(spec.model))
        ) revert WorkflowsInvalidSpec("requiresProof");
        _stepModels[workflowId][step] = spec.model;
    }

    // ---------------------------------------------------------------- hooks (the core implements them)

    /// @dev Execution `executionId` and its workflow; requires it to be running and the caller its keeper.
    function _keeperExecution(
        uint256 executionId
    ) internal view virtual returns (Execution storage e, Workflow storage wf);

    /// @dev Checks the clock and every record of a batch (the caller checked the keeper); credits providers and
    /// extends the receipt.
    function _recordBatch(uint256 executionId, Execution storage e, StepRecord[] calldata records) internal virtual;

    // ---------------------------------------------------------------- internal

    /// @dev The workflow circuit's public signals for a chunk of records, except outputsRoot ([0]) and resultHash
    /// ([4]). Checks the chunk's shape: steps start .. start + len - 1 in order, start a multiple of PROVEN_CHUNK,
    /// len = min(PROVEN_CHUNK, stepCount - start); each record a leaf (zero inputHash, outputHash in the field).
    function _chunkSignals(
        uint256 executionId,
        Execution storage e,
        uint256 stepCount,
        StepRecord[] calldata records
    ) private view returns (uint256[39] memory signals) {
        uint256 len = records.length;
        uint256 start = len == 0 ? 0 : records[0].step;
        uint256 left = start < stepCount ? stepCount - start : 0;
        if (len == 0 || start % PROVEN_CHUNK != 0 || len != (left < PROVEN_CHUNK ? left : PROVEN_CHUNK)) {
            revert WorkflowsInvalidChunk(executionId, start, len);
        }
        signals[1] = uint256(e.inputsHash);
        signals[2] = start;
        signals[3] = stepCount;
        uint256 base = WorkflowGraph.chunkWordIndex(start / PROVEN_CHUNK);
        for (uint256 w = 0; w < _DEPS_WORDS; ++w) signals[5 + w] = _provenDeps[e.workflowId][base + w];
        for (uint256 k = 0; k < len; ++k) {
            StepRecord calldata r = records[k];
            if (r.step != start + k) revert WorkflowsInvalidChunk(executionId, start, len);
            if (r.inputHash != 0) revert WorkflowsNotFieldElement("inputHash", r.inputHash);
            _requireField("outputHash", r.outputHash);
            signals[_LEAVES_AT + k] = uint256(r.outputHash);
        }
    }

    /// @dev One inference proof per `requiresProof` step of the chunk, in order: the step's model and recorded
    /// leaf are the proof's modelHash and leaf.
    function _checkInferences(
        uint256 executionId,
        uint256 workflowId,
        uint256 proofMask,
        StepRecord[] calldata records,
        InferenceProof[] calldata inferences
    ) private view {
        uint256 expected;
        for (uint256 k = 0; k < records.length; ++k) {
            if (proofMask & (1 << records[k].step) != 0) ++expected;
        }
        if (inferences.length != expected)
            revert WorkflowsInferenceProofCount(executionId, expected, inferences.length);
        uint256 j;
        for (uint256 k = 0; k < records.length; ++k) {
            uint256 step = records[k].step;
            if (proofMask & (1 << step) == 0) continue;
            InferenceProof calldata inf = inferences[j++];
            uint256[4] memory signals = [
                uint256(_stepModels[workflowId][step]),
                inf.inputHash,
                inf.outputHash,
                uint256(records[k].outputHash)
            ];
            if (!_inferenceVerifier.verifyProof(inf.proof.a, inf.proof.b, inf.proof.c, signals)) {
                revert WorkflowsInvalidInferenceProof(executionId, step);
            }
        }
    }

    function _requireField(string memory field, bytes32 value) private pure {
        if (!FieldChecks.isElement(uint256(value))) revert WorkflowsNotFieldElement(field, value);
    }
}
