// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IAgentConstitution} from "../interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IAIToken} from "../interfaces/IAIToken.sol";
import {IHumanOverride} from "../interfaces/IHumanOverride.sol";
import {IServiceMarketplace} from "../interfaces/IServiceMarketplace.sol";
import {Groth16Proof, IInferenceVerifier} from "../interfaces/IZkVerifiers.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {FieldChecks} from "../libraries/FieldChecks.sol";
import {Settlement} from "../libraries/Settlement.sol";
import {Slashing} from "../libraries/Slashing.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";
import {ServiceOffers} from "./ServiceOffers.sol";

/// @title ServiceMarketplace
/// @notice Service offers, workloads with escrow, bids, award, signed results, settlement, disputes, timeouts.
/// @dev This contract is the workload core; the offers (listing, update, delisting, capacity and load) are the
/// {ServiceOffers} module it builds on, and the settlement and slash arithmetic is in the Settlement and Slashing
/// libraries.
///
/// Escrow accounting: a workload holds units × maxPricePerUnit from posting until it settles, is refunded or
/// is cancelled, and nothing else; {totalEscrowed} is their sum and equals this contract's token balance (tokens
/// sent to it directly are the only excess, and {sweepExcess} sends them to the treasury). At
/// settlement the escrow splits three ways, exactly: payment less fee to the provider agent, fee to the
/// treasury, units × (maxPrice − price) back to the client. Every status change happens before the transfers
/// it causes (checks-effects-interactions), and every function that moves tokens is `nonReentrant`.
contract ServiceMarketplace is AccessControl, ReentrancyGuard, EIP712, ServiceOffers {
    using SafeERC20 for IERC20;

    /// @notice HumanOverride's guardian role: guardians may resolve disputes.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Validator agents admitted (by the admin, later governance) to resolve disputes. Agent type
    /// Validator alone is not enough: anyone can register one, so either party could bring its own.
    bytes32 public constant VALIDATOR_ROLE = keccak256("VALIDATOR_ROLE");
    uint256 public constant MIN_CHALLENGE_WINDOW = 1 hours;
    /// @notice Longest bidding period and longest execution period a workload may ask for.
    uint256 public constant MAX_PERIOD = 30 days;
    uint256 public constant MAX_FEE_BPS = 1_000;
    uint256 public constant MAX_CHALLENGE_WINDOW = 30 days;
    uint256 public constant MAX_TIMEOUT_SLASH_BPS = 10_000;
    /// @notice Bids per workload round: bounds the loop of {autoAward}. A full list takes a cheaper bid in place of
    /// its dearest one.
    uint256 public constant MAX_BIDS = 32;
    /// @notice How long after a round's bid deadline its bids bind their providers: {award} and {autoAward} are
    /// refused after it (the client can still cancel). A bid is a price for capacity the provider holds now; without
    /// a limit a client could award it months later at its old price, and the provider, bound by an obligation and
    /// slashed if it fails, could only withdraw it by delisting the offer. A day: the time a client (or its agent)
    /// has to choose after bidding closes, the same that {GRACE_AFTER_RESUME} gives everyone to act after an
    /// emergency stop; like the other deadlines, the window is extended by emergency stops that hit its round.
    uint256 public constant AWARD_WINDOW = 1 days;
    /// @notice How long after the challenge window a dispute may wait for a resolver before anyone can expire it
    /// ({expireDispute}): long enough for the guardians, who can always resolve, to act.
    uint256 public constant DISPUTE_TIMEOUT = 7 days;
    /// @notice Most units a workload may ask for: the receipt circuit proves units < 2^64
    /// (circuits/src/receipt.circom), so a larger workload's receipt could never be minted privately.
    uint256 public constant MAX_UNITS = type(uint64).max;
    /// @notice Most reputation one settlement earns its provider.
    int256 public constant REPUTATION_REWARD = 10;
    /// @notice Protocol fee a settlement must pay for each reputation point it earns its provider (0.01 AITBC; at
    /// the default 1 % fee, 1 AITBC of payment per point and 10 AITBC for the full {REPUTATION_REWARD}). The fee
    /// is the one cost that colluding parties cannot pay back to themselves, so every point costs at least this.
    uint256 public constant FEE_PER_REPUTATION_POINT = 1e16;
    int256 public constant REPUTATION_PENALTY = -50;

    bytes32 private constant _RESULT_TYPEHASH = keccak256(
        "WorkResult(uint256 workloadId,uint32 round,bytes32 resultHash)"
    );

    IERC20 private immutable _token;
    IInferenceVerifier private immutable _inferenceVerifier;

    uint256 private _protocolFeeBps;
    uint256 private _challengeWindow;
    uint256 private _timeoutSlashBps;
    uint256 private _workloadCount;
    uint256 private _totalEscrowed;
    mapping(uint256 workloadId => Workload workload) private _workloads;
    mapping(uint256 workloadId => mapping(uint32 round => Bid[] bids)) private _bids;
    mapping(uint256 workloadId => mapping(uint32 round => mapping(uint256 agentId => bool placed))) private _hasBid;
    /// @dev A settled workload's receipt units: the units its protocol fee backs at the reward rate of its settlement
    /// (see {_rewardUnits}). Written at settlement when non-zero, so receiptOf returns what ComputeReceiptIssued said.
    mapping(uint256 workloadId => uint256 units) private _receiptUnits;

    constructor(
        address admin,
        IERC20 token_,
        IAgentRegistry registry_,
        IHumanOverride humanOverride_,
        IAgentConstitution constitution_,
        IInferenceVerifier inferenceVerifier_,
        uint256 protocolFeeBps_,
        uint256 challengeWindow_,
        uint256 timeoutSlashBps_
    ) EIP712("AITBC Marketplace", "1") SafetyGuarded(humanOverride_, constitution_) ServiceOffers(registry_) {
        if (
            admin == address(0) ||
            address(token_) == address(0) ||
            address(humanOverride_) == address(0) ||
            address(constitution_) == address(0) ||
            address(inferenceVerifier_) == address(0)
        ) revert MarketplaceZeroAddress();
        _token = token_;
        _inferenceVerifier = inferenceVerifier_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParameters(protocolFeeBps_, challengeWindow_, timeoutSlashBps_);
    }

    // ---------------------------------------------------------------- workloads

    /// @inheritdoc IServiceMarketplace
    function postWorkload(WorkloadRequest calldata request) external whenNotStopped nonReentrant returns (uint256) {
        return _post(request, gasleft());
    }

    /// @inheritdoc IServiceMarketplace
    function postWorkloadWithPermit(
        WorkloadRequest calldata request,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external whenNotStopped nonReentrant returns (uint256) {
        uint256 gasStart = gasleft();
        uint256 escrow = _checkRequest(request);
        // A front-runner may have used the permit already; the allowance is what matters, and the transfer in
        // _post fails cleanly without it.
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), escrow, permitDeadline, v, r, s) {} catch {} // solhint-disable-line no-empty-blocks
        return _post(request, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function cancelWorkload(uint256 workloadId) external whenNotStopped nonReentrant {
        Workload storage w = _workload(workloadId);
        if (msg.sender != w.client) revert MarketplaceNotClient(workloadId, msg.sender);
        _requireStatus(workloadId, w, WorkloadStatus.Open);
        w.status = WorkloadStatus.Cancelled;
        uint256 refund = _release(w);
        emit WorkloadCancelled(workloadId, refund);
        _token.safeTransfer(w.client, refund);
    }

    // ---------------------------------------------------------------- bidding and award

    /// @inheritdoc IServiceMarketplace
    function bid(
        uint256 workloadId,
        bytes32 serviceId,
        uint256 pricePerUnit,
        bytes32 proposalHash
    ) external whenNotStopped returns (uint256 bidIndex) {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        _requireStatus(workloadId, w, WorkloadStatus.Open);
        if (block.timestamp > w.bidDeadline) revert MarketplaceBiddingClosed(workloadId, w.bidDeadline);
        (uint256 providerId, Service storage service) = _ownedService(serviceId);
        if (!service.listed) revert MarketplaceServiceNotListed(serviceId);
        if (!_registry.isActive(providerId)) revert MarketplaceAgentNotActive(providerId);
        if (msg.sender == w.client) revert MarketplaceOwnWorkload(workloadId, msg.sender);
        if (pricePerUnit == 0) revert MarketplaceInvalidRequest("pricePerUnit");
        if (pricePerUnit > w.maxPricePerUnit) {
            revert MarketplaceBidAboveMax(workloadId, pricePerUnit, w.maxPricePerUnit);
        }
        if (
            (w.serviceType != bytes32(0) && w.serviceType != service.serviceType) ||
            (w.modelHash != bytes32(0) && w.modelHash != service.modelHash)
        ) revert MarketplaceServiceMismatch(workloadId, serviceId);
        _requireCapacity(serviceId, service, w.units);
        uint32 round = w.round;
        if (_hasBid[workloadId][round][providerId]) revert MarketplaceAlreadyBid(workloadId, providerId);
        _hasBid[workloadId][round][providerId] = true;
        // pricePerUnit <= maxPricePerUnit, which _post keeps within uint128.
        bidIndex = _placeBid(
            workloadId,
            round,
            Bid(uint64(providerId), uint64(block.timestamp), uint128(pricePerUnit), serviceId)
        );
        emit BidPlaced(workloadId, providerId, bidIndex, serviceId, pricePerUnit, proposalHash);
        _enforce(msg.sender, ActionTypes.BID, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function award(uint256 workloadId, uint256 bidIndex, uint256 providerId) external whenNotStopped {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        if (msg.sender != w.client) revert MarketplaceNotClient(workloadId, msg.sender);
        Bid[] storage bids = _awardableBids(workloadId, w);
        if (bidIndex >= bids.length) revert MarketplaceUnknownBid(workloadId, bidIndex);
        Bid memory chosen = bids[bidIndex];
        if (chosen.providerId != providerId) {
            revert MarketplaceBidReplaced(workloadId, bidIndex, providerId, chosen.providerId);
        }
        Service storage service = _service(chosen.serviceId);
        if (!_takesBid(service, chosen.placedAt)) revert MarketplaceServiceNotListed(chosen.serviceId);
        if (!_registry.isActive(chosen.providerId)) revert MarketplaceAgentNotActive(chosen.providerId);
        _requireCapacity(chosen.serviceId, service, w.units);
        _award(workloadId, w, chosen, bidIndex, false);
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function autoAward(uint256 workloadId) external whenNotStopped {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        Bid[] storage bids = _awardableBids(workloadId, w);
        if (block.timestamp <= w.bidDeadline) revert MarketplaceBiddingOpen(workloadId, w.bidDeadline);
        uint256 best = type(uint256).max;
        uint256 bestIndex;
        for (uint256 i = 0; i < bids.length; ++i) {
            Bid memory b = bids[i];
            IAgentRegistry.AgentSummary memory provider = _registry.summaryOf(b.providerId);
            Service storage service = _service(b.serviceId);
            if (
                !provider.active ||
                !_takesBid(service, b.placedAt) ||
                service.maxCapacity - service.currentLoad < w.units
            ) continue;
            // Price weighted by reputation: 2x at reputation 0, 1x at 1000. Strict < keeps the earliest on ties.
            uint256 score = uint256(b.pricePerUnit) * (2_000 - uint256(provider.reputation));
            if (score < best) {
                best = score;
                bestIndex = i;
            }
        }
        if (best == type(uint256).max) revert MarketplaceNoEligibleBid(workloadId);
        _award(workloadId, w, bids[bestIndex], bestIndex, true);
        _enforce(msg.sender, ActionTypes.UPKEEP, 0, gasStart);
    }

    // ---------------------------------------------------------------- execution and settlement

    /// @inheritdoc IServiceMarketplace
    function submitResult(uint256 workloadId, bytes32 resultHash, bytes calldata signature) external whenNotStopped {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        if (w.verification != VerificationLevel.Basic) revert MarketplaceProofRequired(workloadId);
        _submit(workloadId, w, resultHash, signature, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function submitProvenResult(
        uint256 workloadId,
        bytes32 resultHash,
        bytes calldata signature,
        uint256 outputHash,
        Groth16Proof calldata proof
    ) external whenNotStopped {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        if (w.verification != VerificationLevel.Zk) revert MarketplaceNotProven(workloadId);
        _requireStatus(workloadId, w, WorkloadStatus.Awarded);
        uint256[4] memory signals = [uint256(w.modelHash), uint256(w.inputHash), outputHash, uint256(resultHash)];
        if (!_inferenceVerifier.verifyProof(proof.a, proof.b, proof.c, signals)) {
            revert MarketplaceInvalidProof(workloadId);
        }
        emit ResultProven(workloadId, outputHash);
        _submit(workloadId, w, resultHash, signature, gasStart);
    }

    function _submit(
        uint256 workloadId,
        Workload storage w,
        bytes32 resultHash,
        bytes calldata signature,
        uint256 gasStart
    ) private {
        _requireStatus(workloadId, w, WorkloadStatus.Awarded);
        uint64 deadline = _graced(_roundStart(w), w.executionDeadline);
        if (block.timestamp > deadline) revert MarketplaceDeadlinePassed(workloadId, deadline);
        address provider = _registry.agentAddress(w.providerId);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(
            hashResult(workloadId, w.round, resultHash),
            signature
        );
        if (err != ECDSA.RecoverError.NoError || signer != provider) {
            revert MarketplaceInvalidResultSignature(workloadId);
        }
        w.status = WorkloadStatus.Submitted;
        w.resultHash = resultHash;
        w.submittedAt = uint64(block.timestamp);
        w.challengeWindow = uint32(_challengeWindow); // <= MAX_CHALLENGE_WINDOW; later changes do not apply
        emit ResultSubmitted(workloadId, w.providerId, resultHash);
        // The provider's action; its gas is charged only when the provider itself sends it.
        _constitution.enforce(
            provider,
            ActionTypes.SUBMIT_RESULT,
            0,
            msg.sender == provider ? gasStart - gasleft() : 0
        );
    }

    /// @inheritdoc IServiceMarketplace
    function accept(uint256 workloadId) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        if (msg.sender != w.client) revert MarketplaceNotClient(workloadId, msg.sender);
        _requireStatus(workloadId, w, WorkloadStatus.Submitted);
        _settle(workloadId, w);
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function finalize(uint256 workloadId) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        _requireStatus(workloadId, w, WorkloadStatus.Submitted);
        uint64 endsAt = _graced(w.submittedAt, w.submittedAt + w.challengeWindow);
        if (block.timestamp <= endsAt) revert MarketplaceChallengeWindowOpen(workloadId, endsAt);
        _settle(workloadId, w);
        _enforce(msg.sender, ActionTypes.UPKEEP, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function reject(uint256 workloadId, bytes32 reasonHash) external whenNotStopped {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        if (msg.sender != w.client) revert MarketplaceNotClient(workloadId, msg.sender);
        _requireStatus(workloadId, w, WorkloadStatus.Submitted);
        uint64 endsAt = _graced(w.submittedAt, w.submittedAt + w.challengeWindow);
        if (block.timestamp > endsAt) revert MarketplaceChallengeWindowClosed(workloadId, endsAt);
        w.status = WorkloadStatus.Disputed;
        emit ResultRejected(workloadId, reasonHash);
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function resolveDispute(uint256 workloadId, bool providerWins) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        _requireStatus(workloadId, w, WorkloadStatus.Disputed);
        bool validator = _isValidatorFor(w, msg.sender);
        if (!validator && !IAccessControl(address(_humanOverride)).hasRole(GUARDIAN_ROLE, msg.sender)) {
            revert MarketplaceNotResolver(workloadId, msg.sender);
        }
        emit DisputeResolved(workloadId, msg.sender, providerWins);
        if (providerWins) {
            _settle(workloadId, w);
        } else {
            _penalise(workloadId, w, false);
        }
        if (validator) _enforce(msg.sender, ActionTypes.RESOLVE_DISPUTE, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function expireDispute(uint256 workloadId) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        _requireStatus(workloadId, w, WorkloadStatus.Disputed);
        uint64 endsAt = _graced(w.submittedAt, w.submittedAt + w.challengeWindow + uint64(DISPUTE_TIMEOUT));
        if (block.timestamp <= endsAt) revert MarketplaceDisputeOpen(workloadId, endsAt);
        w.status = WorkloadStatus.Refunded;
        _removeLoad(w.serviceId, w.units);
        uint256 refund = _release(w);
        emit DisputeExpired(workloadId, refund);
        // Interactions, with trusted protocol contracts: the assignment is over (nobody is slashed), then the money.
        _registry.closeObligation(w.providerId);
        _token.safeTransfer(w.client, refund);
        _enforce(msg.sender, ActionTypes.UPKEEP, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function claimTimeout(uint256 workloadId) external whenNotStopped nonReentrant {
        uint256 gasStart = gasleft();
        Workload storage w = _workload(workloadId);
        _requireStatus(workloadId, w, WorkloadStatus.Awarded);
        uint64 deadline = _graced(_roundStart(w), w.executionDeadline);
        if (block.timestamp <= deadline) revert MarketplaceDeadlineNotPassed(workloadId, deadline);
        _penalise(workloadId, w, w.reopenOnTimeout);
        _enforce(msg.sender, ActionTypes.UPKEEP, 0, gasStart);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc IServiceMarketplace
    function setParameters(
        uint256 protocolFeeBps_,
        uint256 challengeWindow_,
        uint256 timeoutSlashBps_
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParameters(protocolFeeBps_, challengeWindow_, timeoutSlashBps_);
    }

    /// @inheritdoc IServiceMarketplace
    function sweepExcess() external whenNotStopped nonReentrant returns (uint256 amount) {
        amount = _token.balanceOf(address(this)) - _totalEscrowed;
        if (amount == 0) revert MarketplaceNothingToSweep();
        address treasury = _registry.treasury();
        emit ExcessSwept(treasury, amount);
        _token.safeTransfer(treasury, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IServiceMarketplace
    function getWorkload(uint256 workloadId) external view returns (Workload memory) {
        return _workload(workloadId);
    }

    /// @inheritdoc IServiceMarketplace
    function getBids(uint256 workloadId) external view returns (Bid[] memory) {
        return _bids[workloadId][_workload(workloadId).round];
    }

    /// @inheritdoc IServiceMarketplace
    function receiptOf(uint256 workloadId) external view returns (ReceiptData memory) {
        Workload storage w = _workload(workloadId);
        _requireStatus(workloadId, w, WorkloadStatus.Settled);
        return _receiptOf(workloadId, w, _registry.agentAddress(w.providerId));
    }

    /// @inheritdoc IServiceMarketplace
    function hashResult(uint256 workloadId, uint32 round, bytes32 resultHash) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_RESULT_TYPEHASH, workloadId, round, resultHash)));
    }

    /// @inheritdoc IServiceMarketplace
    function totalEscrowed() external view returns (uint256) {
        return _totalEscrowed;
    }

    /// @inheritdoc IServiceMarketplace
    function workloadCount() external view returns (uint256) {
        return _workloadCount;
    }

    /// @inheritdoc IServiceMarketplace
    function protocolFeeBps() external view returns (uint256) {
        return _protocolFeeBps;
    }

    /// @inheritdoc IServiceMarketplace
    function challengeWindow() external view returns (uint256) {
        return _challengeWindow;
    }

    /// @inheritdoc IServiceMarketplace
    function timeoutSlashBps() external view returns (uint256) {
        return _timeoutSlashBps;
    }

    // ---------------------------------------------------------------- internal

    /// @dev Validates a request and returns its escrow.
    function _checkRequest(WorkloadRequest calldata request) private view returns (uint256 escrow) {
        if (request.serviceType == bytes32(0) && request.modelHash == bytes32(0)) {
            revert MarketplaceInvalidRequest("serviceType/modelHash");
        }
        if (request.units == 0 || request.units > MAX_UNITS) revert MarketplaceInvalidRequest("units");
        if (request.maxPricePerUnit == 0 || request.maxPricePerUnit > type(uint128).max) {
            revert MarketplaceInvalidRequest("maxPricePerUnit");
        }
        if (request.bidDeadline <= block.timestamp || request.bidDeadline - block.timestamp > MAX_PERIOD) {
            revert MarketplaceInvalidRequest("bidDeadline");
        }
        if (
            request.executionDeadline <= request.bidDeadline ||
            request.executionDeadline - request.bidDeadline > MAX_PERIOD
        ) revert MarketplaceInvalidRequest("executionDeadline");
        if (request.verification == VerificationLevel.Full)
            revert MarketplaceVerificationUnsupported(request.verification);
        if (request.verification == VerificationLevel.Zk) {
            if (!FieldChecks.isNonZeroElement(uint256(request.modelHash))) {
                revert MarketplaceInvalidRequest("modelHash");
            }
            if (!FieldChecks.isNonZeroElement(uint256(request.inputHash))) {
                revert MarketplaceInvalidRequest("inputHash");
            }
        }
        escrow = Settlement.cost(request.units, request.maxPricePerUnit); // < 2^224: both factors bounded above
    }

    function _post(WorkloadRequest calldata request, uint256 gasStart) private returns (uint256 workloadId) {
        uint256 escrow = _checkRequest(request);
        workloadId = ++_workloadCount;
        Workload storage w = _workloads[workloadId];
        w.client = msg.sender;
        w.status = WorkloadStatus.Open;
        w.verification = request.verification;
        w.reopenOnTimeout = request.reopenOnTimeout;
        w.bidDeadline = request.bidDeadline;
        w.executionDeadline = request.executionDeadline;
        w.biddingPeriod = request.bidDeadline - uint64(block.timestamp);
        w.executionPeriod = request.executionDeadline - request.bidDeadline;
        w.serviceType = request.serviceType;
        w.modelHash = request.modelHash;
        if (request.inputHash != 0) w.inputHash = request.inputHash;
        w.units = uint96(request.units); // < 2^64, bounded in _checkRequest
        w.maxPricePerUnit = uint128(request.maxPricePerUnit); // bounded in _checkRequest
        _totalEscrowed += escrow;
        emit WorkloadPosted(workloadId, msg.sender, request, escrow);

        _token.safeTransferFrom(msg.sender, address(this), escrow);
        // A client agent commits `escrow` of value: daily volume.
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, escrow, gasStart);
    }

    function _award(
        uint256 workloadId,
        Workload storage w,
        Bid memory chosen,
        uint256 bidIndex,
        bool automatic
    ) private {
        w.status = WorkloadStatus.Awarded;
        // A late award never shortens the provider's execution period (else it could be slashed at once).
        uint64 earliestDeadline = uint64(block.timestamp) + w.executionPeriod;
        if (w.executionDeadline < earliestDeadline) w.executionDeadline = earliestDeadline;
        w.providerId = chosen.providerId;
        w.serviceId = chosen.serviceId;
        w.pricePerUnit = chosen.pricePerUnit;
        _addLoad(chosen.serviceId, w.units);
        emit WorkloadAwarded(
            workloadId,
            chosen.providerId,
            bidIndex,
            chosen.pricePerUnit,
            w.executionDeadline,
            automatic
        );
        // The provider's stake backs the assignment until it ends (_settle or _penalise): no exit outlasts it.
        _registry.openObligation(chosen.providerId);
    }

    /// @dev Pays out a workload whose result stands.
    function _settle(uint256 workloadId, Workload storage w) private {
        w.status = WorkloadStatus.Settled;
        uint256 escrow = _release(w);
        (uint256 toProvider, uint256 fee, uint256 refund) = Settlement.split(
            escrow,
            w.units,
            w.pricePerUnit,
            _protocolFeeBps
        );
        uint256 providerId = w.providerId;
        _removeLoad(w.serviceId, w.units);
        address provider = _registry.agentAddress(providerId);
        uint256 receiptUnits = _rewardUnits(w.units, fee);
        if (receiptUnits != 0) _receiptUnits[workloadId] = receiptUnits;

        ReceiptData memory receipt = _receiptOf(workloadId, w, provider);
        emit WorkloadSettled(workloadId, providerId, toProvider, fee, refund);
        emit ComputeReceiptIssued(
            receipt.receiptId,
            workloadId,
            provider,
            w.client,
            receipt.units,
            receipt.workHash,
            receipt.resultHash
        );

        // Interactions, all with trusted protocol contracts: the obligation and reputation, then the money.
        _registry.closeObligation(providerId);
        int256 gain = _reputationGain(w.client, providerId, provider, fee);
        if (gain != 0) _registry.updateReputation(providerId, gain, "workload settled");
        _token.safeTransfer(provider, toProvider);
        if (fee != 0) _token.safeTransfer(_registry.treasury(), fee);
        if (refund != 0) _token.safeTransfer(w.client, refund);
    }

    /// @dev Reputation a settlement earns its provider: one point per {FEE_PER_REPUTATION_POINT} of protocol fee, at
    /// most {REPUTATION_REWARD}, and none when the client is related to the provider as far as the chain can tell:
    /// the provider's agent address or operator, or an agent whose operator is the provider's operator or the
    /// provider itself. Unrelated-looking addresses of one owner cannot be told apart; the fee bounds what they
    /// can farm.
    function _reputationGain(
        address client,
        uint256 providerId,
        address provider,
        uint256 fee
    ) private view returns (int256) {
        uint256 points = fee / FEE_PER_REPUTATION_POINT;
        if (points == 0 || client == provider) return 0;
        address operator = _registry.summaryOf(providerId).operator;
        if (client == operator) return 0;
        uint256 clientId = _registry.agentIdOf(client);
        if (clientId != 0) {
            address clientOperator = _registry.summaryOf(clientId).operator;
            if (clientOperator == operator || clientOperator == provider) return 0;
        }
        // points < REPUTATION_REWARD here fits an int256.
        return points >= uint256(REPUTATION_REWARD) ? REPUTATION_REWARD : int256(points);
    }

    /// @dev The units a settlement's receipt rewards: the work's units, but no more than its protocol fee pays the
    /// reward of at the token's current rate (units × rate <= fee, rounded down). Whoever mints the receipt (an
    /// attestor's signature, or the private notes an attestor commits from {receiptOf}) is paid units × rate, so a
    /// receipt never creates more AITBC than its payer irrecoverably paid the treasury: a client and a provider of
    /// one owner who wash work through the marketplace lose the fee and gain at most as much. Without the bound the
    /// reward, units × rate, is paid for units anyone can claim at any price (1 wei a unit and no fee).
    function _rewardUnits(uint256 units, uint256 fee) private view returns (uint256) {
        uint256 backed = fee / IAIToken(address(_token)).rewardRate(); // the token's rate is never zero
        return backed < units ? backed : units;
    }

    /// @dev The compute receipt of a settled workload: its id binds this marketplace and the workload; its work
    /// hash commits to what was asked (service type, model, units) and by whom; its units are those the fee backs.
    function _receiptOf(
        uint256 workloadId,
        Workload storage w,
        address provider
    ) private view returns (ReceiptData memory) {
        return
            ReceiptData({
                receiptId: keccak256(abi.encode(address(this), workloadId)),
                provider: provider,
                client: w.client,
                units: _receiptUnits[workloadId],
                workHash: keccak256(abi.encode(workloadId, w.client, w.serviceType, w.modelHash, w.units)),
                resultHash: w.resultHash
            });
    }

    /// @dev A failed assignment (missed deadline or lost dispute): slash, reputation down, then reopen or refund.
    function _penalise(uint256 workloadId, Workload storage w, bool reopen) private {
        uint256 providerId = w.providerId;
        _removeLoad(w.serviceId, w.units);
        IAgentRegistry.AgentSummary memory provider = _registry.summaryOf(providerId);
        // Based on the escrowed value (units × maxPricePerUnit), so a token bid cannot make failure free.
        uint256 slashAmount = Slashing.assignmentPenalty(
            Settlement.cost(w.units, w.maxPricePerUnit),
            _timeoutSlashBps,
            provider.maxSlash
        );

        uint256 refund;
        if (reopen) {
            w.status = WorkloadStatus.Open;
            ++w.round;
            w.bidDeadline = uint64(block.timestamp) + w.biddingPeriod;
            w.executionDeadline = w.bidDeadline + w.executionPeriod;
            w.providerId = 0;
            w.serviceId = bytes32(0);
            w.pricePerUnit = 0;
            w.resultHash = bytes32(0);
            w.submittedAt = 0;
            w.challengeWindow = 0;
        } else {
            w.status = WorkloadStatus.Refunded;
            refund = _release(w);
        }
        emit AssignmentFailed(workloadId, providerId, slashAmount, reopen);

        // Slash first, then release the obligation: the stake it held is what pays the penalty.
        if (slashAmount != 0) _registry.slash(providerId, slashAmount, "workload failed");
        _registry.closeObligation(providerId);
        _registry.updateReputation(providerId, REPUTATION_PENALTY, "workload failed");
        if (refund != 0) {
            emit WorkloadRefunded(workloadId, refund);
            _token.safeTransfer(w.client, refund);
        }
    }

    /// @dev Appends `placed` to the round's bids or, on a full list, puts it in place of the dearest bid if it is
    /// cheaper (that provider may bid again); returns its index.
    function _placeBid(uint256 workloadId, uint32 round, Bid memory placed) private returns (uint256 bidIndex) {
        Bid[] storage bids = _bids[workloadId][round];
        if (bids.length < MAX_BIDS) {
            bids.push(placed);
            return bids.length - 1;
        }
        bidIndex = _dearestBid(bids);
        Bid storage dearest = bids[bidIndex];
        if (placed.pricePerUnit >= dearest.pricePerUnit) revert MarketplaceTooManyBids(workloadId, MAX_BIDS);
        uint256 evicted = dearest.providerId;
        _hasBid[workloadId][round][evicted] = false;
        bids[bidIndex] = placed;
        emit BidEvicted(workloadId, evicted, bidIndex);
    }

    /// @dev The index of the dearest bid (the last of equally dear ones).
    function _dearestBid(Bid[] storage bids) private view returns (uint256 index) {
        uint256 dearest;
        for (uint256 i = 0; i < bids.length; ++i) {
            uint256 price = bids[i].pricePerUnit;
            if (price >= dearest) {
                dearest = price;
                index = i;
            }
        }
    }

    /// @dev When the workload's current round began (posting, or the reopening): the assignment began within it, so
    /// every stop that hit the assignment is counted (a stop during bidding, before the award, only adds time).
    function _roundStart(Workload storage w) private view returns (uint64) {
        return w.bidDeadline - w.biddingPeriod;
    }

    /// @dev The bids of the open workload `w`'s current round, while they may be awarded: until {AWARD_WINDOW} after
    /// the round's bid deadline, extended by every emergency stop that hit the round (a stop that ended before the
    /// round began extends nothing).
    function _awardableBids(uint256 workloadId, Workload storage w) private view returns (Bid[] storage) {
        _requireStatus(workloadId, w, WorkloadStatus.Open);
        uint64 closedAt = _graced(_roundStart(w), w.bidDeadline + uint64(AWARD_WINDOW));
        if (block.timestamp > closedAt) revert MarketplaceAwardWindowClosed(workloadId, closedAt);
        return _bids[workloadId][w.round];
    }

    /// @dev Removes a workload's escrow from the books and returns it (the caller transfers it).
    function _release(Workload storage w) private returns (uint256 escrow) {
        escrow = Settlement.cost(w.units, w.maxPricePerUnit);
        _totalEscrowed -= escrow;
    }

    function _isValidatorFor(Workload storage w, address account) private view returns (bool) {
        if (!hasRole(VALIDATOR_ROLE, account)) return false;
        uint256 agentId = _registry.agentIdOf(account);
        if (agentId == 0 || agentId == w.providerId || account == w.client) return false;
        IAgentRegistry.AgentSummary memory s = _registry.summaryOf(agentId);
        return s.active && s.agentType == IAgentRegistry.AgentType.Validator;
    }

    function _workload(uint256 workloadId) private view returns (Workload storage w) {
        w = _workloads[workloadId];
        if (w.status == WorkloadStatus.None) revert MarketplaceUnknownWorkload(workloadId);
    }

    function _requireStatus(uint256 workloadId, Workload storage w, WorkloadStatus wanted) private view {
        if (w.status != wanted) revert MarketplaceWrongStatus(workloadId, w.status);
    }

    function _setParameters(uint256 protocolFeeBps_, uint256 challengeWindow_, uint256 timeoutSlashBps_) private {
        if (protocolFeeBps_ > MAX_FEE_BPS) revert MarketplaceInvalidParameter("protocolFeeBps", protocolFeeBps_);
        if (challengeWindow_ < MIN_CHALLENGE_WINDOW || challengeWindow_ > MAX_CHALLENGE_WINDOW) {
            revert MarketplaceInvalidParameter("challengeWindow", challengeWindow_);
        }
        if (timeoutSlashBps_ > MAX_TIMEOUT_SLASH_BPS) {
            revert MarketplaceInvalidParameter("timeoutSlashBps", timeoutSlashBps_);
        }
        _protocolFeeBps = protocolFeeBps_;
        _challengeWindow = challengeWindow_;
        _timeoutSlashBps = timeoutSlashBps_;
        emit ParametersSet(protocolFeeBps_, challengeWindow_, timeoutSlashBps_);
    }
}
