// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {IWorkflows} from "../interfaces/IWorkflows.sol";
import {IInferenceVerifier, IWorkflowVerifier} from "../interfaces/IZkVerifiers.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {FieldChecks} from "../libraries/FieldChecks.sol";
import {WorkflowGraph} from "../libraries/WorkflowGraph.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";
import {WorkflowListings} from "./WorkflowListings.sol";
import {WorkflowProofs} from "./WorkflowProofs.sol";

/// @title Workflows
/// @notice Workflow definitions (DAGs of up to {MAX_STEPS} steps), executions with budget escrow, signed step
/// records and execution receipts, and listings.
/// @dev This contract is the core (definitions, executions, step records, credits); two modules add one concern
/// each: {WorkflowListings} (listings, access, subscriptions, ratings) and {WorkflowProofs} (the Full and Zk levels:
/// packed dependencies, step models, chunk and inference proofs). The hooks they declare are implemented at the
/// end of this file.
///
/// Money: an execution holds budget − spent (plus its listing fee) until it completes or fails; each recorded
/// step moves its cost from the execution to its provider's credits; owners' listing income and subscriptions
/// are credits too. {totalHeld} is the sum of all of it and equals this contract's token balance (tokens sent to it
/// directly are the only excess, and {sweepExcess} sends them to the treasury). A step is paid
/// at most once (the execution's done-mask), and only to the provider that signed its record.
///
/// Gas: a step record costs one storage read (its dependency mask), one signature recovery, one event and its
/// calldata; the done-mask, the receipt accumulator, the spent total and each distinct provider's credit are
/// written once per batch.
contract Workflows is EIP712, WorkflowListings, WorkflowProofs {
    using SafeERC20 for IERC20;

    /// @inheritdoc IWorkflows
    uint256 public constant MAX_STEPS = WorkflowGraph.MAX_STEPS;
    uint256 public constant MAX_EXECUTION_TIME = 30 days;
    /// @notice A keeper that neither claims nor records a step for this long has stalled: the client may cancel
    /// ({cancelExecution}). Bounds what any keeper, named or not, can hold up to a day instead of the execution's
    /// maximum time (up to 30 days), while leaving room for a slow step.
    uint256 public constant KEEPER_TIMEOUT = 1 days;

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
    address private immutable _ledger;

    uint256 private _workflowCount;
    uint256 private _executionCount;
    uint256 private _totalHeld;
    mapping(uint256 workflowId => Workflow workflow) private _workflows;
    mapping(uint256 workflowId => mapping(uint256 step => uint256 mask)) private _dependencies;
    mapping(uint256 executionId => Execution execution) private _executions;
    mapping(address account => uint256 amount) private _credits;

    constructor(
        IERC20 token_,
        IAgentRegistry registry_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        IWorkflowVerifier workflowVerifier_,
        IInferenceVerifier inferenceVerifier_,
        address ledger_
    )
        EIP712("AITBC Workflows", "1")
        SafetyGuarded(humanOverride_, constitution_)
        WorkflowProofs(workflowVerifier_, inferenceVerifier_)
    {
        if (
            address(token_) == address(0) ||
            address(registry_) == address(0) ||
            address(humanOverride_) == address(0) ||
            address(constitution_) == address(0) ||
            ledger_ == address(0)
        ) revert WorkflowsZeroAddress();
        _token = token_;
        _registry = registry_;
        _ledger = ledger_;
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
                _requireProvableStep(workflowId, i, step, spec.verification);
                proofMask |= 1 << i;
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
        if (request.maxKeeperFee > budget) revert WorkflowsInvalidKeeperFee(request.maxKeeperFee, budget);
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
        if (request.maxKeeperFee != 0) e.maxKeeperFee = uint128(request.maxKeeperFee); // <= budget
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
        if (e.status == ExecutionStatus.Running) {
            uint64 stallsAt = _graced(e.lastActiveAt, e.lastActiveAt + uint64(KEEPER_TIMEOUT));
            if (block.timestamp <= stallsAt) revert WorkflowsKeeperNotStalled(executionId, stallsAt);
            _fail(executionId, e, keccak256("keeper stalled"));
        } else {
            _requireStatus(executionId, e, ExecutionStatus.Pending);
            _fail(executionId, e, keccak256("cancelled by client"));
        }
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
        e.lastActiveAt = uint64(block.timestamp);
        emit ExecutionClaimed(executionId, keeperId);
        // The keeper's stake backs the execution until it completes, fails or expires.
        _registry.openObligation(keeperId);
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

    /// @dev Checks the clock and every record of a batch (the caller checked the keeper); credits providers and
    /// extends the receipt.
    function _recordBatch(uint256 executionId, Execution storage e, StepRecord[] calldata records) internal override {
        if (records.length == 0) revert WorkflowsEmptyBatch();
        _requireNotExpired(executionId, e);
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
        e.lastActiveAt = uint64(block.timestamp); // the keeper is alive: the liveness clock restarts
        for (uint256 j = 0; j < batch.providerCount; ++j) {
            _credits[batch.providers[j]] += batch.owed[j];
        }
    }

    /// @inheritdoc IWorkflows
    function completeExecution(
        uint256 executionId,
        bytes32 resultHash,
        uint256 keeperFee
    ) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Execution storage e = _execution(executionId);
        _requireKeeperRunning(executionId, e);
        uint256 all = WorkflowGraph.allSteps(_workflows[e.workflowId].stepCount);
        if (e.doneMask != all) revert WorkflowsStepsMissing(executionId, all & ~e.doneMask);
        _requireNotExpired(executionId, e);
        if (_workflows[e.workflowId].verification != VerificationLevel.Basic && resultHash != e.resultHash) {
            revert WorkflowsResultMismatch(executionId, e.resultHash, resultHash);
        }

        _complete(executionId, e, resultHash, keeperFee, msg.sender);
        _enforce(msg.sender, ActionTypes.RUN_WORKFLOW, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function settleCommitted(
        uint256 executionId,
        address keeper,
        uint256 spent,
        bytes32 root,
        bytes32 resultHash,
        uint256 keeperFee
    ) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        if (msg.sender != _ledger) revert WorkflowsNotLedger(msg.sender);
        Execution storage e = _execution(executionId);
        _requireStatus(executionId, e, ExecutionStatus.Running);
        if (_registry.agentIdOf(keeper) != e.keeperId) revert WorkflowsNotKeeper(executionId, keeper);
        Workflow storage wf = _workflows[e.workflowId];
        if (wf.verification != VerificationLevel.Basic) revert WorkflowsProofRequired(executionId);
        if (e.doneMask != 0) revert WorkflowsStepsRecorded(executionId);
        _requireNotExpired(executionId, e);
        if (spent > e.budget) revert WorkflowsBudgetExceeded(executionId, spent, e.budget);
        e.doneMask = WorkflowGraph.allSteps(wf.stepCount);
        e.stepsDone = wf.stepCount;
        e.spent = uint128(spent); // spent <= budget <= uint128 max
        e.receipt = root;
        _totalHeld -= spent;
        _complete(executionId, e, resultHash, keeperFee, keeper);
        _token.safeTransfer(_ledger, spent);
        _enforce(keeper, ActionTypes.RUN_WORKFLOW, 0, gasStart);
    }

    /// @dev Settles a running execution whose steps are all done: the keeper's fee, the client's refund, the
    /// listing's price; closes the keeper's obligation.
    function _complete(
        uint256 executionId,
        Execution storage e,
        bytes32 resultHash,
        uint256 keeperFee,
        address keeper
    ) private {
        if (keeperFee > e.maxKeeperFee) revert WorkflowsKeeperFeeAboveMax(executionId, keeperFee, e.maxKeeperFee);
        if (e.spent + keeperFee > e.budget) revert WorkflowsBudgetExceeded(executionId, e.spent + keeperFee, e.budget);

        e.status = ExecutionStatus.Completed;
        e.finishedAt = uint64(block.timestamp);
        e.resultHash = resultHash;
        uint256 refund = e.budget - e.spent - keeperFee;
        uint256 fee = e.listingFee;
        if (keeperFee != 0) {
            // The fee stays held, as the keeper's credit (claimed with claimCredits, like a provider's).
            _credits[keeper] += keeperFee;
            emit KeeperPaid(executionId, keeper, keeperFee);
        }
        _totalHeld -= refund; // the fee stays held, as the owner's credit
        if (e.listingId != 0) {
            _countListedExecution(e.listingId);
            if (fee != 0) _credits[_workflows[e.workflowId].owner] += fee;
        }
        emit ExecutionCompleted(executionId, resultHash, e.receipt, e.spent, refund);

        _registry.closeObligation(e.keeperId);
        if (refund != 0) _token.safeTransfer(e.client, refund);
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
        uint64 expiresAt = _expiresAt(e);
        if (block.timestamp <= expiresAt) revert WorkflowsNotExpired(executionId, expiresAt);
        _fail(executionId, e, keccak256("max execution time exceeded"));
        _enforce(msg.sender, ActionTypes.UPKEEP, 0, gasStart);
    }

    /// @inheritdoc IWorkflows
    function claimCredits() external whenNotStopped nonReentrant returns (uint256 amount) {
        uint256 retiredFrom = _registry.retiredAgentIdOf(msg.sender);
        if (retiredFrom != 0) revert WorkflowsKeyRetired(msg.sender, retiredFrom);
        amount = _credits[msg.sender];
        if (amount == 0) revert WorkflowsNothingToClaim(msg.sender);
        _credits[msg.sender] = 0;
        _totalHeld -= amount;
        emit CreditsClaimed(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IWorkflows
    function moveCredits(address retiredKey) external whenNotStopped returns (uint256 amount) {
        uint256 agentId = _registry.retiredAgentIdOf(retiredKey);
        if (agentId == 0) revert WorkflowsKeyNotRetired(retiredKey);
        amount = _credits[retiredKey];
        if (amount == 0) revert WorkflowsNothingToClaim(retiredKey);
        address to = _registry.agentAddress(agentId);
        _credits[retiredKey] = 0;
        _credits[to] += amount;
        emit CreditsMoved(retiredKey, to, amount);
    }

    /// @inheritdoc IWorkflows
    function sweepExcess() external whenNotStopped nonReentrant returns (uint256 amount) {
        amount = _token.balanceOf(address(this)) - _totalHeld;
        if (amount == 0) revert WorkflowsNothingToSweep();
        address treasury = _registry.treasury();
        emit ExcessSwept(treasury, amount);
        _token.safeTransfer(treasury, amount);
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
    function ledger() external view returns (address) {
        return _ledger;
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

    // ---------------------------------------------------------------- internal

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
        // A claimed execution (a pending one has no keeper yet) ends the keeper's obligation.
        if (e.keeperId != 0) _registry.closeObligation(e.keeperId);
        if (refund != 0) _token.safeTransfer(e.client, refund);
    }

    /// @dev When a running execution's maximum time ends: from the claim, extended by the stops that hit it.
    function _expiresAt(Execution storage e) private view returns (uint64) {
        return _graced(e.startedAt, e.startedAt + _workflows[e.workflowId].maxExecutionTime);
    }

    function _requireNotExpired(uint256 executionId, Execution storage e) private view {
        uint64 expiresAt = _expiresAt(e);
        if (block.timestamp > expiresAt) revert WorkflowsExpired(executionId, expiresAt);
    }

    function _requireKeeperRunning(uint256 executionId, Execution storage e) private view {
        _requireStatus(executionId, e, ExecutionStatus.Running);
        if (_registry.agentIdOf(msg.sender) != e.keeperId) revert WorkflowsNotKeeper(executionId, msg.sender);
    }

    function _workflow(uint256 workflowId) private view returns (Workflow storage wf) {
        wf = _workflows[workflowId];
        if (wf.owner == address(0)) revert WorkflowsUnknownWorkflow(workflowId);
    }

    function _execution(uint256 executionId) private view returns (Execution storage e) {
        e = _executions[executionId];
        if (e.status == ExecutionStatus.None) revert WorkflowsUnknownExecution(executionId);
    }

    function _requireStatus(uint256 executionId, Execution storage e, ExecutionStatus wanted) private view {
        if (e.status != wanted) revert WorkflowsWrongStatus(executionId, e.status);
    }

    // ---------------------------------------------------------------- hooks of WorkflowListings and WorkflowProofs

    function _workflowOwner(uint256 workflowId) internal view override returns (address) {
        return _workflows[workflowId].owner;
    }

    function _requireWorkflowOwner(uint256 workflowId) internal view override {
        if (_workflow(workflowId).owner != msg.sender) revert WorkflowsNotWorkflowOwner(workflowId, msg.sender);
    }

    function _creditHeld(address account, uint256 amount) internal override {
        _credits[account] += amount;
        _totalHeld += amount;
    }

    function _collect(address from, uint256 amount) internal override {
        _token.safeTransferFrom(from, address(this), amount);
    }

    function _takeRating(uint256 executionId) internal override returns (uint256 listingId) {
        Execution storage e = _execution(executionId);
        if (msg.sender != e.client) revert WorkflowsNotClient(executionId, msg.sender);
        _requireStatus(executionId, e, ExecutionStatus.Completed);
        listingId = e.listingId;
        if (listingId == 0) revert WorkflowsUnknownListing(0);
        if (e.rated) revert WorkflowsAlreadyRated(executionId);
        e.rated = true;
    }

    function _keeperExecution(
        uint256 executionId
    ) internal view override returns (Execution storage e, Workflow storage wf) {
        e = _execution(executionId);
        _requireKeeperRunning(executionId, e);
        wf = _workflows[e.workflowId];
    }
}
