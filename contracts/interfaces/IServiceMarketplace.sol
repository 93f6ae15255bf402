// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Groth16Proof} from "./IZkVerifiers.sol";

/// @title IServiceMarketplace
/// @notice Where agents earn: provider agents list GPU services (seed 000's ServiceOffer), clients post workloads
/// with escrow, providers bid, the client (or the clock) awards, the assigned provider submits a signed result,
/// and acceptance or a quiet challenge window settles: escrow to the provider less the protocol fee, reputation
/// up in proportion to the fee (none between related parties), and a compute receipt issued ({receiptOf}) that
/// AIToken mints from once an attestor signs it. Missed deadlines slash; rejected results go to a dispute that a
/// validator agent or a guardian resolves, or that expires ({expireDispute}).
/// @dev Every deadline (award window, execution, challenge window) that an emergency stop hit while it ran is extended by the
/// time the stop took from it, and to at least a day after the stop (IHumanOverride.extendedDeadline): nobody can
/// act while stopped. A deadline that lapsed before a stop stays lapsed.
/// Settlement does not mint by itself: a client and a provider that collude could otherwise mint
/// units × rewardRate for a workload priced at 1 wei. An attestor vouches for the work before supply is created
/// (by signing the receipt, or by publishing it in a receipt tree that ReceiptMinter mints from with a proof).
interface IServiceMarketplace {
    /// @notice Seed 003's verification levels. Basic: the provider's EIP-712 signature over the result. Zk: also an
    /// inference proof ({submitProvenResult}) that the result is model(input) for the workload's `modelHash` (a
    /// Poseidon commitment to the weights). Full (a workflow transcript proof) has no meaning for a single
    /// workload and is refused.
    enum VerificationLevel {
        Basic,
        Full,
        Zk
    }

    enum WorkloadStatus {
        None,
        Open,
        Awarded,
        Submitted,
        Disputed,
        Settled,
        Refunded,
        Cancelled
    }

    /// @notice Seed 000's ServiceOffer. `currentLoad` is kept by the marketplace (units of awarded, unfinished
    /// workloads); the value passed in is ignored.
    struct ServiceOffer {
        bytes32 serviceId;
        string serviceName;
        uint256 pricePerUnit;
        uint256 maxCapacity;
        uint256 currentLoad;
        bytes32 modelHash;
        uint256 minAccuracy;
    }

    /// @notice What a client asks for. At least one of `serviceType` (keccak256 of the offers' serviceName) and
    /// `modelHash` must be set; a bid's offer must match each one that is. Bidding and execution periods are
    /// each at most 30 days. `inputHash` commits to the client's input (off chain); at the Zk level it is the
    /// inference proof's input (Poseidon of the features) and, like `modelHash`, must be a non-zero field element.
    struct WorkloadRequest {
        bytes32 serviceType;
        bytes32 modelHash;
        uint256 units;
        uint256 maxPricePerUnit;
        uint64 bidDeadline;
        uint64 executionDeadline;
        VerificationLevel verification;
        bool reopenOnTimeout;
        bytes32 inputHash;
    }

    /// @notice A workload as stored (packed). While it is Open, Awarded, Submitted or Disputed it holds
    /// units × maxPricePerUnit of escrow. `round` counts reopenings after timeouts.
    struct Workload {
        address client;
        WorkloadStatus status;
        VerificationLevel verification;
        bool reopenOnTimeout;
        uint32 round;
        uint64 bidDeadline;
        uint64 executionDeadline;
        uint64 biddingPeriod;
        uint64 executionPeriod;
        uint64 submittedAt;
        uint96 units;
        uint64 providerId;
        uint32 challengeWindow;
        uint128 maxPricePerUnit;
        uint128 pricePerUnit;
        bytes32 serviceType;
        bytes32 modelHash;
        bytes32 serviceId;
        bytes32 resultHash;
        bytes32 inputHash;
    }

