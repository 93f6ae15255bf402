// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Groth16Proof} from "./IZkVerifiers.sol";
import {IWorkflows} from "./IWorkflows.sol";

/// @title IWorkflowLedger
/// @notice Cheap recording for basic workflow executions: instead of storing each step record (a signature recovered
/// on chain per step), the keeper commits one Merkle root over the records of one or many executions and completes
/// them in the same call; providers are paid by claims that prove their records against the root, after a challenge
/// window in which anyone may prove a record wrong and have the party at fault slashed.
/// @dev A leaf is keccak256(bytes.concat(keccak256(abi.encode(executionId, step, provider, cost, detailHash)))) with
/// detailHash = keccak256(abi.encode(inputHash, outputHash, keccak256(signature))), `signature` the provider's
/// EIP-712 StepResult signature under the Workflows domain (the same record {IWorkflows.recordSteps} takes). Pairs
/// hash sorted (OpenZeppelin MerkleProof; protocol/merkle.ts builds the tree and its proofs).
interface IWorkflowLedger {
    /// @notice One execution a commitment completes: what its steps cost in all (moved from Workflows to the ledger),
    /// its result, and the keeper's fee.
    struct Settlement {
        uint256 executionId;
        uint256 spent;
        bytes32 resultHash;
        uint256 keeperFee;
    }

    /// @notice A committed record as its provider claims it (the provider is the claim's).
    struct Leaf {
        uint256 executionId;
        uint16 step;
        uint256 cost;
        bytes32 detailHash;
    }

    /// @notice Leaves of one commitment, with an OpenZeppelin multiproof (leaves in the multiproof's order).
    struct Claim {
        uint256 commitmentId;
        Leaf[] leaves;
        bytes32[] proof;
        bool[] proofFlags;
    }

    /// @notice Records of one execution as a DAG/budget challenge shows them: each leaf's provider, the leaves, and
    /// an OpenZeppelin multiproof of them.
    struct RecordsEvidence {
        address[] providers;
        Leaf[] leaves;
        bytes32[] proof;
        bool[] proofFlags;
    }

    /// @notice A whole committed record, as a challenger shows it.
    struct Record {
        uint256 executionId;
        uint16 step;
        address provider;
        bytes32 inputHash;
        bytes32 outputHash;
        uint256 cost;
        bytes signature;
    }

    /// @notice An inference proof (circuits/src/inference.circom) of a step's true output: public modelHash (from
    /// the workflow's spec), inputHash, outputHash and leaf.
    struct OutputProof {
        uint256 inputHash;
        uint256 outputHash;
        uint256 leaf;
        Groth16Proof proof;
    }

    struct Commitment {
        bytes32 root;
        address keeper;
        uint64 committedAt;
    }

    /// @notice Per execution: its commitment, what is left to pay out of what it spent, and whether a proven fault
    /// voided it.
    struct Entry {
        uint64 commitmentId;
        uint128 remaining;
        bool voided;
    }

    error WorkflowLedgerZeroAddress();
    error WorkflowLedgerNotDeployer(address caller);
    error WorkflowLedgerAlreadyBound();
    error WorkflowLedgerNotBound();
    error WorkflowLedgerZeroAmount();
    error WorkflowLedgerEmptyCommitment();
    error WorkflowLedgerZeroRoot();
    /// @notice Committing needs `required` of bond; the keeper has `bond`.
    error WorkflowLedgerBondTooLow(address keeper, uint256 bond, uint256 required);
    error WorkflowLedgerBondLocked(address keeper, uint64 lockedUntil);
    error WorkflowLedgerBondInsufficient(address keeper, uint256 bond, uint256 amount);
    error WorkflowLedgerUnknownCommitment(uint256 commitmentId);
    error WorkflowLedgerNotCommitted(uint256 executionId);
    /// @notice A leaf claimed against a commitment that does not settle its execution.
    error WorkflowLedgerWrongCommitment(uint256 executionId, uint256 commitmentId);
    error WorkflowLedgerInvalidProof(uint256 commitmentId);
    /// @notice Claims wait for the challenge window to end.
    error WorkflowLedgerWindowOpen(uint256 commitmentId, uint64 endsAt);
    /// @notice Challenges come within the window.
    error WorkflowLedgerWindowClosed(uint256 commitmentId, uint64 endedAt);
    error WorkflowLedgerUnknownStep(uint256 executionId, uint256 step);
    /// @notice The step was already paid, or voided by a challenge.
    error WorkflowLedgerStepSettled(uint256 executionId, uint256 step);
    /// @notice A proven fault voided the execution's commitment.
    error WorkflowLedgerExecutionVoided(uint256 executionId);
    /// @notice The records claimed cost more than the execution has left to pay.
    error WorkflowLedgerExceedsSpent(uint256 executionId, uint256 cost, uint256 remaining);
    error WorkflowLedgerNotAgent(address provider);
    error WorkflowLedgerEmptyClaim();
    /// @notice An output challenge needs the record's signature to recover to its provider (else challenge that).
    error WorkflowLedgerSignatureInvalid(uint256 executionId, uint256 step);
    error WorkflowLedgerSpecMismatch(uint256 executionId);
    /// @notice Only an Inference step whose model is a non-zero field element has a provable output.
    error WorkflowLedgerStepNotProvable(uint256 executionId, uint256 step);
    error WorkflowLedgerInputMismatch(uint256 executionId, uint256 step);
    error WorkflowLedgerInvalidOutputProof(uint256 executionId, uint256 step);

