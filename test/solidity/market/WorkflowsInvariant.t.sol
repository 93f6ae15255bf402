// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IServiceMarketplace} from "../../../contracts/interfaces/IServiceMarketplace.sol";
import {IWorkflows} from "../../../contracts/interfaces/IWorkflows.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {Workflows} from "../../../contracts/workflows/Workflows.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";
import {InvariantTargets} from "../utils/InvariantTargets.sol";
import {ProtocolActors, ProtocolFixture} from "./ProtocolFixture.sol";

/// @notice Defines small random DAG workflows, lists them with execution and subscription prices (0 included),
/// subscribes, requests executions (directly or through a listing; naming a keeper or not; with a listing fee cap at,
/// below or above the price), cancels, claims as the named keeper or as a stranger agent, records signed step batches
/// (within and beyond the budget, before and after the max execution time), re-records done steps, completes, fails,
/// expires and claims credits. Every token and credit movement is measured as a delta, independently of the
/// contract's own totals.
contract WorkflowsHandler is HandlerBase, ProtocolActors {
    uint256 internal constant CLIENT_FUNDING = 10_000_000 * AITBC;
    uint256 internal constant MAX_STEPS = 5;
    uint256 internal constant MAX_BUDGET = 1_000 * AITBC;

    Workflows public immutable workflows;

    address[] public clients; // clients and workflow owners
    address[] public providers; // step providers (agents with keys)
    address[] public keepers; // agents
    address[] public strangers; // active agents that are not keepers: the step providers
    address[] public creditors; // everyone who may hold credits
    mapping(address provider => uint256 key) public keyOf;

    uint256[] public workflowIds;
    uint256[] public listingIds;
    uint256 public executionCount;

    // ---- model
    mapping(uint256 executionId => IWorkflows.ExecutionStatus status) public ghostStatus;
    mapping(uint256 executionId => uint256 mask) public ghostDone;
    mapping(uint256 executionId => uint256 spent) public ghostSpent;
    mapping(uint256 executionId => address keeper) public ghostKeeper;
    mapping(uint256 executionId => address keeper) public ghostNamedKeeper; // the request's keeper (0: any agent)
    mapping(uint256 listingId => mapping(address client => uint256 until)) public ghostSubscribedUntil;
    uint256 public ghostDeposits; // budgets + listing fees + subscriptions taken from clients
    uint256 public ghostStepCosts; // sum of the costs of recorded steps (from the records sent)
    uint256 public ghostStepCredits; // credits granted to step providers (measured)
    uint256 public ghostOwnerCredits; // credits granted to workflow owners: listing fees and subscriptions
    uint256 public ghostKeeperFees; // credits granted to keepers: their fees at completion
    uint256 public ghostRefunds; // paid back to clients (measured)
    uint256 public ghostClaimed; // credits paid out (measured)
    uint256 public ghostDonated; // sent straight to Workflows, outside its own transfers
    uint256 public ghostSwept; // sent to the treasury by sweepExcess

    /// @dev Sends tokens straight to Workflows; not a creditor or client.
    address internal constant DONOR = address(0xD0D0);

    bool public ghostDoubleRecord; // an already-recorded step was recorded again
    bool public ghostOverBudget; // a batch beyond the budget was accepted
    bool public ghostWrongCredit; // a credit differed from the records / listing fee / subscription price
    bool public ghostWrongRefund; // a refund or payout differed from the expected amount
    bool public ghostWrongKeeper; // an execution was claimed by someone other than the keeper its client named
    bool public ghostFeeAboveMax; // a request was charged a listing fee above its maxListingFee
    bool public ghostKeeperFeeAboveMax; // a keeper took more than the client accepted or the budget had left
    bool public ghostWrongFee; // a listing fee differed from the price (0 while subscribed)
    bool public ghostLateRecord; // steps were recorded after the execution's max execution time
    bool public ghostFreeSubscription; // a listing without a subscription price sold one
    bool public ghostWrongSweep; // a sweep moved other than the excess
    bool public ghostEarlyCancel; // a running execution was cancelled before its keeper stalled

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_,
        Workflows workflows_
    ) HandlerBase(humanOverride_, constitution_, token_, registry_) {
        workflows = workflows_;
    }

    /// @notice Funds 3 clients; registers and stakes 3 step providers and 2 keepers (setUp only).
    function prepare() external {
        for (uint256 i = 0; i < 3; ++i) {
            address client = address(uint160(0xC11E5700 + i));
            clients.push(client);
            creditors.push(client);
            _mintTo(client, CLIENT_FUNDING / REWARD_RATE);
            vm.prank(client);
            token.approve(address(workflows), type(uint256).max);
        }
        for (uint256 i = 0; i < 3; ++i) {
            uint256 key = 0x57E9_0001 + i;
            (address agent, ) = _setupProvider(
                IServiceMarketplace(address(0)),
                key,
                address(uint160(0x0BE57000 + i)),
                0
            );
            providers.push(agent);
            strangers.push(agent);
            creditors.push(agent);
            keyOf[agent] = key;
        }
        for (uint256 i = 0; i < 2; ++i) {
            (address agent, ) = _setupProvider(
                IServiceMarketplace(address(0)),
                0x6EE9_0001 + i,
                address(uint160(0x0BE58000 + i)),
                0
            );
            keepers.push(agent);
            creditors.push(agent); // keepers hold their fees as credits
        }
    }

    function creditorCount() external view returns (uint256) {
        return creditors.length;
    }

    // ---------------------------------------------------------------- helpers

    function _findExecution(uint256 seed, IWorkflows.ExecutionStatus status) internal view returns (uint256) {
        if (executionCount == 0) return 0;
        uint256 start = seed % executionCount;
        for (uint256 k = 0; k < executionCount; ++k) {
            uint256 id = ((start + k) % executionCount) + 1;
            if (ghostStatus[id] == status) return id;
        }
        return 0;
    }

    function _creditSnapshot() internal view returns (uint256[] memory credits) {
        credits = new uint256[](creditors.length);
        for (uint256 i = 0; i < creditors.length; ++i) credits[i] = workflows.creditsOf(creditors[i]);
    }

    /// @dev The credit gained by `a` since `before`; any other creditor's change is flagged.
    function _creditGain(uint256[] memory before, address a) internal returns (uint256 gain) {
        return _creditGain(before, a, a);
    }

    /// @dev The credit gained by `a` and `b` together since `before`; any other creditor's change is flagged.
    function _creditGain(uint256[] memory before, address a, address b) internal returns (uint256 gain) {
        for (uint256 i = 0; i < creditors.length; ++i) {
            uint256 c = workflows.creditsOf(creditors[i]);
            if ((creditors[i] == a || creditors[i] == b) && c >= before[i]) gain += c - before[i];
            else if (c != before[i]) ghostWrongCredit = true;
        }
    }

    // ---------------------------------------------------------------- definitions and listings

    function defineWorkflow(uint256 ownerSeed, uint256 n, uint256 maskSeed) external syncTime {
        n = bound(n, 1, MAX_STEPS);
        uint256[] memory masks = new uint256[](n);
        for (uint256 i = 1; i < n; ++i) masks[i] = uint256(keccak256(abi.encode(maskSeed, i))) & ((1 << i) - 1);
        IWorkflows.WorkflowSpec memory spec = _spec(masks);
        spec.maxBudget = MAX_BUDGET;
        vm.prank(_pick(clients, ownerSeed));
        try workflows.defineWorkflow(spec) returns (uint256 id) {
            workflowIds.push(id);
            _ok("define");
        } catch {
            _failed("define");
        }
    }

    function createListing(uint256 wfSeed, uint256 executionPrice, uint256 subscriptionPrice) external syncTime {
        if (workflowIds.length == 0) return;
        uint256 wf = workflowIds[wfSeed % workflowIds.length];
        IWorkflows.ListingInput memory input;
        input.title = "listing";
        input.executionPrice = uint128(bound(executionPrice, 0, 50 * AITBC));
        input.subscriptionPrice = uint128(bound(subscriptionPrice, 0, 200 * AITBC));
        input.isPublic = true;
        vm.prank(workflows.getWorkflow(wf).owner);
        try workflows.createListing(wf, input) returns (uint256 id) {
            listingIds.push(id);
            _ok("createListing");
        } catch {
            _failed("createListing");
        }
    }

    function subscribe(uint256 listingSeed, uint256 clientSeed) external syncTime {
        if (listingIds.length == 0) return;
        uint256 listingId = listingIds[listingSeed % listingIds.length];
        IWorkflows.Listing memory listing = workflows.getListing(listingId);
        address owner = workflows.getWorkflow(listing.workflowId).owner;
        address client = _pick(clients, clientSeed);
        uint256 balanceBefore = token.balanceOf(client);
        uint256[] memory credits = _creditSnapshot();
        vm.prank(client);
        try workflows.subscribe(listingId, type(uint256).max) {
            uint256 paid = balanceBefore - token.balanceOf(client);
            uint256 credited = _creditGain(credits, owner);
            if (paid != listing.subscriptionPrice || credited != paid) ghostWrongCredit = true;
            if (listing.subscriptionPrice == 0) ghostFreeSubscription = true;
            uint256 from = ghostSubscribedUntil[listingId][client];
            if (from < block.timestamp) from = block.timestamp;
            ghostSubscribedUntil[listingId][client] = from + workflows.SUBSCRIPTION_PERIOD();
            ghostDeposits += paid;
            ghostOwnerCredits += credited;
            _ok("subscribe");
        } catch {
            _failed(listing.subscriptionPrice == 0 ? "subscribeFree" : "subscribe");
        }
    }

    // ---------------------------------------------------------------- executions

    /// @dev IWorkflows.ExecutionRequest with the defaults of test/helpers/workflows.ts's executionRequest: any active
    /// agent may claim it, and any listing price is accepted.
    function _executionRequest(
        uint256 workflowId,
        bytes32 inputsHash,
        uint256 budget,
        uint256 listingId
    ) internal pure returns (IWorkflows.ExecutionRequest memory) {
        return
            IWorkflows.ExecutionRequest({
                workflowId: workflowId,
                inputsHash: inputsHash,
                budget: budget,
                listingId: listingId,
                keeper: address(0),
                maxListingFee: type(uint256).max,
                maxKeeperFee: 0
            });
    }

    /// @param viaListing request through a listing (paying its fee unless subscribed) instead of as the owner.
    /// @param keeperSeed % 4: 0 any agent; 1 a keeper; 2 a provider (an agent); 3 a client (never an agent).
    /// @param capSeed % 4: 0 no cap; 1 exactly the fee due; 2 one below it (0 if none is due); 3 random.
    function request(
        uint256 seed,
        uint256 clientSeed,
        uint256 budget,
        bool viaListing,
        uint256 keeperSeed,
        uint256 capSeed
    ) external syncTime {
        uint256 wf;
        uint256 listingId;
        address client;
        uint256 fee;
        if (viaListing && listingIds.length != 0) {
            listingId = listingIds[seed % listingIds.length];
            IWorkflows.Listing memory listing = workflows.getListing(listingId);
            wf = listing.workflowId;
            client = _pick(clients, clientSeed);
            if (ghostSubscribedUntil[listingId][client] <= block.timestamp) fee = listing.executionPrice;
        } else if (workflowIds.length != 0) {
            wf = workflowIds[seed % workflowIds.length];
            client = workflows.getWorkflow(wf).owner;
        } else {
            return;
        }
        IWorkflows.ExecutionRequest memory req = _executionRequest(
            wf,
            keccak256(abi.encode("inputs", calls)),
            bound(budget, 1, MAX_BUDGET),
            listingId
        );
        uint256 mode = keeperSeed % 4;
        if (mode == 1) req.keeper = _pick(keepers, keeperSeed >> 8);
        else if (mode == 2) req.keeper = _pick(providers, keeperSeed >> 8);
        else if (mode == 3) req.keeper = _pick(clients, keeperSeed >> 8);
        mode = capSeed % 4;
        if (mode == 1) req.maxListingFee = fee;
        else if (mode == 2) req.maxListingFee = fee == 0 ? 0 : fee - 1;
        else if (mode == 3) req.maxListingFee = bound(capSeed >> 8, 0, 60 * AITBC);
        // A keeper fee of up to the budget, or none; now and then above it (refused).
        if ((keeperSeed & (1 << 16)) != 0) req.maxKeeperFee = bound(keeperSeed >> 17, 0, req.budget + 1);
        uint256 balanceBefore = token.balanceOf(client);
        vm.prank(client);
        try workflows.requestExecution(req) returns (uint256 id) {
            ++executionCount;
            if (id != executionCount) ghostWrongRefund = true;
            uint256 charged = workflows.getExecution(id).listingFee;
            if (charged > req.maxListingFee) ghostFeeAboveMax = true;
            if (charged != fee) ghostWrongFee = true;
            uint256 paid = balanceBefore - token.balanceOf(client);
            if (paid != req.budget + charged) ghostWrongRefund = true;
            ghostDeposits += paid;
            ghostStatus[id] = IWorkflows.ExecutionStatus.Pending;
            ghostNamedKeeper[id] = req.keeper;
            _ok("request");
        } catch {
            _failed(
                fee > req.maxListingFee
                    ? "requestFeeAboveMax"
                    : (req.maxKeeperFee > req.budget ? "requestKeeperFeeAboveBudget" : "request")
            );
        }
    }

    function cancel(uint256 seed) external syncTime {
        uint256 id = _findExecution(seed, IWorkflows.ExecutionStatus.Pending);
        if (id == 0) return;
        IWorkflows.Execution memory e = workflows.getExecution(id);
        uint256 balanceBefore = token.balanceOf(e.client);
        vm.prank(e.client);
        try workflows.cancelExecution(id) {
            _refunded(id, e, token.balanceOf(e.client) - balanceBefore, e.budget + e.listingFee);
            ghostStatus[id] = IWorkflows.ExecutionStatus.Failed;
            _ok("cancel");
        } catch {
            _failed("cancel");
        }
    }

    /// @param stranger claim as a step provider (an active agent) rather than as the named keeper (or, when none is
    /// named, a keeper).
    function claim(uint256 seed, uint256 keeperSeed, bool stranger) external syncTime {
        uint256 id = _findExecution(seed, IWorkflows.ExecutionStatus.Pending);
        if (id == 0) return;
        address named = ghostNamedKeeper[id];
        address keeper =
            stranger
                ? _pick(strangers, keeperSeed)
                : named != address(0)
                    ? named
                    : _pick(keepers, keeperSeed);
        bool allowed = named == address(0) || keeper == named;
        vm.prank(keeper);
        try workflows.claimExecution(id) {
            if (!allowed) ghostWrongKeeper = true;
            ghostStatus[id] = IWorkflows.ExecutionStatus.Running;
            ghostKeeper[id] = keeper;
            _ok("claim");
        } catch {
            _failed(allowed ? "claim" : "claimNotKeeper");
        }
    }

    /// @notice Records up to `count` ready steps (in dependency order) with random costs and providers; with
    /// `overspend`, the costs may exceed the remaining budget (the batch must then revert).
    function record(uint256 seed, uint256 count, uint256 costSeed, bool overspend) external syncTime {
        uint256 id = _findExecution(seed, IWorkflows.ExecutionStatus.Running);
        if (id == 0) return;
        IWorkflows.Execution memory e = workflows.getExecution(id);
        uint256 stepCount = workflows.getWorkflow(e.workflowId).stepCount;
        count = bound(count, 1, stepCount);
        IWorkflows.StepRecord[] memory records = new IWorkflows.StepRecord[](count);
        uint256 done = ghostDone[id];
        uint256 n;
        uint256 total;
        uint256 remaining = e.budget - ghostSpent[id];
        for (uint256 s = 0; s < stepCount && n < count; ++s) {
            if (done & (1 << s) != 0 || workflows.dependenciesOf(e.workflowId, s) & ~done != 0) continue;
            uint256 r = uint256(keccak256(abi.encode(costSeed, s)));
            uint256 cost = overspend ? r % (remaining + 1) : r % (remaining / stepCount + 1);
            address provider = _pick(providers, r >> 128);
            records[n++] = _stepRecord(workflows, keyOf[provider], id, uint16(s), cost);
            total += cost;
            done |= 1 << s;
        }
        if (n == 0) return;
        assembly {
            mstore(records, n)
        }
        uint256[] memory credits = _creditSnapshot();
        bool late = block.timestamp > uint256(e.startedAt) + workflows.getWorkflow(e.workflowId).maxExecutionTime;
        vm.prank(ghostKeeper[id]);
        try workflows.recordSteps(id, records) {
            if (total > remaining) ghostOverBudget = true;
            if (late) ghostLateRecord = true;
            uint256 granted;
            for (uint256 i = 0; i < creditors.length; ++i) {
                uint256 gain = workflows.creditsOf(creditors[i]) - credits[i];
                uint256 owed;
                for (uint256 k = 0; k < n; ++k) if (records[k].provider == creditors[i]) owed += records[k].cost;
                if (gain != owed) ghostWrongCredit = true;
                granted += gain;
            }
            ghostStepCredits += granted;
            ghostStepCosts += total;
            ghostSpent[id] += total;
            ghostDone[id] = done;
            _ok("record");
        } catch {
            _failed(late ? "recordLate" : "record");
        }
    }

    /// @notice Records a step that is already done, alone or after itself in one batch: must never succeed.
    function recordAgain(uint256 seed, uint256 stepSeed, uint256 providerSeed, bool sameBatch) external syncTime {
        uint256 id = _findExecution(seed, IWorkflows.ExecutionStatus.Running);
        if (id == 0) return;
        IWorkflows.Execution memory e = workflows.getExecution(id);
        uint256 stepCount = workflows.getWorkflow(e.workflowId).stepCount;
        uint256 done = ghostDone[id];
        uint256 step = stepSeed % stepCount;
        address provider = _pick(providers, providerSeed);
        IWorkflows.StepRecord[] memory records;
        if (done & (1 << step) != 0) {
            records = new IWorkflows.StepRecord[](1);
            records[0] = _stepRecord(workflows, keyOf[provider], id, uint16(step), 0);
        } else if (sameBatch && workflows.dependenciesOf(e.workflowId, step) & ~done == 0) {
            records = new IWorkflows.StepRecord[](2); // a ready step, twice
            records[0] = _stepRecord(workflows, keyOf[provider], id, uint16(step), 0);
            records[1] = records[0];
        } else {
            return;
        }
        vm.prank(ghostKeeper[id]);
        try workflows.recordSteps(id, records) {
            ghostDoubleRecord = true;
            _ok("recordAgain");
        } catch {
            _failed("recordAgain");
        }
    }

    function complete(uint256 seed) external syncTime {
        uint256 id = _findExecution(seed, IWorkflows.ExecutionStatus.Running);
        if (id == 0) return;
        IWorkflows.Execution memory e = workflows.getExecution(id);
        address owner = workflows.getWorkflow(e.workflowId).owner;
        uint256 balanceBefore = token.balanceOf(e.client);
        uint256[] memory credits = _creditSnapshot();
        // The keeper's fee: mostly within what the client accepted, now and then one above it.
        uint256 fee = bound(seed >> 8, 0, uint256(e.maxKeeperFee) + 1);
        vm.prank(ghostKeeper[id]);
        try workflows.completeExecution(id, keccak256(abi.encode("result", id)), fee) {
            if (fee > e.maxKeeperFee || ghostSpent[id] + fee > e.budget) ghostKeeperFeeAboveMax = true;
            uint256 credited = _creditGain(credits, owner, ghostKeeper[id]);
            if (credited != e.listingFee + fee) ghostWrongCredit = true;
            ghostOwnerCredits += e.listingFee;
            ghostKeeperFees += fee;
            _refunded(id, e, token.balanceOf(e.client) - balanceBefore, e.budget - ghostSpent[id] - fee);
            ghostStatus[id] = IWorkflows.ExecutionStatus.Completed;
            _ok("complete");
        } catch {
            _failed("complete");
        }
    }

    function fail(uint256 seed) external syncTime {
        uint256 id = _findExecution(seed, IWorkflows.ExecutionStatus.Running);
        if (id == 0) return;
        IWorkflows.Execution memory e = workflows.getExecution(id);
        uint256 balanceBefore = token.balanceOf(e.client);
        vm.prank(ghostKeeper[id]);
        try workflows.failExecution(id, keccak256("failed")) {
            _refunded(id, e, token.balanceOf(e.client) - balanceBefore, e.budget - ghostSpent[id] + e.listingFee);
            ghostStatus[id] = IWorkflows.ExecutionStatus.Failed;
            _ok("fail");
        } catch {
            _failed("fail");
        }
    }

    function expire(uint256 seed, bool wait) external syncTime {
        uint256 id = _findExecution(seed, IWorkflows.ExecutionStatus.Running);
        if (id == 0) return;
        IWorkflows.Execution memory e = workflows.getExecution(id);
        uint256 expiresAt = uint256(e.startedAt) + workflows.getWorkflow(e.workflowId).maxExecutionTime;
        if (wait && currentTime <= expiresAt) {
            currentTime = expiresAt + 1;
            vm.warp(currentTime);
        }
        uint256 balanceBefore = token.balanceOf(e.client);
        try workflows.expireExecution(id) {
            _refunded(id, e, token.balanceOf(e.client) - balanceBefore, e.budget - ghostSpent[id] + e.listingFee);
            ghostStatus[id] = IWorkflows.ExecutionStatus.Failed;
            _ok("expire");
        } catch {
            _failed("expire");
        }
    }

    /// @notice The client cancels a running execution: refused until the keeper stalls (KEEPER_TIMEOUT without a
    /// claim or a record), then the unspent budget and the listing fee come back.
    function cancelStalled(uint256 seed, bool wait) external syncTime {
        uint256 id = _findExecution(seed, IWorkflows.ExecutionStatus.Running);
        if (id == 0) return;
        IWorkflows.Execution memory e = workflows.getExecution(id);
        uint256 stallsAt = uint256(e.lastActiveAt) + workflows.KEEPER_TIMEOUT();
        if (wait && currentTime <= stallsAt) {
            currentTime = stallsAt + 1;
            vm.warp(currentTime);
        }
        uint256 balanceBefore = token.balanceOf(e.client);
        vm.prank(e.client);
        try workflows.cancelExecution(id) {
            if (currentTime <= stallsAt) ghostEarlyCancel = true;
            _refunded(id, e, token.balanceOf(e.client) - balanceBefore, e.budget - ghostSpent[id] + e.listingFee);
            ghostStatus[id] = IWorkflows.ExecutionStatus.Failed;
            _ok("cancelStalled");
        } catch {
            _failed("cancelStalled");
        }
    }

    /// @notice Someone sends tokens straight to Workflows (they are held for nobody).
    function donate(uint256 amount) external syncTime {
        amount = bound(amount, 1, 1_000) * AITBC;
        _mintTo(DONOR, amount / REWARD_RATE);
        vm.prank(DONOR);
        token.transfer(address(workflows), amount);
        ghostDonated += amount;
        _ok("donate");
    }

    /// @notice Anyone sweeps the excess to the treasury: exactly balance − totalHeld.
    function sweep() external syncTime {
        uint256 excess = token.balanceOf(address(workflows)) - workflows.totalHeld();
        uint256 treasuryBefore = token.balanceOf(treasury);
        try workflows.sweepExcess() returns (uint256 amount) {
            uint256 toTreasury = token.balanceOf(treasury) - treasuryBefore;
            if (amount != excess || toTreasury != excess || excess == 0) ghostWrongSweep = true;
            ghostSwept += toTreasury;
            _ok("sweep");
        } catch {
            if (excess != 0) ghostWrongSweep = true;
            _failed("sweep");
        }
    }

    function _refunded(uint256 id, IWorkflows.Execution memory e, uint256 refund, uint256 expected) internal {
        if (refund != expected || e.spent != ghostSpent[id]) ghostWrongRefund = true;
        ghostRefunds += refund;
    }

    function claimCredits(uint256 seed) external syncTime {
        address account = _pick(creditors, seed);
        uint256 credit = workflows.creditsOf(account);
        uint256 balanceBefore = token.balanceOf(account);
        vm.prank(account);
        try workflows.claimCredits() returns (uint256 amount) {
            uint256 paid = token.balanceOf(account) - balanceBefore;
            if (paid != credit || amount != credit || workflows.creditsOf(account) != 0) ghostWrongRefund = true;
            ghostClaimed += paid;
            _ok("claimCredits");
        } catch {
            _failed("claimCredits");
        }
    }
}

