// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Groth16Proof} from "./IZkVerifiers.sol";

/// @title IWorkflows
/// @notice Seed 003's multi-step AI workflows on chain: definitions (a DAG of steps, content-addressed), executions
/// with budget escrow driven by a keeper agent, per-step records signed by the providers that ran them, an
/// execution receipt committing to every record, and listings with prices, ratings and access control.
/// @dev An execution's max time, when it ends within a day after an emergency stop ends, moves to the end of that
/// day (SafetyGuarded.GRACE_AFTER_RESUME): nobody can act while stopped.
interface IWorkflows {
    enum StepType {
        Inference,
        Training,
        DataProcessing
    }

    /// @notice Seed 003's verification levels. Basic: the keeper's records, each signed by its provider. Full: the
    /// records are transcript leaves and arrive with workflow proofs ({recordProvenSteps}) that show every step's
    /// input is bound to exactly its dependencies' outputs (the client's inputs for a root) and that the last
    /// step's output is the result. Zk: as Full, plus an inference proof for every `requiresProof` step.
    enum VerificationLevel {
        Basic,
        Full,
        Zk
    }

    enum ExecutionStatus {
        None,
        Pending,
        Running,
        Completed,
        Failed
    }

    /// @notice Seed 003's AgentStep. The chain enforces `dependsOn`; at the Full and Zk levels the list must be
    /// strictly ascending, below the step's own index, at most {MAX_PROVEN_DEPS} long, and the workflow at most
    /// {MAX_PROVEN_STEPS} steps (the workflow circuit's bounds). `requiresProof` is for Inference steps of Zk
    /// workflows: `model` is then the Poseidon commitment to the model's weights that the inference proof opens.
    /// The other fields are the content-addressed part keepers rebuild the step from (mappings are free text).
    struct StepSpec {
        StepType stepType;
        bytes32 model;
        string inputMapping;
        string outputMapping;
        uint32 timeout;
        uint8 maxRetries;
        uint32 retryBackoff;
        bool requiresProof;
        uint16[] dependsOn;
    }

    /// @notice Seed 003's AIAgentWorkflow. Its hash (keccak256 of its ABI encoding) is the workflow's specHash;
    /// the full specification stays in the defining transaction's calldata.
    struct WorkflowSpec {
        string name;
        StepSpec[] steps;
        uint64 maxExecutionTime;
        uint256 maxBudget;
        VerificationLevel verification;
    }

    struct Workflow {
        address owner;
        uint16 stepCount;
        VerificationLevel verification;
        uint64 maxExecutionTime;
        uint256 maxBudget;
        bytes32 specHash;
        uint256 proofMask;
    }

    /// @notice One step's record, signed by its provider (EIP-712 StepResult). At the Full and Zk levels the record
    /// commits to the step through its transcript leaf: `inputHash` is zero and `outputHash` is
    /// Poseidon(x_0, x_1, output hash), a field element, where x_0, x_1 are the output hashes of the step's
    /// dependencies (zero-padded; the client's inputsHash for a root); the workflow proof opens it.
    struct StepRecord {
        uint16 step;
        address provider;
        bytes32 inputHash;
        bytes32 outputHash;
        uint256 cost;
        bytes signature;
    }

    /// @notice What a client asks for. `keeper` is the only agent that may claim the execution (the zero address
    /// lets any active agent claim it): at the basic verification level the keeper chooses providers and costs,
    /// so the client must trust it with the budget. `maxListingFee` caps the listing's execution price, which
    /// its owner may change at any time.
    struct ExecutionRequest {
        uint256 workflowId;
        bytes32 inputsHash;
        uint256 budget;
        uint256 listingId;
        address keeper;
        uint256 maxListingFee;
    }

    /// @notice Seed 003's AgentExecution. `receipt` is the running commitment over the step records:
    /// receipt_0 = keccak256(abi.encode(executionId, workflowId, inputsHash)), then for each record in order
    /// receipt_k = keccak256(abi.encode(receipt_{k-1}, step, provider, inputHash, outputHash, cost)).
    struct Execution {
        address client;
        ExecutionStatus status;
        uint16 stepsDone;
        uint64 requestedAt;
        uint64 workflowId;
        uint64 keeperId;
        uint64 startedAt;
        uint64 finishedAt;
        uint128 budget;
        uint128 spent;
        uint256 doneMask;
        bytes32 inputsHash;
        bytes32 receipt;
        bytes32 resultHash;
        uint64 listingId;
        uint128 listingFee;
        bool rated;
        address keeper;
        bytes32 outputsRoot;
    }

    /// @notice A workflow chunk proof (circuits/src/workflow.circom) with the two public values the chain does not
    /// hold yet: the commitment to all the execution's output hashes, and the result (the last step's output).
    /// Every chunk of an execution must carry the same two.
    struct TranscriptProof {
        bytes32 outputsRoot;
        bytes32 resultHash;
        Groth16Proof proof;
    }

