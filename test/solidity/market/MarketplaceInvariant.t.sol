// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IServiceMarketplace} from "../../../contracts/interfaces/IServiceMarketplace.sol";
import {ServiceMarketplace} from "../../../contracts/market/ServiceMarketplace.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";
import {InvariantTargets} from "../utils/InvariantTargets.sol";
import {ProtocolActors, ProtocolFixture} from "./ProtocolFixture.sol";

/// @notice Drives workloads through every path: post, cancel, bid, award (client and auto), signed results (and
/// forged ones), accept, finalize after the challenge window, reject, guardian dispute resolution both ways, and
/// timeouts with and without reopening; plus attempts to settle a workload a second time. Every token movement is
/// measured as balance deltas over all actors, so the ghost sums never trust the contract's own arithmetic.
contract MarketplaceHandler is HandlerBase, ProtocolActors {
    using WorkloadStatusLib for IServiceMarketplace.WorkloadStatus;

    uint256 internal constant CLIENT_FUNDING = 10_000_000 * AITBC;
    uint256 internal constant MAX_UNITS = 100;
    uint256 internal constant MAX_PRICE = 100 * AITBC; // per unit: escrows up to 10,000 AITBC

    ServiceMarketplace public immutable marketplace;

    address[] public clients;
    address[] public providers;
    address[] public operators;
    address[] internal _accounts; // every actor whose balance the handler watches
    mapping(address provider => uint256 key) public keyOf;
    mapping(address provider => bytes32 serviceId) public serviceOf;

    // ---- model
    mapping(uint256 workloadId => IServiceMarketplace.WorkloadStatus status) public ghostStatus;
    mapping(uint256 workloadId => uint256 escrow) public ghostEscrowOf;
    mapping(uint256 workloadId => uint256 count) public ghostSettlements;
    mapping(uint256 workloadId => uint256 amount) public ghostPaidGross; // provider's payment + treasury fee
    uint256 public ghostDeposits; // escrow taken from clients at posting
    uint256 public ghostPayments; // paid to providers (net of fee)
    uint256 public ghostFees; // paid to the treasury at settlement
    uint256 public ghostRefunds; // paid back to clients
    uint256 public ghostSlashed; // slashed to the treasury by failed assignments
    uint256 public ghostDonated; // sent straight to the marketplace, outside postWorkload
    uint256 public ghostSwept; // sent to the treasury by sweepExcess
    uint256 public ghostReputationGained; // reputation settlements gave their providers
    uint256 public ghostSettledFees; // the fees of those settlements

    uint256 internal _reputationBefore; // the provider's reputation before the settlement being measured

    /// @dev Sends tokens straight to the marketplace; not watched, so its transfers flag nothing.
    address internal constant DONOR = address(0xD0D0);

    bool public ghostWrongEscrow; // a posting took other than units x maxPricePerUnit
    bool public ghostWrongRecipient; // an account other than the expected ones changed balance
    bool public ghostWrongSplit; // a settlement/refund/slash moved other than the exact amounts
    bool public ghostDoubleSettlement; // a settled/refunded/cancelled workload paid out again
    bool public ghostForgedResult; // a result signed by someone other than the provider was accepted
    bool public ghostStrangerAction; // a non-client cancelled, awarded, accepted or rejected
    bool public ghostReplacedBidAwarded; // an award went to another provider than the one the client named
    bool public ghostLateAward; // an award or auto-award after the award window (no stops here to extend it)
    bool public ghostCheapReputation; // a settlement gave more than a point per FEE_PER_REPUTATION_POINT, or > 10
    bool public ghostWrongSweep; // a sweep moved other than the excess, or an expired dispute other than the escrow

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_,
        ServiceMarketplace marketplace_
    ) HandlerBase(humanOverride_, constitution_, token_, registry_) {
        marketplace = marketplace_;
    }

    /// @notice Funds 3 clients; registers, stakes and lists a service for 4 provider agents (setUp only).
    function prepare() external {
        for (uint256 i = 0; i < 3; ++i) {
            address client = address(uint160(0xC11E4700 + i));
            clients.push(client);
            _accounts.push(client);
            _mintTo(client, CLIENT_FUNDING / REWARD_RATE);
            vm.prank(client);
            token.approve(address(marketplace), type(uint256).max);
        }
        for (uint256 i = 0; i < 4; ++i) {
            uint256 key = 0xB0B0_0001 + i;
            address operator = address(uint160(0x0BE47000 + i));
            bytes32 serviceId = keccak256(abi.encode("service", i));
            (address agent, ) = _setupProvider(marketplace, key, operator, serviceId);
            providers.push(agent);
            operators.push(operator);
            keyOf[agent] = key;
            serviceOf[agent] = serviceId;
            _accounts.push(agent);
            _accounts.push(operator);
        }
        _accounts.push(treasury);
        _accounts.push(guardian);
        _accounts.push(address(this));
    }

    // ---------------------------------------------------------------- helpers

    function _snapshot() internal view returns (uint256[] memory balances) {
        balances = new uint256[](_accounts.length);
        for (uint256 i = 0; i < _accounts.length; ++i) balances[i] = token.balanceOf(_accounts[i]);
    }

    /// @dev The balance change of `account` since `before` (must not decrease), flagging any other watched account
    /// whose balance moved unless it is one of `a`, `b`, `c`.
    function _deltas(
        uint256[] memory before,
        address a,
        address b,
        address c
    ) internal returns (uint256 da, uint256 db, uint256 dc) {
        for (uint256 i = 0; i < _accounts.length; ++i) {
            address acc = _accounts[i];
            uint256 nowBal = token.balanceOf(acc);
            if (acc == a || acc == b || acc == c) {
                if (nowBal < before[i]) {
                    ghostWrongSplit = true;
                    continue;
                }
                uint256 d = nowBal - before[i];
                if (acc == a) da = d;
                else if (acc == b) db = d;
                else dc = d;
            } else if (nowBal != before[i]) {
                ghostWrongRecipient = true;
            }
        }
    }

    /// @dev The first workload at or after `seed` (cyclically) whose model status is `status`, or 0.
    /// @dev Flags any watched account other than `a` whose balance moved since `before`.
    function _unchangedExcept(uint256[] memory before, address a) internal {
        for (uint256 i = 0; i < _accounts.length; ++i) {
            if (_accounts[i] != a && token.balanceOf(_accounts[i]) != before[i]) ghostWrongRecipient = true;
        }
    }

    function _find(uint256 seed, IServiceMarketplace.WorkloadStatus status) internal view returns (uint256) {
        uint256 count = marketplace.workloadCount();
        if (count == 0) return 0;
        uint256 start = seed % count;
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = ((start + k) % count) + 1;
            if (ghostStatus[id] == status) return id;
        }
        return 0;
    }

    function _providerOf(IServiceMarketplace.Workload memory w) internal view returns (address) {
        return registry.agentAddress(w.providerId);
    }

    function _stranger(IServiceMarketplace.Workload memory w, uint256 seed) internal view returns (address) {
        address s = _pick(clients, seed);
        return s == w.client ? _pick(providers, seed) : s;
    }

    // ---------------------------------------------------------------- actions

    function post(
        uint256 clientSeed,
        uint256 units,
        uint256 maxPrice,
        uint256 biddingPeriod,
        uint256 executionPeriod,
        bool reopenOnTimeout
    ) external syncTime {
        address client = _pick(clients, clientSeed);
        units = bound(units, 1, MAX_UNITS);
        maxPrice = bound(maxPrice, 1, MAX_PRICE);
        IServiceMarketplace.WorkloadRequest memory request = _request(
            units,
            maxPrice,
            bound(biddingPeriod, 1 hours, 2 days),
            bound(executionPeriod, 1 hours, 3 days),
            reopenOnTimeout
        );
        uint256[] memory before = _snapshot();
        uint256 marketBefore = token.balanceOf(address(marketplace));
        vm.prank(client);
        try marketplace.postWorkload(request) returns (uint256 id) {
            _unchangedExcept(before, client); // only the client's balance may move
            uint256 taken = token.balanceOf(address(marketplace)) - marketBefore;
            if (taken != units * maxPrice || before[_indexOf(client)] - token.balanceOf(client) != taken) {
                ghostWrongEscrow = true;
            }
            ghostDeposits += taken;
            ghostEscrowOf[id] = units * maxPrice;
            ghostStatus[id] = IServiceMarketplace.WorkloadStatus.Open;
            _ok("post");
        } catch {
            _failed("post");
        }
    }

    function cancel(uint256 seed, uint256 mode) external syncTime {
        bool byStranger = mode % 4 == 0; // a quarter of the calls come from someone other than the client
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Open);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        uint256[] memory before = _snapshot();
        vm.prank(byStranger ? _stranger(w, seed) : w.client);
        try marketplace.cancelWorkload(id) {
            if (byStranger) ghostStrangerAction = true;
            (uint256 refund, , ) = _deltas(before, w.client, address(0), address(0));
            if (refund != ghostEscrowOf[id]) ghostWrongSplit = true;
            ghostRefunds += refund;
            ghostStatus[id] = IServiceMarketplace.WorkloadStatus.Cancelled;
            _ok("cancel");
        } catch {
            _failed("cancel");
        }
    }

    function bid(uint256 seed, uint256 providerSeed, uint256 price) external syncTime {
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Open);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        address provider = _pick(providers, providerSeed);
        price = bound(price, 1, w.maxPricePerUnit);
        vm.prank(provider);
        try marketplace.bid(id, serviceOf[provider], price, keccak256(abi.encode(calls))) {
            _ok("bid");
        } catch {
            _failed("bid");
        }
    }

    function award(uint256 seed, uint256 bidIndex, uint256 mode) external syncTime {
        bool byStranger = mode % 4 == 0; // a quarter of the calls come from someone other than the client
        bool wrongProvider = mode % 4 == 2; // a quarter name another provider than the bid's (a replaced bid)
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Open);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        IServiceMarketplace.Bid[] memory bids = marketplace.getBids(id);
        if (bids.length == 0) return;
        bidIndex = bidIndex % bids.length;
        uint256 providerId = bids[bidIndex].providerId;
        vm.prank(byStranger ? _stranger(w, seed) : w.client);
        try marketplace.award(id, bidIndex, wrongProvider ? providerId + 1 : providerId) {
            if (byStranger) ghostStrangerAction = true;
            if (wrongProvider) ghostReplacedBidAwarded = true;
            _checkAwardWindow(w);
            _awarded(id, bids[bidIndex]);
            _ok("award");
        } catch {
            _failed("award");
        }
    }

    function autoAward(uint256 seed, bool wait) external syncTime {
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Open);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        if (wait && currentTime <= w.bidDeadline) {
            currentTime = uint256(w.bidDeadline) + 1;
            vm.warp(currentTime);
        }
        IServiceMarketplace.Bid[] memory bids = marketplace.getBids(id);
        try marketplace.autoAward(id) {
            IServiceMarketplace.Workload memory after_ = marketplace.getWorkload(id);
            bool found;
            for (uint256 i = 0; i < bids.length; ++i) {
                if (bids[i].providerId == after_.providerId && bids[i].serviceId == after_.serviceId) {
                    _awarded(id, bids[i]);
                    found = true;
                }
            }
            if (!found) ghostWrongRecipient = true; // awarded to an agent that never bid
            _checkAwardWindow(w);
            _ok("autoAward");
        } catch {
            _failed("autoAward");
        }
    }

    function _checkAwardWindow(IServiceMarketplace.Workload memory w) internal {
        if (currentTime > uint256(w.bidDeadline) + marketplace.AWARD_WINDOW()) ghostLateAward = true;
    }

    function _awarded(uint256 id, IServiceMarketplace.Bid memory chosen) internal {
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        if (
            w.providerId != chosen.providerId ||
            w.pricePerUnit != chosen.pricePerUnit ||
            w.serviceId != chosen.serviceId ||
            w.pricePerUnit > w.maxPricePerUnit
        ) ghostWrongSplit = true;
        ghostStatus[id] = IServiceMarketplace.WorkloadStatus.Awarded;
    }

    function submit(uint256 seed, uint256 mode, bool byProvider) external syncTime {
        bool forge = mode % 4 == 0; // a quarter of the results are signed with the wrong key
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Awarded);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        address provider = _providerOf(w);
        uint256 key = keyOf[provider];
        if (forge) {
            address other = _pick(providers, seed);
            key = other == provider ? 0xBAD0_0001 : keyOf[other];
        }
        bytes32 resultHash = keccak256(abi.encode("result", id, calls));
        bytes memory signature = _signResult(marketplace, key, id, w.round, resultHash);
        if (byProvider) vm.prank(provider);
        try marketplace.submitResult(id, resultHash, signature) {
            if (forge) ghostForgedResult = true;
            ghostStatus[id] = IServiceMarketplace.WorkloadStatus.Submitted;
            _ok("submit");
        } catch {
            _failed("submit");
        }
    }

    function accept(uint256 seed, uint256 mode) external syncTime {
        bool byStranger = mode % 4 == 0; // a quarter of the calls come from someone other than the client
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Submitted);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        _trySettle(id, w, 0, byStranger ? _stranger(w, seed) : w.client, byStranger);
    }

    function finalize(uint256 seed, bool wait) external syncTime {
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Submitted);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        uint256 endsAt = uint256(w.submittedAt) + w.challengeWindow; // the window in force at submission
        if (wait && currentTime <= endsAt) {
            currentTime = endsAt + 1;
            vm.warp(currentTime);
        }
        _trySettle(id, w, 1, address(this), false);
    }

    function reject(uint256 seed, uint256 mode) external syncTime {
        bool byStranger = mode % 4 == 0; // a quarter of the calls come from someone other than the client
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Submitted);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        uint256[] memory before = _snapshot();
        vm.prank(byStranger ? _stranger(w, seed) : w.client);
        try marketplace.reject(id, keccak256("rejected")) {
            if (byStranger) ghostStrangerAction = true;
            _deltas(before, address(0), address(0), address(0)); // no money moves
            ghostStatus[id] = IServiceMarketplace.WorkloadStatus.Disputed;
            _ok("reject");
        } catch {
            _failed("reject");
        }
    }

    function resolve(uint256 seed, bool providerWins) external syncTime {
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Disputed);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        if (providerWins) _trySettle(id, w, 2, guardian, false);
        else _tryPenalise(id, w, false);
    }

    function claimTimeout(uint256 seed, bool wait) external syncTime {
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Awarded);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        if (wait && currentTime <= w.executionDeadline) {
            currentTime = uint256(w.executionDeadline) + 1;
            vm.warp(currentTime);
        }
        _tryPenalise(id, w, true);
    }

    /// @notice Someone sends tokens straight to the marketplace (they are not escrow).
    function donate(uint256 amount) external syncTime {
        amount = bound(amount, 1, 1_000) * AITBC;
        _mintTo(DONOR, amount / REWARD_RATE);
        vm.prank(DONOR);
        token.transfer(address(marketplace), amount);
        ghostDonated += amount;
        _ok("donate");
    }

    /// @notice Anyone sweeps the excess to the treasury: exactly balance − totalEscrowed, and only to it.
    function sweep() external syncTime {
        uint256 excess = token.balanceOf(address(marketplace)) - marketplace.totalEscrowed();
        uint256[] memory before = _snapshot();
        try marketplace.sweepExcess() returns (uint256 amount) {
            (uint256 toTreasury, , ) = _deltas(before, treasury, address(0), address(0));
            if (amount != excess || toTreasury != excess || excess == 0) ghostWrongSweep = true;
            ghostSwept += toTreasury;
            _ok("sweep");
        } catch {
            if (excess != 0) ghostWrongSweep = true;
            _failed("sweep");
        }
    }

    /// @notice Anyone expires a dispute nobody resolved: the client gets its whole escrow back, nobody else moves.
    function expireDispute(uint256 seed, bool wait) external syncTime {
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Disputed);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        uint256 endsAt = uint256(w.submittedAt) + w.challengeWindow + marketplace.DISPUTE_TIMEOUT();
        if (wait && currentTime <= endsAt) {
            currentTime = endsAt + 1;
            vm.warp(currentTime);
        }
        uint256[] memory before = _snapshot();
        try marketplace.expireDispute(id) {
            (uint256 toClient, , ) = _deltas(before, w.client, address(0), address(0));
            if (toClient != ghostEscrowOf[id]) ghostWrongSweep = true;
            ghostRefunds += toClient;
            ghostStatus[id] = IServiceMarketplace.WorkloadStatus.Refunded;
            _ok("expireDispute");
        } catch {
            _failed("expireDispute");
        }
    }

    /// @notice Tries to pay out a workload that already settled, was refunded or was cancelled, by every door.
    function settleAgain(uint256 seed, uint256 door) external syncTime {
        uint256 id = _find(seed, IServiceMarketplace.WorkloadStatus.Settled);
        if (id == 0) id = _find(seed, IServiceMarketplace.WorkloadStatus.Refunded);
        if (id == 0) id = _find(seed, IServiceMarketplace.WorkloadStatus.Cancelled);
        if (id == 0) return;
        IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
        uint256 marketBefore = token.balanceOf(address(marketplace));
        door = door % 7;
        bool succeeded;
        if (door == 0) {
            vm.prank(w.client);
            try marketplace.accept(id) {
                succeeded = true;
            } catch {}
        } else if (door == 1) {
            currentTime += marketplace.challengeWindow() + 1;
            vm.warp(currentTime);
            try marketplace.finalize(id) {
                succeeded = true;
            } catch {}
        } else if (door == 2 || door == 3) {
            vm.prank(guardian);
            try marketplace.resolveDispute(id, door == 2) {
                succeeded = true;
            } catch {}
        } else if (door == 4) {
            currentTime =
                uint256(w.executionDeadline) + 1 > currentTime ? uint256(w.executionDeadline) + 1 : currentTime;
            vm.warp(currentTime);
            try marketplace.claimTimeout(id) {
                succeeded = true;
            } catch {}
        } else if (door == 5) {
            vm.prank(w.client);
            try marketplace.cancelWorkload(id) {
                succeeded = true;
            } catch {}
        } else {
            currentTime += marketplace.challengeWindow() + marketplace.DISPUTE_TIMEOUT() + 1;
            vm.warp(currentTime);
            try marketplace.expireDispute(id) {
                succeeded = true;
            } catch {}
        }
        if (succeeded || token.balanceOf(address(marketplace)) != marketBefore) ghostDoubleSettlement = true;
        if (succeeded) _ok("settleAgain");
        else _failed("settleAgain");
    }

    // ---------------------------------------------------------------- settlement and penalties, measured

    /// @dev The exact split a settlement must make, computed before it.
    struct Split {
        address provider;
        uint256 toProvider; // payment - fee
        uint256 fee;
        uint256 refund;
    }

    function _expectedSplit(IServiceMarketplace.Workload memory w) internal view returns (Split memory e) {
        e.provider = _providerOf(w);
        uint256 payment = uint256(w.units) * w.pricePerUnit;
        e.fee = (payment * marketplace.protocolFeeBps()) / 10_000;
        e.refund = uint256(w.units) * (w.maxPricePerUnit - w.pricePerUnit);
        e.toProvider = payment - e.fee;
    }

    /// @param kind 0 accept, 1 finalize, 2 resolveDispute(providerWins = true).
    function _callSettle(uint256 id, uint256 kind, address caller) internal returns (bool) {
        vm.prank(caller);
        if (kind == 0) {
            try marketplace.accept(id) {
                return true;
            } catch {}
        } else if (kind == 1) {
            try marketplace.finalize(id) {
                return true;
            } catch {}
        } else {
            try marketplace.resolveDispute(id, true) {
                return true;
            } catch {}
        }
        return false;
    }

    function _trySettle(
        uint256 id,
        IServiceMarketplace.Workload memory w,
        uint256 kind,
        address caller,
        bool byStranger
    ) internal {
        Split memory e = _expectedSplit(w);
        uint256 supplyBefore = token.totalSupply();
        IServiceMarketplace.WorkloadStatus previous = ghostStatus[id];
        uint256[] memory before = _snapshot();
        _reputationBefore = registry.reputationOf(w.providerId); // in storage: the stack is full here
        string memory name = kind == 0 ? "accept" : (kind == 1 ? "finalize" : "resolveForProvider");
        if (!_callSettle(id, kind, caller)) {
            _failed(name);
            return;
        }
        _measureReputation(w.providerId, _reputationBefore, e.fee);
        if (byStranger) ghostStrangerAction = true;
        if (!previous.isPending() || ghostSettlements[id] != 0) ghostDoubleSettlement = true;
        (uint256 toProvider, uint256 toTreasury, uint256 toClient) = _deltas(before, e.provider, treasury, w.client);
        if (toProvider != e.toProvider || toTreasury != e.fee || toClient != e.refund) ghostWrongSplit = true;
        if (token.totalSupply() != supplyBefore) ghostWrongSplit = true; // settlement never mints
        ghostPayments += toProvider;
        ghostFees += toTreasury;
        ghostRefunds += toClient;
        ghostPaidGross[id] += toProvider + toTreasury;
        ++ghostSettlements[id];
        ghostStatus[id] = IServiceMarketplace.WorkloadStatus.Settled;
        _ok(name);
    }

    /// @dev A settlement never lowers reputation, and raises it by at most a point per FEE_PER_REPUTATION_POINT of
    /// its fee and at most REPUTATION_REWARD.
    function _measureReputation(uint256 providerId, uint256 before, uint256 fee) internal {
        uint256 afterwards = registry.reputationOf(providerId);
        if (afterwards < before) {
            ghostCheapReputation = true;
            return;
        }
        uint256 gain = afterwards - before;
        if (gain > fee / marketplace.FEE_PER_REPUTATION_POINT() || gain > uint256(marketplace.REPUTATION_REWARD())) {
            ghostCheapReputation = true;
        }
        ghostReputationGained += gain;
        ghostSettledFees += fee;
    }

    /// @param timeout claimTimeout (reopens when the workload asked for it) rather than a lost dispute.
    function _tryPenalise(uint256 id, IServiceMarketplace.Workload memory w, bool timeout) internal {
        // timeoutSlashBps of the escrowed value, capped by the registry's 50% rule.
        uint256 slash = (uint256(w.units) * w.maxPricePerUnit * marketplace.timeoutSlashBps()) / 10_000;
        uint256 maxSlash = registry.summaryOf(w.providerId).maxSlash;
        if (slash > maxSlash) slash = maxSlash;
        bool reopen = timeout && w.reopenOnTimeout;
        uint256[] memory before = _snapshot();
        string memory name = timeout ? (reopen ? "timeoutReopen" : "timeoutRefund") : "resolveForClient";

        bool success;
        if (timeout) {
            try marketplace.claimTimeout(id) {
                success = true;
            } catch {}
        } else {
            vm.prank(guardian);
            try marketplace.resolveDispute(id, false) {
                success = true;
            } catch {}
        }
        if (!success) {
            _failed(name);
            return;
        }
        (uint256 toTreasury, uint256 toClient, ) = _deltas(before, treasury, w.client, address(0));
        if (toTreasury != slash || toClient != (reopen ? 0 : ghostEscrowOf[id])) ghostWrongSplit = true;
        ghostSlashed += toTreasury;
        ghostRefunds += toClient;
        ghostStatus[id] =
            reopen ? IServiceMarketplace.WorkloadStatus.Open : IServiceMarketplace.WorkloadStatus.Refunded;
        _ok(name);
    }

    function _indexOf(address account) internal view returns (uint256) {
        for (uint256 i = 0; i < _accounts.length; ++i) if (_accounts[i] == account) return i;
        revert("not watched");
    }

    function accountCount() external view returns (uint256) {
        return _accounts.length;
    }
}

