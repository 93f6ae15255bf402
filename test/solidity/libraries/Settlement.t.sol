// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Settlement} from "../../../contracts/libraries/Settlement.sol";
import {Assertions} from "../utils/Assertions.sol";

/// @notice Exposes Settlement's internal functions as external calls, so a checked-arithmetic panic can be expected.
contract SettlementHarness {
    function split(
        uint256 escrow,
        uint256 units,
        uint256 pricePerUnit,
        uint256 feeBps
    ) external pure returns (uint256, uint256, uint256) {
        return Settlement.split(escrow, units, pricePerUnit, feeBps);
    }
}

/// @notice Settlement: the escrow and its three-way split, at the marketplace's bounds (units < 2^96, prices < 2^128,
/// fee <= 10%), against the inline arithmetic it replaced in ServiceMarketplace._settle.
contract SettlementTest is Assertions {
    uint256 internal constant MAX_FEE_BPS = 1_000; // ServiceMarketplace.MAX_FEE_BPS

    SettlementHarness internal harness;

    function setUp() public {
        harness = new SettlementHarness();
    }

    function test_cost_isUnitsTimesPrice() public pure {
        assertEq(Settlement.cost(1_000, 2e17), 2e20, "1000 units at 0.2");
        assertEq(Settlement.cost(0, 5), 0, "no units");
    }

    function test_cost_atTheMarketplaceBounds_fits() public pure {
        uint256 c = Settlement.cost(type(uint96).max, type(uint128).max);
        assertLt(c, uint256(1) << 224, "below 2^224");
    }

    function test_split_example() public pure {
        // 1000 units escrowed at 0.2, awarded at 0.125, fee 2.5%.
        (uint256 toProvider, uint256 fee, uint256 refund) = Settlement.split(2e20, 1_000, 125e15, 250);
        assertEq(fee, 3125e15, "fee: 2.5% of 125");
        assertEq(toProvider, 121875e15, "provider: 125 - 3.125");
        assertEq(refund, 75e18, "refund: 200 - 125");
    }

    function test_split_zeroFee_paysTheWholePayment() public pure {
        (uint256 toProvider, uint256 fee, uint256 refund) = Settlement.split(100, 10, 7, 0);
        assertEq(fee, 0, "fee");
        assertEq(toProvider, 70, "provider");
        assertEq(refund, 30, "refund");
    }

    function test_split_feeRoundsDown() public pure {
        // 1% of 199 wei is 1.99 wei: the fee is 1, the provider keeps the remainder.
        (uint256 toProvider, uint256 fee, ) = Settlement.split(199, 199, 1, 100);
        assertEq(fee, 1, "fee rounds down");
        assertEq(toProvider, 198, "provider");
    }

    function test_split_priceAboveEscrow_panics() public {
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        harness.split(100, 10, 11, 0);
    }

    /// @dev The three parts add up to the escrow exactly; the fee is at most feeBps of the payment.
    function testFuzz_split_isExact(uint256 units, uint256 maxPrice, uint256 price, uint256 feeBps) public pure {
        units = bound(units, 1, type(uint96).max);
        maxPrice = bound(maxPrice, 1, type(uint128).max);
        price = bound(price, 1, maxPrice);
        feeBps = bound(feeBps, 0, MAX_FEE_BPS);
        uint256 escrow = Settlement.cost(units, maxPrice);
        (uint256 toProvider, uint256 fee, uint256 refund) = Settlement.split(escrow, units, price, feeBps);
        assertEq(toProvider + fee + refund, escrow, "nothing left over, nothing created");
        assertEq(refund, units * (maxPrice - price), "refund is the unused price headroom");
        assertLe(fee * Settlement.BPS, units * price * feeBps, "fee rounds down");
        assertGe(toProvider, fee, "the provider gets at least the fee (fee <= 10%)");
    }

    /// @dev The inline arithmetic of ServiceMarketplace._settle before Settlement, side by side.
    function testFuzz_split_matchesInlineArithmetic(
        uint256 units,
        uint256 maxPrice,
        uint256 price,
        uint256 feeBps
    ) public pure {
        units = bound(units, 1, type(uint96).max);
        maxPrice = bound(maxPrice, 1, type(uint128).max);
        price = bound(price, 1, maxPrice);
        feeBps = bound(feeBps, 0, MAX_FEE_BPS);
        uint256 escrow = uint256(uint96(units)) * uint128(maxPrice);
        uint256 payment = uint256(uint96(units)) * uint128(price);
        uint256 fee = (payment * feeBps) / 10_000;
        uint256 refund = escrow - payment;
        assertEq(Settlement.cost(units, maxPrice), escrow, "escrow");
        (uint256 toProvider_, uint256 fee_, uint256 refund_) = Settlement.split(escrow, units, price, feeBps);
        assertEq(toProvider_, payment - fee, "paid to provider");
        assertEq(fee_, fee, "fee");
        assertEq(refund_, refund, "refund");
    }
}
