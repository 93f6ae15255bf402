// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {IWorkflows} from "../interfaces/IWorkflows.sol";
import {Groth16Proof, IInferenceVerifier, IWorkflowVerifier} from "../interfaces/IZkVerifiers.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {FieldChecks} from "../libraries/FieldChecks.sol";
import {WorkflowGraph} from "../libraries/WorkflowGraph.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title Workflows
/// @notice Workflow definitions (DAGs of up to {MAX_STEPS} steps), executions with budget escrow, signed step
/// records and execution receipts, and listings.
/// @dev Money: an execution holds budget − spent (plus its listing fee) until it completes or fails; each recorded
/// step moves its cost from the execution to its provider's credits; owners' listing income and subscriptions
/// are credits too. {totalHeld} is the sum of all of it and equals this contract's token balance. A step is paid
/// at most once (the execution's done-mask), and only to the provider that signed its record.
///
/// Gas: a step record costs one storage read (its dependency mask), one signature recovery, one event and its
/// calldata; the done-mask, the receipt accumulator, the spent total and each distinct provider's credit are
/// written once per batch.
contract Workflows is IWorkflows, ReentrancyGuard, EIP712, SafetyGuarded {
    using SafeERC20 for IERC20;

    /// @inheritdoc IWorkflows
    uint256 public constant MAX_STEPS = WorkflowGraph.MAX_STEPS;
    uint256 public constant SUBSCRIPTION_PERIOD = 30 days;
    uint256 public constant MAX_STRING_LENGTH = 1024;
    uint256 public constant MAX_TAGS = 16;
    uint256 public constant MAX_EXECUTION_TIME = 30 days;
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

    bytes32 private constant _STEP_TYPEHASH = keccak256(
        "StepResult(uint256 executionId,uint16 step,bytes32 inputHash,bytes32 outputHash,uint256 cost)"
    );

    /// @dev The running state of one recordSteps batch (in memory: one storage write per field per batch).
    struct Batch {
        uint256 executionId;
        uint256 workflowId;
        uint256 stepCount;
        uint256 done;
        bytes32 receipt;
        uint256 spent;
        address[] providers; // distinct providers of the batch, each checked once
        uint256[] owed; // what each is credited at the end
        uint256 providerCount;
    }

    IERC20 private immutable _token;
    IAgentRegistry private immutable _registry;
    IWorkflowVerifier private immutable _workflowVerifier;
    IInferenceVerifier private immutable _inferenceVerifier;

    uint256 private _workflowCount;
    uint256 private _executionCount;
    uint256 private _listingCount;
    uint256 private _totalHeld;
    mapping(uint256 workflowId => Workflow workflow) private _workflows;
    mapping(uint256 workflowId => mapping(uint256 step => uint256 mask)) private _dependencies;
    mapping(uint256 workflowId => mapping(uint256 word => uint256 packed)) private _provenDeps;
    mapping(uint256 workflowId => mapping(uint256 step => bytes32 model)) private _stepModels;
    mapping(uint256 executionId => Execution execution) private _executions;
    mapping(address account => uint256 amount) private _credits;
    mapping(uint256 listingId => Listing listing) private _listings;
    mapping(uint256 listingId => mapping(address user => bool authorized)) private _access;
    mapping(uint256 listingId => mapping(address user => uint64 until)) private _subscriptions;

    constructor(
        IERC20 token_,
        IAgentRegistry registry_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        IWorkflowVerifier workflowVerifier_,
        IInferenceVerifier inferenceVerifier_
    ) EIP712("AITBC Workflows", "1") SafetyGuarded(humanOverride_, constitution_) {
        if (
            address(token_) == address(0) ||
            address(registry_) == address(0) ||
            address(humanOverride_) == address(0) ||
            address(constitution_) == address(0) ||
            address(workflowVerifier_) == address(0) ||
            address(inferenceVerifier_) == address(0)
        ) revert WorkflowsZeroAddress();
        _token = token_;
        _registry = registry_;
        _workflowVerifier = workflowVerifier_;
        _inferenceVerifier = inferenceVerifier_;
    }

    // ---------------------------------------------------------------- definitions

    /// @inheritdoc IWorkflows
    function defineWorkflow(WorkflowSpec calldata spec) external whenNotStopped returns (uint256 workflowId) {
        uint256 gasStart = gasleft();
        uint256 count = spec.steps.length;
        WorkflowGraph.requireSize(count, MAX_STEPS);
        if (bytes(spec.name).length == 0 || bytes(spec.name).length > MAX_STRING_LENGTH) {
            revert WorkflowsInvalidSpec("name");
        }
        if (spec.maxExecutionTime == 0 || spec.maxExecutionTime > MAX_EXECUTION_TIME) {
            revert WorkflowsInvalidSpec("maxExecutionTime");
        }
        if (spec.maxBudget == 0 || spec.maxBudget > type(uint128).max) revert WorkflowsInvalidSpec("maxBudget");
        bool proven = spec.verification != VerificationLevel.Basic;
        if (proven) WorkflowGraph.requireSize(count, MAX_PROVEN_STEPS);

        workflowId = ++_workflowCount;
        uint256[] memory deps = new uint256[](count);
        uint256 proofMask;
        for (uint256 i = 0; i < count; ++i) {
            StepSpec calldata step = spec.steps[i];
            uint256 mask = WorkflowGraph.dependencyMask(step.dependsOn, i, count);
            deps[i] = mask;
            if (mask != 0) _dependencies[workflowId][i] = mask;
            if (proven) _packProvenDependencies(workflowId, i, step.dependsOn);
            if (step.requiresProof) {
                if (
                    spec.verification != VerificationLevel.Zk ||
                    step.stepType != StepType.Inference ||
                    !FieldChecks.isNonZeroElement(uint256(step.model))
                ) revert WorkflowsInvalidSpec("requiresProof");
                proofMask |= 1 << i;
                _stepModels[workflowId][i] = step.model;
            }
        }
        WorkflowGraph.requireAcyclic(deps);

        _workflows[workflowId] = Workflow({
            owner: msg.sender,
            stepCount: uint16(count), // count <= MAX_STEPS
            verification: spec.verification,
            maxExecutionTime: spec.maxExecutionTime,
            maxBudget: spec.maxBudget,
            specHash: keccak256(abi.encode(spec)),
            proofMask: proofMask
        });
        emit WorkflowDefined(workflowId, msg.sender, _workflows[workflowId].specHash, spec.name, count);
        _enforce(msg.sender, ActionTypes.DEFINE_WORKFLOW, 0, gasStart);
    }

    // ---------------------------------------------------------------- executions

    /// @inheritdoc IWorkflows
    function requestExecution(
        ExecutionRequest calldata request
    ) external whenNotStopped nonReentrant returns (uint256 executionId) {
        uint256 gasStart = gasleft();
        uint256 workflowId = request.workflowId;
        uint256 budget = request.budget;
        Workflow storage wf = _workflow(workflowId);
        if (wf.verification != VerificationLevel.Basic && !FieldChecks.isElement(uint256(request.inputsHash))) {
            revert WorkflowsNotFieldElement("inputsHash", request.inputsHash);
        }
        if (budget == 0 || budget > wf.maxBudget) revert WorkflowsInvalidBudget(budget, wf.maxBudget);
        uint256 fee = _listingFee(request, wf);

        executionId = ++_executionCount;
        Execution storage e = _executions[executionId];
        e.client = msg.sender;
        e.status = ExecutionStatus.Pending;
        e.requestedAt = uint64(block.timestamp);
        e.workflowId = uint64(workflowId);
        e.budget = uint128(budget); // budget <= maxBudget <= uint128 max
        e.inputsHash = request.inputsHash;
        // The receipt chain starts from the execution itself, so it commits to the workflow and the inputs.
        e.receipt = keccak256(abi.encode(executionId, workflowId, request.inputsHash));
        e.listingId = uint64(request.listingId);
        e.listingFee = uint128(fee); // a listing's executionPrice is a uint128
        e.keeper = request.keeper;
        _totalHeld += budget + fee;
        emit ExecutionRequested(
            executionId,
            workflowId,
            msg.sender,
            request.inputsHash,
            budget,
            request.listingId,
            fee,
            request.keeper
        );

        _token.safeTransferFrom(msg.sender, address(this), budget + fee);
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, budget + fee, gasStart);
    }

    /// @inheritdoc IWorkflows
    function cancelExecution(uint256 executionId) external whenNotStopped nonReentrant {
        Execution storage e = _execution(executionId);
        if (msg.sender != e.client) revert WorkflowsNotClient(executionId, msg.sender);
        _requireStatus(executionId, e, ExecutionStatus.Pending);
        _fail(executionId, e, keccak256("cancelled by client"));
    }

    /// @inheritdoc IWorkflows
    function claimExecution(uint256 executionId) external whenNotStopped {
        uint256 gasStart = gasleft();
        Execution storage e = _execution(executionId);
        _requireStatus(executionId, e, ExecutionStatus.Pending);
        if (e.keeper != address(0) && msg.sender != e.keeper) revert WorkflowsNotKeeper(executionId, msg.sender);
        uint256 keeperId = _registry.agentIdOf(msg.sender);
        if (keeperId == 0 || !_registry.isActive(keeperId)) revert WorkflowsNotActiveAgent(msg.sender);
        e.status = ExecutionStatus.Running;
        e.keeperId = uint64(keeperId);
        e.startedAt = uint64(block.timestamp);
        emit ExecutionClaimed(executionId, keeperId);
        _enforce(msg.sender, ActionTypes.RUN_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function recordSteps(uint256 executionId, StepRecord[] calldata records) external whenNotStopped {
        uint256 gasStart = gasleft();
        Execution storage e = _execution(executionId);
        _requireKeeperRunning(executionId, e);
        if (_workflows[e.workflowId].verification != VerificationLevel.Basic) {
            revert WorkflowsProofRequired(executionId);
        }
        _recordBatch(executionId, e, records);
        _enforce(msg.sender, ActionTypes.RUN_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function recordProvenSteps(
        uint256 executionId,
        StepRecord[] calldata records,
        TranscriptProof calldata transcript,
        InferenceProof[] calldata inferences
    ) external whenNotStopped {
        uint256 gasStart = gasleft();
        Execution storage e = _execution(executionId);
        _requireKeeperRunning(executionId, e);
        Workflow storage wf = _workflows[e.workflowId];
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

    /// @dev Checks the clock and every record of a batch (the caller checked the keeper); credits providers and
    /// extends the receipt.
    function _recordBatch(uint256 executionId, Execution storage e, StepRecord[] calldata records) private {
        if (records.length == 0) revert WorkflowsEmptyBatch();
        uint64 expiresAt = _graced(e.startedAt + _workflows[e.workflowId].maxExecutionTime);
        if (block.timestamp > expiresAt) revert WorkflowsExpired(executionId, expiresAt);
        Batch memory batch = Batch({
            executionId: executionId,
            workflowId: e.workflowId,
            stepCount: _workflows[e.workflowId].stepCount,
            done: e.doneMask,
            receipt: e.receipt,
            spent: e.spent,
            providers: new address[](records.length),
            owed: new uint256[](records.length),
            providerCount: 0
        });
        for (uint256 i = 0; i < records.length; ++i) {
            _record(batch, records[i]);
        }
        if (batch.spent > e.budget) revert WorkflowsBudgetExceeded(executionId, batch.spent, e.budget);

        e.doneMask = batch.done;
        e.receipt = batch.receipt;
        e.spent = uint128(batch.spent); // spent <= budget <= uint128 max
        e.stepsDone += uint16(records.length); // every record is a new step: stepsDone <= stepCount <= MAX_STEPS
        for (uint256 j = 0; j < batch.providerCount; ++j) {
            _credits[batch.providers[j]] += batch.owed[j];
        }
    }

    /// @inheritdoc IWorkflows
    function completeExecution(uint256 executionId, bytes32 resultHash) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Execution storage e = _execution(executionId);
        _requireKeeperRunning(executionId, e);
        uint256 all = WorkflowGraph.allSteps(_workflows[e.workflowId].stepCount);
        if (e.doneMask != all) revert WorkflowsStepsMissing(executionId, all & ~e.doneMask);
        uint64 expiresAt = _graced(e.startedAt + _workflows[e.workflowId].maxExecutionTime);
        if (block.timestamp > expiresAt) revert WorkflowsExpired(executionId, expiresAt);
        if (_workflows[e.workflowId].verification != VerificationLevel.Basic && resultHash != e.resultHash) {
            revert WorkflowsResultMismatch(executionId, e.resultHash, resultHash);
        }

        e.status = ExecutionStatus.Completed;
        e.finishedAt = uint64(block.timestamp);
        e.resultHash = resultHash;
        uint256 refund = e.budget - e.spent;
        uint256 fee = e.listingFee;
        _totalHeld -= refund; // the fee stays held, as the owner's credit
        if (e.listingId != 0) {
            ++_listings[e.listingId].totalExecutions;
            if (fee != 0) _credits[_workflows[e.workflowId].owner] += fee;
        }
        emit ExecutionCompleted(executionId, resultHash, e.receipt, e.spent, refund);

        if (refund != 0) _token.safeTransfer(e.client, refund);
        _enforce(msg.sender, ActionTypes.RUN_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function failExecution(uint256 executionId, bytes32 reasonHash) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Execution storage e = _execution(executionId);
        _requireKeeperRunning(executionId, e);
        _fail(executionId, e, reasonHash);
        _enforce(msg.sender, ActionTypes.RUN_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function expireExecution(uint256 executionId) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Execution storage e = _execution(executionId);
        _requireStatus(executionId, e, ExecutionStatus.Running);
        uint64 expiresAt = _graced(e.startedAt + _workflows[e.workflowId].maxExecutionTime);
        if (block.timestamp <= expiresAt) revert WorkflowsNotExpired(executionId, expiresAt);
        _fail(executionId, e, keccak256("max execution time exceeded"));
        _enforce(msg.sender, ActionTypes.UPKEEP, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function claimCredits() external whenNotStopped nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert WorkflowsNothingToClaim(msg.sender);
        _credits[msg.sender] = 0;
        _totalHeld -= amount;
        emit CreditsClaimed(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- listings

    /// @inheritdoc IWorkflows
    function createListing(
        uint256 workflowId,
        ListingInput calldata input
    ) external whenNotStopped returns (uint256 listingId) {
        uint256 gasStart = gasleft();
        _ownedWorkflow(workflowId);
        _checkListing(input);
        listingId = ++_listingCount;
        Listing storage listing = _listings[listingId];
        listing.workflowId = uint64(workflowId);
        listing.active = true;
        _writeListing(listing, input);
        emit ListingCreated(listingId, workflowId, input);
        _enforce(msg.sender, ActionTypes.DEFINE_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function updateListing(uint256 listingId, ListingInput calldata input, bool active) external whenNotStopped {
        uint256 gasStart = gasleft();
        Listing storage listing = _listing(listingId);
        _ownedWorkflow(listing.workflowId);
        _checkListing(input);
        listing.active = active;
        _writeListing(listing, input);
        emit ListingUpdated(listingId, input, active);
        _enforce(msg.sender, ActionTypes.DEFINE_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function setAccess(uint256 listingId, address user, bool authorized) external whenNotStopped {
        uint256 gasStart = gasleft();
        Listing storage listing = _listing(listingId);
        _ownedWorkflow(listing.workflowId);
        if (user == address(0)) revert WorkflowsZeroAddress();
        _access[listingId][user] = authorized;
        emit AccessSet(listingId, user, authorized);
        _enforce(msg.sender, ActionTypes.DEFINE_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function subscribe(uint256 listingId, uint256 maxPrice) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Listing storage listing = _listing(listingId);
        if (!listing.active || !_hasAccess(listingId, listing, msg.sender)) {
            revert WorkflowsAccessDenied(listingId, msg.sender);
        }
        uint256 price = listing.subscriptionPrice;
        if (price == 0) revert WorkflowsNoSubscription(listingId);
        if (price > maxPrice) revert WorkflowsListingFeeAboveMax(listingId, price, maxPrice);
        uint64 from = _subscriptions[listingId][msg.sender];
        if (from < block.timestamp) from = uint64(block.timestamp);
        uint64 until = from + uint64(SUBSCRIPTION_PERIOD);
        _subscriptions[listingId][msg.sender] = until;
        _credits[_workflows[listing.workflowId].owner] += price;
        _totalHeld += price;
        emit Subscribed(listingId, msg.sender, until, price);

        _token.safeTransferFrom(msg.sender, address(this), price);
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, price, gasStart);
    }

    /// @inheritdoc IWorkflows
    function rateExecution(uint256 executionId, uint8 rating) external whenNotStopped {
        uint256 gasStart = gasleft();
        Execution storage e = _execution(executionId);
        if (msg.sender != e.client) revert WorkflowsNotClient(executionId, msg.sender);
        _requireStatus(executionId, e, ExecutionStatus.Completed);
        if (e.listingId == 0) revert WorkflowsUnknownListing(0);
        if (e.rated) revert WorkflowsAlreadyRated(executionId);
        if (rating == 0 || rating > 5) revert WorkflowsInvalidRating(rating);
        e.rated = true;
        Listing storage listing = _listings[e.listingId];
        ++listing.ratingCount;
        listing.ratingSum += rating;
        emit ExecutionRated(executionId, e.listingId, rating);
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, 0, gasStart);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IWorkflows
    function getWorkflow(uint256 workflowId) external view returns (Workflow memory) {
        return _workflow(workflowId);
    }

    /// @inheritdoc IWorkflows
    function dependenciesOf(uint256 workflowId, uint256 step) external view returns (uint256) {
        _workflow(workflowId);
        return _dependencies[workflowId][step];
    }

    /// @inheritdoc IWorkflows
    function getExecution(uint256 executionId) external view returns (Execution memory) {
        return _execution(executionId);
    }

    /// @inheritdoc IWorkflows
    function getExecutionStatus(
        uint256 executionId
    )
        external
        view
        returns (
            ExecutionStatus status,
            uint256 stepsDone,
            uint256 stepCount,
            uint64 startedAt,
            uint64 finishedAt,
            uint256 spent,
            uint256 budget
        )
    {
        Execution storage e = _execution(executionId);
        return (
            e.status,
            e.stepsDone,
            _workflows[e.workflowId].stepCount,
            e.startedAt,
            e.finishedAt,
            e.spent,
            e.budget
        );
    }

    /// @inheritdoc IWorkflows
    function getListing(uint256 listingId) external view returns (Listing memory) {
        return _listing(listingId);
    }

    /// @inheritdoc IWorkflows
    function ratingOf(uint256 listingId) external view returns (uint256) {
        Listing storage listing = _listing(listingId);
        return listing.ratingCount == 0 ? 0 : (uint256(listing.ratingSum) * 100) / listing.ratingCount;
    }

    /// @inheritdoc IWorkflows
    function hasAccess(uint256 listingId, address user) external view returns (bool) {
        return _hasAccess(listingId, _listing(listingId), user);
    }

    /// @inheritdoc IWorkflows
    function creditsOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IWorkflows
    function totalHeld() external view returns (uint256) {
        return _totalHeld;
    }

    /// @inheritdoc IWorkflows
    function hashStepResult(
        uint256 executionId,
        uint16 step,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 cost
    ) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_STEP_TYPEHASH, executionId, step, inputHash, outputHash, cost)));
    }

    /// @inheritdoc IWorkflows
    function provenDependencies(uint256 workflowId, uint256 chunk) external view returns (uint256[2] memory words) {
        uint256 base = WorkflowGraph.chunkWordIndex(chunk);
        for (uint256 w = 0; w < _DEPS_WORDS; ++w) words[w] = _provenDeps[workflowId][base + w];
    }

    // ---------------------------------------------------------------- internal

    /// @dev Stores step `step`'s dependencies in the workflow circuit's packing (WorkflowGraph checks the proven
    /// levels' rules).
    function _packProvenDependencies(uint256 workflowId, uint256 step, uint16[] calldata dependsOn) private {
        (uint256 index, uint256 word) = WorkflowGraph.packProvenDependencies(dependsOn, step);
        if (word != 0) _provenDeps[workflowId][index] |= word;
    }

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

    /// @dev Access and price of a request: without a listing only the owner executes; with one, the caller needs
    /// access, and pays the execution price unless subscribed, at most `maxListingFee`.
    function _listingFee(ExecutionRequest calldata request, Workflow storage wf) private view returns (uint256 fee) {
        uint256 listingId = request.listingId;
        if (listingId == 0) {
            if (msg.sender != wf.owner) revert WorkflowsNotWorkflowOwner(request.workflowId, msg.sender);
            return 0;
        }
        Listing storage listing = _listing(listingId);
        if (listing.workflowId != request.workflowId) revert WorkflowsListingMismatch(listingId, request.workflowId);
        if (!listing.active || !_hasAccess(listingId, listing, msg.sender)) {
            revert WorkflowsAccessDenied(listingId, msg.sender);
        }
        if (_subscriptions[listingId][msg.sender] <= block.timestamp) fee = listing.executionPrice;
        if (fee > request.maxListingFee) revert WorkflowsListingFeeAboveMax(listingId, fee, request.maxListingFee);
    }

    /// @dev Checks one step record against the batch so far and adds it.
    function _record(Batch memory batch, StepRecord calldata r) private {
        uint256 step = r.step;
        if (step >= batch.stepCount) revert WorkflowsUnknownStep(batch.executionId, step);
        uint256 bit = 1 << step;
        if (batch.done & bit != 0) revert WorkflowsStepAlreadyRecorded(batch.executionId, step);
        uint256 missing = _dependencies[batch.workflowId][step] & ~batch.done;
        if (missing != 0) revert WorkflowsDependencyPending(batch.executionId, step, missing);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(
            hashStepResult(batch.executionId, r.step, r.inputHash, r.outputHash, r.cost),
            r.signature
        );
        if (err != ECDSA.RecoverError.NoError || signer != r.provider) {
            revert WorkflowsInvalidStepSignature(batch.executionId, step);
        }
        uint256 j = 0;
        while (j < batch.providerCount && batch.providers[j] != r.provider) ++j;
        if (j == batch.providerCount) {
            uint256 providerId = _registry.agentIdOf(r.provider);
            if (providerId == 0 || !_registry.isActive(providerId)) {
                revert WorkflowsProviderNotActive(batch.executionId, r.provider);
            }
            batch.providers[j] = r.provider;
            ++batch.providerCount;
        }
        batch.owed[j] += r.cost;
        batch.spent += r.cost;
        batch.done |= bit;
        batch.receipt = keccak256(abi.encode(batch.receipt, r.step, r.provider, r.inputHash, r.outputHash, r.cost));
        emit StepRecorded(batch.executionId, step, r.provider, r.inputHash, r.outputHash, r.cost);
    }

    function _fail(uint256 executionId, Execution storage e, bytes32 reasonHash) private {
        e.status = ExecutionStatus.Failed;
        e.finishedAt = uint64(block.timestamp);
        uint256 refund = e.budget - e.spent + e.listingFee;
        _totalHeld -= refund;
        emit ExecutionFailed(executionId, reasonHash, e.spent, refund);
        if (refund != 0) _token.safeTransfer(e.client, refund);
    }

    function _requireKeeperRunning(uint256 executionId, Execution storage e) private view {
        _requireStatus(executionId, e, ExecutionStatus.Running);
        if (_registry.agentIdOf(msg.sender) != e.keeperId) revert WorkflowsNotKeeper(executionId, msg.sender);
    }

    function _workflow(uint256 workflowId) private view returns (Workflow storage wf) {
        wf = _workflows[workflowId];
        if (wf.owner == address(0)) revert WorkflowsUnknownWorkflow(workflowId);
    }

    function _ownedWorkflow(uint256 workflowId) private view returns (Workflow storage wf) {
        wf = _workflow(workflowId);
        if (wf.owner != msg.sender) revert WorkflowsNotWorkflowOwner(workflowId, msg.sender);
    }

    function _execution(uint256 executionId) private view returns (Execution storage e) {
        e = _executions[executionId];
        if (e.status == ExecutionStatus.None) revert WorkflowsUnknownExecution(executionId);
    }

    function _listing(uint256 listingId) private view returns (Listing storage listing) {
        listing = _listings[listingId];
        if (listing.workflowId == 0) revert WorkflowsUnknownListing(listingId);
    }

    function _requireStatus(uint256 executionId, Execution storage e, ExecutionStatus wanted) private view {
        if (e.status != wanted) revert WorkflowsWrongStatus(executionId, e.status);
    }

    function _hasAccess(uint256 listingId, Listing storage listing, address user) private view returns (bool) {
        return
            listing.isPublic ||
            _access[listingId][user] ||
            _subscriptions[listingId][user] > block.timestamp ||
            _workflows[listing.workflowId].owner == user;
    }

    function _checkListing(ListingInput calldata input) private pure {
        if (bytes(input.title).length == 0 || bytes(input.title).length > MAX_STRING_LENGTH) {
            revert WorkflowsInvalidSpec("title");
        }
        if (bytes(input.description).length > MAX_STRING_LENGTH) revert WorkflowsInvalidSpec("description");
        if (input.tags.length > MAX_TAGS) revert WorkflowsInvalidSpec("tags");
    }

    function _writeListing(Listing storage listing, ListingInput calldata input) private {
        listing.isPublic = input.isPublic;
        listing.executionPrice = input.executionPrice;
        listing.subscriptionPrice = input.subscriptionPrice;
        listing.title = input.title;
        listing.description = input.description;
        delete listing.tags;
        for (uint256 i = 0; i < input.tags.length; ++i) {
            listing.tags.push(input.tags[i]);
        }
    }
}
