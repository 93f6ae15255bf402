// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";

import {IAIToken} from "../../contracts/interfaces/IAIToken.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";

contract AITokenTest is CoreFixture {
    address internal provider = address(0x9801);

    function setUp() public {
        _deployCore();
    }

    function test_mintFromReceipt_mintsRewardToProvider() public {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, 42);
        uint256 amount = token.mintFromReceipt(receipt, _sign(ATTESTOR_KEY, receipt));
        assertEq(amount, 42 * REWARD_RATE, "amount");
        assertEq(token.balanceOf(provider), amount, "provider balance");
        assertEq(token.totalSupply(), amount, "supply");
        assertTrue(token.isReceiptMinted(receipt.receiptId), "receipt spent");
    }

    function testFuzz_mintFromReceipt_amountIsUnitsTimesRateAndOnce(
        bytes32 receiptId,
        address to,
        uint256 units,
        uint256 rate,
        address caller
    ) public {
        vm.assume(to != address(0));
        rate = bound(rate, 1, token.MAX_REWARD_RATE());
        token.setRewardRate(rate);
        units = bound(units, 1, SUPPLY_CAP / rate);

        IAIToken.ComputeReceipt memory receipt = _receipt(to, units);
        receipt.receiptId = receiptId;
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);

        // Anyone may submit an attested receipt; the reward always goes to the provider.
        vm.prank(caller);
        uint256 amount = token.mintFromReceipt(receipt, signature);
        assertEq(amount, units * rate, "amount == units * rewardRate");
        assertEq(token.balanceOf(to), amount, "provider balance");
        assertEq(token.totalSupply(), amount, "supply");
        assertTrue(token.isReceiptMinted(receiptId), "receipt spent");

        // The same receipt id never mints twice: not with the same signature...
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenReceiptAlreadyMinted.selector, receiptId));
        token.mintFromReceipt(receipt, signature);

        // ...nor with another signed receipt that reuses the id (other provider and units).
        IAIToken.ComputeReceipt memory reuse = _receipt(address(0xBEEF), 1);
        reuse.receiptId = receiptId;
        bytes memory reuseSignature = _sign(ATTESTOR_KEY, reuse);
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenReceiptAlreadyMinted.selector, receiptId));
        token.mintFromReceipt(reuse, reuseSignature);

        assertEq(token.totalSupply(), amount, "supply unchanged by replays");
    }

    function testFuzz_mintFromReceipt_nonAttestorSignerReverts(uint256 privateKey, uint256 units) public {
        privateKey = bound(privateKey, 1, SECP256K1_N - 1);
        address signer = vm.addr(privateKey);
        vm.assume(signer != attestor);
        units = bound(units, 1, 1_000_000);

        IAIToken.ComputeReceipt memory receipt = _receipt(provider, units);
        bytes memory signature = _sign(privateKey, receipt);
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenSignerNotAttestor.selector, receipt.receiptId, signer));
        token.mintFromReceipt(receipt, signature);

        assertFalse(token.isReceiptMinted(receipt.receiptId), "receipt not spent");
        assertEq(token.totalSupply(), 0, "nothing minted");
    }

    function testFuzz_mintFromReceipt_tamperedReceiptReverts(uint256 units, uint256 otherUnits) public {
        units = bound(units, 1, 1_000_000);
        otherUnits = bound(otherUnits, 1, 1_000_000);
        vm.assume(units != otherUnits);
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, units);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);

        // Inflating the units changes the digest, so the recovered signer is some unrelated address.
        receipt.units = otherUnits;
        vm.expectPartialRevert(IAIToken.AITokenSignerNotAttestor.selector);
        token.mintFromReceipt(receipt, signature);
    }

    function testFuzz_mintFromReceipt_expiredReverts(uint256 lateBy) public {
        lateBy = bound(lateBy, 1, 365 days);
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, 1);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        uint256 at = uint256(receipt.deadline) + lateBy;
        vm.warp(at);
        vm.expectRevert(
            abi.encodeWithSelector(IAIToken.AITokenReceiptExpired.selector, receipt.receiptId, receipt.deadline, at)
        );
        token.mintFromReceipt(receipt, signature);
    }

    function test_mintFromReceipt_signatureForOtherChainReverts() public {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, 1);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        vm.chainId(block.chainid + 1);
        vm.expectPartialRevert(IAIToken.AITokenSignerNotAttestor.selector);
        token.mintFromReceipt(receipt, signature);
    }

    function test_mintFromReceipt_zeroUnitsReverts() public {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, 0);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenZeroUnits.selector, receipt.receiptId));
        token.mintFromReceipt(receipt, signature);
    }

    function testFuzz_mintFromReceipt_unitsTooLargeReverts(uint256 units, uint256 rate) public {
        rate = bound(rate, 2, token.MAX_REWARD_RATE()); // at rate 1 no units overflow
        token.setRewardRate(rate);
        uint256 maxUnits = type(uint256).max / rate;
        units = bound(units, maxUnits + 1, type(uint256).max);
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, units);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        vm.expectRevert(
            abi.encodeWithSelector(IAIToken.AITokenUnitsTooLarge.selector, receipt.receiptId, units, maxUnits)
        );
        token.mintFromReceipt(receipt, signature);
    }

    function test_mintFromReceipt_pastCapReverts() public {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, SUPPLY_CAP / REWARD_RATE + 1);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        vm.expectRevert(
            abi.encodeWithSelector(ERC20Capped.ERC20ExceededCap.selector, SUPPLY_CAP + REWARD_RATE, SUPPLY_CAP)
        );
        token.mintFromReceipt(receipt, signature);
    }

    function testFuzz_mintFromReceipts_mintsSumOfUnitsTimesRate(uint256[6] memory units, uint8 providerMask) public {
        IAIToken.ComputeReceipt[] memory receipts = new IAIToken.ComputeReceipt[](units.length);
        bytes[] memory signatures = new bytes[](units.length);
        address other = address(0x9802);
        uint256 expectedTotal;
        uint256 expectedOther;
        for (uint256 i = 0; i < units.length; ++i) {
            uint256 u = bound(units[i], 1, 1_000_000);
            address to = (providerMask >> i) & 1 == 1 ? other : provider;
            receipts[i] = _receipt(to, u);
            signatures[i] = _sign(ATTESTOR_KEY, receipts[i]);
            expectedTotal += u * REWARD_RATE;
            if (to == other) expectedOther += u * REWARD_RATE;
        }
        uint256 total = token.mintFromReceipts(receipts, signatures);
        assertEq(total, expectedTotal, "total");
        assertEq(token.totalSupply(), expectedTotal, "supply");
        assertEq(token.balanceOf(other), expectedOther, "other provider");
        assertEq(token.balanceOf(provider), expectedTotal - expectedOther, "provider");

        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenReceiptAlreadyMinted.selector, receipts[0].receiptId));
        token.mintFromReceipts(receipts, signatures);
    }

    function test_mintFromReceipts_duplicateInBatchReverts() public {
        IAIToken.ComputeReceipt[] memory receipts = new IAIToken.ComputeReceipt[](2);
        bytes[] memory signatures = new bytes[](2);
        receipts[0] = _receipt(provider, 5);
        signatures[0] = _sign(ATTESTOR_KEY, receipts[0]);
        receipts[1] = receipts[0];
        signatures[1] = signatures[0];
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenReceiptAlreadyMinted.selector, receipts[0].receiptId));
        token.mintFromReceipts(receipts, signatures);
        assertEq(token.totalSupply(), 0, "nothing minted");
    }

    function test_mintFromReceipts_emptyAndMismatchedRevert() public {
        IAIToken.ComputeReceipt[] memory none = new IAIToken.ComputeReceipt[](0);
        vm.expectRevert(IAIToken.AITokenEmptyBatch.selector);
        token.mintFromReceipts(none, new bytes[](0));

        IAIToken.ComputeReceipt[] memory one = new IAIToken.ComputeReceipt[](1);
        one[0] = _receipt(provider, 1);
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenLengthMismatch.selector, 1, 2));
        token.mintFromReceipts(one, new bytes[](2));
    }
}