    /// @notice An inference proof (circuits/src/inference.circom) for a `requiresProof` step: the step's model and
    /// recorded leaf are taken from the chain; `inputHash` and `outputHash` are what the leaf commits to.
    struct InferenceProof {
        uint256 inputHash;
        uint256 outputHash;
        Groth16Proof proof;
    }

    /// @notice Seed 003's AgentMarketplace listing.
    struct ListingInput {
        string title;
        string description;
        string[] tags;
        uint128 executionPrice;
        uint128 subscriptionPrice;
        bool isPublic;
    }

    struct Listing {
        uint64 workflowId;
        bool isPublic;
        bool active;
        uint128 executionPrice;
        uint128 subscriptionPrice;
        uint64 totalExecutions;
        uint64 ratingCount;
        uint64 ratingSum;
        string title;
        string description;
        string[] tags;
    }

    error WorkflowsZeroAddress();
    error WorkflowsNoSteps();
    error WorkflowsTooManySteps(uint256 count, uint256 max);
    error WorkflowsUnknownDependency(uint256 step, uint256 dependency);
    error WorkflowsCycle(uint256 step);
    error WorkflowsInvalidSpec(string field);
    error WorkflowsUnknownWorkflow(uint256 workflowId);
    error WorkflowsNotWorkflowOwner(uint256 workflowId, address caller);
    error WorkflowsInvalidBudget(uint256 budget, uint256 maxBudget);
    error WorkflowsUnknownExecution(uint256 executionId);
    error WorkflowsWrongStatus(uint256 executionId, ExecutionStatus status);
    error WorkflowsNotClient(uint256 executionId, address caller);
    error WorkflowsNotKeeper(uint256 executionId, address caller);
    error WorkflowsNotActiveAgent(address account);
    error WorkflowsEmptyBatch();
    error WorkflowsUnknownStep(uint256 executionId, uint256 step);
    error WorkflowsStepAlreadyRecorded(uint256 executionId, uint256 step);
    error WorkflowsDependencyPending(uint256 executionId, uint256 step, uint256 missingMask);
    error WorkflowsInvalidStepSignature(uint256 executionId, uint256 step);
    error WorkflowsProviderNotActive(uint256 executionId, address provider);
    error WorkflowsBudgetExceeded(uint256 executionId, uint256 spent, uint256 budget);
    error WorkflowsStepsMissing(uint256 executionId, uint256 missingMask);
    error WorkflowsNotExpired(uint256 executionId, uint64 expiresAt);
    error WorkflowsExpired(uint256 executionId, uint64 expiresAt);
    error WorkflowsUnknownListing(uint256 listingId);
    error WorkflowsListingMismatch(uint256 listingId, uint256 workflowId);
    error WorkflowsAccessDenied(uint256 listingId, address caller);
    error WorkflowsInvalidRating(uint8 rating);
    error WorkflowsAlreadyRated(uint256 executionId);
    error WorkflowsNothingToClaim(address account);
    error WorkflowsListingFeeAboveMax(uint256 listingId, uint256 fee, uint256 maxListingFee);
    error WorkflowsNoSubscription(uint256 listingId);
    error WorkflowsProofRequired(uint256 executionId);
    error WorkflowsNotProven(uint256 executionId);
    error WorkflowsInvalidChunk(uint256 executionId, uint256 start, uint256 records);
    error WorkflowsNotFieldElement(string field, bytes32 value);
    error WorkflowsTranscriptMismatch(uint256 executionId);
    error WorkflowsInvalidTranscriptProof(uint256 executionId, uint256 start);
    error WorkflowsInferenceProofCount(uint256 executionId, uint256 expected, uint256 given);
    error WorkflowsInvalidInferenceProof(uint256 executionId, uint256 step);
    error WorkflowsResultMismatch(uint256 executionId, bytes32 proven, bytes32 given);

    event WorkflowDefined(
        uint256 indexed workflowId,
        address indexed owner,
        bytes32 specHash,
        string name,
        uint256 steps
    );
    event ExecutionRequested(
        uint256 indexed executionId,
        uint256 indexed workflowId,
        address indexed client,
        bytes32 inputsHash,
        uint256 budget,
        uint256 listingId,
        uint256 listingFee,
        address keeper
    );
    event ExecutionClaimed(uint256 indexed executionId, uint256 indexed keeperId);
    event StepRecorded(
        uint256 indexed executionId,
        uint256 indexed step,
        address indexed provider,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 cost
    );
    event ExecutionCompleted(
        uint256 indexed executionId,
        bytes32 resultHash,
        bytes32 receipt,
        uint256 spent,
        uint256 refund
    );
    event ExecutionFailed(uint256 indexed executionId, bytes32 reasonHash, uint256 spent, uint256 refund);
    event CreditsClaimed(address indexed account, uint256 amount);
    event ListingCreated(uint256 indexed listingId, uint256 indexed workflowId, ListingInput input);
    event ListingUpdated(uint256 indexed listingId, ListingInput input, bool active);
    event AccessSet(uint256 indexed listingId, address indexed user, bool authorized);
    event Subscribed(uint256 indexed listingId, address indexed user, uint64 until, uint256 price);
    event ExecutionRated(uint256 indexed executionId, uint256 indexed listingId, uint8 rating);
    event TranscriptChunkProven(uint256 indexed executionId, uint256 start, uint256 steps, bytes32 outputsRoot);