    /// @notice The compute receipt of a settled workload: the fields of AIToken's `ComputeReceipt` except the
    /// deadline, which the attestor chooses when it signs. `units` are the units the receipt rewards: the work's
    /// units, but no more than the settlement's protocol fee pays at the token's reward rate of that moment
    /// (units × rewardRate <= fee; 0 when the fee is below one unit's reward: nothing to mint). The work's own units
    /// are in `workHash`. So no receipt mints more than its payer paid the treasury, and wash work does not pay.
    struct ReceiptData {
        bytes32 receiptId;
        address provider;
        address client;
        uint256 units;
        bytes32 workHash;
        bytes32 resultHash;
    }

    /// @notice A bid as stored (its proposal hash is in the BidPlaced event).
    struct Bid {
        uint64 providerId;
        uint64 placedAt;
        uint128 pricePerUnit;
        bytes32 serviceId;
    }

    /// @notice A constructor argument is the zero address.
    error MarketplaceZeroAddress();

    /// @notice A protocol parameter is out of its bounds.
    /// @param name protocolFeeBps (at most {MAX_FEE_BPS}), challengeWindow ({MIN_CHALLENGE_WINDOW} to
    /// {MAX_CHALLENGE_WINDOW}) or timeoutSlashBps (at most {MAX_TIMEOUT_SLASH_BPS}).
    error MarketplaceInvalidParameter(string name, uint256 value);

    /// @notice `account` is not a registered agent.
    error MarketplaceNotRegistered(address account);

    /// @notice Agent `agentId` is not active (frozen, exiting, or staked below its requirement).
    error MarketplaceAgentNotActive(uint256 agentId);

    /// @notice Only a ServiceProvider agent may list services.
    error MarketplaceNotServiceProvider(uint256 agentId);

    /// @notice A service id is zero.
    error MarketplaceInvalidServiceId();

    /// @notice The marketplace holds no more than its workloads' escrow: there is nothing to sweep.
    error MarketplaceNothingToSweep();

    /// @notice A service with this id exists and is listed, or belongs to another provider (an id never changes
    /// hands; only its own provider may list a delisted id again).
    error MarketplaceServiceExists(bytes32 serviceId);

    /// @notice No service has id `serviceId`.
    error MarketplaceUnknownService(bytes32 serviceId);

    /// @notice The caller, agent `agentId`, is not the service's provider.
    error MarketplaceNotServiceOwner(bytes32 serviceId, uint256 agentId);

    /// @notice The service is delisted: it takes no bids or awards. Also at award, for a bid placed before the
    /// service was listed again (a relisting voids the bids of the earlier listing).
    error MarketplaceServiceNotListed(bytes32 serviceId);

    /// @notice An update may not set the capacity below the service's current load.
    error MarketplaceCapacityBelowLoad(bytes32 serviceId, uint256 maxCapacity, uint256 currentLoad);

    /// @notice The service's free capacity (`available` units) does not cover the workload's `units`.
    error MarketplaceCapacityExceeded(bytes32 serviceId, uint256 units, uint256 available);

    /// @notice A field of a workload request, a service offer or a bid is out of bounds.
    /// @param field Its name: serviceType/modelHash, units, maxPricePerUnit, bidDeadline, executionDeadline, modelHash,
    /// inputHash, serviceName, pricePerUnit or maxCapacity.
    error MarketplaceInvalidRequest(string field);

    /// @notice A workload may not ask for this verification level (Full has no meaning for a single workload).
    error MarketplaceVerificationUnsupported(VerificationLevel level);

    /// @notice A Zk workload's result comes with an inference proof, through {submitProvenResult}.
    error MarketplaceProofRequired(uint256 workloadId);

    /// @notice Only a Zk workload takes a proven result; others use {submitResult}.
    error MarketplaceNotProven(uint256 workloadId);

    /// @notice The inference proof does not verify for the workload's model, input and the submitted result.
    error MarketplaceInvalidProof(uint256 workloadId);