    event Bound(address workflows);
    event BondDeposited(address indexed keeper, address indexed from, uint256 amount, uint256 bond);
    event BondWithdrawn(address indexed keeper, uint256 amount, uint256 bond);
    event Committed(uint256 indexed commitmentId, address indexed keeper, bytes32 root, uint256 executions);
    event ExecutionCommitted(uint256 indexed executionId, uint256 indexed commitmentId, uint256 spent);
    event Claimed(address indexed provider, address indexed to, uint256 steps, uint256 amount);
    /// @notice A challenge proved a fault: `kind` 1 signature, 2 DAG or budget, 3 output; `slashed` from `party`.
    event ChallengeUpheld(
        uint256 indexed executionId,
        uint256 step,
        uint8 kind,
        address indexed party,
        uint256 slashed,
        address indexed challenger,
        uint256 refunded
    );
    /// @notice A challenge did not prove a fault: the challenger's bond went to the accused.
    event ChallengeRejected(
        uint256 indexed executionId,
        uint256 step,
        uint8 kind,
        address indexed accused,
        address challenger
    );

    /// @notice Binds the Workflows this ledger settles with (once, by the deployer).
    function bind(IWorkflows workflows_) external;

    /// @notice Adds `amount`, paid by the caller (allowance needed), to `keeper`'s bond: anyone may fund a keeper's
    /// bond (its operator, typically: an agent's own transfers count against its constitution's daily volume).
    function depositBond(address keeper, uint256 amount) external;

    /// @notice Withdraws `amount` of the caller's bond, once the windows of its commitments have ended.
    function withdrawBond(uint256 amount) external;

    /// @notice The keeper completes each execution of `settlements` (Workflows.settleCommitted) and commits `root`
    /// over their step records. Needs a bond of at least {keeperBond}, locked until the window ends.
    function commit(Settlement[] calldata settlements, bytes32 root) external returns (uint256 commitmentId);

    /// @notice Pays `provider` (its current key, if this one was rotated away) for the leaves of `claims`, each
    /// proven against its commitment after the window; each step is paid once. Anyone may submit it.
    function claim(address provider, Claim[] calldata claims) external returns (uint256 amount);

    /// @notice Evidence (a): a committed record whose signature does not recover to its provider. Upheld: the
    /// keeper's bond is slashed (to the challenger) and the record's cost goes back to the client. Rejected: the
    /// challenger's {challengeBond} goes to the keeper.
    function challengeSignature(Record calldata record, bytes32[] calldata proof) external;

    /// @notice Evidence (b): committed records of one execution (a multiproof) that break the DAG (a step outside
    /// the workflow, two records for one step) or the budget (their costs sum above what the execution spent).
    /// Upheld: the keeper's bond is slashed and the execution's unpaid remainder goes back to the client.
    function challengeRecords(uint256 executionId, RecordsEvidence calldata evidence) external;

    /// @notice Evidence (c): a committed record of a provable step (an Inference step whose model is a non-zero field
    /// element; `spec` is the workflow's specification, checked against its specHash) whose output differs from the
    /// model's, proven by an inference proof on the record's input. Upheld: the provider's stake is slashed
    /// through the registry (its maximum slash) and the record's cost goes back to the client.
    function challengeOutput(
        Record calldata record,
        bytes32[] calldata merkleProof,
        IWorkflows.WorkflowSpec calldata spec,
        OutputProof calldata output
    ) external;

    function workflows() external view returns (IWorkflows);

    function commitmentOf(uint256 commitmentId) external view returns (Commitment memory);

    function entryOf(uint256 executionId) external view returns (Entry memory);

    /// @notice Steps of `executionId` paid or voided (bit i: step i).
    function settledMask(uint256 executionId) external view returns (uint256);

    function bondOf(address keeper) external view returns (uint256);

    /// @notice When the challenge window of `commitmentId` ends (extended by emergency stops).
    function windowEndsAt(uint256 commitmentId) external view returns (uint64);

    /// @notice The leaf of a record.
    function leafOf(
        uint256 executionId,
        uint16 step,
        address provider,
        uint256 cost,
        bytes32 detailHash
    ) external pure returns (bytes32);

    /// @notice keccak256(abi.encode(inputHash, outputHash, keccak256(signature))).
    function detailHashOf(
        bytes32 inputHash,
        bytes32 outputHash,
        bytes calldata signature
    ) external pure returns (bytes32);
}
