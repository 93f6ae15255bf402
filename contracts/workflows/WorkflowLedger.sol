// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {IWorkflowLedger} from "../interfaces/IWorkflowLedger.sol";
import {IWorkflows} from "../interfaces/IWorkflows.sol";
import {IInferenceVerifier} from "../interfaces/IZkVerifiers.sol";
import {FieldChecks} from "../libraries/FieldChecks.sol";
import {WorkflowGraph} from "../libraries/WorkflowGraph.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title WorkflowLedger
/// @notice Cheap basic recording, deployed apart from {Workflows}: the keeper commits one root over the step records
/// of one or many basic executions and completes them in the same call (Workflows moves what they spent here);
/// providers claim their pay with Merkle proofs after a challenge window; within it anyone may prove a record
/// wrong. See {IWorkflowLedger}.
/// @dev Money: this contract holds the spent budgets of committed executions not yet paid out (each execution's
/// {Entry.remaining}) and the keepers' bonds. A claim pays at most an execution's remainder and each step at most
/// once (the settled mask); an upheld challenge gives the record's cost (or the whole remainder) back to the client.
/// Challenges settle in their own transaction (the evidence is checked on chain), so none is ever pending: a claim
/// after the window meets either a record nobody proved wrong or one a challenge voided.
contract WorkflowLedger is IWorkflowLedger, ReentrancyGuard, SafetyGuarded {
    using SafeERC20 for IERC20;

    uint8 private constant _SIGNATURE = 1;
    uint8 private constant _RECORDS = 2;
    uint8 private constant _OUTPUT = 3;

    /// @notice Seconds after a commitment in which its records may be challenged; claims come after.
    uint256 public immutable challengeWindow;
    /// @notice The bond a keeper needs to commit, and what one upheld challenge takes from it (to the challenger).
    uint256 public immutable keeperBond;
    /// @notice What a challenger risks: it goes to the accused when the evidence does not hold.
    uint256 public immutable challengeBond;

    IERC20 private immutable _token;
    IAgentRegistry private immutable _registry;
    IInferenceVerifier private immutable _inferenceVerifier;
    address private immutable _deployer;

    IWorkflows private _workflows;
    uint256 private _commitmentCount;
    mapping(uint256 commitmentId => Commitment commitment) private _commitments;
    mapping(uint256 executionId => Entry entry) private _entries;
    mapping(uint256 executionId => uint256 mask) private _settled;
    mapping(address keeper => uint256 amount) private _bonds;
    mapping(address keeper => uint64 at) private _lastCommitAt;

    constructor(
        IERC20 token_,
        IAgentRegistry registry_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        IInferenceVerifier inferenceVerifier_,
        uint256 challengeWindow_,
        uint256 keeperBond_,
        uint256 challengeBond_
    ) SafetyGuarded(humanOverride_, constitution_) {
        if (
            address(token_) == address(0) ||
            address(registry_) == address(0) ||
            address(humanOverride_) == address(0) ||
            address(constitution_) == address(0) ||
            address(inferenceVerifier_) == address(0)
        ) revert WorkflowLedgerZeroAddress();
        if (challengeWindow_ == 0 || keeperBond_ == 0 || challengeBond_ == 0) revert WorkflowLedgerZeroAmount();
        _token = token_;
        _registry = registry_;
        _inferenceVerifier = inferenceVerifier_;
        _deployer = msg.sender;
        challengeWindow = challengeWindow_;
        keeperBond = keeperBond_;
        challengeBond = challengeBond_;
    }

    /// @inheritdoc IWorkflowLedger
    function bind(IWorkflows workflows_) external {
        if (msg.sender != _deployer) revert WorkflowLedgerNotDeployer(msg.sender);
        if (address(_workflows) != address(0)) revert WorkflowLedgerAlreadyBound();
        if (address(workflows_) == address(0)) revert WorkflowLedgerZeroAddress();
        _workflows = workflows_;
        emit Bound(address(workflows_));
    }

    // ---------------------------------------------------------------- bonds

    /// @inheritdoc IWorkflowLedger
    function depositBond(address keeper, uint256 amount) external whenNotStopped nonReentrant {
        if (keeper == address(0)) revert WorkflowLedgerZeroAddress();
        if (amount == 0) revert WorkflowLedgerZeroAmount();
        uint256 bond = _bonds[keeper] + amount;
        _bonds[keeper] = bond;
        emit BondDeposited(keeper, msg.sender, amount, bond);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IWorkflowLedger
    function withdrawBond(uint256 amount) external whenNotStopped nonReentrant {
        if (amount == 0) revert WorkflowLedgerZeroAmount();
        uint64 last = _lastCommitAt[msg.sender];
        if (last != 0) {
            uint64 lockedUntil = _graced(last, last + uint64(challengeWindow));
            if (block.timestamp <= lockedUntil) revert WorkflowLedgerBondLocked(msg.sender, lockedUntil);
        }
        uint256 bond = _bonds[msg.sender];
        if (amount > bond) revert WorkflowLedgerBondInsufficient(msg.sender, bond, amount);
        _bonds[msg.sender] = bond - amount;
        emit BondWithdrawn(msg.sender, amount, bond - amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- commitments

    /// @inheritdoc IWorkflowLedger
    function commit(
        Settlement[] calldata settlements,
        bytes32 root
    ) external whenNotStopped nonReentrant returns (uint256 commitmentId) {
        IWorkflows wf = _bound();
        if (settlements.length == 0) revert WorkflowLedgerEmptyCommitment();
        if (root == 0) revert WorkflowLedgerZeroRoot();
        uint256 bond = _bonds[msg.sender];
        if (bond < keeperBond) revert WorkflowLedgerBondTooLow(msg.sender, bond, keeperBond);
        commitmentId = ++_commitmentCount;
        _commitments[commitmentId] = Commitment({root: root, keeper: msg.sender, committedAt: uint64(block.timestamp)});
        _lastCommitAt[msg.sender] = uint64(block.timestamp);
        emit Committed(commitmentId, msg.sender, root, settlements.length);
        for (uint256 i = 0; i < settlements.length; ++i) {
            Settlement calldata s = settlements[i];
            // Workflows checks the execution (running, basic, this keeper's, no record stored, spent within the
            // budget) and moves `spent` here; an execution completes once, so its entry is new.
            wf.settleCommitted(s.executionId, msg.sender, s.spent, root, s.resultHash, s.keeperFee);
            _entries[s.executionId] = Entry({
                commitmentId: uint64(commitmentId),
                remaining: uint128(s.spent), // spent <= budget <= uint128 max (Workflows checked)
                voided: false
            });
            emit ExecutionCommitted(s.executionId, commitmentId, s.spent);
        }
    }

    // ---------------------------------------------------------------- claims

    /// @inheritdoc IWorkflowLedger
    function claim(
        address provider,
        Claim[] calldata claims
    ) external whenNotStopped nonReentrant returns (uint256 amount) {
        if (claims.length == 0) revert WorkflowLedgerEmptyClaim();
        address to = _payee(provider);
        uint256 steps;
        for (uint256 c = 0; c < claims.length; ++c) {
            amount += _claimOne(provider, claims[c]);
            steps += claims[c].leaves.length;
        }
        emit Claimed(provider, to, steps, amount);
        if (amount != 0) _token.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- challenges

    /// @inheritdoc IWorkflowLedger
    function challengeSignature(Record calldata r, bytes32[] calldata proof) external whenNotStopped nonReentrant {
        (Entry storage entry, Commitment storage cm) = _challenged(r, proof);
        if (_signedByProvider(r)) {
            _reject(r.executionId, r.step, _SIGNATURE, cm.keeper);
        } else {
            uint256 refunded = _voidStep(entry, r.executionId, r.step, r.cost);
            uint256 slashed = _slashKeeper(cm.keeper);
            emit ChallengeUpheld(r.executionId, r.step, _SIGNATURE, cm.keeper, slashed, msg.sender, refunded);
        }
    }

    /// @inheritdoc IWorkflowLedger
    function challengeRecords(uint256 executionId, RecordsEvidence calldata ev) external whenNotStopped nonReentrant {
        (Entry storage entry, address keeper) = _provenRecords(executionId, ev);
        (bool broken, address client) = _breaksDagOrBudget(executionId, ev.leaves);
        if (!broken) {
            _reject(executionId, type(uint16).max, _RECORDS, keeper);
            return;
        }
        uint256 refunded = entry.remaining;
        entry.remaining = 0;
        entry.voided = true;
        uint256 slashed = _slashKeeper(keeper);
        emit ChallengeUpheld(executionId, type(uint16).max, _RECORDS, keeper, slashed, msg.sender, refunded);
        if (refunded != 0) _token.safeTransfer(client, refunded);
    }

    /// @inheritdoc IWorkflowLedger
    function challengeOutput(
        Record calldata r,
        bytes32[] calldata merkleProof,
        IWorkflows.WorkflowSpec calldata spec,
        OutputProof calldata output
    ) external whenNotStopped nonReentrant {
        (Entry storage entry, ) = _challenged(r, merkleProof);
        if (!_signedByProvider(r)) revert WorkflowLedgerSignatureInvalid(r.executionId, r.step);
        if (!_outputDiffers(r, spec, output)) {
            _reject(r.executionId, r.step, _OUTPUT, r.provider);
            return;
        }
        uint256 refunded = _voidStep(entry, r.executionId, r.step, r.cost);
        uint256 slashed = _slashProvider(r.provider);
        emit ChallengeUpheld(r.executionId, r.step, _OUTPUT, r.provider, slashed, msg.sender, refunded);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IWorkflowLedger
    function workflows() external view returns (IWorkflows) {
        return _workflows;
    }

    /// @inheritdoc IWorkflowLedger
    function commitmentOf(uint256 commitmentId) external view returns (Commitment memory) {
        return _commitment(commitmentId);
    }

    /// @inheritdoc IWorkflowLedger
    function entryOf(uint256 executionId) external view returns (Entry memory) {
        return _entries[executionId];
    }

    /// @inheritdoc IWorkflowLedger
    function settledMask(uint256 executionId) external view returns (uint256) {
        return _settled[executionId];
    }

    /// @inheritdoc IWorkflowLedger
    function bondOf(address keeper) external view returns (uint256) {
        return _bonds[keeper];
    }

    /// @inheritdoc IWorkflowLedger
    function windowEndsAt(uint256 commitmentId) external view returns (uint64) {
        return _windowEnd(_commitment(commitmentId));
    }

    /// @inheritdoc IWorkflowLedger
    function leafOf(
        uint256 executionId,
        uint16 step,
        address provider,
        uint256 cost,
        bytes32 detailHash
    ) external pure returns (bytes32) {
        return _leaf(executionId, step, provider, cost, detailHash);
    }

    /// @inheritdoc IWorkflowLedger
    function detailHashOf(
        bytes32 inputHash,
        bytes32 outputHash,
        bytes calldata signature
    ) external pure returns (bytes32) {
        return keccak256(abi.encode(inputHash, outputHash, keccak256(signature)));
    }

    // ---------------------------------------------------------------- internal

    function _bound() private view returns (IWorkflows wf) {
        wf = _workflows;
        if (address(wf) == address(0)) revert WorkflowLedgerNotBound();
    }

    function _commitment(uint256 commitmentId) private view returns (Commitment storage cm) {
        cm = _commitments[commitmentId];
        if (cm.root == 0) revert WorkflowLedgerUnknownCommitment(commitmentId);
    }

    function _entry(uint256 executionId) private view returns (Entry storage entry) {
        entry = _entries[executionId];
        if (entry.commitmentId == 0) revert WorkflowLedgerNotCommitted(executionId);
        if (entry.voided) revert WorkflowLedgerExecutionVoided(executionId);
    }

    function _windowEnd(Commitment storage cm) private view returns (uint64) {
        return _graced(cm.committedAt, cm.committedAt + uint64(challengeWindow));
    }

    function _requireWindowOpen(uint256 commitmentId, Commitment storage cm) private view {
        uint64 endsAt = _windowEnd(cm);
        if (block.timestamp > endsAt) revert WorkflowLedgerWindowClosed(commitmentId, endsAt);
    }

    function _leaf(
        uint256 executionId,
        uint16 step,
        address provider,
        uint256 cost,
        bytes32 detailHash
    ) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(executionId, step, provider, cost, detailHash))));
    }

    function _leafOf(Leaf calldata leaf, address provider) private pure returns (bytes32) {
        return _leaf(leaf.executionId, leaf.step, provider, leaf.cost, leaf.detailHash);
    }

    /// @dev Pays the leaves of one claim (their steps marked paid), then checks them against the commitment.
    function _claimOne(address provider, Claim calldata cl) private returns (uint256 amount) {
        Commitment storage cm = _commitment(cl.commitmentId);
        uint64 endsAt = _windowEnd(cm);
        if (block.timestamp <= endsAt) revert WorkflowLedgerWindowOpen(cl.commitmentId, endsAt);
        uint256 n = cl.leaves.length;
        if (n == 0) revert WorkflowLedgerEmptyClaim();
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            Leaf calldata leaf = cl.leaves[i];
            hashes[i] = _leafOf(leaf, provider);
            amount += _pay(cl.commitmentId, leaf.executionId, leaf.step, leaf.cost);
        }
        if (!MerkleProof.multiProofVerifyCalldata(cl.proof, cl.proofFlags, cm.root, hashes)) {
            revert WorkflowLedgerInvalidProof(cl.commitmentId);
        }
    }

    /// @dev Checks records evidence: the execution committed, not voided, in its window, every leaf of it and in
    /// its root. Returns its entry and its keeper.
    function _provenRecords(
        uint256 executionId,
        RecordsEvidence calldata ev
    ) private view returns (Entry storage entry, address keeper) {
        uint256 n = ev.leaves.length;
        if (n == 0 || ev.providers.length != n) revert WorkflowLedgerEmptyClaim();
        entry = _entry(executionId);
        uint256 commitmentId = entry.commitmentId;
        Commitment storage cm = _commitments[commitmentId];
        _requireWindowOpen(commitmentId, cm);
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            if (ev.leaves[i].executionId != executionId) {
                revert WorkflowLedgerWrongCommitment(ev.leaves[i].executionId, commitmentId);
            }
            hashes[i] = _leafOf(ev.leaves[i], ev.providers[i]);
        }
        if (!MerkleProof.multiProofVerifyCalldata(ev.proof, ev.proofFlags, cm.root, hashes)) {
            revert WorkflowLedgerInvalidProof(commitmentId);
        }
        keeper = cm.keeper;
    }

    /// @dev Whether records of one execution break its DAG (a step outside the workflow, two records for one step)
    /// or its budget (costs above what it spent); and the execution's client.
    function _breaksDagOrBudget(
        uint256 executionId,
        Leaf[] calldata leaves
    ) private view returns (bool broken, address client) {
        IWorkflows wf = _bound();
        IWorkflows.Execution memory e = wf.getExecution(executionId);
        client = e.client;
        uint256 stepCount = wf.getWorkflow(e.workflowId).stepCount;
        uint256 seen;
        uint256 total;
        for (uint256 i = 0; i < leaves.length; ++i) {
            uint256 step = leaves[i].step;
            if (step >= stepCount || seen & (1 << step) != 0) return (true, client);
            seen |= 1 << step;
            total += leaves[i].cost;
        }
        broken = total > e.spent;
    }

    /// @dev Marks a step paid and takes its cost from the execution's remainder.
    function _pay(uint256 commitmentId, uint256 executionId, uint256 step, uint256 cost) private returns (uint256) {
        Entry storage entry = _entry(executionId);
        if (entry.commitmentId != commitmentId) revert WorkflowLedgerWrongCommitment(executionId, commitmentId);
        _markSettled(executionId, step);
        uint256 remaining = entry.remaining;
        if (cost > remaining) revert WorkflowLedgerExceedsSpent(executionId, cost, remaining);
        entry.remaining = uint128(remaining - cost);
        return cost;
    }

    function _markSettled(uint256 executionId, uint256 step) private {
        if (step >= WorkflowGraph.MAX_STEPS) revert WorkflowLedgerUnknownStep(executionId, step);
        uint256 mask = _settled[executionId];
        uint256 bit = 1 << step;
        if (mask & bit != 0) revert WorkflowLedgerStepSettled(executionId, step);
        _settled[executionId] = mask | bit;
    }

    /// @dev The checks every single-record challenge shares: the execution committed and not voided, the window
    /// open, the record in the commitment's tree, its step not settled.
    function _challenged(
        Record calldata r,
        bytes32[] calldata proof
    ) private view returns (Entry storage entry, Commitment storage cm) {
        entry = _entry(r.executionId);
        cm = _commitments[entry.commitmentId];
        _requireWindowOpen(entry.commitmentId, cm);
        bytes32 detail = keccak256(abi.encode(r.inputHash, r.outputHash, keccak256(r.signature)));
        bytes32 leaf = _leaf(r.executionId, r.step, r.provider, r.cost, detail);
        if (!MerkleProof.verifyCalldata(proof, cm.root, leaf)) revert WorkflowLedgerInvalidProof(entry.commitmentId);
        if (r.step >= WorkflowGraph.MAX_STEPS) revert WorkflowLedgerUnknownStep(r.executionId, r.step);
        if (_settled[r.executionId] & (1 << r.step) != 0) revert WorkflowLedgerStepSettled(r.executionId, r.step);
    }

    function _signedByProvider(Record calldata r) private view returns (bool) {
        bytes32 digest = _bound().hashStepResult(r.executionId, r.step, r.inputHash, r.outputHash, r.cost);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, r.signature);
        return err == ECDSA.RecoverError.NoError && signer == r.provider;
    }

    /// @dev Voids one record: its step can no longer be paid, and its cost (what is left of it) goes back to the
    /// client.
    function _voidStep(Entry storage entry, uint256 executionId, uint256 step, uint256 cost) private returns (uint256) {
        _markSettled(executionId, step);
        uint256 remaining = entry.remaining;
        uint256 refund = cost < remaining ? cost : remaining;
        entry.remaining = uint128(remaining - refund);
        if (refund != 0) _token.safeTransfer(_bound().getExecution(executionId).client, refund);
        return refund;
    }

    /// @dev Checks output evidence against a record (the spec is the workflow's, the step provable, the proof valid on
    /// the record's input); whether the proven output differs from the recorded one.
    function _outputDiffers(
        Record calldata r,
        IWorkflows.WorkflowSpec calldata spec,
        OutputProof calldata output
    ) private view returns (bool) {
        IWorkflows wf = _bound();
        bytes32 specHash = wf.getWorkflow(wf.getExecution(r.executionId).workflowId).specHash;
        if (keccak256(abi.encode(spec)) != specHash) revert WorkflowLedgerSpecMismatch(r.executionId);
        if (r.step >= spec.steps.length) revert WorkflowLedgerUnknownStep(r.executionId, r.step);
        IWorkflows.StepSpec calldata s = spec.steps[r.step];
        if (s.stepType != IWorkflows.StepType.Inference || !FieldChecks.isNonZeroElement(uint256(s.model))) {
            revert WorkflowLedgerStepNotProvable(r.executionId, r.step);
        }
        if (uint256(r.inputHash) != output.inputHash) revert WorkflowLedgerInputMismatch(r.executionId, r.step);
        uint256[4] memory signals = [uint256(s.model), output.inputHash, output.outputHash, output.leaf];
        if (!_inferenceVerifier.verifyProof(output.proof.a, output.proof.b, output.proof.c, signals)) {
            revert WorkflowLedgerInvalidOutputProof(r.executionId, r.step);
        }
        return uint256(r.outputHash) != output.outputHash;
    }

    /// @dev Slashes a provider proven wrong through the registry: its maximum slash (none if unregistered).
    function _slashProvider(address provider) private returns (uint256 slashed) {
        uint256 providerId = _registry.agentIdOf(provider);
        if (providerId == 0) return 0;
        slashed = _registry.summaryOf(providerId).maxSlash;
        if (slashed != 0) _registry.slash(providerId, slashed, "workflow ledger: output differs from the proven one");
    }

    /// @dev Takes one fault's worth of the keeper's bond ({keeperBond}, or what is left) to the challenger.
    function _slashKeeper(address keeper) private returns (uint256 slashed) {
        uint256 bond = _bonds[keeper];
        slashed = bond < keeperBond ? bond : keeperBond;
        _bonds[keeper] = bond - slashed;
        if (slashed != 0) _token.safeTransfer(msg.sender, slashed);
    }

    /// @dev A challenge whose evidence does not hold: the challenger's bond goes to the accused.
    function _reject(uint256 executionId, uint256 step, uint8 kind, address accused) private {
        emit ChallengeRejected(executionId, step, kind, accused, msg.sender);
        _token.safeTransferFrom(msg.sender, accused, challengeBond);
    }

    /// @dev Where `provider`'s pay goes: its key, or its agent's current key if this one was rotated away.
    function _payee(address provider) private view returns (address) {
        if (_registry.agentIdOf(provider) != 0) return provider;
        uint256 retiredFrom = _registry.retiredAgentIdOf(provider);
        if (retiredFrom == 0) revert WorkflowLedgerNotAgent(provider);
        return _registry.agentAddress(retiredFrom);
    }
}