    /// @notice No workload has id `workloadId`.
    error MarketplaceUnknownWorkload(uint256 workloadId);

    /// @notice The workload is not in the status this call needs.
    /// @param status Its current status.
    error MarketplaceWrongStatus(uint256 workloadId, WorkloadStatus status);

    /// @notice Only the workload's client may do this (cancel, award, accept, reject).
    error MarketplaceNotClient(uint256 workloadId, address caller);

    /// @notice The bidding deadline `bidDeadline` has passed.
    error MarketplaceBiddingClosed(uint256 workloadId, uint64 bidDeadline);

    /// @notice {autoAward} waits until the bidding deadline `bidDeadline` has passed.
    error MarketplaceBiddingOpen(uint256 workloadId, uint64 bidDeadline);

    /// @notice A bid's price per unit is above the workload's maximum.
    error MarketplaceBidAboveMax(uint256 workloadId, uint256 pricePerUnit, uint256 maxPricePerUnit);

    /// @notice The bid's service does not offer the service type or the model the workload asks for.
    error MarketplaceServiceMismatch(uint256 workloadId, bytes32 serviceId);

    /// @notice A provider may not bid on its own workload.
    error MarketplaceOwnWorkload(uint256 workloadId, address provider);

    /// @notice Agent `agentId` has bid in this round of the workload already.
    error MarketplaceAlreadyBid(uint256 workloadId, uint256 agentId);

    /// @notice The workload's round holds `max` bids ({MAX_BIDS}) already, and the new bid is not cheaper than the
    /// dearest of them (the one it would replace).
    error MarketplaceTooManyBids(uint256 workloadId, uint256 max);

    /// @notice The current round of the workload has no bid at `bidIndex`.
    error MarketplaceUnknownBid(uint256 workloadId, uint256 bidIndex);

    /// @notice The bid at `bidIndex` is provider agent `providerId`'s, not `expectedProviderId`'s as the client's
    /// award says: on a full list a cheaper bid took that index since the client read it ({bid}). Read {getBids}
    /// again.
    error MarketplaceBidReplaced(uint256 workloadId, uint256 bidIndex, uint256 expectedProviderId, uint256 providerId);

    /// @notice The round's award window ({AWARD_WINDOW} after its bid deadline, extended by emergency stops) closed at
    /// `closedAt`: its bids no longer bind their providers, and the client may only cancel the workload.
    error MarketplaceAwardWindowClosed(uint256 workloadId, uint64 closedAt);

    /// @notice No bid of the round is eligible for {autoAward}: every bidder is inactive, delisted or without free
    /// capacity.
    error MarketplaceNoEligibleBid(uint256 workloadId);

    /// @notice The signature is not the assigned provider's EIP-712 signature over the result ({hashResult}).
    error MarketplaceInvalidResultSignature(uint256 workloadId);

    /// @notice The execution deadline (plus the grace after an emergency stop) has passed: no result is taken any more.
    error MarketplaceDeadlinePassed(uint256 workloadId, uint64 executionDeadline);

    /// @notice A timeout may not be claimed before the execution deadline (plus the grace after an emergency stop).
    error MarketplaceDeadlineNotPassed(uint256 workloadId, uint64 executionDeadline);

    /// @notice The result may not be finalized before its challenge window ends at `endsAt`.
    error MarketplaceChallengeWindowOpen(uint256 workloadId, uint64 endsAt);

    /// @notice The challenge window ended at `endedAt`: the result may no longer be rejected.
    error MarketplaceChallengeWindowClosed(uint256 workloadId, uint64 endedAt);

    /// @notice Only an admitted validator agent that is neither party, or a guardian, resolves disputes.
    error MarketplaceNotResolver(uint256 workloadId, address caller);

    /// @notice The dispute may still be resolved until `endsAt` (DISPUTE_TIMEOUT after the challenge window):
    /// it cannot expire yet.
    error MarketplaceDisputeOpen(uint256 workloadId, uint64 endsAt);

