// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Groth16Proof} from "./IZkVerifiers.sol";

/// @title IWorkflows
/// @notice Seed 003's multi-step AI workflows on chain: definitions (a DAG of steps, content-addressed), executions
/// with budget escrow driven by a keeper agent, per-step records signed by the providers that ran them, an
/// execution receipt committing to every record, and listings with prices, ratings and access control.
/// @dev An execution's max time, when an emergency stop hit the execution while it ran, is extended by the time the
/// stop took from it, and to at least a day after the stop (IHumanOverride.extendedDeadline): nobody can act while
/// stopped. An execution that expired before a stop stays expired.
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
    /// its owner may change at any time. `maxKeeperFee` (at most the budget) is the most the keeper may take from
    /// the budget as its fee when it completes the execution ({completeExecution}); 0: the keeper works unpaid.
    struct ExecutionRequest {
        uint256 workflowId;
        bytes32 inputsHash;
        uint256 budget;
        uint256 listingId;
        address keeper;
        uint256 maxListingFee;
        uint256 maxKeeperFee;
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
        uint64 lastActiveAt;
        bytes32 outputsRoot;
        uint128 maxKeeperFee;
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

    /// @notice A constructor argument, or the user given to {setAccess}, is the zero address.
    error WorkflowsZeroAddress();

    /// @notice A workflow definition has no steps.
    error WorkflowsNoSteps();

    /// @notice A workflow definition has more steps than allowed.
    /// @param count The number of steps given.
    /// @param max The bound that applies: {MAX_STEPS}, or {MAX_PROVEN_STEPS} at the Full and Zk levels.
    error WorkflowsTooManySteps(uint256 count, uint256 max);

    /// @notice Step `step` depends on `dependency`, an index past the workflow's last step.
    error WorkflowsUnknownDependency(uint256 step, uint256 dependency);

    /// @notice The dependencies are not a DAG.
    /// @param step A step that depends on itself, or the lowest step on or behind a cycle.
    error WorkflowsCycle(uint256 step);

    /// @notice A field of a workflow definition or of a listing is out of bounds.
    /// @param field Its name: name, maxExecutionTime, maxBudget, dependsOn, requiresProof, title, description or tags.
    error WorkflowsInvalidSpec(string field);

    /// @notice No workflow has id `workflowId`.
    error WorkflowsUnknownWorkflow(uint256 workflowId);

    /// @notice Only the workflow's owner may do this: manage its listings, or execute it without a listing.
    error WorkflowsNotWorkflowOwner(uint256 workflowId, address caller);

    /// @notice An execution's budget is zero or above the workflow's `maxBudget`.
    error WorkflowsInvalidBudget(uint256 budget, uint256 maxBudget);

    /// @notice A request's `maxKeeperFee` is above its budget (the fee comes out of the budget).
    error WorkflowsInvalidKeeperFee(uint256 maxKeeperFee, uint256 budget);

    /// @notice The keeper asked for a fee above what the client accepted in its request.
    error WorkflowsKeeperFeeAboveMax(uint256 executionId, uint256 fee, uint256 maxKeeperFee);

    /// @notice No execution has id `executionId`.
    error WorkflowsUnknownExecution(uint256 executionId);

    /// @notice The execution is not in the status this call needs.
    /// @param status Its current status.
    error WorkflowsWrongStatus(uint256 executionId, ExecutionStatus status);

    /// @notice Only the execution's client may do this (cancel it, rate it).
    error WorkflowsNotClient(uint256 executionId, address caller);

    /// @notice The caller is not the execution's keeper, or, when claiming, not the keeper the client named.
    error WorkflowsNotKeeper(uint256 executionId, address caller);

    /// @notice The keeper claimed or recorded a step within KEEPER_TIMEOUT: it has not stalled before `stallsAt`,
    /// and the client cannot cancel the running execution yet.
    error WorkflowsKeeperNotStalled(uint256 executionId, uint64 stallsAt);

    /// @notice Only an active registered agent may claim an execution as its keeper.
    error WorkflowsNotActiveAgent(address account);

    /// @notice A batch of step records is empty.
    error WorkflowsEmptyBatch();

    /// @notice A record names a step past the workflow's last.
    error WorkflowsUnknownStep(uint256 executionId, uint256 step);

    /// @notice The step was recorded already: each step is recorded, and paid, once.
    error WorkflowsStepAlreadyRecorded(uint256 executionId, uint256 step);

    /// @notice A step is recorded before its dependencies.
    /// @param missingMask Bit d set for each dependency d not recorded yet.
    error WorkflowsDependencyPending(uint256 executionId, uint256 step, uint256 missingMask);

    /// @notice A record's signature is not its provider's EIP-712 signature over the step result ({hashStepResult}).
    error WorkflowsInvalidStepSignature(uint256 executionId, uint256 step);

    /// @notice A record's provider is not an active registered agent.
    error WorkflowsProviderNotActive(uint256 executionId, address provider);

    /// @notice The batch would raise the execution's spending to `spent`, above its `budget`.
    error WorkflowsBudgetExceeded(uint256 executionId, uint256 spent, uint256 budget);

    /// @notice The execution cannot complete before every step is recorded.
    /// @param missingMask Bit s set for each step s not recorded yet.
    error WorkflowsStepsMissing(uint256 executionId, uint256 missingMask);

    /// @notice The execution may not be expired before `expiresAt` (its max execution time, plus the grace after an
    /// emergency stop).
    error WorkflowsNotExpired(uint256 executionId, uint64 expiresAt);

    /// @notice The execution's max execution time ended at `expiresAt`: nothing can be recorded or completed any more,
    /// only {expireExecution}.
    error WorkflowsExpired(uint256 executionId, uint64 expiresAt);

    /// @notice No listing has id `listingId` (0 when rating an execution made without a listing).
    error WorkflowsUnknownListing(uint256 listingId);

    /// @notice The listing is for another workflow than `workflowId`, the one requested.
    error WorkflowsListingMismatch(uint256 listingId, uint256 workflowId);

    /// @notice The listing is inactive, or restricted and the caller has no access to it.
    error WorkflowsAccessDenied(uint256 listingId, address caller);

    /// @notice A rating outside 1 to 5.
    error WorkflowsInvalidRating(uint8 rating);

    /// @notice The execution was rated already.
    error WorkflowsAlreadyRated(uint256 executionId);

    /// @notice Workflows holds no more than {totalHeld}: there is nothing to sweep.
    error WorkflowsNothingToSweep();

    /// @notice The caller has no credits to claim.
    error WorkflowsNothingToClaim(address account);

    /// @notice `key` was agent `agentId`'s key and was rotated away: it claims nothing ({moveCredits} moves its
    /// credits to the agent's current key).
    error WorkflowsKeyRetired(address key, uint256 agentId);

    /// @notice `key` was never rotated away from an agent: its credits are its own to claim.
    error WorkflowsKeyNotRetired(address key);

    /// @notice The listing's price is above what the caller agreed to pay.
    /// @param fee The execution or subscription price now in force.
    /// @param maxListingFee The caller's maximum (`maxListingFee` of the request, or `maxPrice` of {subscribe}).
    error WorkflowsListingFeeAboveMax(uint256 listingId, uint256 fee, uint256 maxListingFee);

    /// @notice The listing offers no subscription (its subscription price is 0).
    error WorkflowsNoSubscription(uint256 listingId);

    /// @notice A Full or Zk execution's steps are recorded with proofs, through {recordProvenSteps}.
    error WorkflowsProofRequired(uint256 executionId);

    /// @notice A Basic execution's steps are recorded without proofs, through {recordSteps}.
    error WorkflowsNotProven(uint256 executionId);

    /// @notice A proven batch is not one whole chunk: steps `start` onwards in order, `start` a multiple of
    /// {PROVEN_CHUNK}, and min(PROVEN_CHUNK, steps left) records.
    /// @param records The number of records given.
    error WorkflowsInvalidChunk(uint256 executionId, uint256 start, uint256 records);

    /// @notice A value that a proof takes as a public signal is not a BN254 scalar field element, or breaks a rule of
    /// the proven levels (a zero outputs root, a record with a non-zero inputHash).
    /// @param field Its name: inputsHash, outputsRoot, resultHash, inputHash or outputHash.
    error WorkflowsNotFieldElement(string field, bytes32 value);

    /// @notice The chunk proves another outputs root or result than the execution's first chunk fixed.
    error WorkflowsTranscriptMismatch(uint256 executionId);

    /// @notice The workflow proof of the chunk starting at step `start` does not verify.
    error WorkflowsInvalidTranscriptProof(uint256 executionId, uint256 start);

    /// @notice The chunk carries `given` inference proofs for `expected` `requiresProof` steps (none at the Full
    /// level).
    error WorkflowsInferenceProofCount(uint256 executionId, uint256 expected, uint256 given);

    /// @notice Step `step`'s inference proof does not verify.
    error WorkflowsInvalidInferenceProof(uint256 executionId, uint256 step);

    /// @notice A proven execution completes only with its `proven` result, not `given`.
    error WorkflowsResultMismatch(uint256 executionId, bytes32 proven, bytes32 given);

    /// @notice Only the WorkflowLedger settles an execution whose records are committed by a root.
    error WorkflowsNotLedger(address caller);

    /// @notice A basic execution with step records stored on chain ({recordSteps}) completes with
    /// {completeExecution}, not with a committed root.
    error WorkflowsStepsRecorded(uint256 executionId);

    /// @notice A workflow was defined.
    /// @param specHash keccak256 of the ABI-encoded {WorkflowSpec}; the spec itself is in the transaction's calldata.
    /// @param steps Its number of steps.
    event WorkflowDefined(
        uint256 indexed workflowId,
        address indexed owner,
        bytes32 specHash,
        string name,
        uint256 steps
    );

    /// @notice A client requested an execution and escrowed `budget` + `listingFee`.
    /// @param listingId The listing it was requested through, 0 for none.
    /// @param listingFee The listing's execution price paid (0 without a listing, or for a subscriber).
    /// @param keeper The only agent that may claim it (the zero address: any active agent).
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

    /// @notice Agent `keeperId` claimed the execution as its keeper: it is running.
    event ExecutionClaimed(uint256 indexed executionId, uint256 indexed keeperId);

    /// @notice A step's record was accepted and its `cost` credited to its `provider`.
    event StepRecorded(
        uint256 indexed executionId,
        uint256 indexed step,
        address indexed provider,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 cost
    );

    /// @notice The keeper that completed an execution was credited `fee` from its budget (emitted before
    /// ExecutionCompleted, only for a fee above 0).
    event KeeperPaid(uint256 indexed executionId, address indexed keeper, uint256 fee);

    /// @notice An execution completed.
    /// @param receipt The final commitment over its step records (see {Execution}).
    /// @param refund The unspent budget (less the keeper's fee), sent back to the client.
    event ExecutionCompleted(
        uint256 indexed executionId,
        bytes32 resultHash,
        bytes32 receipt,
        uint256 spent,
        uint256 refund
    );

    /// @notice An execution failed: cancelled by its client, given up by its keeper, or expired; `refund` (unspent
    /// budget plus listing fee) went back to the client.
    /// @param reasonHash The keeper's reason, or keccak256("cancelled by client") or keccak256("max execution time
    /// exceeded").
    event ExecutionFailed(uint256 indexed executionId, bytes32 reasonHash, uint256 spent, uint256 refund);

    /// @notice Tokens sent to Workflows outside its own transfers, `amount`, went to the registry's treasury.
    event ExcessSwept(address indexed treasury, uint256 amount);

    /// @notice `account` was paid its credits.
    event CreditsClaimed(address indexed account, uint256 amount);

    /// @notice Credits of a rotated-away agent key `from` moved to the agent's current key `to`.
    event CreditsMoved(address indexed from, address indexed to, uint256 amount);

    /// @notice A workflow's owner listed it.
    event ListingCreated(uint256 indexed listingId, uint256 indexed workflowId, ListingInput input);

    /// @notice A listing's terms changed; an inactive listing takes no new executions or subscriptions.
    event ListingUpdated(uint256 indexed listingId, ListingInput input, bool active);

    /// @notice The workflow's owner granted (`authorized`) or removed `user`'s access to a restricted listing.
    event AccessSet(uint256 indexed listingId, address indexed user, bool authorized);

    /// @notice `user` paid `price` for a subscription to the listing, which now runs until `until`.
    event Subscribed(uint256 indexed listingId, address indexed user, uint64 until, uint256 price);

    /// @notice The client rated an execution made through listing `listingId`, 1 to 5.
    event ExecutionRated(uint256 indexed executionId, uint256 indexed listingId, uint8 rating);

    /// @notice A chunk of `steps` records from step `start` was recorded with a valid workflow proof of the transcript
    /// whose outputs root is `outputsRoot`.
    event TranscriptChunkProven(uint256 indexed executionId, uint256 start, uint256 steps, bytes32 outputsRoot);

    // ---------------------------------------------------------------- definitions

    /// @notice Defines a workflow. Rejects empty and oversized graphs, unknown dependencies and cycles.
    function defineWorkflow(WorkflowSpec calldata spec) external returns (uint256 workflowId);

    // ---------------------------------------------------------------- executions

    /// @notice Requests an execution and escrows its budget (plus the listing's execution price, unless the
    /// caller subscribes). Without a listing (`listingId` 0) only the workflow's owner may execute it.
    function requestExecution(ExecutionRequest calldata request) external returns (uint256 executionId);

    /// @notice The client withdraws a request no keeper has claimed (full refund), or a running execution whose
    /// keeper has stalled: no claim or step record for KEEPER_TIMEOUT (its `lastActiveAt`). A stalled execution
    /// fails: the client gets the unspent budget and the listing fee back; providers keep the credits of the steps
    /// already recorded.
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

    /// @notice The keeper completes an execution whose every step is recorded: `keeperFee` (at most the request's
    /// `maxKeeperFee`, and what the steps left of the budget) is credited to the keeper ({claimCredits}), the rest
    /// of the unspent budget goes back to the client and the listing's price to the workflow's owner. A proven
    /// execution's result must be the proven one.
    function completeExecution(uint256 executionId, bytes32 resultHash, uint256 keeperFee) external;

    /// @notice The WorkflowLedger completes basic execution `executionId` of `keeper` whose step records are
    /// committed by `root` (its receipt) instead of stored: every step counts as done, `spent` (at most the budget,
    /// with `keeperFee`) moves to the ledger, which pays the providers on claims that prove their records; the
    /// rest settles as {completeExecution}. Only for an execution with no record stored on chain.
    function settleCommitted(
        uint256 executionId,
        address keeper,
        uint256 spent,
        bytes32 root,
        bytes32 resultHash,
        uint256 keeperFee
    ) external;

    /// @notice The WorkflowLedger this contract settles committed executions with.
    function ledger() external view returns (address);

    /// @notice The keeper gives up: the execution fails and the unspent budget goes back to the client.
    function failExecution(uint256 executionId, bytes32 reasonHash) external;

    /// @notice Anyone fails a running execution past its workflow's max execution time: unspent budget refunded.
    function expireExecution(uint256 executionId) external;

    /// @notice Pays the caller's credits (step costs earned as a provider, listing income as an owner). A key
    /// rotated away from an agent ({IAgentRegistry-rotateKey}) claims nothing: see {moveCredits}.
    function claimCredits() external returns (uint256 amount);

    /// @notice Moves the credits of `retiredKey`, a key rotated away from an agent, to that agent's current key
    /// (anyone may call it: the credits can only go to the agent). Listing income of workflows the old key owns
    /// keeps arriving there; this moves it again. Reverts for a key never rotated away, and when there is nothing.
    function moveCredits(address retiredKey) external returns (uint256 amount);

    /// @notice Sends tokens that reached Workflows outside its own transfers (direct transfers) to the registry's
    /// treasury, so that the balance equals {totalHeld} again; never anything held for users. Anyone may call it.
    function sweepExcess() external returns (uint256 amount);

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
