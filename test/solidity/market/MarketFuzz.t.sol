// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IServiceMarketplace} from "../../../contracts/interfaces/IServiceMarketplace.sol";
import {IWorkflows} from "../../../contracts/interfaces/IWorkflows.sol";
import {ProtocolActors, ProtocolFixture} from "./ProtocolFixture.sol";

/// @notice Workflow definitions: random DAGs (only backward edges) are accepted as given; one forward edge that
/// closes a cycle, or one dependency index past the last step, is rejected.
contract WorkflowsDagFuzzTest is ProtocolFixture, ProtocolActors {
    function setUp() public {
        _deployProtocol();
    }

    /// @dev Random backward-edge masks: step i depends on a random subset of 0..i-1.
    function _randomDag(uint256 n, uint256 seed) internal pure returns (uint256[] memory masks) {
        masks = new uint256[](n);
        for (uint256 i = 1; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // Sparse and dense graphs both: AND two words for ~25% density on odd steps.
            if (i % 2 == 1) r &= uint256(keccak256(abi.encode(seed, i, "dense")));
            masks[i] = r & ((uint256(1) << i) - 1);
        }
    }

    function testFuzz_randomDag_isAcceptedAndDependenciesMatch(uint256 n, uint256 seed) public {
        n = bound(n, 1, 64);
        uint256[] memory masks = _randomDag(n, seed);
        uint256 id = workflows.defineWorkflow(_spec(masks));
        assertEq(uint256(workflows.getWorkflow(id).stepCount), n, "stepCount");
        assertEq(workflows.getWorkflow(id).owner, address(this), "owner");
        for (uint256 i = 0; i < n; ++i) {
            assertEq(workflows.dependenciesOf(id, i), masks[i], "dependenciesOf == the given mask");
        }
        assertEq(workflows.dependenciesOf(id, n), 0, "no dependencies past the last step");
    }

    /// @dev Picks j and a step i < j that j reaches (directly or transitively; forced direct if j reaches nothing),
    /// then adds the forward edge i -> j: a cycle i -> j -> ... -> i.
    function testFuzz_forwardEdgeClosingCycle_reverts(uint256 n, uint256 seed, uint256 jSeed, uint256 iSeed) public {
        n = bound(n, 2, 64);
        uint256[] memory masks = _randomDag(n, seed);
        uint256[] memory reach = new uint256[](n);
        for (uint256 k = 0; k < n; ++k) {
            reach[k] = masks[k];
            for (uint256 d = 0; d < k; ++d) if (masks[k] & (1 << d) != 0) reach[k] |= reach[d];
        }
        uint256 j = bound(jSeed, 1, n - 1);
        if (reach[j] == 0) {
            masks[j] |= 1 << (iSeed % j);
            reach[j] = masks[j];
        }
        uint16[] memory reachable = _bits(reach[j]);
        uint256 i = reachable[iSeed % reachable.length];
        assertLt(i, j, "i before j");

        masks[i] |= 1 << j; // the forward edge
        vm.expectPartialRevert(IWorkflows.WorkflowsCycle.selector);
        workflows.defineWorkflow(_spec(masks));

        masks[i] &= ~(uint256(1) << j); // without it, the same graph is fine
        workflows.defineWorkflow(_spec(masks));
    }

    function testFuzz_unknownDependency_reverts(uint256 n, uint256 seed, uint256 step, uint256 dep) public {
        n = bound(n, 1, 64);
        step = bound(step, 0, n - 1);
        dep = bound(dep, n, type(uint16).max);
        IWorkflows.WorkflowSpec memory spec = _spec(_randomDag(n, seed));
        uint16[] memory valid = spec.steps[step].dependsOn;
        uint16[] memory deps = new uint16[](valid.length + 1);
        uint256 at = seed % deps.length; // the bad index goes anywhere in the list
        for (uint256 k = 0; k < deps.length; ++k) {
            deps[k] = k < at ? valid[k] : (k == at ? uint16(dep) : valid[k - 1]);
        }
        spec.steps[step].dependsOn = deps;
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsUnknownDependency.selector, step, dep));
        workflows.defineWorkflow(spec);
    }
}