library WorkloadStatusLib {
    /// @dev Open, Awarded, Submitted or Disputed: the escrow is still held.
    function isHeld(IServiceMarketplace.WorkloadStatus s) internal pure returns (bool) {
        return
            s == IServiceMarketplace.WorkloadStatus.Open ||
            s == IServiceMarketplace.WorkloadStatus.Awarded ||
            s == IServiceMarketplace.WorkloadStatus.Submitted ||
            s == IServiceMarketplace.WorkloadStatus.Disputed;
    }

    /// @dev Submitted or Disputed: the only statuses a settlement may start from.
    function isPending(IServiceMarketplace.WorkloadStatus s) internal pure returns (bool) {
        return s == IServiceMarketplace.WorkloadStatus.Submitted || s == IServiceMarketplace.WorkloadStatus.Disputed;
    }
}

/// @notice ServiceMarketplace escrow accounting: balance == totalEscrowed == sum of held escrows (plus unswept
/// direct transfers); a workload is paid at most once and only to its awarded provider; deposits == payments + fees
/// + refunds + totalEscrowed; reputation per unit of fee is bounded.
contract MarketplaceInvariantTest is ProtocolFixture, InvariantTargets {
    using WorkloadStatusLib for IServiceMarketplace.WorkloadStatus;

    MarketplaceHandler internal handler;

    function setUp() public {
        _deployProtocol();
        handler = new MarketplaceHandler(humanOverride, constitution, token, registry, marketplace);
        handler.prepare();

        // The chain post -> bid -> award -> submit -> settle is long for a depth of 32: every step of it, and
        // each way out, comes twice.
        bytes4[] memory selectors = new bytes4[](27);
        selectors[0] = handler.post.selector;
        selectors[1] = handler.post.selector;
        selectors[2] = handler.bid.selector;
        selectors[3] = handler.bid.selector;
        selectors[4] = handler.award.selector;
        selectors[5] = handler.award.selector;
        selectors[6] = handler.submit.selector;
        selectors[7] = handler.submit.selector;
        selectors[8] = handler.accept.selector;
        selectors[9] = handler.accept.selector;
        selectors[10] = handler.finalize.selector;
        selectors[11] = handler.finalize.selector;
        selectors[12] = handler.reject.selector;
        selectors[13] = handler.reject.selector;
        selectors[14] = handler.resolve.selector;
        selectors[15] = handler.resolve.selector;
        selectors[16] = handler.claimTimeout.selector;
        selectors[17] = handler.claimTimeout.selector;
        selectors[18] = handler.autoAward.selector;
        selectors[19] = handler.cancel.selector;
        selectors[20] = handler.settleAgain.selector;
        selectors[21] = handler.settleAgain.selector;
        selectors[22] = handler.warpTime.selector;
        selectors[23] = handler.donate.selector;
        selectors[24] = handler.sweep.selector;
        selectors[25] = handler.expireDispute.selector;
        selectors[26] = handler.expireDispute.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice 1. The marketplace's token balance is exactly the open escrows plus what was sent to it directly
    /// and not swept yet; never below the escrows.
    function invariant_balanceEqualsOpenEscrows() public view {
        uint256 count = marketplace.workloadCount();
        uint256 held;
        for (uint256 id = 1; id <= count; ++id) {
            IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
            if (w.status.isHeld()) held += uint256(w.units) * w.maxPricePerUnit;
        }
        uint256 balance = token.balanceOf(address(marketplace));
        assertEq(marketplace.totalEscrowed(), held, "totalEscrowed == sum of held escrows");
        assertEq(balance, held + handler.ghostDonated() - handler.ghostSwept(), "balance == escrows + unswept excess");
        assertGe(balance, held, "balance >= escrows");
        assertFalse(handler.ghostWrongSweep(), "a sweep or an expired dispute moved the wrong amount");
    }

    /// @notice 4. Reputation per unit of fee is bounded: no settlement gives more than a point per
    /// FEE_PER_REPUTATION_POINT of its fee (nor more than REPUTATION_REWARD), so all of them together neither.
    function invariant_reputationPerFeeBounded() public view {
        assertFalse(handler.ghostCheapReputation(), "a settlement gave reputation above its fee's worth");
        assertLe(
            handler.ghostReputationGained() * marketplace.FEE_PER_REPUTATION_POINT(),
            handler.ghostSettledFees(),
            "reputation gained x FEE_PER_REPUTATION_POINT <= fees paid"
        );
    }

    /// @notice 2. A workload is paid at most once, and only its awarded provider is paid.
    function invariant_paidAtMostOnceAndOnlyToTheProvider() public view {
        assertFalse(handler.ghostWrongRecipient(), "an account other than provider/treasury/client was paid");
        assertFalse(handler.ghostWrongSplit(), "a payout moved other than the exact amounts");
        assertFalse(handler.ghostDoubleSettlement(), "a workload paid out twice");
        assertFalse(handler.ghostForgedResult(), "a result not signed by the provider was accepted");
        assertFalse(handler.ghostStrangerAction(), "a non-client acted as the client");
        assertFalse(handler.ghostReplacedBidAwarded(), "an award went to a provider the client did not name");
        assertFalse(handler.ghostLateAward(), "a workload was awarded after its award window");
        assertFalse(handler.ghostWrongEscrow(), "a posting took other than units x maxPricePerUnit");
        uint256 count = marketplace.workloadCount();
        for (uint256 id = 1; id <= count; ++id) {
            IServiceMarketplace.Workload memory w = marketplace.getWorkload(id);
            assertEq(uint256(w.status), uint256(handler.ghostStatus(id)), "status == model");
            if (w.status == IServiceMarketplace.WorkloadStatus.Settled) {
                assertEq(handler.ghostSettlements(id), 1, "settled exactly once");
                assertEq(handler.ghostPaidGross(id), uint256(w.units) * w.pricePerUnit, "paid units x price");
            } else {
                assertEq(handler.ghostSettlements(id), 0, "unsettled: never paid");
                assertEq(handler.ghostPaidGross(id), 0, "unsettled: nothing paid");
            }
        }
    }

    /// @notice 3. deposits == payments + fees + refunds + totalEscrowed.
    function invariant_depositsEqualPaymentsFeesRefundsAndEscrow() public view {
        assertEq(
            handler.ghostDeposits(),
            handler.ghostPayments() + handler.ghostFees() + handler.ghostRefunds() + marketplace.totalEscrowed(),
            "deposits == payments + fees + refunds + totalEscrowed"
        );
        assertEq(
            token.balanceOf(treasury),
            handler.ghostFees() + handler.ghostSlashed() + handler.ghostSwept(),
            "treasury == fees + slashes + swept excess"
        );
    }

    /// @dev Guards against a vacuous invariant: one deterministic pass through every path the handler drives.
    function test_handlerActions_coverEveryPath() public {
        // Workload 1: bid, award, signed result, accept.
        handler.post(0, 10, 5 * AITBC, 1 days, 1 days, false);
        handler.bid(0, 0, 3 * AITBC);
        handler.bid(0, 1, 4 * AITBC);
        handler.award(0, 0, 0); // a stranger cannot award
        handler.award(0, 0, 2); // nor the client, naming another provider than the bid's
        handler.award(0, 0, 1);
        handler.submit(0, 0, false); // forged: refused
        handler.submit(0, 1, true);
        handler.accept(0, 0); // a stranger cannot accept
        handler.accept(0, 1);
        handler.settleAgain(0, 0);
        handler.settleAgain(0, 1);
        handler.settleAgain(0, 2);
        // Workload 2: posted and cancelled.
        handler.post(1, 7, 2 * AITBC, 1 days, 1 days, false);
        handler.cancel(1, 0); // a stranger cannot cancel
        handler.cancel(1, 1);
        // Workload 3: auto-awarded, submitted, finalized after the window.
        handler.post(2, 3, 9 * AITBC, 1 days, 1 days, false);
        handler.bid(2, 2, 8 * AITBC);
        handler.autoAward(2, false); // bidding still open: refused
        handler.autoAward(2, true);
        handler.submit(2, 1, false);
        handler.finalize(2, false); // window open: refused
        handler.finalize(2, true);
        // Workload 4: rejected, dispute lost by the provider. Workload 5: rejected, won by the provider.
        handler.post(0, 4, AITBC, 1 days, 1 days, false);
        handler.bid(3, 3, AITBC / 2);
        handler.award(3, 0, 1);
        handler.submit(3, 1, true);
        handler.reject(3, 1);
        handler.resolve(3, false);
        handler.post(0, 5, AITBC, 1 days, 1 days, false);
        handler.bid(4, 0, AITBC);
        handler.award(4, 0, 1);
        handler.submit(4, 1, true);
        handler.reject(4, 1);
        handler.resolve(4, true);
        // Workload 6: timeout reopened, then timeout refunded on the second round... of workload 7.
        handler.post(1, 6, AITBC, 1 days, 1 days, true);
        handler.bid(5, 1, AITBC);
        handler.award(5, 0, 1);
        handler.claimTimeout(5, false); // deadline not passed: refused
        handler.claimTimeout(5, true);
        handler.post(1, 8, AITBC, 1 days, 1 days, false);
        handler.bid(6, 1, AITBC);
        handler.award(6, 0, 1);
        handler.claimTimeout(6, true);
        handler.settleAgain(3, 3);
        handler.settleAgain(6, 4);
        handler.settleAgain(1, 5);
        handler.settleAgain(0, 6);
        // Workload 8: rejected, nobody resolves: the dispute expires. Then tokens sent directly are swept.
        handler.post(2, 9, AITBC, 1 days, 1 days, false);
        handler.bid(7, 2, AITBC);
        handler.award(7, 0, 1);
        handler.submit(7, 1, true);
        handler.reject(7, 1);
        handler.expireDispute(7, false); // too early: refused
        handler.expireDispute(7, true);
        handler.sweep(); // nothing to sweep: refused
        handler.donate(5);
        handler.sweep();

        assertEq(handler.succeeded("post"), 8, "post");
        assertEq(handler.succeeded("cancel"), 1, "cancel");
        assertEq(handler.reverted("cancel"), 1, "stranger cancel");
        assertEq(handler.succeeded("award"), 6, "award");
        assertEq(handler.reverted("award"), 2, "stranger award, replaced bid");
        assertEq(handler.succeeded("autoAward"), 1, "autoAward");
        assertEq(handler.reverted("autoAward"), 1, "early autoAward");
        assertEq(handler.succeeded("submit"), 5, "submit");
        assertEq(handler.reverted("submit"), 1, "forged result");
        assertEq(handler.succeeded("accept"), 1, "accept");
        assertEq(handler.reverted("accept"), 1, "stranger accept");
        assertEq(handler.succeeded("finalize"), 1, "finalize");
        assertEq(handler.reverted("finalize"), 1, "early finalize");
        assertEq(handler.succeeded("reject"), 3, "reject");
        assertEq(handler.succeeded("expireDispute"), 1, "expire dispute");
        assertEq(handler.reverted("expireDispute"), 1, "early expiry");
        assertEq(handler.succeeded("sweep"), 1, "sweep");
        assertEq(handler.reverted("sweep"), 1, "nothing to sweep");
        assertEq(handler.ghostSwept(), 5 * AITBC, "swept the donation");
        assertTrue(handler.ghostReputationGained() > 0, "settlements gave reputation");
        assertEq(handler.succeeded("resolveForClient"), 1, "resolve for client");
        assertEq(handler.succeeded("resolveForProvider"), 1, "resolve for provider");
        assertEq(handler.succeeded("timeoutReopen"), 1, "timeout reopen");
        assertEq(handler.reverted("timeoutReopen"), 1, "early timeout");
        assertEq(handler.succeeded("timeoutRefund"), 1, "timeout refund");
        assertEq(handler.succeeded("settleAgain"), 0, "settled twice");
        assertEq(handler.reverted("settleAgain"), 7, "settle again refused");
        assertTrue(handler.ghostFees() > 0 && handler.ghostSlashed() > 0, "fees and slashes moved");
        assertTrue(marketplace.totalEscrowed() > 0, "workload 6 still open");

        invariant_balanceEqualsOpenEscrows();
        invariant_paidAtMostOnceAndOnlyToTheProvider();
        invariant_depositsEqualPaymentsFeesRefundsAndEscrow();
        invariant_reputationPerFeeBounded();
    }
}
