// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IWorkflows} from "../interfaces/IWorkflows.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title WorkflowListings
/// @notice Seed 003's workflow marketplace, as a module of {Workflows}: a workflow's owner lists it with an execution
/// price and a subscription price, public or restricted to the users it grants access; users subscribe for
/// {SUBSCRIPTION_PERIOD} (access, and no per-execution price); clients rate the executions they made through a
/// listing.
/// @dev Owns the listings, the access lists and the subscriptions. What it needs from the workflows core (who owns a
/// workflow, the owner's credits, collecting a payment, an execution's rating slot) it asks through the abstract
/// hooks at the end of this file; the core asks it, through {_listingFee} and {_countListedExecution}, what a
/// request pays and to count a completed execution.
abstract contract WorkflowListings is IWorkflows, ReentrancyGuard, SafetyGuarded {
    uint256 public constant SUBSCRIPTION_PERIOD = 30 days;
    /// @notice Longest title or description of a listing, and longest name of a workflow.
    uint256 public constant MAX_STRING_LENGTH = 1024;
    uint256 public constant MAX_TAGS = 16;

    uint256 private _listingCount;
    mapping(uint256 listingId => Listing listing) private _listings;
    mapping(uint256 listingId => mapping(address user => bool authorized)) private _access;
    mapping(uint256 listingId => mapping(address user => uint64 until)) private _subscriptions;

    /// @inheritdoc IWorkflows
    function createListing(
        uint256 workflowId,
        ListingInput calldata input
    ) external whenNotStopped returns (uint256 listingId) {
        uint256 gasStart = gasleft();
        _requireWorkflowOwner(workflowId);
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
        _requireWorkflowOwner(listing.workflowId);
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
        _requireWorkflowOwner(listing.workflowId);
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
        _creditHeld(_workflowOwner(listing.workflowId), price);
        emit Subscribed(listingId, msg.sender, until, price);

        _collect(msg.sender, price);
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, price, gasStart);
    }

    /// @inheritdoc IWorkflows
    function rateExecution(uint256 executionId, uint8 rating) external whenNotStopped {
        uint256 gasStart = gasleft();
        // The execution's checks come first (and mark it rated); an invalid rating then reverts all of it.
        uint256 listingId = _takeRating(executionId);
        if (rating == 0 || rating > 5) revert WorkflowsInvalidRating(rating);
        Listing storage listing = _listings[listingId];
        ++listing.ratingCount;
        listing.ratingSum += rating;
        emit ExecutionRated(executionId, listingId, rating);
        _enforce(msg.sender, ActionTypes.POST_WORKLOAD, 0, gasStart);
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

    // ---------------------------------------------------------------- for the core

    /// @dev Access and price of a request: without a listing only the owner executes; with one, the caller needs
    /// access, and pays the execution price unless subscribed, at most `maxListingFee`.
    function _listingFee(ExecutionRequest calldata request, Workflow storage wf) internal view returns (uint256 fee) {
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

    /// @dev Counts a completed execution made through listing `listingId`.
    function _countListedExecution(uint256 listingId) internal {
        ++_listings[listingId].totalExecutions;
    }

    // ---------------------------------------------------------------- hooks (the core implements them)

    /// @dev The owner of workflow `workflowId`, or the zero address for an unknown workflow.
    function _workflowOwner(uint256 workflowId) internal view virtual returns (address);

    /// @dev Requires workflow `workflowId` to exist and the caller to own it.
    function _requireWorkflowOwner(uint256 workflowId) internal view virtual;

    /// @dev Credits `amount` just paid in (it is collected by {_collect} later in the same call) to `account`.
    function _creditHeld(address account, uint256 amount) internal virtual;

    /// @dev Transfers `amount` tokens from `from` to this contract (allowance needed).
    function _collect(address from, uint256 amount) internal virtual;

    /// @dev The execution side of a rating: requires the caller to be the client of execution `executionId`,
    /// completed, made through a listing and not rated yet; marks it rated and returns its listing.
    function _takeRating(uint256 executionId) internal virtual returns (uint256 listingId);

    // ---------------------------------------------------------------- internal

    function _listing(uint256 listingId) private view returns (Listing storage listing) {
        listing = _listings[listingId];
        if (listing.workflowId == 0) revert WorkflowsUnknownListing(listingId);
    }

    function _hasAccess(uint256 listingId, Listing storage listing, address user) private view returns (bool) {
        return
            listing.isPublic ||
            _access[listingId][user] ||
            _subscriptions[listingId][user] > block.timestamp ||
            _workflowOwner(listing.workflowId) == user;
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