/// @notice Marketplace pricing: bids above the workload's max price revert; a settlement splits the escrow exactly
/// (provider payment less fee, treasury fee, client the unused max price), whichever way it settles.
contract MarketplaceFuzzTest is ProtocolFixture, ProtocolActors {
    uint256 internal constant PROVIDER_KEY = 0xB0B1;
    bytes32 internal constant SERVICE_ID = keccak256("service-1");
    address internal client = address(0xC11E47);
    address internal operator = address(0x0BE4701);
    address internal provider;
    uint256 internal providerId;

    function setUp() public {
        _deployProtocol();
        (provider, providerId) = _setupProvider(marketplace, PROVIDER_KEY, operator, SERVICE_ID);
        _mintTo(client, 500_000_000); // 500M AITBC: above any fuzzed escrow (<= 1e6 units x 100 AITBC)
        vm.prank(client);
        token.approve(address(marketplace), type(uint256).max);
    }

    function _post(uint256 units, uint256 maxPrice) internal returns (uint256 id) {
        vm.prank(client);
        id = marketplace.postWorkload(_request(units, maxPrice, 1 days, 2 days, false));
    }

    function testFuzz_bidAboveMax_reverts(uint256 units, uint256 maxPrice, uint256 price) public {
        units = bound(units, 1, 1e6);
        maxPrice = bound(maxPrice, 1, 100 * AITBC);
        price = bound(price, maxPrice + 1, type(uint256).max);
        uint256 id = _post(units, maxPrice);
        vm.prank(provider);
        vm.expectRevert(
            abi.encodeWithSelector(IServiceMarketplace.MarketplaceBidAboveMax.selector, id, price, maxPrice)
        );
        marketplace.bid(id, SERVICE_ID, price, bytes32(0));
        // At the max itself the bid stands.
        vm.prank(provider);
        assertEq(marketplace.bid(id, SERVICE_ID, maxPrice, bytes32(0)), 0, "bid at max accepted");
    }

    /// @param path 0: client accepts; 1: anyone finalizes after the challenge window; 2: guardian resolves a
    /// dispute for the provider.
    function testFuzz_settlement_splitsExactly(
        uint256 units,
        uint256 maxPrice,
        uint256 price,
        uint256 feeBps,
        uint8 path
    ) public {
        units = bound(units, 1, 1e6);
        maxPrice = bound(maxPrice, 1, 100 * AITBC);
        price = bound(price, 1, maxPrice);
        feeBps = bound(feeBps, 0, marketplace.MAX_FEE_BPS());
        path = uint8(bound(path, 0, 2));
        marketplace.setParameters(feeBps, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS);

        uint256 clientStart = token.balanceOf(client);
        uint256 id = _post(units, maxPrice);
        assertEq(token.balanceOf(address(marketplace)), units * maxPrice, "escrow taken");
        vm.prank(provider);
        marketplace.bid(id, SERVICE_ID, price, keccak256("proposal"));
        vm.prank(client);
        marketplace.award(id, 0, providerId);
        bytes32 resultHash = keccak256(abi.encode("result", id));
        marketplace.submitResult(id, resultHash, _signResult(marketplace, PROVIDER_KEY, id, 0, resultHash));

        uint256 providerBefore = token.balanceOf(provider);
        uint256 clientBefore = token.balanceOf(client);
        uint256 supplyBefore = token.totalSupply();
        if (path == 0) {
            vm.prank(client);
            marketplace.accept(id);
        } else if (path == 1) {
            vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
            marketplace.finalize(id);
        } else {
            vm.prank(client);
            marketplace.reject(id, keccak256("bad"));
            vm.prank(guardian);
            marketplace.resolveDispute(id, true);
        }

        uint256 payment = units * price;
        uint256 fee = (payment * feeBps) / 10_000;
        assertEq(token.balanceOf(provider) - providerBefore, payment - fee, "provider: payment - fee");
        assertEq(token.balanceOf(treasury), fee, "treasury: fee");
        assertEq(token.balanceOf(client) - clientBefore, units * (maxPrice - price), "client: unused max price");
        assertEq(clientStart - token.balanceOf(client), payment, "client paid exactly the payment");
        assertEq(token.balanceOf(operator), 0, "operator paid nothing");
        assertEq(token.balanceOf(address(marketplace)), 0, "nothing left in escrow");
        assertEq(token.totalSupply(), supplyBefore, "settlement mints nothing");
        IServiceMarketplace.ReceiptData memory receipt = marketplace.receiptOf(id);
        assertEq(receipt.provider, provider, "receipt: provider");
        assertEq(receipt.client, client, "receipt: client");
        _assertFeeBacked(receipt.units, units, fee);
        assertEq(receipt.resultHash, resultHash, "receipt: result");
        assertEq(marketplace.totalEscrowed(), 0, "totalEscrowed");
        assertEq(
            uint256(marketplace.getWorkload(id).status),
            uint256(IServiceMarketplace.WorkloadStatus.Settled),
            "settled"
        );

        // Settled once: every settlement door is now shut.
        vm.prank(client);
        vm.expectPartialRevert(IServiceMarketplace.MarketplaceWrongStatus.selector);
        marketplace.accept(id);
        vm.expectPartialRevert(IServiceMarketplace.MarketplaceWrongStatus.selector);
        marketplace.finalize(id);
        vm.prank(guardian);
        vm.expectPartialRevert(IServiceMarketplace.MarketplaceWrongStatus.selector);
        marketplace.resolveDispute(id, true);
    }

    /// @notice A settlement earns a point per FEE_PER_REPUTATION_POINT of fee, at most REPUTATION_REWARD, and
    /// nothing when the client is the provider's operator.
    function testFuzz_settlementReputation_isFeeProportional(
        uint256 units,
        uint256 maxPrice,
        uint256 price,
        uint256 feeBps,
        bool byOperator
    ) public {
        units = bound(units, 1, 1e6);
        maxPrice = bound(maxPrice, 1, 100 * AITBC);
        price = bound(price, 1, maxPrice);
        feeBps = bound(feeBps, 0, marketplace.MAX_FEE_BPS());
        marketplace.setParameters(feeBps, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS);
        address payer = byOperator ? operator : client;
        if (byOperator) {
            vm.prank(client);
            token.transfer(operator, units * maxPrice);
            vm.prank(operator);
            token.approve(address(marketplace), type(uint256).max);
        }

        vm.prank(payer);
        uint256 id = marketplace.postWorkload(_request(units, maxPrice, 1 days, 2 days, false));
        vm.prank(provider);
        marketplace.bid(id, SERVICE_ID, price, keccak256("proposal"));
        vm.prank(payer);
        marketplace.award(id, 0, providerId);
        bytes32 resultHash = keccak256(abi.encode("result", id));
        marketplace.submitResult(id, resultHash, _signResult(marketplace, PROVIDER_KEY, id, 0, resultHash));
        uint256 before = registry.reputationOf(providerId);
        vm.prank(payer);
        marketplace.accept(id);

        uint256 fee = (units * price * feeBps) / 10_000;
        uint256 points = fee / marketplace.FEE_PER_REPUTATION_POINT();
        uint256 cap = uint256(marketplace.REPUTATION_REWARD());
        uint256 expected = byOperator ? 0 : (points < cap ? points : cap);
        assertEq(registry.reputationOf(providerId) - before, expected, "gain == min(fee / point price, 10)");
    }

    /// @notice The receipt circuit proves units < 2^64: a workload of more is refused before any escrow moves.
    function testFuzz_postWorkload_unitsBeyondReceiptCircuit_revert(uint256 units) public {
        units = bound(units, uint256(type(uint64).max) + 1, type(uint256).max);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(IServiceMarketplace.MarketplaceInvalidRequest.selector, "units"));
        marketplace.postWorkload(_request(units, 1, 1 days, 2 days, false));
    }

    /// @dev A settled receipt rewards only the units its fee backs (units × rate <= fee, rounded down).
    function _assertFeeBacked(uint256 receiptUnits, uint256 units, uint256 fee) private view {
        uint256 backed = fee / token.rewardRate();
        assertEq(receiptUnits, backed < units ? backed : units, "receipt: units the fee backs");
        assertLe(receiptUnits * token.rewardRate(), fee, "receipt: reward <= fee");
    }
}