    /// @notice Provider agent `providerId` listed a service (`offer`, with the marketplace's load).
    event ServiceListed(bytes32 indexed serviceId, uint256 indexed providerId, ServiceOffer offer);

    /// @notice A service's terms changed (`offer`, with the marketplace's load).
    event ServiceUpdated(bytes32 indexed serviceId, uint256 indexed providerId, ServiceOffer offer);

    /// @notice A service was delisted: no new bids or awards; awarded work continues.
    event ServiceDelisted(bytes32 indexed serviceId, uint256 indexed providerId);

    /// @notice A client posted a workload and escrowed `escrow` (units × maxPricePerUnit).
    event WorkloadPosted(uint256 indexed workloadId, address indexed client, WorkloadRequest request, uint256 escrow);

    /// @notice The client cancelled an unawarded workload; its whole escrow, `refund`, went back.
    event WorkloadCancelled(uint256 indexed workloadId, uint256 refund);

    /// @notice A cheaper bid on a full list replaced the bid of provider agent `providerId` at `bidIndex`, the
    /// dearest; that provider may bid again in the round.
    event BidEvicted(uint256 indexed workloadId, uint256 indexed providerId, uint256 bidIndex);

    /// @notice Provider agent `providerId` bid `pricePerUnit` with service `serviceId`.
    /// @param bidIndex The bid's index in the round (see {getBids}).
    /// @param proposalHash A commitment to the provider's off-chain proposal.
    event BidPlaced(
        uint256 indexed workloadId,
        uint256 indexed providerId,
        uint256 bidIndex,
        bytes32 serviceId,
        uint256 pricePerUnit,
        bytes32 proposalHash
    );

    /// @notice A bid won the workload.
    /// @param executionDeadline The deadline for the result (never less than the workload's execution period after the
    /// award).
    /// @param automatic True for {autoAward}, false for the client's {award}.
    event WorkloadAwarded(
        uint256 indexed workloadId,
        uint256 indexed providerId,
        uint256 bidIndex,
        uint256 pricePerUnit,
        uint64 executionDeadline,
        bool automatic
    );

    /// @notice The assigned provider's signed result was recorded; its challenge window starts.
    event ResultSubmitted(uint256 indexed workloadId, uint256 indexed providerId, bytes32 resultHash);

    /// @notice A Zk workload's result came with a valid inference proof.
    /// @param outputHash The hash of the output the provider hands to the client off chain.
    event ResultProven(uint256 indexed workloadId, uint256 outputHash);

    /// @notice A workload settled: `paidToProvider` + `fee` is the payment, `refund` the client's unused escrow.
    event WorkloadSettled(
        uint256 indexed workloadId,
        uint256 indexed providerId,
        uint256 paidToProvider,
        uint256 fee,
        uint256 refund
    );

    /// @notice The compute receipt of a settled workload ({receiptOf}), which AIToken mints from once an attestor signs
    /// it. `units` are the units its fee backs (see {ReceiptData}).
    event ComputeReceiptIssued(
        bytes32 indexed receiptId,
        uint256 indexed workloadId,
        address provider,
        address client,
        uint256 units,
        bytes32 workHash,
        bytes32 resultHash
    );

    /// @notice The client rejected the result within its challenge window: a dispute is open.
    /// @param reasonHash A commitment to the client's reason.
    event ResultRejected(uint256 indexed workloadId, bytes32 reasonHash);

    /// @notice `resolver` decided a dispute: for the provider (it settles) or for the client (refund and slash).
    event DisputeResolved(uint256 indexed workloadId, address indexed resolver, bool providerWins);

    /// @notice Nobody resolved the dispute in time: the client got its whole escrow, `refund`, back; the provider
    /// was neither paid nor slashed, and its reputation did not move.
    event DisputeExpired(uint256 indexed workloadId, uint256 refund);