/// @notice Workflows money: balance == totalHeld; every recorded step is credited exactly once, at its cost;
/// deposits == step credits + owner credits + refunds + what open executions still hold. Access: only the keeper a
/// client named claims its execution; no listing fee above the request's cap; nothing recorded after the max
/// execution time; no free subscription.
contract WorkflowsInvariantTest is ProtocolFixture, InvariantTargets {
    WorkflowsHandler internal handler;

    function setUp() public {
        _deployProtocol();
        handler = new WorkflowsHandler(humanOverride, constitution, token, registry, workflows);
        handler.prepare();

        bytes4[] memory selectors = new bytes4[](20);
        selectors[0] = handler.defineWorkflow.selector;
        selectors[1] = handler.createListing.selector;
        selectors[2] = handler.subscribe.selector;
        selectors[3] = handler.request.selector;
        selectors[4] = handler.cancel.selector;
        selectors[5] = handler.claim.selector;
        selectors[6] = handler.record.selector;
        selectors[7] = handler.recordAgain.selector;
        selectors[8] = handler.complete.selector;
        selectors[9] = handler.fail.selector;
        selectors[10] = handler.expire.selector;
        selectors[11] = handler.claimCredits.selector;
        selectors[12] = handler.warpTime.selector;
        // The feeders of every other action, twice as often.
        selectors[13] = handler.request.selector;
        selectors[14] = handler.claim.selector;
        selectors[15] = handler.record.selector;
        selectors[16] = handler.complete.selector;
        selectors[17] = handler.cancelStalled.selector;
        selectors[18] = handler.donate.selector;
        selectors[19] = handler.sweep.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev What executions still hold: budget - spent + listing fee of every Pending or Running one.
    function _openHeld() internal view returns (uint256 held, uint256 spentSum) {
        uint256 count = handler.executionCount();
        for (uint256 id = 1; id <= count; ++id) {
            IWorkflows.Execution memory e = workflows.getExecution(id);
            spentSum += e.spent;
            if (e.status == IWorkflows.ExecutionStatus.Pending || e.status == IWorkflows.ExecutionStatus.Running) {
                held += uint256(e.budget) - e.spent + e.listingFee;
            }
        }
    }

    function invariant_balanceEqualsTotalHeld() public view {
        (uint256 held, ) = _openHeld();
        uint256 credits;
        for (uint256 i = 0; i < handler.creditorCount(); ++i) credits += workflows.creditsOf(handler.creditors(i));
        uint256 balance = token.balanceOf(address(workflows));
        assertEq(
            balance,
            workflows.totalHeld() + handler.ghostDonated() - handler.ghostSwept(),
            "balance == held + excess"
        );
        assertGe(balance, workflows.totalHeld(), "balance >= totalHeld");
        assertFalse(handler.ghostWrongSweep(), "a sweep moved other than the excess");
        assertEq(workflows.totalHeld(), held + credits, "totalHeld == open executions + outstanding credits");
    }

    function invariant_stepPaidAtMostOnce() public view {
        assertFalse(handler.ghostDoubleRecord(), "an already-recorded step was recorded again");
        assertFalse(handler.ghostOverBudget(), "a batch beyond the budget was accepted");
        assertFalse(handler.ghostWrongCredit(), "a credit differed from the records");
        assertEq(handler.ghostStepCredits(), handler.ghostStepCosts(), "credits granted == costs of recorded steps");
        (, uint256 spentSum) = _openHeld();
        assertEq(spentSum, handler.ghostStepCosts(), "sum of spent == costs of recorded steps");
        uint256 count = handler.executionCount();
        for (uint256 id = 1; id <= count; ++id) {
            IWorkflows.Execution memory e = workflows.getExecution(id);
            assertEq(uint256(e.status), uint256(handler.ghostStatus(id)), "status == model");
            assertEq(e.doneMask, handler.ghostDone(id), "doneMask == recorded steps");
            uint256 popcount;
            for (uint256 m = e.doneMask; m != 0; m &= m - 1) ++popcount;
            assertEq(uint256(e.stepsDone), popcount, "stepsDone == recorded steps");
        }
    }

    function invariant_depositsEqualCreditsRefundsAndHeld() public view {
        assertFalse(handler.ghostWrongRefund(), "a refund or payout differed from the expected amount");
        (uint256 held, ) = _openHeld();
        assertEq(
            handler.ghostDeposits(),
            handler.ghostStepCredits() +
                handler.ghostOwnerCredits() +
                handler.ghostKeeperFees() +
                handler.ghostRefunds() +
                held,
            "deposits == step credits + owner credits + keeper fees + refunds + held by open executions"
        );
        assertEq(
            workflows.totalHeld(),
            held +
                handler.ghostStepCredits() +
                handler.ghostOwnerCredits() +
                handler.ghostKeeperFees() -
                handler.ghostClaimed(),
            "totalHeld == held + credits granted - credits claimed"
        );
    }

    function invariant_onlyTheNamedKeeperClaims() public view {
        assertFalse(handler.ghostWrongKeeper(), "an execution was claimed by another than its named keeper");
        assertFalse(handler.ghostEarlyCancel(), "a running execution was cancelled before its keeper stalled");
        uint256 count = handler.executionCount();
        for (uint256 id = 1; id <= count; ++id) {
            IWorkflows.Execution memory e = workflows.getExecution(id);
            assertEq(e.keeper, handler.ghostNamedKeeper(id), "keeper == the request's");
            if (e.keeperId != 0) {
                assertEq(uint256(e.keeperId), registry.agentIdOf(handler.ghostKeeper(id)), "keeperId == claimer");
                if (e.keeper != address(0)) {
                    assertEq(uint256(e.keeperId), registry.agentIdOf(e.keeper), "keeperId == named keeper");
                }
            }
        }
    }

    function invariant_keeperFeesWithinWhatClientsAccepted() public view {
        assertFalse(
            handler.ghostKeeperFeeAboveMax(),
            "a keeper took more than its client accepted or than the budget had left"
        );
    }

    function invariant_listingTermsHold() public view {
        assertFalse(handler.ghostFeeAboveMax(), "a listing fee above the request's maxListingFee was charged");
        assertFalse(handler.ghostWrongFee(), "a listing fee differed from the price (0 while subscribed)");
        assertFalse(handler.ghostFreeSubscription(), "a listing without a subscription price sold one");
        assertFalse(handler.ghostLateRecord(), "steps were recorded after the max execution time");
    }

    /// @dev The keeper fee path, deterministically: a request accepting 5 AITBC, a keeper asking 5 AITBC + 1 wei
    /// (refused), then 2 AITBC (credited to it, the rest refunded); the books still balance.
    function test_keeperFee_paidWithinWhatTheClientAccepted() public {
        handler.defineWorkflow(0, 3, 0);
        handler.request(0, 0, 300 * AITBC, false, ((5 * AITBC) << 17) | (1 << 16), 0); // any keeper, fee up to 5
        assertEq(workflows.getExecution(1).maxKeeperFee, 5 * AITBC, "the fee the client accepted");
        handler.claim(0, 0, false);
        handler.record(0, 3, 1, false);
        handler.complete((5 * AITBC + 1) << 8);
        assertEq(handler.reverted("complete"), 1, "a fee above what the client accepted is refused");
        handler.complete((2 * AITBC) << 8);
        assertEq(handler.succeeded("complete"), 1, "completed");
        assertEq(handler.ghostKeeperFees(), 2 * AITBC, "the keeper's fee");
        assertEq(workflows.creditsOf(handler.ghostKeeper(1)), 2 * AITBC, "credited to the keeper");
        invariant_keeperFeesWithinWhatClientsAccepted();
        invariant_depositsEqualCreditsRefundsAndHeld();
        invariant_balanceEqualsTotalHeld();
    }

    /// @dev Guards against a vacuous invariant: one deterministic pass through every path the handler drives.
    function test_handlerActions_coverEveryPath() public {
        handler.defineWorkflow(0, 3, 0); // workflow 1, owned by client 0
        handler.createListing(0, 10 * AITBC, 30 * AITBC); // listing 1
        handler.createListing(0, 10 * AITBC, 0); // listing 2: no subscription
        handler.subscribe(0, 2); // client 2 subscribes to listing 1
        handler.subscribe(1, 1); // listing 2 sells none
        handler.request(0, 1, 100 * AITBC, true, 0, 2); // client 1 caps the fee of 10 at 10 - 1 wei: refused
        handler.request(0, 1, 500 * AITBC, true, 1, 1); // execution 1: client 1 via listing 1 (fee 10, cap 10), keeper 0
        handler.request(0, 2, 400 * AITBC, true, 0, 2); // execution 2: client 2, subscribed (no fee, cap 0), any keeper
        handler.request(0, 0, 300 * AITBC, false, 3, 0); // execution 3: the owner directly, naming a non-agent keeper
        handler.claim(2, 0, false); // execution 3: its named keeper is no agent
        handler.cancel(2); // execution 3 cancelled
        handler.claim(0, 0, true); // execution 1: a stranger agent (provider 0) is refused
        handler.claim(0, 0, false); // execution 1: its named keeper
        handler.record(0, 3, 1, true); // overspend: may or may not exceed; then the normal path below
        handler.record(0, 3, 2, false);
        handler.record(0, 3, 3, false);
        handler.record(0, 3, 4, false);
        handler.recordAgain(0, 0, 0, false);
        handler.complete(0);
        handler.claim(1, 1, true); // execution 2 names no keeper: any agent (provider 1) claims it
        handler.record(1, 1, 5, false);
        handler.recordAgain(1, 0, 1, true);
        handler.recordAgain(1, 1, 1, true);
        handler.recordAgain(1, 2, 1, true);
        handler.expire(1, false); // not yet
        handler.warpTime(4 days); // past execution 2's max execution time (3 days)
        handler.record(1, 1, 6, false); // too late
        handler.expire(1, true);
        // Execution 4: claimed, one batch recorded, then the keeper stalls and the client cancels.
        handler.request(0, 0, 200 * AITBC, false, 0, 0);
        handler.claim(3, 0, false);
        handler.record(3, 1, 7, false);
        handler.cancelStalled(3, false); // the keeper is live: refused
        handler.cancelStalled(3, true);
        handler.sweep(); // nothing to sweep: refused
        handler.donate(5);
        handler.sweep();
        handler.claimCredits(0); // client 0: owner credits
        handler.claimCredits(3); // provider 0
        handler.claimCredits(4);
        handler.claimCredits(5);

        assertEq(handler.succeeded("request"), 4, "request");
        assertEq(handler.reverted("request"), 0, "request refused");
        assertEq(handler.reverted("requestFeeAboveMax"), 1, "request above its fee cap");
        assertEq(handler.succeeded("subscribe"), 1, "subscribe");
        assertEq(handler.reverted("subscribeFree"), 1, "free subscription");
        assertEq(handler.succeeded("cancel"), 1, "cancel");
        assertEq(handler.succeeded("claim"), 3, "claim");
        assertEq(handler.succeeded("cancelStalled"), 1, "cancel a stalled execution");
        assertEq(handler.reverted("cancelStalled"), 1, "cancel a live one");
        assertEq(handler.succeeded("sweep"), 1, "sweep");
        assertEq(handler.reverted("sweep"), 1, "nothing to sweep");
        assertEq(handler.ghostSwept(), 5 * AITBC, "swept the donation");
        assertEq(handler.reverted("claim"), 1, "claim by a named non-agent");
        assertEq(handler.reverted("claimNotKeeper"), 1, "claim by a stranger");
        assertEq(handler.ghostKeeper(1), handler.keepers(0), "execution 1's keeper");
        assertEq(handler.ghostKeeper(2), handler.providers(1), "execution 2's keeper");
        assertTrue(handler.succeeded("record") >= 2, "record");
        assertEq(handler.reverted("recordLate"), 1, "late record");
        assertEq(handler.succeeded("complete"), 1, "complete");
        assertEq(handler.succeeded("expire"), 1, "expire");
        assertEq(handler.reverted("expire"), 1, "early expire");
        assertEq(handler.succeeded("recordAgain"), 0, "a step recorded twice");
        assertTrue(handler.reverted("recordAgain") >= 2, "re-records refused");
        assertTrue(handler.succeeded("claimCredits") >= 2, "credits claimed");
        assertTrue(handler.ghostStepCosts() > 0 && handler.ghostOwnerCredits() == 40 * AITBC, "credits moved");

        invariant_balanceEqualsTotalHeld();
        invariant_stepPaidAtMostOnce();
        invariant_depositsEqualCreditsRefundsAndHeld();
        invariant_onlyTheNamedKeeperClaims();
        invariant_listingTermsHold();
    }
}