    // ---------------------------------------------------------------- definitions

    /// @notice Defines a workflow. Rejects empty and oversized graphs, unknown dependencies and cycles.
    function defineWorkflow(WorkflowSpec calldata spec) external returns (uint256 workflowId);

    // ---------------------------------------------------------------- executions

    /// @notice Requests an execution and escrows its budget (plus the listing's execution price, unless the
    /// caller subscribes). Without a listing (`listingId` 0) only the workflow's owner may execute it.
    function requestExecution(ExecutionRequest calldata request) external returns (uint256 executionId);

    /// @notice The client withdraws a request no keeper has claimed: full refund.
    function cancelExecution(uint256 executionId) external;

    /// @notice An active agent (the one the client named, if it named one) becomes the execution's keeper.
    function claimExecution(uint256 executionId) external;

    /// @notice The keeper records a batch of step results, each signed by its provider; a step's dependencies
    /// must be recorded first (earlier in the batch counts). Each step's cost is credited to its provider.
    /// Nothing can be recorded once the execution's max time has passed. Basic level only (see
    /// {recordProvenSteps}).
    function recordSteps(uint256 executionId, StepRecord[] calldata records) external;

    /// @notice The keeper of a Full or Zk execution records one chunk of step records (steps start ..
    /// start + {PROVEN_CHUNK} - 1, in order; fewer for the last chunk) with its workflow proof, and for a Zk
    /// execution one inference proof per `requiresProof` step of the chunk, in step order. Same checks and
    /// payments as {recordSteps}; the first chunk fixes the transcript's outputs root and result.
    function recordProvenSteps(
        uint256 executionId,
        StepRecord[] calldata records,
        TranscriptProof calldata transcript,
        InferenceProof[] calldata inferences
    ) external;

    /// @notice The keeper completes an execution whose every step is recorded: the unspent budget goes back to
    /// the client and the listing's price to the workflow's owner. A proven execution's result must be the
    /// proven one.
    function completeExecution(uint256 executionId, bytes32 resultHash) external;

    /// @notice The keeper gives up: the execution fails and the unspent budget goes back to the client.
    function failExecution(uint256 executionId, bytes32 reasonHash) external;

    /// @notice Anyone fails a running execution past its workflow's max execution time: unspent budget refunded.
    function expireExecution(uint256 executionId) external;

    /// @notice Pays the caller's credits (step costs earned as a provider, listing income as an owner).
    function claimCredits() external returns (uint256 amount);

    // ---------------------------------------------------------------- listings

    function createListing(uint256 workflowId, ListingInput calldata input) external returns (uint256 listingId);

    function updateListing(uint256 listingId, ListingInput calldata input, bool active) external;

    /// @notice The workflow owner grants or removes a user's access to a restricted listing.
    function setAccess(uint256 listingId, address user, bool authorized) external;

    /// @notice Pays the subscription price (at most `maxPrice`, against an owner raising it first) to the owner:
    /// access and no per-execution price for 30 days. A listing whose subscription price is 0 offers none.
    function subscribe(uint256 listingId, uint256 maxPrice) external;

    /// @notice The client of a completed execution made through a listing rates it once, 1 to 5.
    function rateExecution(uint256 executionId, uint8 rating) external;

    // ---------------------------------------------------------------- views

    function getWorkflow(uint256 workflowId) external view returns (Workflow memory);

    function dependenciesOf(uint256 workflowId, uint256 step) external view returns (uint256 mask);

    function getExecution(uint256 executionId) external view returns (Execution memory);

    /// @notice Seed 003's status query: status, steps done (the "current step"), timings and cost.
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
        );

    function getListing(uint256 listingId) external view returns (Listing memory);

    /// @notice Average rating × 100 (0 when unrated).
    function ratingOf(uint256 listingId) external view returns (uint256);

    function hasAccess(uint256 listingId, address user) external view returns (bool);

    function creditsOf(address account) external view returns (uint256);

    /// @notice Unspent budgets and listing fees of open executions plus unclaimed credits: this contract's balance.
    function totalHeld() external view returns (uint256);

    /// @notice EIP-712 digest a provider signs for a step result.
    function hashStepResult(
        uint256 executionId,
        uint16 step,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 cost
    ) external view returns (bytes32);

    function MAX_STEPS() external view returns (uint256);

    /// @notice The workflow circuit's bounds for Full and Zk workflows.
    function MAX_PROVEN_STEPS() external view returns (uint256);

    function MAX_PROVEN_DEPS() external view returns (uint256);

    function PROVEN_CHUNK() external view returns (uint256);

    /// @notice The packed dependency words of a proven workflow's chunk `chunk` (the workflow circuit's `deps`).
    function provenDependencies(uint256 workflowId, uint256 chunk) external view returns (uint256[2] memory);
}