    /// @notice An assignment failed (missed deadline, or a dispute lost): the provider was slashed `slashed`.
    /// @param reopened True when the workload reopened for bids (a timeout with `reopenOnTimeout`), false when it
    /// was refunded.
    event AssignmentFailed(uint256 indexed workloadId, uint256 indexed providerId, uint256 slashed, bool reopened);

    /// @notice A failed workload's escrow, `refund`, went back to the client.
    event WorkloadRefunded(uint256 indexed workloadId, uint256 refund);

    /// @notice Tokens sent to the marketplace outside {postWorkload}, `amount`, went to the registry's treasury.
    event ExcessSwept(address indexed treasury, uint256 amount);

    /// @notice The admin set the protocol fee, the challenge window and the timeout slash.
    event ParametersSet(uint256 protocolFeeBps, uint256 challengeWindow, uint256 timeoutSlashBps);

    // ---------------------------------------------------------------- services (provider agents)

    /// @notice An active service-provider agent lists `offer` under a new id, or lists its own delisted offer
    /// again with new terms (whose capacity must cover the offer's current load).
    function listService(ServiceOffer calldata offer) external;

    /// @notice Replaces an offer's terms (the load stays; capacity may not drop below it).
    function updateService(bytes32 serviceId, ServiceOffer calldata offer) external;

    /// @notice Stops new bids on the offer; awarded work continues.
    function delistService(bytes32 serviceId) external;

    function getServiceStatus(bytes32 serviceId) external view returns (ServiceOffer memory);

    // ---------------------------------------------------------------- workloads (clients)

    /// @notice Posts a workload and escrows units × maxPricePerUnit AITBC from the caller (needs an allowance).
    /// At most 2^64 − 1 units: what the receipt circuit can prove, so every settled receipt can be minted.
    function postWorkload(WorkloadRequest calldata request) external returns (uint256 workloadId);

    /// @notice {postWorkload} with an EIP-2612 permit for the escrow: one transaction.
    function postWorkloadWithPermit(
        WorkloadRequest calldata request,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 workloadId);

    /// @notice Cancels an unawarded workload: the whole escrow goes back to the client. Open at any time while the
    /// workload is open, and its only way out once the award window has closed.
    function cancelWorkload(uint256 workloadId) external;

    // ---------------------------------------------------------------- bidding and award

    /// @notice Seed 000's bidOnWorkload: a provider agent bids a price with one of its listed offers, whose free
    /// capacity must cover the units. On a full list ({MAX_BIDS}) a bid cheaper than the dearest one takes its
    /// place and index (BidEvicted; the last of equally dear bids goes first), so sybils cannot lock bidders
    /// out: filling the list costs MAX_BIDS bids as cheap as any real bidder's, each of which the client may
    /// award and each of which is slashed if it then fails. The bid binds its provider until the award window
    /// closes ({AWARD_WINDOW} after the bid deadline); a provider withdraws it earlier only by delisting the offer.
    function bid(
        uint256 workloadId,
        bytes32 serviceId,
        uint256 pricePerUnit,
        bytes32 proposalHash
    ) external returns (uint256 bidIndex);

    /// @notice The client awards the bid at `bidIndex` of the current round ({getBids}), which must be provider
    /// agent `providerId`'s (else MarketplaceBidReplaced): on a full list a cheaper bid from another provider may
    /// have taken that index since the client read it. A provider bids once per round, and a bid that takes an
    /// index in place is strictly cheaper than the one it replaced, so the provider id identifies the chosen bid
    /// (or a later, cheaper one of the same provider's). Allowed while the workload is open and until
    /// {AWARD_WINDOW} after the bid deadline (extended by emergency stops); after that the client may only cancel.
    /// An award never leaves the provider less than the workload's execution period (executionDeadline −
    /// bidDeadline at posting) to deliver.
    function award(uint256 workloadId, uint256 bidIndex, uint256 providerId) external;

    /// @notice After the bidding deadline, and until the award window closes ({AWARD_WINDOW} after it, extended
    /// by emergency stops), anyone awards the best eligible bid: the lowest
    /// pricePerUnit × (2000 − reputation) / 1000, i.e. the price weighted from 2× (reputation 0) down to 1×
    /// (reputation 1000); ties go to the earlier bid. Bidders no longer active or without free capacity are skipped.
    function autoAward(uint256 workloadId) external;

    // ---------------------------------------------------------------- execution and settlement

    /// @notice Records the result of an awarded workload; anyone may submit it, `signature` is the assigned
    /// provider agent's EIP-712 signature over WorkResult(workloadId, round, resultHash).
    function submitResult(uint256 workloadId, bytes32 resultHash, bytes calldata signature) external;

    /// @notice {submitResult} for a Zk workload, with an inference proof that the output whose hash is
    /// `outputHash` is model(input) for the workload's `modelHash` and `inputHash`: `resultHash` is the proof's
    /// leaf Poseidon(inputHash, 0, outputHash). The provider hands the output itself to the client off chain; its
    /// hash is announced in {ResultProven}.
    function submitProvenResult(
        uint256 workloadId,
        bytes32 resultHash,
        bytes calldata signature,
        uint256 outputHash,
        Groth16Proof calldata proof
    ) external;

    /// @notice The client accepts a submitted result: settles at once. A settlement earns the provider one
    /// reputation point per FEE_PER_REPUTATION_POINT of protocol fee, at most REPUTATION_REWARD, and none when the
    /// client is the provider's agent address or operator, or an agent run by either or sharing its operator.
    function accept(uint256 workloadId) external;

    /// @notice Settles a submitted result once the challenge window has passed without a rejection.
    function finalize(uint256 workloadId) external;

    /// @notice The client rejects a submitted result within the challenge window (the one in force when the
    /// result was submitted): a dispute opens.
    function reject(uint256 workloadId, bytes32 reasonHash) external;

    /// @notice A validator agent (type Validator, active, admitted with VALIDATOR_ROLE, neither party) or a
    /// guardian decides a dispute: for the provider it settles; for the client it refunds the escrow and slashes
    /// the provider.
    function resolveDispute(uint256 workloadId, bool providerWins) external;

    /// @notice Ends a dispute nobody resolved within DISPUTE_TIMEOUT after the challenge window (anyone may call):
    /// nobody judged it, so nobody is punished and nobody is paid. The client gets its whole escrow back, the
    /// provider keeps its stake and reputation, the offer's load is released and no fee is taken.
    function expireDispute(uint256 workloadId) external;

    /// @notice After a missed execution deadline anyone may call: the provider is slashed
    /// (timeoutSlashBps of the escrowed value units × maxPricePerUnit, capped by the registry's 50% rule), loses
    /// reputation, and the workload reopens for bids or is refunded, as the client chose when posting.
    function claimTimeout(uint256 workloadId) external;

    // ---------------------------------------------------------------- admin and views

    function setParameters(uint256 protocolFeeBps, uint256 challengeWindow, uint256 timeoutSlashBps) external;

    /// @notice Sends tokens that reached the marketplace outside {postWorkload} (direct transfers) to the
    /// registry's treasury, so that the balance equals {totalEscrowed} again; never any escrow. Anyone may call it.
    function sweepExcess() external returns (uint256 amount);

    function getWorkload(uint256 workloadId) external view returns (Workload memory);

    function getBids(uint256 workloadId) external view returns (Bid[] memory);

    /// @notice The compute receipt of a settled workload (reverts for any other status).
    function receiptOf(uint256 workloadId) external view returns (ReceiptData memory);

    /// @notice EIP-712 digest a provider signs for a result.
    function hashResult(uint256 workloadId, uint32 round, bytes32 resultHash) external view returns (bytes32);

    /// @notice Sum of all escrows held (equals this contract's token balance).
    function totalEscrowed() external view returns (uint256);

    function workloadCount() external view returns (uint256);

    function protocolFeeBps() external view returns (uint256);

    function challengeWindow() external view returns (uint256);

    function timeoutSlashBps() external view returns (uint256);
}
